"""Parquet: one row per comment, the columns of ``comments.csv`` with their types (:mod:`.table`).

Needs pyarrow (``pip install 'discourse[parquet]'``); without it, a one-line error says so.
Strings are UTF-8, scores float64, ``author_inferred`` bool, the evidence columns list<string>;
a missing value is null. The file's key-value metadata records ``discourse.schema_version`` (of the
analysis.json files read). Threads are read twice (the label columns first, then the rows) and
written in row groups of at most 10,000 rows, so memory stays at one row group whatever the folder.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from discourse.core.errors import OutputError
from discourse.exports.source import AnalysedThread
from discourse.exports.table import columns, kind, labels, thread_rows

INSTALL_HINT = "pip install 'discourse[parquet]' (or pip install pyarrow)"
ROW_GROUP = 10000


def write_parquet(threads: Iterable[AnalysedThread], path: Path, row_group: int = ROW_GROUP) -> tuple[int, int]:
    """Write the comments of ``threads`` (iterated twice) to ``path``; return (threads, comments)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise OutputError(f"Parquet export needs pyarrow, which is not installed: {INSTALL_HINT}") from None

    tox, stance = labels(threads)
    names = columns(tox, stance)
    types: dict[str, Any] = {
        "str": pa.string(),
        "bool": pa.bool_(),
        "list": pa.list_(pa.string()),
        "float": pa.float64(),
    }
    version = next((str(t.data.get("schema_version") or "") for t in threads), "")
    schema = pa.schema([pa.field(n, types[kind(n)]) for n in names], metadata={"discourse.schema_version": version})
    n_threads = n_comments = 0
    rows: list[tuple[Any, ...]] = []

    def flush(writer: Any) -> None:
        cols = list(zip(*rows, strict=True)) if rows else [() for _ in names]
        arrays = [pa.array(list(col), type=f.type) for col, f in zip(cols, schema, strict=True)]
        writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
        rows.clear()

    try:
        with pq.ParquetWriter(path, schema, compression="snappy") as writer:
            for t in threads:
                rows.extend(thread_rows(t, tox, stance))
                n_threads += 1
                n_comments += len(t.comments)
                if len(rows) >= row_group:
                    flush(writer)
            if rows or not n_comments:
                flush(writer)
    except (pa.ArrowException, UnicodeEncodeError) as exc:
        raise OutputError(f"cannot write Parquet: {str(exc).splitlines()[0]}") from None
    return n_threads, n_comments
