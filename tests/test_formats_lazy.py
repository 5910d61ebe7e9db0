"""A big JSONL file of many threads is read one thread at a time (issue 7): the same threads,
order, warnings and line numbers as the whole-file parser, only the thread asked for parsed."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from discourse.api import load_threads
from discourse.core.errors import InputError
from discourse.core.thread import Thread
from discourse.formats import lazy_jsonl
from discourse.formats.lazy_jsonl import JsonlThreads, open_jsonl


def _lines(threads: int = 40, seed: int = 3) -> list[str]:
    """Rows of many threads, interleaved, with every oddity the parser repairs or reports."""
    rng = random.Random(seed)
    out: list[str] = []
    for i in range(threads * 12):
        t = rng.randrange(threads)
        row: dict[str, object] = {
            "id": f"t{t}-{i}",
            "Thread_ID": f"t{t}",
            "author": f"u{rng.randrange(9)}",
            "body": f"text {i} ünï 😀",
        }
        if i % 5:
            row["parent_id"] = f"t{t}-{i - rng.randrange(1, 30)}"  # sometimes another thread's: repaired
        if i % 17 == 0:
            row["created_utc"] = "not a time"
        out.append(json.dumps(row, ensure_ascii=bool(i % 2)))
    out[7] = '{"id": "t1-x", "thread_id": "t1", "text": "cut \\ud83d emoji"}'  # a lone surrogate
    out[11] = '{"id": "broken", '  # not JSON
    out[13] = "[1, 2]"  # not an object
    out[19] = ""  # blank
    out[23] = '{"id": "t2-gone", "thread_id": "t2", "text": "  "}'  # no text, nobody replies: skipped
    out[29] = '{"id": "t3-dead", "thread_id": "t3", "text": ""}'  # no text but replied to: placeholder
    out[31] = '{"id": "t3-kid", "thread_id": "t3", "parent_id": "t3-dead", "text": "reply"}'
    out += ['{"id": "e1", "thread_id": "empty", "text": ""}', '{"id": "e2", "thread_id": "empty", "text": null}']
    out += ['{"id": "p1", "thread_id": "only-placeholders", "text": ""}']
    out += ['{"id": "p2", "thread_id": "only-placeholders", "parent_id": "p1", "text": ""}']
    return out


def _write(tmp_path: Path, lines: list[str], end: str = "\n", name: str = "many.jsonl") -> Path:
    path = tmp_path / name
    path.write_bytes(end.join(lines).encode("utf-8"))
    return path


@pytest.fixture
def lazy_from_1_byte(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lazy_jsonl, "LAZY_BYTES", 1)


@pytest.mark.parametrize("end", ["\n", "\r\n"])
def test_lazy_threads_equal_the_whole_file_parser_with_warnings_and_line_numbers(
    tmp_path: Path, lazy_from_1_byte: None, end: str
) -> None:
    path = _write(tmp_path, _lines(), end)
    lazy = load_threads(path)
    eager = load_threads(path.read_bytes(), name="many")  # bytes: always the whole-file parser
    assert isinstance(lazy, JsonlThreads) and not isinstance(eager, JsonlThreads)
    assert len(lazy) == len(eager) > 30
    assert list(lazy) == list(eager)
    assert lazy.ids == [t.id for t in eager]
    assert lazy[-1] == eager[-1] and lazy[2:5] == list(eager[2:5])
    first = " ".join(lazy[0].warnings)
    assert "lines 12 (" in first and "1 line(s) are not JSON objects and were skipped: 14" in first
    assert "lone UTF-16 surrogate" in first and "empty" not in lazy.ids and "only-placeholders" in lazy.ids
    with pytest.raises(IndexError):
        lazy[len(lazy)]


def test_only_the_thread_asked_for_is_parsed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, [line for line in _lines() if '"empty"' not in line and "only-placeholders" not in line])
    built: list[str] = []
    real = lazy_jsonl._thread

    def counted(tid: str, *args: Any) -> Thread:
        built.append(tid)
        return real(tid, *args)

    monkeypatch.setattr(lazy_jsonl, "_thread", counted)
    threads = open_jsonl(path, "many")
    assert threads is not None and built == []  # pass 1 keeps offsets, builds nothing
    t = threads[5]
    assert built == [t.id] and len(t.comments) > 3


def test_big_jsonl_files_go_lazy_and_small_ones_stay_whole(tmp_path: Path) -> None:
    lines = _lines(threads=400)
    big = _write(tmp_path, lines * (lazy_jsonl.LAZY_BYTES // len("\n".join(lines)) + 1), name="big.jsonl")
    assert big.stat().st_size >= lazy_jsonl.LAZY_BYTES
    assert isinstance(load_threads(big), JsonlThreads)
    assert isinstance(load_threads(_write(tmp_path, _lines(), name="small.jsonl")), list)


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b"\xef\xbb\xbf" + b,  # a byte-order mark
        lambda b: b.replace("ünï".encode(), "ünï".encode("cp1252")),  # not UTF-8
        lambda b: b.replace(b'"u1"', b'"u\x001"', 1),  # a NUL byte
        lambda b: b.replace(b"\n", b"\r", 3),  # bare carriage returns
    ],
)
def test_files_the_whole_file_reader_repairs_are_left_to_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: Callable[[bytes], bytes]
) -> None:
    path = tmp_path / "odd.jsonl"
    path.write_bytes(damage("\n".join(_lines()).encode("utf-8")))
    monkeypatch.setattr(lazy_jsonl, "LAZY_BYTES", 1 << 62)
    whole = load_threads(path)
    monkeypatch.setattr(lazy_jsonl, "LAZY_BYTES", 1)
    threads = load_threads(path)
    assert not isinstance(threads, JsonlThreads)
    assert list(threads) == list(whole) and len(whole) > 30


def test_errors_are_the_whole_file_parsers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for lines, message in (
        (["not json", "{broken"], "bad: no line holds a JSON object (line 1 ("),
        (['{"id": 1, "who": "a"}', '{"id": 2, "who": "b"}'], "bad: no text field"),
        (['{"id": 1, "text": ""}', '{"id": 2, "text": " "}'], "bad.jsonl: no thread with comments found in this jsonl"),
    ):
        path = _write(tmp_path, lines, name="bad.jsonl")
        for lazy_from in (1, 1 << 62):
            monkeypatch.setattr(lazy_jsonl, "LAZY_BYTES", lazy_from)
            with pytest.raises(InputError, match=message.replace("(", r"\(")):
                load_threads(path)


def test_one_thread_over_the_size_limit_is_refused_in_one_line(tmp_path: Path) -> None:
    path = _write(tmp_path, _lines())
    with pytest.raises(InputError, match=r"many: thread 't\d+' is .* MB, over the 0 MB limit"):
        open_jsonl(path, "many", max_thread_bytes=100)


def test_the_batch_parses_each_thread_of_a_lazy_file_once(
    tmp_path: Path, lazy_from_1_byte: None, monkeypatch: pytest.MonkeyPatch, tiny_config: dict
) -> None:
    """The batch asked a lazy file for every thread three times (thread keys, the already-written
    check, the run): now once, and a rerun that finds them written parses none."""
    from discourse.batch import run_batch
    from discourse.core.config import load_config

    rows = [
        json.dumps({"id": f"t{t}-{i}", "thread_id": f"t{t}", "author": f"u{i % 3}", "text": f"comment {i} of {t}"})
        for t in range(5)
        for i in range(4)
    ]
    path = _write(tmp_path, rows)
    built: list[int] = []
    real = JsonlThreads._build
    monkeypatch.setattr(JsonlThreads, "_build", lambda self, k: built.append(k) or real(self, k))
    res = run_batch([path], tmp_path / "out", load_config(tiny_config))
    assert res.processed == [str(path)] and len(res.entries) == 5 and sorted(built) == list(range(5))
    built.clear()
    run_batch([path], tmp_path / "out", load_config(tiny_config), force=False)
    assert built == []  # unchanged: skipped before parsing
