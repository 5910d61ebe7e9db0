"""``export(ANALYSIS_DIR, to=...)``: read the analysed threads, write one export file or folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from discourse.core.errors import OutputError
from discourse.exports.source import AnalysisSet, read_analyses
from discourse.report.atomic import atomic_write_bytes, atomic_write_text

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


def export(analysis_dir: str | Path, to: str, out: str | Path | None = None) -> ExportResult:
    """Export every thread analysed under ``analysis_dir`` (an output folder, or one thread folder)."""
    if to not in FORMATS:
        raise OutputError(f"unknown export format {to!r} (known: {', '.join(FORMATS)})")
    found = read_analyses(analysis_dir)
    target = Path(out) if out is not None else found.root / DEFAULT_NAMES[to]
    if to != "convokit" and target.is_dir():
        raise OutputError(f"{target} is a folder; give a file path to --out")
    try:
        _write(found, to, target)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
    comments = sum(len(t.comments) for t in found.threads)
    return ExportResult(target, to, len(found.threads), comments, found.skipped)


def _write(found: AnalysisSet, to: str, target: Path) -> None:
    threads = found.threads
    if to == "parquet":
        from discourse.exports.parquet import parquet_bytes
        from discourse.exports.table import comment_table

        version = str(threads[0].data.get("schema_version") or "")
        atomic_write_bytes(target, parquet_bytes(comment_table(threads), version))
    elif to == "jsonl":
        from discourse.exports.jsonl import jsonl_text

        atomic_write_text(target, jsonl_text(threads))
    elif to == "gexf":
        from discourse.exports.gexf import gexf_bytes

        atomic_write_bytes(target, gexf_bytes(threads))
    else:
        from discourse.exports.convokit import write_corpus

        write_corpus(threads, target)
