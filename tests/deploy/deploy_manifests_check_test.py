#!/usr/bin/env python3
"""A test of deploy_manifests_check.py: an unmodified copy of deploy/ passes,
and each planted fault (a bad flag, a wrong port, a probe on the wrong port, an
extra or missing NetworkPolicy edge, ...) makes it fail with the expected message.

  deploy_manifests_check_test.py --repo ROOT NAME=PATH...   (as for the check)
"""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CHECK = os.path.join(HERE, "deploy_manifests_check.py")

# (label, file under deploy/, old text, new text, expected message)
FAULTS = [
    ("unknown flag in a systemd unit", "systemd/market-credit.service",
     "--data-dir %S/market-credit", "--data-dir %S/market-credit --bogus-flag 1",
     "market-credit has no flag --bogus-flag"),
    ("wrong gRPC port in a systemd unit", "systemd/market-credit.service",
     "MARKET_LISTEN=127.0.0.1:7450", "MARKET_LISTEN=127.0.0.1:7460",
     "--listen 127.0.0.1:7460: port should be 7450"),
    ("required flag dropped in a systemd unit", "systemd/market-listing.service",
     " --service-credentials %d/service-credentials.json", "",
     "required flag --service-credentials not given"),
    ("peer flag dropped in a systemd unit", "systemd/market-warranty.service",
     " --credit-addr ${MARKET_CREDIT_ADDR}", "",
     "peer address --credit-addr not given"),
    ("peer on the wrong port in a systemd unit", "systemd/market-appraisal.service",
     "MARKET_IDENTITY_ADDR=127.0.0.1:7400", "MARKET_IDENTITY_ADDR=127.0.0.1:7401",
     "identity listens on port 7400"),
    ("unknown flag in the Containerfile CMD", "container/Containerfile",
     '"--listen", "0.0.0.0:7400"', '"--listen-addr", "0.0.0.0:7400"',
     "marketd has no flag --listen-addr"),
    ("container running as root", "container/Containerfile",
     "USER 10001:10001", "USER root", "want a USER that is not root"),
    ("no HEALTHCHECK", "container/Containerfile",
     "HEALTHCHECK --interval", "# HEALTHCHECK --interval", "no HEALTHCHECK"),
    ("COPY of a missing file", "container/Containerfile",
     "COPY cmake cmake", "COPY cmake-missing cmake", "COPY cmake-missing: not in the repository"),
    ("health check on another port", "container/Containerfile",
     "ENV MARKET_HTTP_PORT=7401", "ENV MARKET_HTTP_PORT=7402", "HEALTHCHECK asks port"),
    ("wrong base image", "container/Containerfile",
     "FROM debian:bookworm-slim\n", "FROM ubuntu:24.04\n", "want debian:bookworm-slim"),
    ("unknown flag in a k8s StatefulSet", "k8s/overlays/multiprocess/credit.yaml",
     '- "--data-dir"', '- "--datadir"', "market-credit has no flag --datadir"),
    ("readiness probe on the gRPC port", "k8s/overlays/multiprocess/listing.yaml",
     "readinessProbe:\n            httpGet:\n              path: /healthz\n              port: http",
     "readinessProbe:\n            httpGet:\n              path: /healthz\n              port: grpc",
     "readinessProbe port grpc: HTTP listens on 7421"),
    ("plaintext probe of a TLS server", "k8s/overlays/multiprocess/warranty.yaml",
     "port: http\n              scheme: HTTPS", "port: http\n              scheme: HTTP",
     "serving TLS, want an httpGet probe of /healthz over HTTPS"),
    ("TLS key flag dropped", "k8s/overlays/multiprocess/credit.yaml",
     '            - "--tls-key"\n            - "/run/market/tls-key/tls.key"\n', "",
     "--tls-cert and --tls-key go together"),
    ("peers called in plaintext in a systemd unit", "systemd/market-appraisal.service",
     " --peer-ca %d/ca.crt", "", "serves TLS but calls its peers in plaintext"),
    ("two replicas of a SQLite writer", "k8s/base/marketd.yaml",
     "replicas: 1", "replicas: 2", "replicas must be 1"),
    ("peer address on the HTTP port", "k8s/overlays/multiprocess/appraisal.yaml",
     'value: "market-listing:7420"', 'value: "market-listing:7421"',
     "does not reach listing's gRPC port 7420"),
    ("NetworkPolicy missing a needed call", "k8s/overlays/multiprocess/credit.yaml",
     "    - from:\n        - podSelector:\n            matchLabels:\n"
     "              app.kubernetes.io/name: market-listing\n",
     "    - from:\n        - podSelector:\n            matchLabels:\n"
     "              app.kubernetes.io/name: market-nobody\n",
     "listing -> credit gRPC is blocked by ingress, but listing calls credit"),
    ("NetworkPolicy allowing a call nobody makes", "k8s/overlays/multiprocess/warranty.yaml",
     "  ingress:\n", "  ingress:\n    - {}\n",
     "any pod can reach warranty on its gRPC port"),
    ("egress opened to every pod", "k8s/overlays/multiprocess/identity.yaml",
     "  egress: []\n", "  egress:\n    - {}\n", "identity -> appraisal gRPC is allowed by egress"),
    ("volume not on the data dir", "k8s/overlays/multiprocess/identity.yaml",
     "- name: data\n              mountPath: /var/lib/market",
     "- name: data\n              mountPath: /var/lib/other",
     "--data-dir /var/lib/market is not a volumeClaimTemplate mount"),
    ("credentials Secret mounted writable", "k8s/overlays/multiprocess/credit.yaml",
     "mountPath: /etc/market/credentials\n              readOnly: true",
     "mountPath: /etc/market/credentials\n              readOnly: false",
     "secret volume service-credentials must be mounted readOnly"),
]


def run_check(repo, deploy, bins):
    return subprocess.run([sys.executable, CHECK, "--repo", repo, "--deploy", deploy] + bins,
                          capture_output=True, text=True)


def main():
    args = sys.argv[1:]
    repo = args[args.index("--repo") + 1]
    bins = [a for a in args if "=" in a]
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        deploy = os.path.join(tmp, "deploy")
        shutil.copytree(os.path.join(repo, "deploy"), deploy)
        out = run_check(repo, deploy, bins)
        if out.returncode != 0:
            print("FAIL: the unmodified deploy/ does not pass:\n" + out.stderr, file=sys.stderr)
            return 1
        for label, rel, old, new, want in FAULTS:
            shutil.rmtree(deploy)
            shutil.copytree(os.path.join(repo, "deploy"), deploy)
            path = os.path.join(deploy, rel)
            text = open(path, encoding="utf-8").read()
            if old not in text:
                print(f"FAIL: {label}: {rel} no longer contains {old!r}", file=sys.stderr)
                failures += 1
                continue
            open(path, "w", encoding="utf-8").write(text.replace(old, new, 1))
            out = run_check(repo, deploy, bins)
            if out.returncode == 0:
                print(f"FAIL: {label}: the check passed", file=sys.stderr)
                failures += 1
            elif want not in out.stderr:
                print(f"FAIL: {label}: want {want!r} in:\n{out.stderr}", file=sys.stderr)
                failures += 1
            else:
                print(f"ok: {label} detected")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
