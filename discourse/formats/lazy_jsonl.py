"""A big JSONL file read one thread at a time (issue 7: a file of many threads was parsed whole).

Pass 1 reads the file line by line, parses each line once to learn its thread, and keeps only
where each line starts, how long it is and its line number (three integers a line). Asking for a
thread then reads just its lines back and builds it exactly as :func:`~.tabular.parse_jsonl`
does: the same threads, in the same order, with the same warnings and line numbers. Nothing but
the thread asked for is held, so memory follows the biggest thread, not the file.

Only plain UTF-8 files take this path (no byte-order mark, no NUL byte, no bare carriage return,
every line valid UTF-8): anything else is left to the whole-file reader, which repairs it and
says so. A file over the whole-file size limit is read this way too; a single thread over it is
refused.
"""

from __future__ import annotations

import codecs
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path, PurePath
from typing import Any, overload

import numpy as np

from discourse.core.errors import InputError
from discourse.core.thread import Thread
from discourse.formats.reading import (
    _MAGIC,
    _MAX_JUNK_SHARE,
    _SAMPLE,
    DEFAULT_MAX_BYTES,
    _junk_share,
    load_json_counted,
    surrogate_note,
)
from discourse.formats.tabular import ALIASES, _pick, _thread, id_str, json_line, listing

LAZY_BYTES = 1 << 20
"""Files from this size on are read lazily (smaller ones: whole, as before)."""

_MALFORMED = (KeyError, IndexError, TypeError, ValueError, AttributeError, RecursionError)


class JsonlThreads(Sequence[Thread]):
    """The threads of a JSONL file, each parsed from the file when asked for (not kept)."""

    def __init__(
        self,
        path: Path,
        source_name: str,
        tids: list[str],
        lines: np.ndarray,
        bounds: np.ndarray,
        has_ids: bool,
        notes: list[str],
    ) -> None:
        self.path = path
        self.source_name = source_name
        self._tids = tids
        self._lines = lines  # (line number, byte offset, byte length) per line, grouped by thread
        self._bounds = bounds  # thread k's lines: self._lines[bounds[k]:bounds[k+1]]
        self._has_ids = has_ids
        self._notes = notes  # file-level warnings: the first thread carries them

    def __len__(self) -> int:
        return len(self._tids)

    @overload
    def __getitem__(self, index: int) -> Thread: ...

    @overload
    def __getitem__(self, index: slice) -> list[Thread]: ...

    def __getitem__(self, index: int | slice) -> Thread | list[Thread]:
        if isinstance(index, slice):
            return [self[k] for k in range(*index.indices(len(self)))]
        k = range(len(self))[index]  # IndexError past the end; negatives count from it
        thread = self._build(k)
        if k == 0 and self._notes:
            thread = replace(thread, warnings=tuple(self._notes) + thread.warnings)
        return thread

    def __iter__(self) -> Iterator[Thread]:
        return (self[k] for k in range(len(self)))

    @property
    def ids(self) -> list[str]:
        """The thread ids, in order, without parsing a thread."""
        return list(self._tids)

    def _build(self, k: int) -> Thread:
        rows = self._lines[self._bounds[k] : self._bounds[k + 1]]
        group: list[tuple[int, dict[str, Any]]] = []
        with self.path.open("rb") as fh:
            for no, offset, length in rows.tolist():
                fh.seek(offset)
                row, _ = load_json_counted(_line(fh.read(length)).decode("utf-8"), "line")
                group.append((no, {str(key).strip().lower(): v for key, v in row.items()}))
        try:
            return _thread(self._tids[k], group, "jsonl", "line", self._has_ids)
        except _MALFORMED as exc:
            detail = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}" if str(exc) else type(exc).__name__
            raise InputError(f"{self.source_name}: malformed jsonl input ({detail})") from None


def _line(raw: bytes) -> bytes:
    """A line's bytes without its line end (``\\n`` or ``\\r\\n``)."""
    if raw.endswith(b"\n"):
        raw = raw[:-1]
    return raw[:-1] if raw.endswith(b"\r") else raw


def open_jsonl(path: Path, source_name: str, max_thread_bytes: int = DEFAULT_MAX_BYTES) -> JsonlThreads | None:
    """The file's threads, read lazily; None when the file is not plain UTF-8 JSONL (then the
    whole-file reader must read it). Raises InputError as :func:`~.tabular.parse_jsonl` would."""
    default_thread = PurePath(source_name).stem or "thread"
    groups: dict[str, int] = {}  # thread id -> its index, in first-seen order
    has_body: list[bool] = []
    sizes: list[int] = []
    line_no, offsets, lengths, owner = (array("q") for _ in range(4))  # 8 bytes an entry, not a Python int
    bad: list[str] = []
    not_objects: list[str] = []
    rows = surrogates = 0
    has_text = has_ids = False
    offset = 0
    with path.open("rb") as fh:
        head = fh.read(_SAMPLE)
        if any(head.startswith(magic) for magic, _ in _MAGIC) or _junk_share(head) > _MAX_JUNK_SHARE:
            return None  # the whole-file reader refuses it with the reason
        fh.seek(0)
        for no, raw in enumerate(fh, start=1):
            start, offset = offset, offset + len(raw)
            if no == 1 and raw.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                return None
            body = _line(raw)
            if b"\r" in body or b"\x00" in body:
                return None
            try:
                line = body.decode("utf-8")
            except UnicodeDecodeError:
                return None
            if not line.strip():
                continue
            got = json_line(no, line, bad)
            if got is None:
                continue
            row, n = got
            rows += 1
            surrogates += n
            if not isinstance(row, dict):
                not_objects.append(str(no))
                continue
            r = {str(key).strip().lower(): v for key, v in row.items()}
            has_text = has_text or _pick(r, "text")[0] is not None
            has_ids = has_ids or _pick(r, "id")[0] is not None
            tid = id_str(_pick(r, "thread")[1]) or default_thread
            k = groups.setdefault(tid, len(groups))
            if k == len(has_body):
                has_body.append(False)
                sizes.append(0)
            text = _pick(r, "text")[1]
            has_body[k] = has_body[k] or bool(
                (text if isinstance(text, str) else "" if text is None else str(text)).strip()
            )
            sizes[k] += len(raw)
            line_no.append(no)
            offsets.append(start)
            lengths.append(len(raw))
            owner.append(k)
    if not rows:
        raise InputError(f"{source_name}: no line holds a JSON object" + (f" (line {bad[0]})" if bad else ""))
    notes = [f"{len(bad)} line(s) are not valid JSON and were skipped: lines {listing(bad)}"] if bad else []
    if surrogates:
        notes.append(surrogate_note(source_name, surrogates))
    if not_objects:
        notes.append(f"{len(not_objects)} line(s) are not JSON objects and were skipped: {listing(not_objects)}")
    if owner and not has_text:
        raise InputError(f"{source_name}: no text field (expected one of: {', '.join(ALIASES['text'])})")
    if owner and not has_ids:
        notes.append("no id field; comments are numbered by line and parent ids are read as those numbers")
    too_big = [(tid, sizes[k]) for tid, k in groups.items() if sizes[k] > max_thread_bytes]
    if too_big:
        tid, size = too_big[0]
        raise InputError(
            f"{source_name}: thread {tid!r} is {size / 2**20:.1f} MB, over the {max_thread_bytes >> 20} MB limit"
        )
    who = np.frombuffer(owner, dtype=np.int64)
    order = np.argsort(who, kind="stable")
    table = np.stack([np.frombuffer(a, dtype=np.int64) for a in (line_no, offsets, lengths)], 1)
    table = table[order]
    bounds = np.concatenate([[0], np.cumsum(np.bincount(who, minlength=len(groups)))])
    tids = list(groups)
    lazy = JsonlThreads(path, source_name, tids, table, bounds, has_ids, [])
    # a thread whose every line lacks text is dropped unless some comment replies to one (placeholders)
    keep = [k for k in range(len(tids)) if has_body[k] or lazy._build(k).comments]
    if len(keep) < len(tids):
        pieces = [table[bounds[k] : bounds[k + 1]] for k in keep]
        table = np.concatenate(pieces) if pieces else table[:0]
        bounds = np.concatenate([[0], np.cumsum([len(p) for p in pieces])])
        tids = [tids[k] for k in keep]
    return JsonlThreads(path, source_name, tids, table, bounds, has_ids, notes)
