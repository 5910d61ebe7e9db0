"""Many threads: one output folder per thread, an index.html, cheap reruns.

A state file (``.discourse-state.json`` in the output folder) records, per input
file, a key made of the file's sha256, the resolved config, the model registry and
the package and schema versions. A rerun skips inputs whose key is unchanged and whose outputs exist; a
crashed run resumes because the state is written atomically after every input
and each thread's outputs are written atomically.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from discourse.api import analyze_threads, load_threads, slug
from discourse.core.analysis import Analysis
from discourse.core.config import Config
from discourse.core.engine import Pipeline
from discourse.core.errors import InputError
from discourse.core.modelfiles import models_dir, sha256_file
from discourse.core.thread import Thread
from discourse.report.atomic import atomic_write_text

STATE_FILE = ".discourse-state.json"
INPUT_SUFFIXES = {".txt", ".json", ".jsonl", ".ndjson", ".csv", ".xml", ".text"}


@dataclass
class BatchResult:
    processed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    entries: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


def expand_inputs(paths: Iterable[str | Path]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(
                sorted(
                    f
                    for f in p.rglob("*")
                    if f.is_file()
                    and f.suffix.lower() in INPUT_SUFFIXES
                    and not any(part.startswith(".") for part in f.relative_to(p).parts)
                )
            )
        else:
            out.append(p)
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


def _load_state(out: Path) -> dict[str, Any]:
    try:
        data = json.loads((out / STATE_FILE).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, json.JSONDecodeError):
        return {}


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
    on_event: Callable[[str, str], None] | None = None,
    group_texts: int = 20_000,
) -> BatchResult:
    """Analyse every input not already done with the same key. Files are parsed ahead and
    analysed in groups of up to ``group_texts`` texts sharing one encoder pass; each file's
    outputs and its state entry are written as soon as its last thread is done, so a crash
    loses at most the files of the group in flight."""
    from discourse.report.html import render_index

    say = on_event or (lambda kind, msg: None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    state = _load_state(out)
    files = expand_inputs(inputs)
    result = BatchResult()
    t0 = time.perf_counter()
    pipeline: Pipeline | None = None
    used: dict[str, int] = {}
    group: list[_Pending] = []

    def save_state() -> None:
        atomic_write_text(out / STATE_FILE, json.dumps(state, indent=2, sort_keys=True))

    def flush() -> None:
        nonlocal pipeline
        if not group:
            return
        pipeline = pipeline or Pipeline(config)
        analyses = analyze_threads([t for p in group for t in p.threads], pipeline)
        for p in group:
            done = [_write(next(analyses), p, out, used, config) for _ in p.threads]
            state[p.src] = {"key": p.key, "status": "ok", "threads": done}
            result.processed.append(str(p.path))
            say("done", f"{p.path}: {len(p.threads)} thread(s)")
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
            and all((out / e["folder"] / "analysis.json").exists() for e in prev.get("threads", []))
        ):
            result.skipped.append(str(path))
            for e in prev["threads"]:
                used[e["folder"]] = used.get(e["folder"], 0) + 1
            say("skip", f"{path} (unchanged)")
            continue
        try:
            threads = load_threads(path)
        except InputError as exc:  # this file's problem; model and config errors stop the batch
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            result.failed[str(path)] = msg
            state[src] = {"key": None, "status": "failed", "error": msg, "threads": []}
            say("fail", f"{path}: {msg}")
            save_state()
            continue
        group.append(_Pending(path, src, key, threads))
        if sum(len(t.comments) + 1 for p in group for t in p.threads) >= group_texts:
            flush()
    flush()
    entries: list[dict[str, Any]] = []
    wanted = {str(p.resolve()) for p in files}
    for src, st in sorted(state.items()):
        if src not in wanted:
            continue
        if st.get("status") == "ok":
            entries.extend(st.get("threads", []))
        else:
            entries.append(
                {
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
            )
    result.entries = entries
    atomic_write_text(out / "index.html", render_index(entries))
    result.seconds = time.perf_counter() - t0
    return result


def _write(analysis: Analysis, p: _Pending, out: Path, used: dict[str, int], config: Config) -> dict[str, Any]:
    """Write one thread's outputs into its own folder; return its index entry."""
    from discourse.report.writers import write_outputs

    t = analysis.thread
    folder = slug(t.id if len(p.threads) > 1 else p.path.stem)
    if used.get(folder):
        folder = f"{folder}-{hashlib.sha1(p.src.encode()).hexdigest()[:6]}"
    used[folder] = used.get(folder, 0) + 1
    write_outputs(analysis, out / folder, config.output)
    queue = analysis.layer("attention")
    tox = [a.score for _, a in analysis.annotations.items("toxicity")]
    return {
        "folder": folder,
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
