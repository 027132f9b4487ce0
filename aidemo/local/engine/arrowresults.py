"""Query results in the Arrow result format of Snowflake's connector protocol.

Each column is an Arrow field of the physical type the connectors' Arrow iterators read for its
Snowflake type, with the field metadata they look up (``logicalType``, ``precision``, ``scale``,
``charLength``, ``byteLength``):

- NUMBER(p,s): its unscaled integers as int64 (``scale`` says where the point is), or
  decimal128(38,s) where a value does not fit 64 bits;
- FLOAT float64, TEXT utf8, BOOLEAN bool, DATE date32, BINARY binary;
- TIME(9): nanoseconds since midnight as int64;
- TIMESTAMP_NTZ(9) / TIMESTAMP_LTZ(9): a struct {epoch: int64 seconds, fraction: int32 nanoseconds},
  which holds every instant DuckDB holds (int64 nanoseconds would end in 2262);
- VARIANT, OBJECT, ARRAY: their JSON text as utf8.

A part of a result (the reply's ``rowsetBase64``, or a chunk) is one Arrow IPC stream. All parts
of a result must have one schema (5.x reads every chunk with the first one's): when a later batch
needs decimal128 for a column, :func:`widened` gives the earlier parts that type too.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from aidemo.local.engine import sftypes
from aidemo.local.engine.resultset import variant_text

_UNIT_SECONDS = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}


def _field(name: str, t: sftypes.SnowflakeType, arrow_type: pa.DataType) -> pa.Field:
    metadata = {
        "logicalType": t.type.upper(),
        "precision": str(t.precision or 0),
        "scale": str(t.scale or 0),
        "charLength": str(t.length or 0),
        "byteLength": str(t.byte_length or 0),
    }
    return pa.field(name, arrow_type, nullable=True, metadata=metadata)


def _fixed(column: pa.Array, t: sftypes.SnowflakeType) -> pa.Array:
    if pa.types.is_decimal(column.type):
        # The same 128-bit unscaled integers read as scale 0, then narrowed where they fit.
        unscaled = pa.Array.from_buffers(
            pa.decimal128(38, 0), len(column), column.buffers(), column.null_count, column.offset
        )
        wide = column.cast(pa.decimal128(38, t.scale))
    else:
        unscaled, wide = column, None
    try:
        return unscaled.cast(pa.int64())
    except pa.ArrowInvalid:  # a value beyond 64 bits (DECIMAL(38,s), HUGEINT, UBIGINT)
        return wide if wide is not None else column.cast(pa.decimal128(38, 0))


def _time(column: pa.Array, t: sftypes.SnowflakeType) -> pa.Array:
    ticks = column.cast(pa.int64()).fill_null(0).to_numpy()
    factor = 10**t.scale // _UNIT_SECONDS[column.type.unit]
    return pa.array(ticks * factor, pa.int64(), mask=column.is_null().to_numpy(zero_copy_only=False))


def _timestamp(column: pa.Array, t: sftypes.SnowflakeType) -> pa.Array:
    per_second = _UNIT_SECONDS[column.type.unit]
    ticks = column.cast(pa.int64()).fill_null(0).to_numpy()
    epoch, rest = np.divmod(ticks, per_second)
    fraction = (rest * (10**t.scale // per_second)).astype(np.int32)
    return pa.StructArray.from_arrays(
        [pa.array(epoch, pa.int64()), pa.array(fraction, pa.int32())],
        names=["epoch", "fraction"],
        mask=column.is_null(),
    )


def _text(column: pa.Array, t: sftypes.SnowflakeType) -> pa.Array:
    try:
        return column.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # INTERVAL and the like: their Python text
        return pa.array([None if v is None else str(v) for v in column.to_pylist()], pa.string())


def _semi(column: pa.Array, t: sftypes.SnowflakeType) -> pa.Array:
    values = column.to_pylist(maps_as_pydicts="strict")  # OBJECT is a MAP: its value is a dict
    return pa.array([None if v is None else variant_text(v) for v in values], pa.string())


_COLUMNS = {
    "fixed": _fixed,
    "real": lambda column, t: column.cast(pa.float64()),
    "text": _text,
    "boolean": lambda column, t: column.cast(pa.bool_()),
    "date": lambda column, t: column.cast(pa.date32()),
    "time": _time,
    "timestamp_ntz": _timestamp,
    "timestamp_ltz": _timestamp,
    "variant": _semi,
    "array": _semi,
    "object": _semi,
    "binary": lambda column, t: column.cast(pa.binary()),
}


class ArrowEncoder:
    """Turns DuckDB's Arrow batches of a result into the batches Snowflake sends for its columns."""

    def __init__(self, columns: list[tuple[str, str]]):
        self.names = [name for name, _ in columns]
        self.types = [sftypes.of(duck) for _, duck in columns]

    def convert(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """One DuckDB batch as Snowflake's: physical types and field metadata of each column."""
        arrays = [_COLUMNS[t.type](column, t) for column, t in zip(batch.columns, self.types)]
        schema = pa.schema(_field(n, t, a.type) for n, t, a in zip(self.names, self.types, arrays))
        return pa.RecordBatch.from_arrays(arrays, schema=schema)


def common_schema(schemas: list[pa.Schema]) -> pa.Schema:
    """The schema every part of a result can take: decimal128 for a column that one part needs it for."""
    fields = list(schemas[0])
    for schema in schemas[1:]:
        fields = [f.with_type(g.type) if pa.types.is_decimal(g.type) else f for f, g in zip(fields, schema)]
    return pa.schema(fields)


def widened(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """A batch in ``schema``: its int64 NUMBER columns as decimal128 of the same unscaled values."""
    arrays = []
    for column, field in zip(batch.columns, schema):
        if column.type != field.type:
            wide = column.cast(pa.decimal128(38, 0))  # the unscaled integers; the scale is the field's
            column = pa.Array.from_buffers(field.type, len(wide), wide.buffers(), wide.null_count, wide.offset)
        arrays.append(column)
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def ipc_batches(data: bytes) -> list[pa.RecordBatch]:
    """The batches of an Arrow IPC stream."""
    return list(pa.ipc.open_stream(data))


def ipc_stream(batches: list[pa.RecordBatch]) -> bytes:
    """Batches of one schema as an Arrow IPC stream (a part of a result)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batches[0].schema) as writer:
        for batch in batches:
            writer.write_batch(batch)
    return sink.getvalue().to_pybytes()
