#!/usr/bin/env python3
"""Runs README.md's tour against a fresh marketd and checks what it prints.

The convention (also described in README.md, "A short tour"):

* Only fenced blocks whose info string is ``console tour`` are run, in the order
  they appear in the file. Other blocks (```` ``` ````, ```` ```sh ````, …) are
  documentation only.
* A line starting with ``$ `` is a command. A command continues on the next
  line when its line ends with a backslash, and a here-document (``<<'EOF'``)
  continues until its terminator line.
* Every other line up to the next command is the output the command is shown
  to print. Each shown line must appear in what the command really printed
  (stdout and stderr together), in the same order; the command may print more
  lines than are shown. Before comparing, runs of spaces count as one space,
  RFC 3339 timestamps match any timestamp, and ``…`` inside a shown line
  matches any text (values that differ from run to run: generated keys,
  hashes, signatures). A shown line that is only ``...`` or ``…`` is skipped.
* Every command must exit 0. A step that shows a failure ends with
  ``; echo "exit=$?"`` and shows the ``exit=N`` line, so the exit code is
  checked like any other output.

All commands run in one bash process (aliases and variables carry over), in a
fresh folder holding ``build`` (a link to the build tree), ``docs`` and
``deploy`` (links to the repository's folders), ``var`` (marketd's data
folder) and ``pki`` (a CA and marketd's certificate made by deploy/pki.sh),
with a fresh HOME, MARKET_SERVER (and MARKET_HTTP_SERVER) pointing at the marketd
started for the run and MARKET_TLS_CA at pki/ca.crt: marketd serves TLS, as a real
deployment does (README, "Secure transport (TLS)").

Exit status: 0 when every step passes; 1 with the first failing step (its
README line, the command, what was expected and what it printed).
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

FENCE = re.compile(r"^(\s*)```+\s*(.*)$")
HEREDOC = re.compile(r"<<-?\s*(['\"]?)(\w+)\1")
TIMESTAMP = re.compile(
    r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?")


class Step:
    def __init__(self, line, command):
        self.line = line          # 1-based README line of the "$ " line
        self.command = command    # the command text, without "$ "
        self.expected = []        # shown output lines

    def __repr__(self):
        return f"README.md:{self.line}: $ {self.command.splitlines()[0]}"


def parse_tour(text):
    """Returns the steps of every ``console tour`` block, in order."""
    steps = []
    in_tour = False
    in_block = False
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = FENCE.match(line)
        if fence and not in_block:
            in_block = True
            in_tour = fence.group(2).split()[:2] == ["console", "tour"]
            i += 1
            continue
        if fence and in_block:
            in_block = in_tour = False
            i += 1
            continue
        if not in_tour:
            i += 1
            continue
        if line.startswith("$ "):
            start = i
            command = [line[2:]]
            heredoc = HEREDOC.search(line)
            while command[-1].endswith("\\") and i + 1 < len(lines):
                i += 1
                command.append(lines[i])
                heredoc = heredoc or HEREDOC.search(lines[i])
            if heredoc:
                end = heredoc.group(2)
                while i + 1 < len(lines):
                    i += 1
                    command.append(lines[i])
                    if lines[i].strip() == end:
                        break
            steps.append(Step(start + 1, "\n".join(command)))
        elif steps and line.strip() and line.strip() not in ("...", "…"):
            steps[-1].expected.append(line)
        i += 1
    return steps


def normalize(line):
    line = TIMESTAMP.sub("<time>", line)
    return " ".join(line.split())


def line_pattern(expected):
    parts = normalize(expected).split("…")
    return re.compile(".*".join(re.escape(p) for p in parts))


def check_output(step, actual):
    """None when every shown line appears in order, else a description."""
    actual_lines = [normalize(l) for l in actual.splitlines()]
    pos = 0
    for shown in step.expected:
        pattern = line_pattern(shown)
        while pos < len(actual_lines) and not pattern.fullmatch(actual_lines[pos]):
            pos += 1
        if pos == len(actual_lines):
            return f"shown line not printed (in this order): {shown!r}"
        pos += 1
    return None


def make_pki(source_dir, work):
    """A CA and marketd's certificate (localhost, 127.0.0.1) in work/pki."""
    pki_sh = os.path.join(source_dir, "deploy", "pki.sh")
    pki = os.path.join(work, "pki")
    for args in (["ca", pki],
                 ["server", pki, "marketd", "--dns", "localhost", "--ip", "127.0.0.1"]):
        subprocess.run(["bash", pki_sh] + args, check=True, stdout=subprocess.DEVNULL)
    return pki


def start_marketd(build_dir, work, pki):
    marketd = os.path.join(build_dir, "services", "marketd", "marketd")
    log_path = os.path.join(work, "marketd.log")
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [marketd, "--data-dir", os.path.join(work, "var"),
         "--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0",
         "--tls-cert", os.path.join(pki, "marketd.crt"),
         "--tls-key", os.path.join(pki, "marketd.key")],
        stdout=log, stderr=subprocess.STDOUT, cwd=work, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            break
        with open(log_path) as f:
            for l in f:
                try:
                    entry = json.loads(l)
                except ValueError:
                    continue
                if entry.get("msg") == "serving" and entry.get("grpc_port"):
                    return proc, entry["grpc_port"], entry.get("http_port")
        time.sleep(0.05)
    with open(log_path) as f:
        sys.stderr.write(f.read())
    raise SystemExit("marketd did not start")


def script_for(steps, out_dir):
    """One bash script running every step in the same shell."""
    parts = ["shopt -s expand_aliases", "set +e", "exec </dev/null"]
    for n, step in enumerate(steps):
        out = os.path.join(out_dir, f"{n}.out")
        rc = os.path.join(out_dir, f"{n}.rc")
        # Each step is its own top-level command group, so an alias defined in
        # one step is expanded in the next ones.
        parts.append("{\n" + step.command + "\n} >" + out + " 2>&1")
        parts.append(f"echo $? >{rc}")
        parts.append(f"[ \"$(cat {rc})\" = 0 ] || exit 0")
    return "\n".join(parts) + "\n"


def run_tour(readme, build_dir, source_dir, keep=False):
    with open(readme, encoding="utf-8") as f:
        steps = parse_tour(f.read())
    if not steps:
        print(f"{readme}: no ```console tour blocks")
        return 1
    work = tempfile.mkdtemp(prefix="readme-tour-")
    proc = None
    try:
        os.symlink(os.path.abspath(build_dir), os.path.join(work, "build"))
        for folder in ("docs", "deploy"):
            os.symlink(os.path.join(os.path.abspath(source_dir), folder),
                       os.path.join(work, folder))
        home = os.path.join(work, "home")
        os.mkdir(home)
        out_dir = os.path.join(work, ".tour")
        os.mkdir(out_dir)
        pki = make_pki(source_dir, work)
        proc, port, http_port = start_marketd(build_dir, work, pki)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": home,
            "LANG": "C.UTF-8",
            "TZ": "UTC",
            "MARKET_SERVER": f"127.0.0.1:{port}",
            "MARKET_TLS_CA": os.path.join(pki, "ca.crt"),
            # Where `marketctl ledger verify` fetches the ledger's tiles.
            "MARKET_HTTP_SERVER": f"127.0.0.1:{http_port}",
        }
        script = os.path.join(out_dir, "tour.sh")
        with open(script, "w", encoding="utf-8") as f:
            f.write(script_for(steps, out_dir))
        subprocess.run(["bash", script], cwd=work, env=env, timeout=600)
        for n, step in enumerate(steps):
            rc_path = os.path.join(out_dir, f"{n}.rc")
            if not os.path.exists(rc_path):
                print(f"FAIL {step}: never ran")
                return 1
            with open(os.path.join(out_dir, f"{n}.out"), encoding="utf-8",
                      errors="replace") as f:
                actual = f.read()
            with open(rc_path) as f:
                rc = f.read().strip()
            problem = None
            if rc != "0":
                problem = f"exit status {rc} (every step must exit 0)"
            else:
                problem = check_output(step, actual)
            if problem:
                print(f"FAIL {step}\n  {problem}\n--- command\n{step.command}\n"
                      f"--- printed\n{actual}---")
                return 1
        print(f"{readme}: {len(steps)} tour steps passed")
        return 0
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        if keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--readme", required=True)
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary folder for a look afterwards")
    args = parser.parse_args()
    return run_tour(args.readme, args.build_dir, args.source_dir, args.keep)


if __name__ == "__main__":
    sys.exit(main())
