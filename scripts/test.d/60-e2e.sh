#!/usr/bin/env bash
# Suite: end to end.
#  1. pytest tests/e2e (catalogue schema, OCI artifact round trip through the bench registry, the
#     locustfile's 2xx tally and exit codes)
#  2. the short main job: scripts/main-job --short (20 s of Locust load through rust-api → grpc-client →
#     writers → Kafka → 2 consumers → Valkey, exact per-category agreement, the dashboard image)
#  3. pytest tests/e2e/test_main_job_output.py on what the main job wrote
# E2E_CARGO_PROFILE (dev) picks the rust-api build; E2E_MAIN_JOB_ARGS adds main-job options
# (e.g. --isolated to run beside a bench that other work is using).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT" || exit 1
out="${BF_TEST_OUT:-out/test}"
mj="$out/main-job"
mkdir -p "$out"
rc=0
python3 -m pytest tests/e2e -v -rA -p no:cacheprovider --junitxml="$out/60-e2e-unit.xml" \
  --ignore tests/e2e/test_main_job_output.py --ignore tests/e2e/test_fault_run.py || rc=1
echo "==== short main job ===="
# shellcheck disable=SC2086
scripts/main-job --short --no-setup --cargo-profile "${E2E_CARGO_PROFILE:-dev}" --out "$mj" ${E2E_MAIN_JOB_ARGS:-}
mj_rc=$?
echo "main job exit status: $mj_rc"
BF_MAIN_JOB_OUT="$mj" BF_MAIN_JOB_RC="$mj_rc" python3 -m pytest tests/e2e/test_main_job_output.py -v -rA \
  -p no:cacheprovider --junitxml="$out/60-e2e-main-job.xml" || rc=1
[ "$mj_rc" = 0 ] || rc=1
exit "$rc"
