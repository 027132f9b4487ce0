"""Query results in the JSON result format of Snowflake's connector protocol.

The connector reads a ``rowtype`` (Snowflake type, precision, scale per column, from
:mod:`aidemo.local.engine.sftypes`) and a ``rowset`` of string cells: NUMBER as decimal text, DATE as
days since the epoch, TIME and timestamps as seconds with nine decimals (TIMESTAMP_TZ adds
``offset minutes + 1440``), BOOLEAN as ``"1"``/``"0"``, VARIANT/OBJECT/ARRAY as JSON text, BINARY as hex. The SQL API's
cells are the same but for BOOLEAN (``"true"``/``"false"``).
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math

from aidemo.local.engine import sftypes
from aidemo.local.engine.sqlcommands import (
    COPY,
    DELETE,
    DESCRIBE,
    INSERT,
    LIST_FILES,
    REMOVE_FILES,
    SELECT,
    SHOW,
    UNLOAD,
    UPDATE,  # statement type ids
)

# The columns Snowflake answers DML with; the connector sums them into cursor.rowcount.
DML_COLUMNS = {
    INSERT: ("number of rows inserted",),
    UPDATE: ("number of rows updated", "number of multi-joined rows updated"),
    DELETE: ("number of rows deleted",),
}
_STATS = {INSERT: "numRowsInserted", UPDATE: "numRowsUpdated", DELETE: "numRowsDeleted"}


def returns_rows(statement_type_id: int) -> bool:
    """Whether the statement type answers with a result set of its own (not a status or counts)."""
    return statement_type_id in (SELECT, SHOW, DESCRIBE, LIST_FILES, REMOVE_FILES, COPY, UNLOAD)


def row_cells(types: list[sftypes.SnowflakeType], cells: dict | None = None):
    """A function from one row's values to its string cells, for columns of these types."""
    by_type = _CELLS | (cells or {})
    encoders = [by_type[t.type] for t in types]
    return lambda row: [None if v is None else cell(v) for cell, v in zip(encoders, row)]


def batch_rows(batch) -> list[tuple]:
    """The rows of an Arrow record batch as Python values (as a DuckDB cursor's fetchall gives them)."""
    return list(zip(*(column.to_pylist(maps_as_pydicts="strict") for column in batch.columns)))


def dml_result(statement_type_id: int, count: int) -> tuple[list[tuple[str, str]], list[tuple], dict]:
    """Snowflake's answer to INSERT, UPDATE or DELETE: count columns, one row, and stats."""
    names = DML_COLUMNS[statement_type_id]
    row = (count,) + (0,) * (len(names) - 1)
    return [(n, "BIGINT") for n in names], [row], {_STATS[statement_type_id]: count}


_EPOCH = dt.datetime(1970, 1, 1)
_EPOCH_UTC = _EPOCH.replace(tzinfo=dt.UTC)


def _seconds(delta: dt.timedelta) -> str:
    """A duration as seconds with nine decimals (DuckDB keeps microseconds)."""
    nanos = ((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds) * 1000
    sign, nanos = ("-", -nanos) if nanos < 0 else ("", nanos)
    return f"{sign}{nanos // 1_000_000_000}.{nanos % 1_000_000_000:09d}"


def _fixed(value) -> str:
    return format(value, "f") if isinstance(value, decimal.Decimal) else str(int(value))


def _real(value) -> str:
    value = float(value)
    return "NaN" if math.isnan(value) else repr(value)


def _date(value: dt.date) -> str:
    return str((value - dt.date(1970, 1, 1)).days)


def _time(value: dt.time) -> str:
    return _seconds(
        dt.timedelta(
            hours=value.hour,
            minutes=value.minute,
            seconds=value.second,
            microseconds=value.microsecond,
        )
    )


def _timestamp(value: dt.datetime) -> str:
    if value.tzinfo is None:
        return _seconds(value - _EPOCH)
    return _seconds(value - _EPOCH_UTC)


def variant_text(value) -> str:
    """A VARIANT, OBJECT or ARRAY value as Snowflake shows it: indented JSON."""
    return json.dumps(_plain(value), indent=2, default=str)


def _plain(value):
    """A semi-structured value as Python data: DuckDB hands VARIANT (JSON) over as its text, OBJECT
    (MAP(VARCHAR, JSON)) as a dict and ARRAY (JSON[]) as a list of such texts."""
    if isinstance(value, str):
        return json.loads(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _binary(value) -> str:
    return bytes(value).hex().upper()


_CELLS = {
    "fixed": _fixed,
    "real": _real,
    "text": str,
    "boolean": lambda v: "1" if v else "0",
    "date": _date,
    "time": _time,
    "timestamp_ntz": _timestamp,
    "timestamp_ltz": _timestamp,
    "variant": variant_text,
    "array": variant_text,
    "object": variant_text,
    "binary": _binary,
}
