"""Compressed columnar chunks of the results database's large row tables (issue 21, P8).

Why: a full Italian day (5 schemes x 24 clearings x 48 physical steps, 12 k nodes, 9.6 k bids per
clearing) wrote 645 MB of SQLite rows, most of it ``prices``, ``measurements``, ``bids`` and ``messages``:
one row per node (or bid, or actor pair) and step, each row repeating its node's name, its run and a
row id and index entry, with every float stored as an 8-byte REAL. The same rows as a Parquet chunk
(one per written batch and table) store each column once: the names and the integer columns
dictionary-encoded (a node name once per chunk), the floats split into byte streams (the sign/exponent
bytes of neighbouring values are alike and compress), the whole compressed with zstd. The values are
the same IEEE doubles, strings and integers: nothing is rounded.

A chunk is a BLOB row of the database's ``series_chunks`` table (:mod:`simulation.db`), written in the
same transaction as the batch's other rows, so a run interrupted at any point still leaves a database
that opens and whose chunks are whole; the database stays one file (or one PostgreSQL schema) that can
be copied, swept into and read as before.

This module only converts: rows (``{column: value}`` dicts, as :mod:`simulation.recording.rows` builds
them) to Parquet bytes, and Parquet bytes back to a DataFrame with the dtypes of the SQL table.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

ZSTD_LEVEL = 6
"""zstd level of the chunks: on the F = 0.2 Italian hour level 9 saved under 2 % more than level 1-6,
at several times the compression time."""

ROW_KEYS = ("id", "run_id")
"""Columns of a row table that a chunk does not hold: the row id (a chunk's rows keep their order) and the
run (one per chunk, a column of ``series_chunks``)."""


def chunk_columns(table: sa.Table) -> list[sa.Column]:
    """The columns of ``table`` a chunk holds, in the table's order."""
    return [c for c in table.c if c.name not in ROW_KEYS]


def _arrow_type(col: sa.Column) -> pa.DataType:
    import pyarrow as pa

    t = col.type
    if isinstance(t, sa.Boolean):
        return pa.bool_()
    if isinstance(t, sa.Integer):  # BigInteger too
        return pa.int64()
    if isinstance(t, sa.Float):
        return pa.float64()
    return pa.string()


def encode_rows(table: sa.Table, rows: list[dict[str, Any]]) -> bytes:
    """One Parquet chunk (zstd) of ``rows`` of ``table``; a key a row lacks is stored as null.

    Floats are written with the byte-stream-split encoding and no dictionary (measured values are
    nearly all distinct); every other column dictionary-encoded."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    cols = chunk_columns(table)
    arrays = [pa.array([r.get(c.name) for r in rows], type=_arrow_type(c)) for c in cols]
    tab = pa.Table.from_arrays(arrays, names=[c.name for c in cols])
    floats = [c.name for c in cols if isinstance(c.type, sa.Float)]
    others = [c.name for c in cols if not isinstance(c.type, sa.Float)]
    sink = io.BytesIO()
    pq.write_table(
        tab,
        sink,
        compression="zstd",
        compression_level=ZSTD_LEVEL,
        use_dictionary=others,
        use_byte_stream_split=floats or False,
        write_statistics=False,
    )
    return sink.getvalue()


def decode_chunk(data: bytes, columns: list[str] | None = None) -> pd.DataFrame:
    """The rows of one chunk (``columns`` of them, default all), dtypes as stored."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tab = pq.read_table(pa.BufferReader(data), columns=columns)
    return tab.to_pandas()


def normalise(df: pd.DataFrame, table: sa.Table) -> pd.DataFrame:
    """``df`` with the dtypes a reader gets for ``table`` whichever way the rows were stored: floats
    ``float64`` (NULL: NaN), integers ``int64`` (``float64`` when some are NULL), booleans ``bool``,
    strings ``object`` (NULL: None)."""
    import pandas as pd

    for name in df.columns:
        if name not in table.c:
            continue
        t = table.c[name].type
        s = df[name]
        if isinstance(t, sa.Boolean):
            df[name] = s.astype(bool)
        elif isinstance(t, sa.Integer):
            num = pd.to_numeric(s)
            df[name] = num.astype("int64") if not num.isna().any() else num.astype("float64")
        elif isinstance(t, sa.Float):
            df[name] = pd.to_numeric(s).astype("float64")
        else:
            df[name] = s.astype(object).where(s.notna(), None)
    return df.reset_index(drop=True)


__all__ = ["ROW_KEYS", "ZSTD_LEVEL", "chunk_columns", "decode_chunk", "encode_rows", "normalise"]
