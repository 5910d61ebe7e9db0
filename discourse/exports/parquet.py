"""Parquet: one row per comment, the columns of ``comments.csv`` with their types (:mod:`.table`).

Needs pyarrow (``pip install 'discourse[parquet]'``); without it, a one-line error says so.
Strings are UTF-8, scores float64, ``author_inferred`` bool, the evidence columns list<string>;
a missing value is null. The file's key-value metadata records ``discourse.schema_version`` (of the
analysis.json files read) and ``discourse.columns`` (this module's doc of the columns).
"""

from __future__ import annotations

import io
from typing import Any

from discourse.core.errors import OutputError
from discourse.exports.table import CommentTable

INSTALL_HINT = "pip install 'discourse[parquet]' (or pip install pyarrow)"


def parquet_bytes(table: CommentTable, schema_version: str = "") -> bytes:
    """The table as a Parquet file (snappy-compressed)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise OutputError(f"Parquet export needs pyarrow, which is not installed: {INSTALL_HINT}") from None

    types: dict[str, Any] = {
        "str": pa.string(),
        "bool": pa.bool_(),
        "list": pa.list_(pa.string()),
        "float": pa.float64(),
    }
    fields = [pa.field(name, types[table.kind(name)]) for name in table.columns]
    columns = list(zip(*table.rows, strict=True)) if table.rows else [() for _ in table.columns]
    meta = {"discourse.schema_version": schema_version, "discourse.columns": "comments.csv's, typed"}
    try:
        arrays = [pa.array(list(col), type=f.type) for col, f in zip(columns, fields, strict=True)]
        data = pa.Table.from_arrays(arrays, schema=pa.schema(fields, metadata=meta))
        buf = io.BytesIO()
        pq.write_table(data, buf, compression="snappy")
    except (pa.ArrowException, UnicodeEncodeError) as exc:
        raise OutputError(f"cannot write Parquet: {str(exc).splitlines()[0]}") from None
    return buf.getvalue()
