#!/usr/bin/env python3
"""Checks the deployment files in deploy/ against the binaries they run.

  deploy_manifests_check.py --repo ROOT [--deploy DIR] NAME=PATH...

NAME=PATH are the built binaries (marketd=..., market-credit=..., ...). Their
`--help` is the truth: every `--flag` a systemd unit, the Containerfile or a
Kubernetes manifest passes must be one the binary lists; every REQUIRED flag and
every peer (`--PEER-addr`) must be given; --listen/--http-listen ports must be
the binary's defaults (7400 identity, 7420 listing, ... HTTP = gRPC + 1), and so
must the ports of peer addresses, EXPOSE, containerPort, Services and probes.
Kubernetes: gRPC liveness/readiness probes on the gRPC port naming a service
defined in proto/ (a container serving TLS: /healthz over HTTPS on the HTTP port), one replica with a volume claim on --data-dir, resources,
Secrets mounted read-only, and a NetworkPolicy graph that allows exactly the
calls the binaries make (their --PEER-addr flags) plus clients. The manifests are
rendered by a small kustomize subset (resources, namespace, images, `$patch:
delete`); when kubectl is on PATH, `kubectl kustomize` must agree with it.
Exits 1 listing every problem found.
"""
import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys

import yaml

problems = []


def bad(where, msg):
    problems.append(f"{where}: {msg}")


# ---------------------------------------------------------------- binaries
class Binary:
    def __init__(self, name, path):
        self.name, self.path = name, path
        out = subprocess.run([path, "--help"], capture_output=True, text=True, check=False)
        self.help = out.stdout + out.stderr
        self.flags, self.required, self.defaults = set(), set(), {}
        current = None
        for line in self.help.splitlines():
            m = re.match(r"\s+(?:-\w,)?(--[a-z][a-z0-9-]*)(?:\s+(\S+))?", line)
            if m:
                current = m.group(1)
                self.flags.add(current)
                if m.group(2) and "=" in m.group(2):
                    self.defaults[current] = m.group(2).split("=", 1)[1]
            if current and re.search(r"\bREQUIRED\b", line):
                self.required.add(current)
        if "--listen" not in self.flags:
            bad(name, f"`{path} --help` lists no --listen:\n{self.help}")
        self.peers = sorted(f[2:-5] for f in self.flags if f.endswith("-addr"))
        self.grpc_port = port_of(self.defaults.get("--listen", ""))
        self.http_port = port_of(self.defaults.get("--http-listen", ""))


def port_of(hostport):
    m = re.search(r":(\d+)$", str(hostport))
    return int(m.group(1)) if m else None


def service_of(binary_name):
    """market-credit -> credit; marketd -> marketd."""
    return binary_name[len("market-"):] if binary_name.startswith("market-") else binary_name


def check_command(where, bins, argv, env_ok=()):
    """Checks one command line; returns (binary, {flag: value})."""
    prog = os.path.basename(argv[0]) if argv else ""
    if prog not in bins:
        bad(where, f"runs {argv[0] if argv else '(nothing)'}, not one of the binaries {sorted(bins)}")
        return None, {}
    b = bins[prog]
    given, i = {}, 1
    while i < len(argv):
        arg = argv[i]
        if not arg.startswith("--"):
            bad(where, f"{prog}: stray argument {arg!r}")
            i += 1
            continue
        flag, eq, value = arg.partition("=")
        if not eq:
            value = argv[i + 1] if i + 1 < len(argv) else ""
            i += 1
        i += 1
        if flag not in b.flags:
            bad(where, f"{prog} has no flag {flag} (see `{prog} --help`)")
        given[flag] = value
    for flag in sorted(b.required):
        if flag not in given and flag not in env_ok:
            bad(where, f"{prog}: required flag {flag} not given")
    for peer in b.peers:
        if f"--{peer}-addr" not in given and f"--{peer}-addr" not in env_ok:
            bad(where, f"{prog}: peer address --{peer}-addr not given (the default is loopback)")
    for flag, want in (("--listen", b.grpc_port), ("--http-listen", b.http_port)):
        if flag in given and port_of(given[flag]) != want:
            bad(where, f"{prog} {flag} {given[flag]}: port should be {want}, its default")
    # TLS (README, "Secure transport (TLS)"): a certificate comes with its key, and a
    # service serving TLS calls its peers over TLS too.
    if ("--tls-cert" in given) != ("--tls-key" in given):
        bad(where, f"{prog}: --tls-cert and --tls-key go together")
    if "--tls-cert" in given and b.peers and "--peer-ca" not in given:
        bad(where, f"{prog} serves TLS but calls its peers in plaintext: want --peer-ca")
    return b, given


def peer_port_ok(where, bins, peer, addr):
    for b in bins.values():
        if service_of(b.name) == peer and port_of(addr) != b.grpc_port:
            bad(where, f"--{peer}-addr {addr}: {peer} listens on port {b.grpc_port}")


# ---------------------------------------------------------------- systemd
def parse_unit(path):
    sections, current = {}, None
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("[") and line.endswith("]"):
                current = sections.setdefault(line[1:-1], [])
                continue
            key, _, value = line.partition("=")
            if current is None:
                bad(path, f"line outside a section: {line}")
                continue
            current.append((key.strip(), value.strip()))
    return sections


def check_systemd(unit_dir, bins):
    seen = set()
    for name in sorted(os.listdir(unit_dir)):
        if not name.endswith(".service"):
            continue
        path = os.path.join(unit_dir, name)
        where = f"deploy/systemd/{name}"
        svc = dict(parse_unit(path)).get("Service", [])
        env, creds, execs = {}, set(), []
        for key, value in svc:
            if key == "Environment":
                for word in shlex.split(value):
                    k, _, v = word.partition("=")
                    env[k] = v
            elif key == "LoadCredential":
                creds.add(value.split(":", 1)[0])
            elif key == "ExecStart":
                execs.append(value)
        if len(execs) != 1:
            bad(where, "want exactly one ExecStart=")
            continue
        argv = []
        for word in shlex.split(execs[0]):
            def expand(m):
                if m.group(1) not in env:
                    bad(where, f"${{{m.group(1)}}} has no Environment= default")
                return env.get(m.group(1), "")
            word = re.sub(r"\$\{(\w+)\}", expand, word)
            word = word.replace("%S", "/var/lib").replace("%d", "/run/credentials/" + name)
            argv.append(word)
        if argv and not argv[0].startswith("/usr/local/bin/"):
            bad(where, f"ExecStart {argv[0]} is not in /usr/local/bin")
        b, given = check_command(where, bins, argv)
        if b is None:
            continue
        seen.add(b.name)
        if name != b.name + ".service":
            bad(where, f"runs {b.name}; name the unit {b.name}.service")
        state = dict(svc).get("StateDirectory")
        if given.get("--data-dir") != f"/var/lib/{state}":
            bad(where, f"--data-dir {given.get('--data-dir')} is not the StateDirectory={state}")
        for peer in b.peers:
            peer_port_ok(where, bins, peer, given.get(f"--{peer}-addr", ""))
        cred = given.get("--service-credentials")
        if cred is not None:
            prefix = f"/run/credentials/{name}/"
            if not (cred.startswith(prefix) and cred[len(prefix):] in creds) \
                    and not cred.startswith("/etc/market/"):
                bad(where, f"--service-credentials {cred}: neither a LoadCredential= nor /etc/market")
    for missing in sorted(set(bins) - seen):
        bad("deploy/systemd", f"no unit runs {missing}")


# ---------------------------------------------------------------- Containerfile
def parse_containerfile(path):
    instrs, buf = [], ""
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not buf and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if buf and line.lstrip().startswith("#"):
                continue
            if line.endswith("\\"):
                buf += line[:-1] + " "
                continue
            buf += line
            op, _, rest = buf.strip().partition(" ")
            instrs.append((op.upper(), rest.strip()))
            buf = ""
    return instrs


def exec_form(rest):
    rest = rest.strip()
    if rest.startswith("["):
        return yaml.safe_load(rest)  # a JSON array
    return ["/bin/sh", "-c", rest]


def check_containerfile(path, repo, bins):
    where = "deploy/container/Containerfile"
    instrs = parse_containerfile(path)
    stages, current = [], None
    for op, rest in instrs:
        if op == "FROM":
            words = rest.split()
            current = {"base": words[0], "name": words[2] if len(words) > 2 else None, "ops": []}
            stages.append(current)
        elif current is None:
            if op != "ARG":
                bad(where, f"{op} before FROM")
        else:
            current["ops"].append((op, rest))
    if not stages:
        bad(where, "no FROM")
        return
    for s in stages:
        if s["base"] != "debian:bookworm-slim" and s["base"] not in [t["name"] for t in stages]:
            bad(where, f"FROM {s['base']}: want debian:bookworm-slim (Debian 12 slim)")
    final = stages[-1]
    ops = final["ops"]
    names = {s["name"]: s for s in stages if s["name"]}
    for s in stages:
        for op, rest in s["ops"]:
            if op not in ("COPY", "ADD"):
                continue
            if op == "ADD":
                bad(where, "ADD: use COPY")
            words = [w for w in shlex.split(rest) if not w.startswith("--") or w.startswith("--from")]
            src_stage = None
            for w in words:
                if w.startswith("--from="):
                    src_stage = w.split("=", 1)[1]
            srcs = [w for w in words if not w.startswith("--")][:-1]
            for src in srcs:
                if src_stage is None:
                    if not os.path.exists(os.path.join(repo, src)):
                        bad(where, f"COPY {src}: not in the repository")
                elif src_stage not in names:
                    bad(where, f"COPY --from={src_stage}: no such stage")
                else:
                    runs = " ".join(r for o, r in names[src_stage]["ops"] if o in ("RUN", "WORKDIR"))
                    if src.rstrip("/") not in runs:
                        bad(where, f"COPY --from={src_stage} {src}: the stage never makes it")
    users = [r for o, r in ops if o == "USER"]
    if not users or users[-1].split(":")[0] in ("root", "0"):
        bad(where, "final stage: want a USER that is not root")
    checks = [r for o, r in ops if o == "HEALTHCHECK"]
    if not checks or checks[-1].upper().startswith("NONE"):
        bad(where, "final stage: no HEALTHCHECK")
    if not any(o == "VOLUME" for o, _ in ops):
        bad(where, "final stage: no VOLUME for the data")
    exposed = set()
    for o, r in ops:
        if o == "EXPOSE":
            exposed |= {int(p.split("/")[0]) for p in r.split()}
    env = {}
    for o, r in ops:
        if o == "ENV":
            for word in shlex.split(r):
                k, _, v = word.partition("=")
                env[k] = v
    for b in bins.values():
        for port in (b.grpc_port, b.http_port):
            if port not in exposed:
                bad(where, f"EXPOSE lacks {port} ({b.name})")
        built = " ".join(r for s in stages for o, r in s["ops"] if o == "RUN")
        if not re.search(rf"(?<![\w-]){re.escape(b.name)}(?![\w-])|market-\$s", built):
            bad(where, f"the build stage never builds {b.name}")
    cmds = [r for o, r in ops if o == "CMD"]
    if not cmds:
        bad(where, "final stage: no CMD")
        return
    b, given = check_command(where + " CMD", bins, exec_form(cmds[-1]))
    if b is None:
        return
    if port_of(given.get("--http-listen", "")) != port_of(":" + env.get("MARKET_HTTP_PORT", "")):
        bad(where, f"HEALTHCHECK asks port ${{MARKET_HTTP_PORT}}={env.get('MARKET_HTTP_PORT')}, "
                   f"CMD --http-listen is {given.get('--http-listen')}")
    if checks and "/healthz" not in checks[-1] and "grpc.health" not in checks[-1]:
        bad(where, "HEALTHCHECK asks neither /healthz nor grpc.health.v1")
    volumes = " ".join(r for o, r in ops if o == "VOLUME")
    if given.get("--data-dir") and given["--data-dir"] not in volumes:
        bad(where, f"--data-dir {given['--data-dir']} is not a VOLUME")


# ---------------------------------------------------------------- kustomize subset
def load_yaml_docs(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d]


def key_of(obj):
    return (obj.get("kind"), obj.get("metadata", {}).get("name"))


def render(kdir):
    """resources (files and folders), namespace, images, `$patch: delete` patches."""
    kpath = os.path.join(kdir, "kustomization.yaml")
    if not os.path.exists(kpath):
        bad(kdir, "no kustomization.yaml")
        return []
    k = load_yaml_docs(kpath)[0]
    objs = []
    for res in k.get("resources", []):
        p = os.path.normpath(os.path.join(kdir, res))
        if os.path.isdir(p):
            objs += render(p)
        elif os.path.isfile(p):
            objs += load_yaml_docs(p)
        else:
            bad(kpath, f"resource {res} does not exist")
    known = {"apiVersion", "kind", "resources", "namespace", "images", "patches"}
    for field in set(k) - known:
        bad(kpath, f"{field}: not understood by this check's kustomize subset")
    for patch in k.get("patches", []):
        docs = yaml.safe_load_all(patch["patch"]) if "patch" in patch else \
            load_yaml_docs(os.path.join(kdir, patch.get("path", "")))
        for doc in docs:
            if doc.get("$patch") != "delete":
                bad(kpath, f"patch {key_of(doc)}: only `$patch: delete` is understood")
                continue
            before = len(objs)
            objs = [o for o in objs if key_of(o) != key_of(doc)]
            if len(objs) == before:
                bad(kpath, f"patch deletes {key_of(doc)}, which the resources do not have")
    for o in objs:
        if "namespace" in k and o.get("kind") != "Namespace":
            o.setdefault("metadata", {})["namespace"] = k["namespace"]
        for img in k.get("images", []):
            for c in pod_containers(o):
                if c.get("image") == img["name"]:
                    c["image"] = img.get("newName", img["name"]) + \
                        (":" + str(img["newTag"]) if "newTag" in img else "")
    return objs


def pod_spec(obj):
    return obj.get("spec", {}).get("template", {}).get("spec", {}) \
        if obj.get("kind") in ("StatefulSet", "Deployment", "DaemonSet") else {}


def pod_containers(obj):
    return pod_spec(obj).get("containers", [])


# ---------------------------------------------------------------- Kubernetes checks
def proto_services(repo):
    names = set()
    for root, _, files in os.walk(os.path.join(repo, "proto")):
        for f in files:
            if f.endswith(".proto"):
                text = open(os.path.join(root, f), encoding="utf-8").read()
                pkg = re.search(r"^package\s+([\w.]+);", text, re.M)
                for s in re.findall(r"^service\s+(\w+)", text, re.M):
                    names.add(f"{pkg.group(1)}.{s}" if pkg else s)
    return names


def matches(selector, labels):
    if selector is None:
        return False
    if "matchExpressions" in selector:
        bad("NetworkPolicy", "matchExpressions: not understood by this check")
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items())


def port_matches(rule_ports, port, named):
    if not rule_ports:
        return True
    for p in rule_ports:
        want = p.get("port")
        if want is None or want == port or (isinstance(want, str) and named.get(want) == port):
            if p.get("protocol", "TCP") == "TCP":
                return True
    return False


def peer_matches(peers, labels, ns, other_ns):
    """peers: a from/to list; labels/ns: the other pod. Absent list = everyone."""
    if peers is None:
        return True
    for p in peers:
        if "ipBlock" in p:
            continue
        nsel = p.get("namespaceSelector")
        if nsel is None:
            if ns != other_ns:
                continue
        elif nsel != {} and not matches(nsel, {"kubernetes.io/metadata.name": other_ns}):
            continue
        if "podSelector" not in p or matches(p["podSelector"], labels) or p["podSelector"] == {}:
            return True
    return False


def allowed(policies, src, dst, port, sides=("Ingress", "Egress")):
    """Kubernetes semantics: a direction is open unless a policy selects the pod for it.
    A connection needs the callee's ingress and the caller's egress (sides)."""
    def direction(pod, other, kind, field, peer_key, port_of_rule):
        selecting = [p for p in policies if p["ns"] == pod["ns"]
                     and matches(p["spec"].get("podSelector"), pod["labels"])
                     and kind in p["spec"].get("policyTypes", ["Ingress"])]
        if not selecting:
            return True
        for p in selecting:
            for rule in p["spec"].get(field) or []:
                if peer_matches(rule.get(peer_key), other["labels"], pod["ns"], other["ns"]) \
                        and port_matches(rule.get("ports"), port, port_of_rule):
                    return True
        return False
    return ("Ingress" not in sides or direction(dst, src, "Ingress", "ingress", "from", dst["ports"])) \
        and ("Egress" not in sides or direction(src, dst, "Egress", "egress", "to", dst["ports"]))


def check_k8s(kdir, repo, bins, label):
    objs = render(kdir)
    where0 = f"deploy/k8s/{label}"
    if shutil.which("kubectl"):
        out = subprocess.run(["kubectl", "kustomize", kdir], capture_output=True, text=True)
        if out.returncode != 0:
            bad(where0, f"kubectl kustomize failed: {out.stderr.strip()}")
        else:
            theirs = sorted(key_of(o) for o in yaml.safe_load_all(out.stdout) if o)
            if theirs != sorted(key_of(o) for o in objs):
                bad(where0, f"kubectl kustomize renders {theirs}, this check {sorted(map(key_of, objs))}")
    grpc_services = proto_services(repo)
    services = [o for o in objs if o["kind"] == "Service"]
    policies = [{"ns": o["metadata"].get("namespace"), "spec": o["spec"]}
                for o in objs if o["kind"] == "NetworkPolicy"]
    pods = {}  # service name (credit, marketd) -> pod facts
    for o in objs:
        if o["kind"] not in ("StatefulSet", "Deployment", "DaemonSet"):
            continue
        where = f"{where0} {o['kind']}/{o['metadata']['name']}"
        if o["kind"] != "StatefulSet":
            bad(where, "want a StatefulSet (one SQLite writer with its own volume)")
        if o["spec"].get("replicas") != 1:
            bad(where, "replicas must be 1: SQLite has one writer")
        claims = {c["metadata"]["name"] for c in o["spec"].get("volumeClaimTemplates", [])}
        spec = pod_spec(o)
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        if spec.get("securityContext", {}).get("runAsNonRoot") is not True:
            bad(where, "securityContext.runAsNonRoot must be true")
        for c in spec.get("containers", []):
            cw = f"{where} container {c['name']}"
            env = {e["name"]: e.get("value") for e in c.get("env", [])}
            env_flags = {f"--{k[len('MARKET_'):-len('_ADDR')].lower()}-addr"
                         for k in env if k.startswith("MARKET_") and k.endswith("_ADDR")}

            def expand(word):
                def sub(m):
                    if env.get(m.group(1)) is None:
                        bad(cw, f"$({m.group(1)}) is not an env value")
                    return env.get(m.group(1)) or ""
                return re.sub(r"\$\((\w+)\)", sub, str(word))
            argv = [expand(w) for w in (c.get("command") or []) + (c.get("args") or [])]
            b, given = check_command(cw, bins, argv, env_ok=env_flags)
            if b is None:
                continue
            named = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
            if named.get("grpc") != b.grpc_port or named.get("http") != b.http_port:
                bad(cw, f"ports {named}: want grpc {b.grpc_port}, http {b.http_port}")
            for kind in ("livenessProbe", "readinessProbe"):
                probe = c.get(kind)
                if "--tls-cert" in given:
                    # The kubelet's gRPC probes speak plaintext only: a TLS server is probed
                    # on /healthz over HTTPS on its HTTP port (which asks no client certificate).
                    http = (probe or {}).get("httpGet") or {}
                    if http.get("path") != "/healthz" or http.get("scheme") != "HTTPS":
                        bad(cw, f"{kind}: serving TLS, want an httpGet probe of /healthz over HTTPS")
                    elif named.get(http.get("port"), http.get("port")) != b.http_port:
                        bad(cw, f"{kind} port {http.get('port')}: HTTP listens on {b.http_port}")
                    continue
                if not probe or "grpc" not in probe:
                    bad(cw, f"{kind}: want a grpc probe (grpc.health.v1)")
                    continue
                if probe["grpc"].get("port") != b.grpc_port:
                    bad(cw, f"{kind} port {probe['grpc'].get('port')}: gRPC listens on {b.grpc_port}")
                svc = probe["grpc"].get("service")
                if svc and svc not in grpc_services:
                    bad(cw, f"{kind} service {svc}: no such gRPC service in proto/")
            res = c.get("resources", {})
            for part in ("requests", "limits"):
                for r in ("cpu", "memory"):
                    if r not in res.get(part, {}):
                        bad(cw, f"resources.{part}.{r} missing")
            mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
            data = mounts.get(given.get("--data-dir"))
            if data is None or data["name"] not in claims:
                bad(cw, f"--data-dir {given.get('--data-dir')} is not a volumeClaimTemplate mount")
            for m in mounts.values():
                v = volumes.get(m["name"], {})
                if "secret" in v and not m.get("readOnly"):
                    bad(cw, f"secret volume {m['name']} must be mounted readOnly")
            cred = given.get("--service-credentials")
            if cred and not any(cred.startswith(p.rstrip("/") + "/") and m.get("readOnly")
                                and "secret" in volumes.get(m["name"], {})
                                for p, m in mounts.items()):
                bad(cw, f"--service-credentials {cred} is not on a read-only Secret mount")
            peers = {p: given.get(f"--{p}-addr") or env.get(f"MARKET_{p.upper()}_ADDR")
                     for p in b.peers}
            pods[service_of(b.name)] = {
                "ns": o["metadata"].get("namespace"), "labels": o["spec"]["template"]["metadata"]
                .get("labels", {}), "ports": named, "binary": b, "peers": peers, "where": cw}
    # Peer addresses name a Service that selects that peer's pod on its gRPC port.
    for name, pod in pods.items():
        for peer, addr in pod["peers"].items():
            host = (addr or "").rsplit(":", 1)[0].split(".")[0]
            target = pods.get(peer)
            svc = next((s for s in services if s["metadata"]["name"] == host), None)
            if target is None:
                bad(pod["where"], f"peer {peer} ({addr}) does not run in this deployment")
            elif svc is None:
                bad(pod["where"], f"--{peer}-addr {addr}: no Service {host}")
            elif not matches(svc["spec"].get("selector"), target["labels"]):
                bad(pod["where"], f"Service {host} does not select the {peer} pod")
            elif not any(p.get("port") == port_of(addr) and
                         target["ports"].get(p.get("targetPort"), p.get("targetPort"))
                         == target["binary"].grpc_port for p in svc["spec"].get("ports", [])):
                bad(pod["where"], f"Service {host} port {port_of(addr)} does not reach "
                                  f"{peer}'s gRPC port {target['binary'].grpc_port}")
    for s in services:
        sel = s["spec"].get("selector")
        chosen = [p for p in pods.values() if matches(sel, p["labels"])]
        if not chosen:
            bad(f"{where0} Service/{s['metadata']['name']}", "selects no pod")
        for p in s["spec"].get("ports", []):
            t = p.get("targetPort", p.get("port"))
            for pod in chosen:
                if t not in pod["ports"] and t not in pod["ports"].values():
                    bad(f"{where0} Service/{s['metadata']['name']}", f"targetPort {t} not on the pod")
    # NetworkPolicy: exactly the calls the binaries make, and clients everywhere.
    for src_name, src in pods.items():
        for dst_name, dst in pods.items():
            if src_name == dst_name:
                continue
            # Each side on its own allows exactly the calls made (defence in depth).
            want = dst_name in src["peers"]
            for side in ("Ingress", "Egress"):
                got = allowed(policies, src, dst, dst["binary"].grpc_port, (side,))
                if want != got:
                    bad(f"{where0} NetworkPolicy", f"{src_name} -> {dst_name} gRPC is "
                        f"{'allowed' if got else 'blocked'} by {side.lower()}, but {src_name} "
                        f"{'does not call' if not want else 'calls'} {dst_name}")
            if allowed(policies, src, dst, dst["binary"].http_port):
                bad(f"{where0} NetworkPolicy", f"{src_name} -> {dst_name} HTTP port is open")
    client = {"ns": "clients", "labels": {"second-hand-market/client": "true"}, "ports": {}}
    for name, pod in pods.items():
        for port in (pod["binary"].grpc_port, pod["binary"].http_port):
            if not allowed(policies, client, pod, port):
                bad(f"{where0} NetworkPolicy", f"clients cannot reach {name} on {port}")
        stranger = {"ns": "elsewhere", "labels": {"app": "stranger"}, "ports": {}}
        if allowed(policies, stranger, pod, pod["binary"].grpc_port):
            bad(f"{where0} NetworkPolicy", f"any pod can reach {name} on its gRPC port")
    return pods


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repo", required=True)
    ap.add_argument("--deploy", help="deploy folder to check (default REPO/deploy)")
    ap.add_argument("bins", nargs="+", metavar="NAME=PATH")
    a = ap.parse_args()
    deploy = a.deploy or os.path.join(a.repo, "deploy")
    bins = {}
    for pair in a.bins:
        name, _, path = pair.partition("=")
        bins[name] = Binary(name, path)
    check_systemd(os.path.join(deploy, "systemd"), bins)
    check_containerfile(os.path.join(deploy, "container", "Containerfile"), a.repo, bins)
    base = check_k8s(os.path.join(deploy, "k8s", "base"), a.repo, bins, "base")
    multi = check_k8s(os.path.join(deploy, "k8s", "overlays", "multiprocess"), a.repo, bins,
                      "overlays/multiprocess")
    if set(base) != {"marketd"}:
        bad("deploy/k8s/base", f"runs {sorted(base)}, want marketd alone")
    want = {service_of(n) for n in bins if n != "marketd"}
    if set(multi) != want:
        bad("deploy/k8s/overlays/multiprocess", f"runs {sorted(multi)}, want {sorted(want)}")
    if problems:
        print(f"{len(problems)} problem(s) in the deployment files:", file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        return 1
    print(f"deployment files OK: {len(bins)} binaries, systemd, Containerfile, "
          f"k8s base ({len(base)} workload) and multiprocess ({len(multi)} workloads)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
