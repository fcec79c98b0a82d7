#!/usr/bin/env python3
"""Tiny kube-apiserver client for the bench scripts (no kubectl needed).

  kapi.py --server URL --ca FILE --token-file FILE wait-ready [--timeout S]
  kapi.py ... apply-crds [--timeout S] FILE...   server-side apply, then wait Established + discovery
  kapi.py ... apply FILE...                      server-side apply any objects (plural = kind + s/ies)

Files may be YAML (needs PyYAML) or JSON, one or more documents each.
"""
import argparse
import json
import ssl
import sys
import time
import urllib.error
import urllib.request

MANAGER = "blackfriday-bench"


class Api:
    def __init__(self, server, ca, token):
        self.server = server.rstrip("/")
        self.ctx = ssl.create_default_context(cafile=ca)
        self.token = token

    def call(self, method, path, body=None, ctype="application/json"):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.server + path, data=data, method=method)
        req.add_header("Authorization", "Bearer " + self.token)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", ctype)
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=30) as r:
                raw = r.read()
                return r.status, raw
        except urllib.error.HTTPError as e:
            return e.code, e.read()
        except (urllib.error.URLError, OSError) as e:
            return 0, str(e).encode()


def load_docs(path):
    with open(path) as f:
        text = f.read()
    if path.endswith(".json"):
        return [json.loads(text)]
    import yaml  # PyYAML; installed by scripts/setup.d/10-k8s.sh

    return [d for d in yaml.safe_load_all(text) if d]


def wait_ready(api, timeout):
    deadline = time.time() + timeout
    last = b""
    while time.time() < deadline:
        code, body = api.call("GET", "/readyz")
        if code == 200:
            return True
        last = body
        time.sleep(0.5)
    sys.stderr.write(f"kapi: /readyz not ok after {timeout}s: {last[-500:].decode(errors='replace')}\n")
    return False


def established(crd):
    """True when a CRD object says Established and NamesAccepted. Right after a create the API
    server returns `status.conditions: null` (not a missing key) until its controllers report."""
    conds = {c.get("type"): c.get("status") for c in ((crd.get("status") or {}).get("conditions") or [])}
    return conds.get("Established") == "True" and conds.get("NamesAccepted") == "True"


def apply_crds(api, files, timeout):
    crds = []
    for path in files:
        for doc in load_docs(path):
            if doc.get("kind") != "CustomResourceDefinition":
                raise SystemExit(f"kapi: {path}: not a CustomResourceDefinition")
            name = doc["metadata"]["name"]
            code, body = api.call(
                "PATCH",
                f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}"
                f"?fieldManager={MANAGER}&force=true",
                doc, "application/apply-patch+yaml")
            if code not in (200, 201):
                raise SystemExit(f"kapi: applying {name} from {path}: HTTP {code}: "
                                 f"{body[:2000].decode(errors='replace')}")
            crds.append(doc)
    deadline = time.time() + timeout
    pending = {c["metadata"]["name"]: c for c in crds}
    while pending and time.time() < deadline:
        for name, doc in list(pending.items()):
            code, body = api.call("GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")
            if code != 200:
                continue
            if not established(json.loads(body)):
                continue
            spec = doc["spec"]
            ok = True
            for v in spec["versions"]:
                if not v.get("served", True):
                    continue
                code, body = api.call("GET", f"/apis/{spec['group']}/{v['name']}")
                plurals = [r["name"] for r in (json.loads(body).get("resources") or [])] if code == 200 else []
                ok = ok and spec["names"]["plural"] in plurals
            if ok:
                del pending[name]
        if pending:
            time.sleep(0.3)
    if pending:
        raise SystemExit(f"kapi: CRDs not established after {timeout}s: {sorted(pending)}")
    print(f"kapi: {len(crds)} CRDs established: " + " ".join(c["metadata"]["name"] for c in crds),
          file=sys.stderr)


def plural(kind):
    kind = kind.lower()
    return kind[:-1] + "ies" if kind.endswith("y") else kind + "s"


def apply(api, files):
    for path in files:
        for doc in load_docs(path):
            group_version = doc["apiVersion"]
            base = f"/api/{group_version}" if "/" not in group_version else f"/apis/{group_version}"
            ns = doc["metadata"].get("namespace")
            scope = f"/namespaces/{ns}" if ns else ""
            name = doc["metadata"]["name"]
            code, body = api.call(
                "PATCH",
                f"{base}{scope}/{plural(doc['kind'])}/{name}?fieldManager={MANAGER}&force=true",
                doc, "application/apply-patch+yaml")
            if code not in (200, 201):
                raise SystemExit(f"kapi: applying {doc['kind']} {name} from {path}: HTTP {code}: "
                                 f"{body[:2000].decode(errors='replace')}")
            print(f"kapi: applied {doc['kind']} {name}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--token-file", required=True)
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("wait-ready")
    w.add_argument("--timeout", type=float, default=60)
    a = sub.add_parser("apply-crds")
    a.add_argument("--timeout", type=float, default=60)
    a.add_argument("files", nargs="+")
    o = sub.add_parser("apply")
    o.add_argument("files", nargs="+")
    args = ap.parse_args()
    with open(args.token_file) as f:
        api = Api(args.server, args.ca, f.read().strip())
    if args.cmd == "wait-ready":
        return 0 if wait_ready(api, args.timeout) else 1
    if args.cmd == "apply":
        apply(api, args.files)
        return 0
    apply_crds(api, args.files, args.timeout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
