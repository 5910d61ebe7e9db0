"""Freed heap memory goes back to the OS when a stage ends (glibc keeps it otherwise)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from discourse.core.heap import release_heap

PROBE = """
from discourse.core.heap import release_heap
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS'):
            return int(line.split()[1]) // 1024
blobs = [bytes(1000) + i.to_bytes(4, 'little') for i in range(200_000)]  # 200 MB of malloc'd objects
keep = blobs[::10]  # every tenth lives on, between the freed ones
del blobs
before = rss()
release_heap()
print(before, rss())
"""


@pytest.mark.skipif(not (Path("/proc/self/status").exists() and release_heap()), reason="needs glibc and /proc")
def test_freed_objects_between_live_ones_leave_the_resident_set() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout
    before, after = (int(x) for x in out.split())
    assert before - after > 50  # MB: ~180 MB freed, ~100 MB of it resident until trimmed


def test_pipeline_trims_after_every_stage(monkeypatch: pytest.MonkeyPatch, tiny_config: dict) -> None:
    from discourse.api import load_threads
    from discourse.core import engine
    from discourse.testing import DEBATE

    calls: list[int] = []
    monkeypatch.setattr(engine, "release_heap", lambda: calls.append(1) or True)
    pipeline = engine.Pipeline(tiny_config)
    pipeline.run(load_threads(DEBATE.encode())[0])
    assert len(calls) == len(pipeline.specs)
