#!/usr/bin/env python3
"""Derive test-only CRDs for KubeVirt's VirtualMachine and VirtualMachineInstance (kubevirt.io/v1)
from KubeVirt's OpenAPI v2 document (tools/k8s/upstream/kubevirt/swagger-<KUBEVIRT_VERSION>.json, the
upstream api/openapi-spec/swagger.json kept in the repo unchanged; its sha256 is checked before use,
see tools/k8s/upstream/SOURCES.md).

KubeVirt does not publish these CRDs as YAML (virt-operator creates them from Go code), so the
bench derives them: every `$ref` is inlined into one structural openAPIV3Schema. Rules:

- `metadata` at the root is `type: object` (the apiserver validates ObjectMeta itself); a nested
  `metadata` (spec.template.metadata, dataVolumeTemplates[].metadata) is `type: object` with
  `x-kubernetes-preserve-unknown-fields: true`, as KubeVirt's own CRDs do.
- `["string", "null"]` becomes `type: string` with `nullable: true`.
- A type list such as `["string","integer","number"]` (Quantity, IntOrString) becomes
  `x-kubernetes-int-or-string: true` with `anyOf: [integer, string]`; quantities also get the
  Quantity pattern.
- A `$ref` that is already being expanded (recursion) becomes an object with
  `x-kubernetes-preserve-unknown-fields: true` (none is reachable from VM/VMI in v1.9.0; the
  rule is a guard).
- `default`s are dropped (KubeVirt defaults in its webhook, and `default: {}` on objects with
  required fields is not a valid CRD default); `x-kubernetes-patch-*` keys are dropped (not
  allowed in CRDs); formats other than int32/int64/date-time/byte/double/float are dropped.

Usage: vm_crd.py [--swagger FILE] [--out DIR] [--no-descriptions] [--check DIR]
Writes DIR/virtualmachines.kubevirt.io.json and DIR/virtualmachineinstances.kubevirt.io.json
(JSON is valid YAML; the output is deterministic). With --check DIR, compares instead of writing
and exits 1 when they differ.
"""
import argparse
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
UPSTREAM = os.path.join(HERE, "upstream")

KEEP_FORMATS = {"int32", "int64", "date-time", "byte", "double", "float"}
DROP_KEYS = {"default", "x-kubernetes-patch-strategy", "x-kubernetes-patch-merge-key", "$ref"}
OBJECT_META = "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"
QUANTITY = "k8s.io.apimachinery.pkg.api.resource.Quantity"
QUANTITY_PATTERN = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|"
    r"([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)

KINDS = {
    "VirtualMachine": {
        "definition": "v1.VirtualMachine",
        "plural": "virtualmachines",
        "shortNames": ["vm", "vms"],
        "columns": [
            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
            {"name": "Status", "type": "string", "jsonPath": ".status.printableStatus"},
            {"name": "Ready", "type": "string",
             "jsonPath": ".status.conditions[?(@.type=='Ready')].status"},
        ],
    },
    "VirtualMachineInstance": {
        "definition": "v1.VirtualMachineInstance",
        "plural": "virtualmachineinstances",
        "shortNames": ["vmi", "vmis"],
        "columns": [
            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
            {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
            {"name": "IP", "type": "string", "jsonPath": ".status.interfaces[0].ipAddress"},
            {"name": "NodeName", "type": "string", "jsonPath": ".status.nodeName"},
            {"name": "Ready", "type": "string",
             "jsonPath": ".status.conditions[?(@.type=='Ready')].status"},
        ],
    },
}


class Converter:
    def __init__(self, definitions, descriptions):
        self.defs = definitions
        self.descriptions = descriptions
        self.recursions = []

    def _desc(self, out, node):
        if self.descriptions and "description" in node:
            out["description"] = node["description"]

    def convert(self, node, stack, depth=0):
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            if name == OBJECT_META:
                out = {"type": "object"}
                if depth > 1:  # nested metadata: keep what users write, unchecked
                    out["x-kubernetes-preserve-unknown-fields"] = True
                self._desc(out, node)
                return out
            if name in stack:
                self.recursions.append(" -> ".join(stack + [name]))
                out = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                self._desc(out, node)
                return out
            out = self.convert(self.defs[name], stack + [name], depth)
            if name == QUANTITY:
                out["pattern"] = QUANTITY_PATTERN
            # description of the referring property wins over the definition's
            if self.descriptions and "description" in node:
                out["description"] = node["description"]
            elif not self.descriptions:
                out.pop("description", None)
            return out

        out = {}
        for key, value in node.items():
            if key in DROP_KEYS or key == "description":
                continue
            if key == "type" and isinstance(value, list):
                kinds = set(value)
                if "null" in kinds:  # e.g. ["string", "null"] for optional timestamps
                    out["nullable"] = True
                    kinds.discard("null")
                if len(kinds) == 1:
                    out["type"] = kinds.pop()
                    continue
                if "string" in kinds and kinds & {"integer", "number"}:
                    out["x-kubernetes-int-or-string"] = True
                    out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
                    continue
                raise SystemExit(f"unsupported type list {value}")
            if key == "format":
                if value in KEEP_FORMATS:
                    out[key] = value
                continue
            if key == "properties":
                out[key] = {p: self.convert(v, stack, depth + 1) for p, v in sorted(value.items())}
            elif key == "items":
                out[key] = self.convert(value, stack, depth)
            elif key == "additionalProperties":
                out[key] = self.convert(value, stack, depth) if isinstance(value, dict) else value
            else:
                out[key] = value
        if out.get("x-kubernetes-int-or-string"):
            out.pop("type", None)
        self._desc(out, node)
        return out


def crd_for(kind, spec, definitions, descriptions, version):
    conv = Converter(definitions, descriptions)
    schema = conv.convert({"$ref": "#/definitions/" + spec["definition"]}, [], 0)
    # the root: apiVersion/kind/metadata are handled by the apiserver
    schema["properties"]["metadata"] = {"type": "object"}
    schema["type"] = "object"
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{spec['plural']}.kubevirt.io",
            "labels": {"app.kubernetes.io/part-of": "blackfriday-bench",
                       "kubevirt.io/derived-from": f"swagger-{version}"},
        },
        "spec": {
            "group": "kubevirt.io",
            "names": {
                "kind": kind,
                "listKind": kind + "List",
                "plural": spec["plural"],
                "singular": kind.lower(),
                "shortNames": spec["shortNames"],
                "categories": ["all"],
            },
            "scope": "Namespaced",
            "versions": [{
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "additionalPrinterColumns": spec["columns"],
                "schema": {"openAPIV3Schema": schema},
            }],
        },
    }
    return crd, conv.recursions


PLATFORM_VERSIONS = os.path.join(HERE, "..", "..", "config", "platform", "versions.sh")


def kubevirt_version():
    """KUBEVIRT_VERSION of config/platform/versions.sh: the KubeVirt users install, so the bench's
    swagger must be that version's (a bump without a new swagger fails here: file missing)."""
    with open(PLATFORM_VERSIONS) as f:
        for line in f:
            key, _, value = line.split("#", 1)[0].strip().partition("=")
            if key == "KUBEVIRT_VERSION":
                return value.strip()
    raise SystemExit("vm_crd: no KUBEVIRT_VERSION in config/platform/versions.sh")


def verified_swagger(path):
    """The swagger document's bytes, refused unless they match the recorded upstream sha256."""
    with open(path, "rb") as f:
        data = f.read()
    with open(path + ".sha256") as f:
        want = f.read().split()[0]
    got = hashlib.sha256(data).hexdigest()
    if got != want:
        raise SystemExit(f"vm_crd: {path}: sha256 {got} is not the upstream {want} ({path}.sha256)")
    return data


def main():
    version = kubevirt_version()
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--swagger", default=os.path.join(UPSTREAM, "kubevirt", f"swagger-{version}.json"),
                    help="KubeVirt's swagger.json (a FILE.sha256 beside it must hold its sha256)")
    ap.add_argument("--out", default=os.path.join(HERE, "..", "..", ".k8s", "crds"))
    ap.add_argument("--no-descriptions", dest="descriptions", action="store_false",
                    help="drop field descriptions (about 2.5x smaller)")
    ap.add_argument("--check", metavar="DIR", help="compare with DIR instead of writing")
    args = ap.parse_args()

    definitions = json.loads(verified_swagger(args.swagger))["definitions"]
    target = args.check or args.out
    os.makedirs(target, exist_ok=True) if not args.check else None
    differ = False
    for kind, spec in KINDS.items():
        crd, recursions = crd_for(kind, spec, definitions, args.descriptions, version)
        for r in recursions:
            print(f"vm_crd: {kind}: recursion cut at {r}", file=sys.stderr)
        text = json.dumps(crd, indent=1, sort_keys=True) + "\n"
        path = os.path.join(target, f"{spec['plural']}.kubevirt.io.json")
        if args.check:
            try:
                with open(path) as f:
                    same = f.read() == text
            except FileNotFoundError:
                same = False
            if not same:
                print(f"vm_crd: {path} differs from the generated CRD", file=sys.stderr)
                differ = True
        else:
            tmp = path + ".tmp"
            with open(tmp, "w") as f:
                f.write(text)
            os.replace(tmp, path)
            print(f"vm_crd: wrote {path} ({len(text)} bytes)", file=sys.stderr)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
