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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from discourse.batch import STATE_FILE, THREAD_MARKER
from discourse.core.errors import InputError
from discourse.exports.schema import check_analysis

ANALYSIS_JSON = "analysis.json"
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
    """The analysed threads of a folder, read one at a time: iterating yields each readable thread
    (memory: one thread at a time), and may be repeated; each unreadable analysis.json is recorded
    in ``skipped`` (path relative to the root -> why) as it is met. ``failed`` lists the inputs whose
    last run failed (from the state file)."""

    root: Path
    files: tuple[Path, ...]
    single: bool  # the root is one thread folder
    failed: tuple[tuple[str, str], ...]  # (source file, error)
    skipped: dict[str, str] = field(default_factory=dict)

    def __iter__(self) -> Iterator[AnalysedThread]:
        for file in self.files:
            rel = file.name if self.single else str(file.relative_to(self.root))
            try:
                thread = _read_thread(file)
            except (OSError, UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
                self.skipped[rel] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                continue
            yield thread

    def nothing_read(self) -> InputError:
        """The error for a folder none of whose analysis.json files could be read."""
        first = next(iter(self.skipped.items()), None)
        why = f" ({len(self.skipped)} analysis.json could not be read: {first[0]}: {first[1]})" if first else ""
        return InputError(
            f"no analysed threads in {self.root} (no analysis.json in it or its sub-folders){why}; "
            f"run discourse analyze INPUT --out {self.root} first"
        )


def number(value: Any, default: float) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else default


def read_analyses(path: str | Path, *, allow_failures_only: bool = False) -> AnalysisSet:
    """The analysed threads under ``path``: an output folder (every ``*/analysis.json`` directly
    below it) or one thread folder (holding ``analysis.json``); a path to an analysis.json means its
    folder. Raises InputError when there is no analysis.json to read; with ``allow_failures_only``,
    an output folder whose runs all failed (a state file, no thread) is not an error. Files are
    read when the set is iterated; a reader that meets no readable thread raises
    :meth:`AnalysisSet.nothing_read`."""
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
    found = AnalysisSet(root, tuple(files), single, () if single else _failed_inputs(root))
    if not files and not (allow_failures_only and (root / STATE_FILE).is_file()):
        raise found.nothing_read()
    return found


def _read_thread(file: Path) -> AnalysedThread:
    data = json.loads(file.read_text(encoding="utf-8"))
    check_analysis(data)
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
