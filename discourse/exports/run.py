"""``export(ANALYSIS_DIR, to=...)``: read the analysed threads, write one export file or folder.

Threads are read one at a time (each writer goes over the folder once or twice), so memory stays
at about one thread whatever the folder holds (GEXF also keeps the edges until the end). The
output is written to a hidden temporary file (or folder) beside ``--out`` and renamed into place:
a reader sees the old export or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from discourse.core.errors import OutputError
from discourse.exports.source import AnalysisSet, read_analyses
from discourse.report.atomic import atomic_folder

FORMATS = ("parquet", "convokit", "gexf", "jsonl")
DEFAULT_NAMES = {
    "parquet": "comments.parquet",
    "jsonl": "comments.jsonl",
    "gexf": "graph.gexf",
    "convokit": "convokit-corpus",
}
"""Written into ANALYSIS_DIR when no --out is given."""


@dataclass(frozen=True)
class ExportResult:
    path: Path
    format: str
    threads: int
    comments: int
    skipped: tuple[tuple[str, str], ...]  # analysis.json files that could not be read: (path, why)


@contextlib.contextmanager
def atomic_file(target: Path) -> Iterator[Path]:
    """A temporary path beside ``target``; renamed over it when the block ends without an exception,
    removed otherwise."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def export(analysis_dir: str | Path, to: str, out: str | Path | None = None) -> ExportResult:
    """Export every thread analysed under ``analysis_dir`` (an output folder, or one thread folder)."""
    if to not in FORMATS:
        raise OutputError(f"unknown export format {to!r} (known: {', '.join(FORMATS)})")
    found = read_analyses(analysis_dir)
    target = Path(out) if out is not None else found.root / DEFAULT_NAMES[to]
    try:
        if to == "convokit":
            from discourse.exports.convokit import check_target, write_into

            check_target(target)
            with atomic_folder(target) as tmp:
                counts = _nonempty(found, write_into(found, tmp))
        else:
            if target.is_dir():
                raise OutputError(f"{target} is a folder; give a file path to --out")
            with atomic_file(target) as tmp:
                counts = _nonempty(found, _write_file(found, to, tmp))
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
    return ExportResult(target, to, counts[0], counts[1], tuple(found.skipped.items()))


def _nonempty(found: AnalysisSet, counts: tuple[int, int]) -> tuple[int, int]:
    if counts[0] == 0:  # every analysis.json was unreadable: nothing is written
        raise found.nothing_read()
    return counts


def _write_file(found: AnalysisSet, to: str, path: Path) -> tuple[int, int]:
    if to == "parquet":
        from discourse.exports.parquet import write_parquet

        return write_parquet(found, path)
    if to == "jsonl":
        from discourse.exports.jsonl import write_jsonl

        return write_jsonl(found, path)
    from discourse.exports.gexf import write_gexf

    return write_gexf(found, path, prefix=not found.single)  # a thread folder keeps graph.graphml's ids
