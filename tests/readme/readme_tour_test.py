#!/usr/bin/env python3
"""A test of the README tour test: a README with one deliberately broken step
must make readme_tour.py fail, at that step.

Each case copies README.md, changes one thing (a command, a shown output line,
a shown exit code) and runs the tour on the copy; the run must exit 1 and name
the README line of the broken step. The unchanged README must pass (the
readme_tour test checks that).
"""

import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

# (what is broken, text in README.md, replacement, README text of the step that must fail)
CASES = [
    ("a command: an ID number with a wrong check digit",
     "--id-number 350102199003071234", "--id-number 350102199003071235",
     "$ marketctl subject create --role SELLER --id zhang-san"),
    ("a shown exit code",
     "exit=65", "exit=0",
     "$ marketctl listing import listings.csv"),
    ("a shown output line late in the tour",
     "state               RESOLVED", "state               REJECTED",
     "$ marketctl claim resolve c-31 --confirm"),
    ("a value the command prints",
     "level                   D", "level                   C",
     "$ marketctl credit profile wang-wu"),
]


def line_of(text, needle):
    for n, line in enumerate(text.split("\n"), start=1):
        if line.startswith(needle):
            return n
    raise SystemExit(f"README.md has no line starting with {needle!r}: update CASES")


def main():
    readme, build_dir, source_dir = sys.argv[1:4]
    with open(readme, encoding="utf-8") as f:
        original = f.read()
    failures = 0
    for what, old, new, step in CASES:
        if original.count(old) != 1:
            print(f"FAIL {what}: {old!r} occurs {original.count(old)} times in README.md "
                  "(want exactly once): update CASES")
            failures += 1
            continue
        broken = original.replace(old, new)
        want = f"FAIL README.md:{line_of(broken, step)}:"
        with tempfile.TemporaryDirectory() as tmp:
            copy = os.path.join(tmp, "README.md")
            with open(copy, "w", encoding="utf-8") as f:
                f.write(broken)
            run = subprocess.run(
                [sys.executable, os.path.join(HERE, "readme_tour.py"), "--readme", copy,
                 "--build-dir", build_dir, "--source-dir", source_dir],
                capture_output=True, text=True, timeout=900)
        output = run.stdout.replace(copy, "README.md")
        if run.returncode == 1 and want in output:
            print(f"ok   {what}: detected ({want})")
        else:
            print(f"FAIL {what}: exit {run.returncode}, want 1 and {want!r}\n{output}{run.stderr}")
            failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
