from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_data() -> Path | None:
    env = os.environ.get("DISCOURSE_SHARED_DATA")
    for cand in ([Path(env)] if env else []) + [REPO.parent / "shared" / "data", REPO.parents[1] / "shared" / "data"]:
        if (cand / "README.md").exists():
            return cand
    return None


@pytest.fixture(scope="session")
def shared() -> Path:
    path = shared_data()
    if path is None:
        pytest.skip("../shared/data is not present (set DISCOURSE_SHARED_DATA to run this test)")
    return path


@pytest.fixture(scope="session")
def reference_thread(shared: Path) -> Path:
    return shared / "threads" / "idlib_patrol_thread.txt"
