#!/usr/bin/env python3
"""The writer tiers rust-api sends to in grpc mode for a writer route, as the operator decides.

    tools/testrun/writer_tiers.py OPERATOR_BIN PIPELINE_YAML ROUTE   ->   grpc-server-1 grpc-server-2

It renders PIPELINE_YAML with spec.grpcClient.writerRoute = ROUTE (`OPERATOR_BIN render -f`) and
reads the rendered rust-api's WRITER_TARGETS: one tier per target, in the operator's order (a tier
scaled to zero is left out, as in the cluster). The local runner (tools/runner/topology.py, which
this calls) maps each tier to its local writer processes, so the route → tiers rule is the
operator's alone (operator/src/validate.rs); scripts/test.d/40-operator.sh checks it per route.
"""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "runner"))
import topology  # noqa: E402

if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    operator, pipeline_file, route = sys.argv[1:]
    print(" ".join(topology.writer_tiers(topology.render(operator, pipeline_file, route))))
