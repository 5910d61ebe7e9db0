"""Importing discourse makes OpenMP waiters sleep (torch's threads starve each other on shared
cores otherwise), unless the user chose a policy."""

import os
import subprocess
import sys


def _policy(env: dict[str, str]) -> str:
    code = "import discourse, os; print(os.environ['OMP_WAIT_POLICY'])"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_import_sets_passive_wait_policy_but_keeps_the_users_choice() -> None:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    assert _policy(env) == "PASSIVE"
    assert _policy({**env, "OMP_WAIT_POLICY": "ACTIVE"}) == "ACTIVE"
