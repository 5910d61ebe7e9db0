"""Many threads into one output folder: a folder per thread, an index.html, cheap and safe reruns.

What a run guarantees (README, "What the tool guarantees"):

- **No overwrite.** Each thread's folder is ``<slug>-<hash of source path and thread id>``, the same
  on every run whatever else is in the batch. A marker (``.discourse-thread.json``) records the
  source and thread id; a folder recorded as holding anything else is never written into.
- **Whole folders.** A thread's files are built in a hidden folder and renamed into place, so a
  folder is the old one or the new one, never half of either (:mod:`discourse.report.atomic`).
- **Resumable.** The state file (``.discourse-state.json``) records, per input file, a key (the
  file's sha256, the resolved config, the model registry, the package and schema versions) and
  the threads written so far. Threads are written as soon as their group is analysed; a rerun
  skips finished files and resumes a file part-way at its first thread not written (the markers
  tell, should a killed run not have saved the state).
- **One writer at a time.** A run holds ``flock`` on ``.discourse.lock`` in the output folder; a
  second run into the same folder waits for it, saying so, then starts from the state it left.
- **The index lists everything in the folder**, whichever run wrote it, and every failed input.
- Output folders (holding a state file or marker) are never read back as input.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from discourse.api import load_threads, slug
from discourse.core.config import Config
from discourse.core.engine import GROUP_TEXTS
from discourse.core.errors import InputError, OutputError
from discourse.core.modelfiles import models_dir, sha256_file
from discourse.core.thread import Thread
from discourse.engines.base import Engine, Job, ThreadResult
from discourse.engines.local import LocalEngine
from discourse.formats.convokit import UTTERANCES, is_corpus
from discourse.formats.lazy_jsonl import JsonlThreads
from discourse.report.atomic import atomic_folder, atomic_write_text, recover_folders

STATE_FILE = ".discourse-state.json"
DIGEST_PAGE = "digest.html"  # written by `discourse digest`; the index links it
THREAD_MARKER = ".discourse-thread.json"
"""In every thread folder: the source file and thread id it holds (checked before a rewrite)."""
LOCK_FILE = ".discourse.lock"
"""Held (``flock``) by the run writing into the folder; a second run waits for it."""
SAVE_EVERY_S = 2.0
"""The state file is rewritten at most this often while a run goes (and always at its end)..."""
SAVE_SHARE = 0.05
"""... and, when it has grown big (a file of 100,000 threads), so that writing it takes at most
this share of the run's time."""
INPUT_SUFFIXES = {".txt", ".text", ".json", ".jsonl", ".ndjson", ".csv", ".tsv", ".tab", ".xml"}


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
    output folder inside the input folder is never read back as new threads. A ConvoKit corpus
    folder found on the way stands for its ``utterances.jsonl`` alone."""
    excluded = {Path(e).resolve() for e in exclude}
    out: list[Path] = []
    for p in map(Path, paths):
        if not p.is_dir():
            out.append(p)
            continue
        if is_output(p, excluded):
            continue
        found: list[Path] = []
        for root, dirs, files in os.walk(p):
            dirs[:] = [d for d in dirs if not d.startswith(".") and not is_output(Path(root, d), excluded)]
            if is_corpus(Path(root)):  # a ConvoKit corpus is one input: its utterances (the rest describes them)
                found.append(Path(root, UTTERANCES))
                continue
            found.extend(
                Path(root, f) for f in files if not f.startswith(".") and Path(f).suffix.lower() in INPUT_SUFFIXES
            )
        out.extend(sorted(found))
    return out


def is_output(folder: Path, excluded: Iterable[Path] = ()) -> bool:
    """Is ``folder`` discourse output: one of ``excluded`` (resolved), or holding a state file or a
    thread marker?"""
    return (folder / STATE_FILE).exists() or (folder / THREAD_MARKER).exists() or folder.resolve() in set(excluded)


def run_key(path: Path, config: Config, base: str | None = None) -> str:
    """What an output depends on: the input's bytes, the resolved config, the shipped models
    (their registry, which holds every file's sha256) and the code (package and schema version).
    ``base`` is :func:`key_base` of ``config``, when already known."""
    return hashlib.sha256(f"{sha256_file(path)}|{base or key_base(config)}".encode()).hexdigest()


def key_base(config: Config) -> str:
    """The part of every input's key that does not depend on the input: the config, the shipped
    models, the code, and the flat-text layout a run forces (``--layout``; auto otherwise)."""
    from discourse import __version__
    from discourse.core.analysis import SCHEMA_VERSION
    from discourse.formats.layouts import forced_layout

    reg = models_dir() / "registry.json"
    layout = f"layout={forced_layout() or 'auto'}"
    return "|".join([config.hash(), sha256_file(reg) if reg.exists() else "-", __version__, SCHEMA_VERSION, layout])


FOLDER_HASH_DIGITS = (10, 20)
"""Hash digits in a thread's folder name: 10, or 20 if a folder of that name holds something else."""


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
    for digits in FOLDER_HASH_DIGITS:
        name = thread_folder(source, thread_id, readable, digits)
        target = out / name
        if not os.path.lexists(target) or (target.is_dir() and _holds(target, source, thread_id)):
            return name
    raise OutputError(f"{out / name} holds something else; move it away to write thread {thread_id!r} of {source}")


class _State:
    """The state file's records by input path, compact in memory: a record with threads (a file
    done, or part-way in an earlier run) is kept as the JSON text it has in the state file, about
    a quarter of its size as dicts (1,650 -> 390 bytes a thread), and read back only when asked
    for. The records being changed (files open in this run, failures) stay plain dicts."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.live: dict[str, dict[str, Any]] = {}
        self.frozen: dict[str, str] = {}
        for src, rec in data.items():
            self[src] = rec
            if isinstance(rec, dict) and rec.get("threads"):
                self.freeze(src)

    def __setitem__(self, src: str, rec: dict[str, Any]) -> None:
        self.frozen.pop(src, None)
        self.live[src] = rec

    def get(self, src: str) -> dict[str, Any] | None:
        if src in self.live:
            return self.live[src]
        text = self.frozen.get(src)
        if text is None:
            return None
        rec: dict[str, Any] = json.loads("{" + text + "}")[src]
        return rec

    def freeze(self, src: str) -> None:
        """Keep ``src``'s record as text from now on (it changes no more in this run)."""
        self.frozen[src] = _item_json(src, self.live.pop(src))

    def __len__(self) -> int:
        return len(self.live) + len(self.frozen)

    def sources(self) -> list[str]:
        return sorted({*self.live, *self.frozen})

    def dumps(self) -> str:
        """The state file: exactly ``json.dumps(state, indent=1, sort_keys=True)``."""
        parts = [_item_json(src, self.live[src]) if src in self.live else self.frozen[src] for src in self.sources()]
        return "{\n" + ",\n".join(parts) + "\n}" if parts else "{}"


def _item_json(key: str, value: Any) -> str:
    """One member of the state's top-level object as ``json.dumps(state, indent=1, sort_keys=True)``
    writes it (without the separating comma)."""
    return json.dumps({key: value}, indent=1, sort_keys=True)[2:-2]


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


def write_index(out: Path, state: dict[str, Any]) -> None:
    """``out/index.html`` from everything the folder holds, linking ``digest.html`` when there is one."""
    from discourse.report.html import render_index

    write_or_fail(out / "index.html", render_index(index_entries(out, state), digest=(out / DIGEST_PAGE).is_file()))


def refresh_index(out: Path) -> None:
    """Rewrite an output folder's index (under its lock), e.g. once ``discourse digest`` has put a
    digest beside it; a folder no batch wrote is left alone."""
    if not (out / "index.html").is_file():
        return
    with locked(out, lambda event: None):
        write_index(out, _load_state(out))


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


def run_batch(
    inputs: Iterable[str | Path],
    out_dir: str | Path,
    config: Config,
    force: bool = False,
    on_event: Callable[[Event], None] | None = None,
    group_texts: int = GROUP_TEXTS,
    engine: Engine | None = None,
    cache: bool = True,
) -> BatchResult:
    """Analyse every input not already done with the same key, into ``out_dir``.

    Before any work: the inputs are listed (none is an InputError) and the output folder is
    created and probed (OutputError). Then the folder's lock is taken (a second run waits).
    Files are parsed one at a time, when the analysis needs their threads; threads run in
    groups sharing one encoder pass, the first group small (``group_texts`` / 16 texts) and each
    next one twice as big up to ``group_texts``, so the first reports come early. Each thread's
    folder is written as soon as its group is done; the state records the threads done of a
    file part-way, so an interrupted run resumes at the first thread not written.

    ``engine`` analyses the groups: :class:`~discourse.engines.local.LocalEngine` (the default,
    in this process) or :class:`~discourse.engines.dask_engine.DaskEngine` (on a cluster). Either
    way this process alone writes into ``out_dir``, and the same groups give the same files.

    ``cache``: the local engine keeps per-comment model outputs in ``out_dir/.discourse-cache``
    (bounded; see :mod:`discourse.core.cache`), so a thread that gained comments since the last
    run re-encodes only those; the outputs are the same as without it."""
    say = on_event or (lambda event: None)
    paths = [Path(p) for p in inputs]
    out = Path(out_dir)
    files = expand_inputs(paths, exclude=[out])
    if not files:
        where = ", ".join(map(str, paths)) or "(no paths given)"
        outputs = [str(p) for p in paths if p.is_dir() and is_output(p, [out.resolve()])]
        why = f"; {', '.join(outputs)} holds discourse output, never read as input" if outputs else ""
        raise InputError(f"no input files found in {where} (read: {', '.join(sorted(INPUT_SUFFIXES))}){why}")
    prepare_out(out)
    with locked(out, say):
        recover_folders(out)
        return _Run(out, config, force, say, group_texts, engine or LocalEngine(results=out if cache else None)).run(
            files
        )


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


@dataclass
class _File:
    """One input file to analyse in this run."""

    path: Path
    src: str
    key: str
    size: int
    ids: list[str] = field(default_factory=list)  # its threads, in file order
    done: dict[str, dict[str, Any]] = field(default_factory=dict)  # thread key -> index entry
    analysed: int = 0  # threads analysed in this run

    def fraction(self) -> float:
        return len(self.done) / len(self.ids) if self.ids else 0.0


@dataclass
class _Item:
    """One thread to analyse. Its parsed thread goes to the engine's job (:meth:`_Run.job`), which
    is then the only holder: the thread the analysis ends with may be another (the reply graph's)."""

    file: _File
    tid: str
    thread_id: str
    comments: int
    thread: Thread | None
    last: bool = False  # no thread comes after it in this run

    @classmethod
    def of(cls, f: _File, tid: str, thread: Thread, last: bool) -> _Item:
        return cls(f, tid, thread.id, len(thread.comments), thread, last)

    def take(self) -> Thread:
        thread, self.thread = self.thread, None
        assert thread is not None, "a thread is handed to one job only"
        return thread


class _Run:
    """One batch run, holding the lock: the state, the counts behind progress, the pipeline."""

    def __init__(
        self, out: Path, config: Config, force: bool, say: Callable[[Event], None], group_texts: int, engine: Engine
    ) -> None:
        self.out, self.config, self.force, self.say = out, config, force, say
        self.group_texts = max(1, group_texts)
        self.engine = engine
        self.state = _State(_load_state(out))
        self.key_base = key_base(config)
        self.result = BatchResult()
        self.t0 = time.perf_counter()
        self.saved_at = -SAVE_EVERY_S
        self.save_every = SAVE_EVERY_S
        self.files_total = self.files_done = self.threads_done = self.comments_done = 0
        self.bytes_total = self.bytes_done = 0
        self.open: dict[str, _File] = {}  # parsed, not finished: their threads are in flight

    # -- the run ------------------------------------------------------------------------------
    def run(self, paths: list[Path]) -> BatchResult:
        say = self.say
        planned: list[Event] = []
        self.say = planned.append  # what planning finds (unchanged, unreadable) is told after "start"
        try:
            todo = [f for f in map(self.plan, paths) if f is not None]
        finally:
            self.say = say
        self.files_total = len(todo)
        self.bytes_total = sum(f.size for f in todo)
        counts = {"files_total": len(todo), "unchanged": len(self.result.skipped), "failed": len(self.result.failed)}
        message = f"{len(paths)} input file(s): {len(todo)} to analyse, {counts['unchanged']} unchanged"
        say(Event("start", message + (f", {counts['failed']} unreadable" if counts["failed"] else ""), counts))
        for event in planned:
            say(event)
        try:
            jobs = self.jobs(self.threads(todo))
            done = self.engine.run(self.config, jobs, lambda k, m, d: self.say(Event(k, m, d)))
            with contextlib.closing(done):  # an engine's cluster stops with the run, however it ends
                for job, results in done:
                    self.write_group(job.token, results)
        except BaseException:  # interrupted or failing: keep what is done listed, as far as we can
            with contextlib.suppress(Exception):
                self.save_state()
            with contextlib.suppress(Exception):
                self.write_index()
            raise
        self.save_state()
        self.write_index()
        wanted = {str(p.resolve()) for p in paths}
        for src in self.state.sources():
            st = self.state.get(src) if src in wanted else None
            if st is not None:
                ok = st.get("status") in ("ok", "partial")
                self.result.entries.extend(st.get("threads", []) if ok else [_failed_row(src, st)])
        self.result.seconds = time.perf_counter() - self.t0
        return self.result

    def plan(self, path: Path) -> _File | None:
        """The file to analyse, or None when it is unchanged since a finished run (or unreadable)."""
        src = str(path.resolve())
        try:
            key = run_key(path, self.config, self.key_base)
            size = path.stat().st_size
        except OSError as exc:
            self.fail(path, src, f"cannot read: {exc.strerror or exc}")
            return None
        prev = self.state.get(src)
        if (
            not self.force
            and prev
            and prev.get("key") == key
            and prev.get("status") == "ok"
            and all(_done(self.out, src, e) for e in prev.get("threads", []))
        ):
            self.result.skipped.append(str(path))
            self.say(Event("skip", f"{path} (unchanged)", {"file": str(path)}))
            return None
        return _File(path, src, key, size)

    def threads(self, todo: list[_File]) -> Iterator[_Item]:
        """Every thread still to analyse, parsing each file only when the previous one is used up."""
        for at, f in enumerate(todo, 1):
            self.say(
                Event("parse", f"reading {f.path} ({f.size / 1e6:.1f} MB)", {"file": str(f.path), "bytes": f.size})
            )
            try:
                threads = load_threads(f.path)
            except InputError as exc:  # this file's problem; model and config errors stop the batch
                self.fail(f.path, f.src, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
                self.finish(f)
                continue
            f.ids = thread_keys(thread_ids(threads))
            self.open[f.src] = f
            if not self.force:
                f.done = self.already_written(f, threads)
            self.state[f.src] = self.record(f)
            if len(f.done) == len(f.ids):  # every thread was written by an earlier, killed run
                self.state.freeze(f.src)
                self.result.skipped.append(str(f.path))
                self.finish(f)
                self.say(Event("skip", f"{f.path} (written by an earlier run)", {"file": str(f.path)}))
                continue
            todo_here = [(tid, thread) for tid, thread in zip(f.ids, threads, strict=True) if tid not in f.done]
            del threads  # from here the items hold the threads, and each lets go of its own (see _Item)
            todo_here.reverse()
            while todo_here:  # popped, not iterated: this frame keeps no thread it handed out
                final = at == len(todo) and len(todo_here) == 1
                yield _Item.of(f, *todo_here.pop(), last=final)

    def jobs(self, items: Iterable[_Item]) -> Iterator[Job]:
        """The groups, whatever the engine: the first of ``group_texts`` / 16 texts, each next one
        twice as big up to ``group_texts``. Each is told ("group") as it is handed to the engine."""
        limit = max(1, self.group_texts // 16)
        group: list[_Item] = []
        texts = 0
        for item in items:
            group.append(item)
            texts += item.comments + 1
            if texts >= limit:
                yield self.job(group, texts)
                group, texts, limit = [], 0, min(self.group_texts, limit * 2)
        if group:
            yield self.job(group, texts)

    def job(self, group: list[_Item], texts: int) -> Job:
        comments = texts - len(group)
        self.say(
            Event(
                "group",
                f"analysing {len(group)} thread(s), {comments:,} comments",
                {"threads": len(group), "comments": comments},
            )
        )
        return Job(group, [i.take() for i in group], texts + 1, last=group[-1].last)

    def write_group(self, group: list[_Item], results: Iterable[ThreadResult]) -> None:
        """Write a finished group's threads (the engine's results, in group order) and tell each."""
        for item, result in zip(group, results, strict=True):
            f = item.file
            f.done[item.tid] = _write(result, f, self.out, item.tid, item.thread_id)
            f.analysed += 1
            self.threads_done += 1
            self.comments_done += item.comments
            complete = len(f.done) == len(f.ids)
            if complete:
                self.state[f.src] = self.record(f)  # a file part-way is recorded when the state is saved
                self.state.freeze(f.src)
                self.result.processed.append(str(f.path))
                self.finish(f)
            else:
                self.save_state(soon=True)
            where = {"file": str(f.path), "thread_id": item.tid, "folder": f.done[item.tid]["folder"]}
            now = self.progress()
            self.say(Event("thread", progress_line(now), {**now, **where, "comments": item.comments}))
            if complete:
                done = {"file": str(f.path), "threads": f.analysed}
                self.say(Event("done", f"{f.path}: {f.analysed} thread(s) analysed", done))

    # -- bookkeeping ----------------------------------------------------------------------------
    def already_written(self, f: _File, threads: Sequence[Thread]) -> dict[str, dict[str, Any]]:
        """Threads of ``f`` a run with the same key wrote (from the state, or from the thread
        folders' markers when a killed run could not save its state)."""
        prev = self.state.get(f.src) or {}
        done: dict[str, dict[str, Any]] = {}
        if prev.get("key") == f.key:
            done = {e["thread_id"]: e for e in prev.get("threads", []) if _done(self.out, f.src, e)}
        for tid, thread_id in zip(f.ids, thread_ids(threads), strict=True):
            if tid in done:
                continue
            for digits in FOLDER_HASH_DIGITS:
                folder = self.out / thread_folder(f.src, tid, _readable(f, thread_id), digits)
                marker = read_marker(folder)
                if (
                    marker
                    and marker.get("key") == f.key
                    and _holds(folder, f.src, tid)
                    and (folder / "analysis.json").is_file()
                    and isinstance(marker.get("entry"), dict)
                ):
                    done[tid] = {**marker["entry"], "folder": folder.name}
                    break
        return {tid: done[tid] for tid in f.ids if tid in done}

    def record(self, f: _File) -> dict[str, Any]:
        return {
            "key": f.key,
            "status": "ok" if len(f.done) == len(f.ids) else "partial",
            "threads": [f.done[t] for t in f.ids if t in f.done],
            "total": len(f.ids),
        }

    def fail(self, path: Path, src: str, msg: str) -> None:
        self.result.failed[str(path)] = msg
        self.state[src] = {"key": None, "status": "failed", "error": msg, "threads": []}
        told = msg if msg.startswith(str(path)) else f"{path}: {msg}"
        self.say(Event("fail", told, {"file": str(path), "error": msg}))

    def finish(self, f: _File) -> None:
        self.open.pop(f.src, None)
        self.files_done += 1
        self.bytes_done += f.size
        self.save_state(soon=True)

    def save_state(self, soon: bool = False) -> None:
        """Write the state file; with ``soon``, only if the last write is 2 s old (or older, for a
        big state: see SAVE_SHARE). The files part-way are recorded here, not per thread, so a
        file of n threads costs O(n), not O(n²). The state is the fast path for reruns, the thread
        markers the truth: a killed run's last seconds are found again from them (a file whose
        threads are all written is not analysed again)."""
        if soon and time.monotonic() - self.saved_at < self.save_every:
            return
        t0 = time.monotonic()
        for f in self.open.values():
            self.state[f.src] = self.record(f)
        write_or_fail(self.out / STATE_FILE, self.state.dumps())
        self.saved_at = time.monotonic()
        self.save_every = max(SAVE_EVERY_S, (self.saved_at - t0) / SAVE_SHARE)

    def write_index(self) -> None:
        write_index(self.out, self.state.live)

    # -- progress ---------------------------------------------------------------------------------
    def progress(self) -> dict[str, Any]:
        """Counts so far, the rate, and the time left estimated from the input bytes still to read."""
        elapsed = time.perf_counter() - self.t0
        done_bytes = self.bytes_done + sum(f.size * f.fraction() for f in self.open.values())
        eta = elapsed * (self.bytes_total - done_bytes) / done_bytes if done_bytes > 0 else None
        return {
            "files_done": self.files_done,
            "files_total": self.files_total,
            "threads_done": self.threads_done,
            "comments_done": self.comments_done,
            "elapsed_s": round(elapsed, 3),
            "comments_per_s": round(self.comments_done / elapsed, 2) if elapsed > 0 else 0.0,
            "eta_s": None if eta is None else round(max(eta, 0.0), 1),
        }


def progress_line(p: dict[str, Any]) -> str:
    """A progress record as one line: files, threads, comments, rate and time left."""
    eta = p.get("eta_s")
    left = "ETA –" if eta is None else f"ETA {_clock(eta)}"
    return (
        f"{p['files_done']}/{p['files_total']} files · {p['threads_done']:,} threads ·"
        f" {p['comments_done']:,} comments · {p['comments_per_s']:,.1f} comments/s · {left}"
    )


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def thread_ids(threads: Sequence[Thread]) -> list[str]:
    """The threads' ids in order; a lazily read file names them without parsing a thread (the
    batch used to parse each of its threads three times: keys, the already-written check, the run)."""
    if isinstance(threads, JsonlThreads):
        return threads.ids
    return [t.id for t in threads]


def thread_keys(ids: Sequence[str]) -> list[str]:
    """Each thread's identity within its file: its id, with ``#2``, ``#3``... on repeated ids."""
    seen: dict[str, int] = {}
    keys = []
    for tid in ids:
        seen[tid] = seen.get(tid, 0) + 1
        keys.append(tid if seen[tid] == 1 else f"{tid}#{seen[tid]}")
    return keys


def _readable(f: _File, thread_id: str) -> str:
    """The readable part of a thread's folder name: the file's stem, or the thread id when the
    file holds several threads."""
    return thread_id if len(f.ids) > 1 else f.path.stem


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


def _write(result: ThreadResult, f: _File, out: Path, tid: str, thread_id: str) -> dict[str, Any]:
    """Write one thread's outputs (an engine's result) into its own folder, whole; return its
    index entry. Only the process holding the lock calls this, whichever engine analysed."""
    folder = claim_folder(out, f.src, tid, _readable(f, thread_id))
    summary = result.summary
    entry = {"folder": folder, "thread_id": tid, "title": summary["title"], "source": str(f.path)}
    entry.update((k, v) for k, v in summary.items() if k != "title")
    marker = {"source": f.src, "thread_id": tid, "key": f.key, "entry": entry}
    try:
        with atomic_folder(out / folder) as tmp:  # the folder appears whole, or not at all
            result.write_into(tmp)
            atomic_write_text(tmp / THREAD_MARKER, json.dumps(marker, indent=2))
    except OSError as exc:
        raise OutputError(f"cannot write {out / folder}: {exc.strerror or exc}") from None
    return entry
