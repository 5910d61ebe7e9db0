"""Analysed threads read back from disk: every ``<folder>/analysis.json`` of an output folder
written by ``discourse analyze --out DIR``, or the one of a single thread folder.

Only ``analysis.json`` (the public contract, docs/analysis-schema.md) is read, never the HTML or
CSV, so an export or a digest depends on nothing but the documented schema. A thread folder's
marker (``.discourse-thread.json``) adds the source file it was read from; the output folder's state
file adds the inputs whose last run failed. A file that is not an analysis of a known schema
version is skipped and named (``skipped``), never fatal: one broken thread does not hide the others.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from discourse.batch import STATE_FILE, THREAD_MARKER
from discourse.core.errors import InputError

ANALYSIS_JSON = "analysis.json"
SCHEMA_MAJOR = "1"
DEFAULT_FLAG = 0.5  # attention.v1's default flag threshold, for an analysis.json that records none


@dataclass(frozen=True)
class AnalysedThread:
    """One thread folder: its ``analysis.json`` as parsed, and its marker (empty when absent)."""

    folder: Path
    data: Mapping[str, Any]
    marker: Mapping[str, Any]

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def thread(self) -> Mapping[str, Any]:
        t = self.data.get("thread")
        return t if isinstance(t, Mapping) else {}

    @property
    def thread_id(self) -> str:
        return str(self.thread.get("id") or self.marker.get("thread_id") or self.name)

    @property
    def title(self) -> str:
        return str(self.thread.get("title") or self.thread_id)

    @property
    def source(self) -> str:
        """The input file it was read from (resolved path), "" when unknown."""
        return str(self.marker.get("source") or "")

    @property
    def comments(self) -> list[Mapping[str, Any]]:
        return list(self.data["comments"])

    def list_of(self, key: str) -> list[Mapping[str, Any]]:
        """A thread-level layer that is a list of objects (``chains``, ``attention``); [] when absent."""
        value = self.data.get(key)
        return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []

    def flag_threshold(self) -> float:
        """The flag threshold the thread was analysed with (recorded in its resolved config)."""
        try:
            value = self.data["config"]["stages"]["attention.v1"]["flag_threshold"]
        except (KeyError, TypeError):
            return DEFAULT_FLAG
        return number(value, DEFAULT_FLAG)


@dataclass(frozen=True)
class AnalysisSet:
    """What a folder holds: its analysed threads (sorted by folder name), the analysis.json files
    that could not be read, and the inputs whose last run failed (from the state file)."""

    root: Path
    threads: tuple[AnalysedThread, ...]
    skipped: tuple[tuple[str, str], ...]  # (path relative to root, why)
    failed: tuple[tuple[str, str], ...]  # (source file, error)


def number(value: Any, default: float) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else default


def read_analyses(path: str | Path, *, allow_failures_only: bool = False) -> AnalysisSet:
    """The analysed threads under ``path``: an output folder (every ``*/analysis.json`` directly
    below it) or one thread folder (holding ``analysis.json``); a path to an analysis.json means its
    folder. Raises InputError when there is nothing to read; with ``allow_failures_only``, an
    output folder whose runs all failed (a state file, no thread) is not an error."""
    root = Path(path)
    if root.is_file() and root.name == ANALYSIS_JSON:
        root = root.parent
    if not root.exists():
        raise InputError(f"{root} does not exist")
    if not root.is_dir():
        raise InputError(f"{root} is a file, not a folder of analysed threads (discourse analyze --out DIR)")
    single = (root / ANALYSIS_JSON).is_file()
    files = (
        [root / ANALYSIS_JSON]
        if single
        else sorted(p for p in root.glob(f"*/{ANALYSIS_JSON}") if not p.parent.name.startswith("."))
    )
    threads: list[AnalysedThread] = []
    skipped: list[tuple[str, str]] = []
    for file in files:
        rel = file.name if single else str(file.relative_to(root))
        try:
            threads.append(_read_thread(file))
        except (OSError, UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
            skipped.append((rel, str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
    failed = () if single else _failed_inputs(root)
    if not threads and not (allow_failures_only and (root / STATE_FILE).is_file()):
        why = f" ({len(skipped)} analysis.json could not be read: {skipped[0][0]}: {skipped[0][1]})" if skipped else ""
        raise InputError(
            f"no analysed threads in {root} (no analysis.json in it or its sub-folders){why}; "
            f"run discourse analyze INPUT --out {root} first"
        )
    return AnalysisSet(root, tuple(threads), tuple(skipped), failed)


def _read_thread(file: Path) -> AnalysedThread:
    data = json.loads(file.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError("not an analysis.json (not a JSON object)")
    version = str(data.get("schema_version") or "")
    if version.split(".")[0] != SCHEMA_MAJOR:
        raise ValueError(f"schema_version {version or '(none)'} is not {SCHEMA_MAJOR}.x")
    comments = data.get("comments")
    if not isinstance(comments, list):
        raise ValueError("not an analysis.json (no comments list)")
    for k, c in enumerate(comments):
        if not isinstance(c, dict) or not isinstance(c.get("id"), str) or not isinstance(c.get("text"), str):
            raise ValueError(f"comment {k} has no string id and text")
    try:
        marker = json.loads((file.parent / THREAD_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        marker = {}
    return AnalysedThread(file.parent, data, marker if isinstance(marker, dict) else {})


def _failed_inputs(root: Path) -> tuple[tuple[str, str], ...]:
    try:
        state = json.loads((root / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ()
    if not isinstance(state, dict):
        return ()
    return tuple(
        (str(src), str(st.get("error") or ""))
        for src, st in sorted(state.items())
        if isinstance(st, dict) and st.get("status") == "failed"
    )
