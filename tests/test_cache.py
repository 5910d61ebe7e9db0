"""The result cache: content-addressed, bounded, safe against a kill, damage and a second process."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import time
from pathlib import Path

from discourse.core.cache import CACHE_DIR, CACHE_FILE, ResultCache, content_key


def test_keys_depend_on_every_part_and_cannot_run_together() -> None:
    assert content_key("model", "text") == content_key("model", "text")
    assert content_key("model", "text") != content_key("model", "text ")
    assert content_key("ab", "c") != content_key("a", "bc")
    assert content_key("\ud800") != content_key("\ufffd")  # a lone surrogate is a key, not a crash


def test_round_trip_by_kind_and_hit_counts(tmp_path: Path) -> None:
    cache = ResultCache.open(tmp_path)
    assert (tmp_path / CACHE_DIR / CACHE_FILE).is_file()
    cache.put_many("encode", {"k1": b"\x00\x01", "k2": b"two"})
    cache.put_many("toxicity", {"k1": b"other kind"})
    got = cache.get_many("encode", ["k1", "k2", "k3"])
    assert got == {"k1": b"\x00\x01", "k2": b"two"}
    assert cache.get_many("toxicity", ["k1"]) == {"k1": b"other kind"}
    assert (cache.hits, cache.misses) == (3, 1)
    cache.close()
    again = ResultCache.open(tmp_path)  # persisted
    assert again.get_many("encode", ["k2"]) == {"k2": b"two"}


def test_bounded_least_recently_used_go_first(tmp_path: Path) -> None:
    cache = ResultCache.open(tmp_path, max_bytes=10_000)
    for k in range(8):
        cache.put_many("x", {f"k{k}": bytes(1000)})
        time.sleep(0.01)
    cache.get_many("x", ["k0"])  # k0 used again: now the most recent
    time.sleep(0.01)
    cache.put_many("x", {f"k{k}": bytes(1000) for k in range(8, 12)})
    assert cache.size() <= 10_000
    kept = cache.get_many("x", [f"k{k}" for k in range(12)])
    assert "k0" in kept and "k11" in kept and "k1" not in kept


def test_a_damaged_file_is_set_aside_with_a_warning(tmp_path: Path) -> None:
    folder = tmp_path / CACHE_DIR
    folder.mkdir()
    (folder / CACHE_FILE).write_bytes(b"this is not a database" * 100)
    cache = ResultCache.open(tmp_path)
    assert cache.warnings and "set aside" in cache.warnings[0]
    cache.put_many("x", {"k": b"v"})
    assert cache.get_many("x", ["k"]) == {"k": b"v"}
    assert any(p.name.startswith(CACHE_FILE + ".damaged-") for p in folder.iterdir())


def _writer(out: str, start: int) -> None:
    cache = ResultCache.open(Path(out))
    for k in range(start, start + 200):
        cache.put_many("x", {f"k{k}": str(k).encode()})


def test_two_processes_write_at_once_and_lose_nothing(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), s)) for s in (0, 1000)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    got = ResultCache.open(tmp_path).get_many("x", [f"k{k}" for k in [*range(200), *range(1000, 1200)]])
    assert len(got) == 400 and got["k1199"] == b"1199"


def _slow_writer(out: str) -> None:
    cache = ResultCache.open(Path(out))
    k = 0
    while True:  # killed from outside part-way through
        cache.put_many("x", {f"w{k}-{j}": bytes(2000) for j in range(50)})
        k += 1


def test_a_kill_mid_write_leaves_a_readable_cache(tmp_path: Path) -> None:
    ResultCache.open(tmp_path).put_many("x", {"before": b"kept"})
    ctx = multiprocessing.get_context("spawn")
    p = ctx.Process(target=_slow_writer, args=(str(tmp_path),))
    p.start()
    time.sleep(3.0)
    assert p.pid is not None
    os.kill(p.pid, signal.SIGKILL)
    p.join(10)
    cache = ResultCache.open(tmp_path)
    assert not cache.warnings
    assert cache.get_many("x", ["before"]) == {"before": b"kept"}
    db = sqlite3.connect(tmp_path / CACHE_DIR / CACHE_FILE)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    counts = db.execute("SELECT count(*) FROM results WHERE key LIKE 'w%'").fetchone()[0]
    assert counts % 50 == 0  # whole transactions only
