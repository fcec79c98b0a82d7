#!/usr/bin/env python3
"""The writer tiers rust-api sends to in grpc mode for a writer route, as the operator decides.

    tools/testrun/writer_tiers.py OPERATOR_BIN PIPELINE_YAML ROUTE   ->   grpc-server-1 grpc-server-2

It renders PIPELINE_YAML with spec.grpcClient.writerRoute = ROUTE (`OPERATOR_BIN render -f`) and
reads the rendered rust-api's WRITER_TARGETS: one tier per target, in the operator's order (a tier
scaled to zero is left out, as in the cluster). scripts/main-job maps each tier to its local writer
processes, so the route → tiers rule is the operator's alone (operator/src/validate.rs).
"""
import subprocess
import sys
import tempfile

import yaml


def writer_tiers(operator, pipeline_file, route):
    with open(pipeline_file) as f:
        pipeline = yaml.safe_load(f)
    pipeline["spec"].setdefault("grpcClient", {})["writerRoute"] = route
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as tmp:
        yaml.safe_dump(pipeline, tmp)
        tmp.flush()
        rendered = subprocess.run([operator, "render", "-f", tmp.name], check=True,
                                  capture_output=True, text=True).stdout
    for doc in yaml.safe_load_all(rendered):
        if doc and doc.get("kind") == "Deployment" and doc["metadata"]["name"] == "rust-api":
            env = doc["spec"]["template"]["spec"]["containers"][0]["env"]
            targets = next(e["value"] for e in env if e["name"] == "WRITER_TARGETS")
            # grpc-server-1.ingest.svc.cluster.local:50051 -> grpc-server-1
            return [t.split(".", 1)[0] for t in targets.split(",") if t]
    raise SystemExit(f"writer_tiers: no rust-api Deployment in the render of {pipeline_file}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    print(" ".join(writer_tiers(*sys.argv[1:])))
