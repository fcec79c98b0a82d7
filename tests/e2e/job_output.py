"""What a finished `scripts/main-job` run wrote, for the checks that read it afterwards
(test_main_job_output.py after 60-e2e's short run, test_fault_run.py after 65-faults' fault run).
Each names the env vars its suite sets: the output folder and the job's exit status."""
import json
import os
import pathlib

import pytest


class JobOutput:
    def __init__(self, out_var, rc_var, suite):
        self.dir = os.environ.get(out_var)
        self.rc = os.environ.get(rc_var)
        self.skip = pytest.mark.skipif(not self.dir, reason=f"run by {suite} after the job")

    def path(self, name):
        return pathlib.Path(self.dir) / name

    def load(self, name):
        p = self.path(name)
        assert p.exists(), f"the job did not write {p}"
        return json.loads(p.read_text())

    def assert_exit_ok(self, command):
        assert self.rc == "0", f"{command} exited {self.rc}"
