"""Many threads: one output folder per thread, an index.html, cheap reruns.

A state file (``.discourse-state.json`` in the output folder) records, per input
file, a key made of the file's sha256, the resolved config, the model registry and
the package and schema versions. A rerun skips inputs whose key is unchanged and whose outputs exist; a
crashed run resumes because the state is written atomically after every input
and each thread's outputs are written atomically.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from discourse.api import analyze_threads, load_threads, slug
from discourse.core.analysis import Analysis
from discourse.core.config import Config
from discourse.core.engine import Pipeline
from discourse.core.errors import DiscourseError, InputError
from discourse.core.modelfiles import models_dir, sha256_file
from discourse.core.thread import Thread
from discourse.report.atomic import atomic_folder, atomic_write_text, recover_folders

STATE_FILE = ".discourse-state.json"
THREAD_MARKER = ".discourse-thread.json"
"""In every thread folder: the source file and thread id it holds (checked before a rewrite)."""
LOCK_FILE = ".discourse.lock"
"""Held (``flock``) by the run writing into the folder; a second run waits for it."""
INPUT_SUFFIXES = {".txt", ".text", ".json", ".jsonl", ".ndjson", ".csv", ".tsv", ".xml"}


class OutputError(DiscourseError):
    """The output folder cannot be written, or a folder there holds something else."""

    exit_code = 6


@dataclass(frozen=True)
class Event:
    """Something a run reports as it goes: ``kind`` (wait, skip, fail, done...), a one-line
    ``message`` for people and ``data`` for scripts."""

    kind: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class BatchResult:
    processed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    entries: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


def expand_inputs(paths: Iterable[str | Path], exclude: Iterable[str | Path] = ()) -> list[Path]:
    """The input files the given paths stand for: a file as given; a folder's readable files
    (by suffix, sorted), leaving out hidden files and folders, the ``exclude`` folders (the run's
    own output folder) and any folder holding a discourse state file or thread marker: an
    output folder inside the input folder is never read back as new threads."""
    excluded = {Path(e).resolve() for e in exclude}

    def is_output(folder: Path) -> bool:
        return folder in excluded or (folder / STATE_FILE).exists() or (folder / THREAD_MARKER).exists()

    out: list[Path] = []
    for p in map(Path, paths):
        if not p.is_dir():
            out.append(p)
            continue
        top = p.resolve()
        if is_output(top) or any(a in excluded or (a / STATE_FILE).exists() for a in top.parents):
            continue
        found: list[Path] = []
        for root, dirs, files in os.walk(p):
            dirs[:] = [d for d in dirs if not d.startswith(".") and not is_output(Path(root, d).resolve())]
            found.extend(
                Path(root, f) for f in files if not f.startswith(".") and Path(f).suffix.lower() in INPUT_SUFFIXES
            )
        out.extend(sorted(found))
    return out


def run_key(path: Path, config: Config) -> str:
    """What an output depends on: the input's bytes, the resolved config, the shipped models
    (their registry, which holds every file's sha256) and the code (package and schema version)."""
    from discourse import __version__
    from discourse.core.analysis import SCHEMA_VERSION

    reg = models_dir() / "registry.json"
    parts = [
        sha256_file(path),
        config.hash(),
        sha256_file(reg) if reg.exists() else "-",
        __version__,
        SCHEMA_VERSION,
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def thread_folder(source: str, thread_id: str, readable: str, digits: int = 10) -> str:
    """The folder of one thread: a readable slug, then a short hash of the source file's resolved
    path and the thread id. It depends on nothing else, so a thread gets the same folder on every
    run whatever else is in the batch, and two threads whose slugs agree still differ."""
    digest = hashlib.sha256(f"{source}\0{thread_id}".encode("utf-8", "surrogatepass")).hexdigest()
    return f"{slug(readable)[:60].rstrip('-.') or 'thread'}-{digest[:digits]}"


def read_marker(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / THREAD_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _holds(folder: Path, source: str, thread_id: str) -> bool:
    marker = read_marker(folder)
    return marker is not None and marker.get("source") == source and marker.get("thread_id") == thread_id


def claim_folder(out: Path, source: str, thread_id: str, readable: str) -> str:
    """The folder name to write a thread into: its own (absent, or recorded as this thread's).
    A folder holding anything else is never overwritten: a longer hash is tried, then we refuse."""
    for digits in (10, 20):
        name = thread_folder(source, thread_id, readable, digits)
        target = out / name
        if not os.path.lexists(target) or (target.is_dir() and _holds(target, source, thread_id)):
            return name
    raise OutputError(f"{out / name} holds something else; move it away to write thread {thread_id!r} of {source}")


def _load_state(out: Path) -> dict[str, Any]:
    try:
        data = json.loads((out / STATE_FILE).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, json.JSONDecodeError):
        return {}


@contextlib.contextmanager
def locked(out: Path, say: Callable[[Event], None]) -> Iterator[None]:
    """Hold the output folder's lock for a whole run. A second run into the same folder waits
    until the first has finished (it says so once, naming the process holding the lock), then
    starts from the state the first one left: two runs never interleave their writes."""
    try:
        import fcntl
    except ImportError:  # no flock (Windows): one run at a time is the user's job
        yield
        return
    fd = os.open(out / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            who = f" (pid {pid})" if pid.isdigit() else ""
            say(
                Event("wait", f"another discourse run{who} is writing to {out}; waiting for it to finish", {"pid": pid})
            )
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def write_or_fail(path: Path, text: str) -> None:
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None


def index_entries(out: Path, state: dict[str, Any]) -> list[dict[str, Any]]:
    """Everything the output folder holds: every complete thread folder (from its marker), and a
    row for every input whose last run failed. The index never forgets an earlier run's reports."""
    rows: list[dict[str, Any]] = []
    for folder in sorted(out.iterdir()):
        if folder.name.startswith(".") or not folder.is_dir() or not (folder / "analysis.json").is_file():
            continue
        marker = read_marker(folder)
        if marker is not None and isinstance(marker.get("entry"), dict):
            rows.append({**marker["entry"], "folder": folder.name})
    for src, st in sorted(state.items()):
        if st.get("status") == "failed":
            rows.append(_failed_row(src, st))
    return rows


def _failed_row(src: str, st: dict[str, Any]) -> dict[str, Any]:
    return {
        "folder": "",
        "title": Path(src).name,
        "source": src,
        "comments": 0,
        "chains": 0,
        "flagged": 0,
        "max_toxicity": 0.0,
        "status": "failed",
        "error": st.get("error", ""),
    }


@dataclass
class _Pending:
    path: Path
    src: str
    key: str
    threads: list[Thread]


def run_batch(
    inputs: Iterable[str | Path],
    out_dir: str | Path,
    config: Config,
    force: bool = False,
    on_event: Callable[[Event], None] | None = None,
    group_texts: int = 20_000,
) -> BatchResult:
    """Analyse every input not already done with the same key. Files are parsed ahead and
    analysed in groups of up to ``group_texts`` texts sharing one encoder pass; each file's
    outputs and its state entry are written as soon as its last thread is done, so a crash
    loses at most the files of the group in flight."""

    say = on_event or (lambda event: None)
    inputs = [Path(p) for p in inputs]
    out = Path(out_dir)
    files = expand_inputs(inputs, exclude=[out])
    if not files:
        where = ", ".join(map(str, inputs)) or "(no paths given)"
        raise InputError(f"no input files found in {where} (read: {', '.join(sorted(INPUT_SUFFIXES))})")
    prepare_out(out)
    with locked(out, say):
        recover_folders(out)
        return _run(files, out, config, force, say, group_texts)


def prepare_out(out: Path) -> None:
    """Create the output folder and make sure we can write there, before any work: a path under
    a file, a read-only folder, a full disk... are one-line OutputErrors."""
    for p in (out, *out.parents):
        if p.exists():
            if not p.is_dir():
                raise OutputError(f"cannot use {out} as the output folder: {p} is a file, not a folder")
            break
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the output folder {out}: {exc.strerror or exc}") from None
    try:
        fd, probe = tempfile.mkstemp(prefix=".discourse-probe.", dir=out)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(f"cannot write to the output folder {out}: {exc.strerror or exc}") from None


def _run(
    files: list[Path], out: Path, config: Config, force: bool, say: Callable[[Event], None], group_texts: int
) -> BatchResult:
    from discourse.report.html import render_index

    state = _load_state(out)
    result = BatchResult()
    t0 = time.perf_counter()
    pipeline: Pipeline | None = None
    group: list[_Pending] = []

    def save_state() -> None:
        write_or_fail(out / STATE_FILE, json.dumps(state, indent=2, sort_keys=True))

    def flush() -> None:
        nonlocal pipeline
        if not group:
            return
        pipeline = pipeline or Pipeline(config)
        analyses = analyze_threads([t for p in group for t in p.threads], pipeline)
        for p in group:
            done = [_write(next(analyses), p, out, config, tid) for tid in thread_keys(p.threads)]
            state[p.src] = {"key": p.key, "status": "ok", "threads": done}
            result.processed.append(str(p.path))
            say(Event("done", f"{p.path}: {len(p.threads)} thread(s)"))
            save_state()
        group.clear()

    for path in files:
        src = str(path.resolve())
        try:
            key = run_key(path, config)
        except OSError as exc:
            result.failed[str(path)] = f"cannot read: {exc.strerror or exc}"
            state[src] = {"key": None, "status": "failed", "error": result.failed[str(path)], "threads": []}
            continue
        prev = state.get(src)
        if (
            not force
            and prev
            and prev.get("key") == key
            and prev.get("status") == "ok"
            and all(_done(out, src, e) for e in prev.get("threads", []))
        ):
            result.skipped.append(str(path))
            say(Event("skip", f"{path} (unchanged)"))
            continue
        try:
            threads = load_threads(path)
        except InputError as exc:  # this file's problem; model and config errors stop the batch
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            result.failed[str(path)] = msg
            state[src] = {"key": None, "status": "failed", "error": msg, "threads": []}
            say(Event("fail", f"{path}: {msg}"))
            save_state()
            continue
        group.append(_Pending(path, src, key, threads))
        if sum(len(t.comments) + 1 for p in group for t in p.threads) >= group_texts:
            flush()
    flush()
    wanted = {str(p.resolve()) for p in files}
    for src, st in sorted(state.items()):
        if src in wanted:
            result.entries.extend(st.get("threads", []) if st.get("status") == "ok" else [_failed_row(src, st)])
    write_or_fail(out / "index.html", render_index(index_entries(out, state)))
    result.seconds = time.perf_counter() - t0
    return result


def thread_keys(threads: list[Thread]) -> list[str]:
    """Each thread's identity within its file: its id, with ``#2``, ``#3``... on repeated ids."""
    seen: dict[str, int] = {}
    keys = []
    for t in threads:
        seen[t.id] = seen.get(t.id, 0) + 1
        keys.append(t.id if seen[t.id] == 1 else f"{t.id}#{seen[t.id]}")
    return keys


def _done(out: Path, source: str, entry: dict[str, Any]) -> bool:
    """Is this state entry's thread still written, in a folder recorded as holding it?"""
    folder = out / str(entry.get("folder") or "")
    tid = entry.get("thread_id")
    return (
        bool(entry.get("folder"))
        and isinstance(tid, str)
        and (folder / "analysis.json").exists()
        and _holds(folder, source, tid)
    )


def _write(analysis: Analysis, p: _Pending, out: Path, config: Config, tid: str) -> dict[str, Any]:
    """Write one thread's outputs into its own folder; return its index entry."""
    from discourse.report.writers import write_outputs

    t = analysis.thread
    folder = claim_folder(out, p.src, tid, t.id if len(p.threads) > 1 else p.path.stem)
    queue = analysis.layer("attention")
    tox = [a.score for _, a in analysis.annotations.items("toxicity")]
    entry = {
        "folder": folder,
        "thread_id": tid,
        "title": t.title,
        "source": str(p.path),
        "comments": len(t.comments),
        "chains": len(analysis.layer("chains", ())),
        "flagged": queue.flagged() if queue is not None else 0,
        "max_toxicity": max(tox, default=0.0),
        "status": "ok",
        "error": "",
        "seconds": round(analysis.timings.get("total", 0.0), 3),
    }
    marker = {"source": p.src, "thread_id": tid, "key": p.key, "entry": entry}
    try:
        with atomic_folder(out / folder) as tmp:  # the folder appears whole, or not at all
            write_outputs(analysis, tmp, config.output)
            atomic_write_text(tmp / THREAD_MARKER, json.dumps(marker, ensure_ascii=False, indent=2))
    except OSError as exc:
        raise OutputError(f"cannot write {out / folder}: {exc.strerror or exc}") from None
    return entry
