"""A spilled sentence store read from end to end does not stay in the resident set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from discourse.stages.encode.store import StoreWriter


def _rss_file_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssFile:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no RssFile")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_dropped_pages_leave_the_resident_set_and_read_back_the_same() -> None:
    rng = np.random.default_rng(0)
    writer = StoreWriter(2000, 384, spill_bytes=1 << 20)
    for i in range(2000):  # 2,000 texts x 10 sentences x 384 float16: 15 MB, spilled
        writer.add([i], [[(k, k + 1) for k in range(10)]], [rng.standard_normal((10, 384)).astype(np.float16)])
    store = writer.build()
    assert store.spilled
    before = _rss_file_mb()
    total = sum(float(np.asarray(store.vectors(i), dtype=np.float32).sum()) for i in range(2000))
    read = _rss_file_mb()
    store.drop_pages()
    dropped = _rss_file_mb()
    assert read - before > 10 and read - dropped > 10  # MB: mapped in by the read, out by the drop
    assert sum(float(np.asarray(store.vectors(i), dtype=np.float32).sum()) for i in range(2000)) == total
    assert store.spans(1999) == [(k, k + 1) for k in range(10)]
