"""Query results in the JSON result format of Snowflake's connector protocol.

The connector reads a ``rowtype`` (Snowflake type, precision, scale per column) and a
``rowset`` of string cells: NUMBER as decimal text, DATE as days since the epoch, TIME and
timestamps as seconds with nine decimals (TIMESTAMP_TZ adds ``offset minutes + 1440``),
BOOLEAN as ``"1"``/``"0"``, VARIANT/OBJECT/ARRAY as JSON text, BINARY as hex.

DuckDB keeps one instant for TIMESTAMP WITH TIME ZONE, so both TIMESTAMP_LTZ and
TIMESTAMP_TZ columns come back as TIMESTAMP_LTZ (the same instant, in the session's UTC).
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math

from aidemo.local.catalog import INTEGER_TYPES
from aidemo.local.sqlcommands import DELETE, DESCRIBE, INSERT, SELECT, SHOW, UPDATE  # statement type ids

# The columns Snowflake answers DML with; the connector sums them into cursor.rowcount.
DML_COLUMNS = {
    INSERT: ("number of rows inserted",),
    UPDATE: ("number of rows updated", "number of multi-joined rows updated"),
    DELETE: ("number of rows deleted",),
}
_STATS = {INSERT: "numRowsInserted", UPDATE: "numRowsUpdated", DELETE: "numRowsDeleted"}


def returns_rows(statement_type_id: int) -> bool:
    """Whether the statement type answers with a result set of its own (not a status or counts)."""
    return statement_type_id in (SELECT, SHOW, DESCRIBE)


def encode(columns: list[tuple[str, str]], rows: list[tuple]) -> tuple[list[dict], list[list]]:
    """(rowtype, rowset) for columns given as (name, DuckDB type) and their rows."""
    rowtype = [row_type(name, duck) for name, duck in columns]
    cells = [_CELLS[col["type"]] for col in rowtype]
    rowset = [[None if v is None else cell(v) for cell, v in zip(cells, row)] for row in rows]
    return rowtype, rowset


def dml_result(statement_type_id: int, count: int) -> tuple[list[tuple[str, str]], list[tuple], dict]:
    """Snowflake's answer to INSERT, UPDATE or DELETE: count columns, one row, and stats."""
    names = DML_COLUMNS[statement_type_id]
    row = (count,) + (0,) * (len(names) - 1)
    return [(n, "BIGINT") for n in names], [row], {_STATS[statement_type_id]: count}


def row_type(name: str, duck: str) -> dict:
    """One rowtype entry for a DuckDB column type (every key the connector reads is present)."""
    duck = duck.upper()
    meta = {
        "name": name,
        "database": "",
        "schema": "",
        "table": "",
        "nullable": True,
        "precision": None,
        "scale": None,
        "length": None,
        "byteLength": None,
        "collation": None,
    }
    if duck.startswith("DECIMAL"):
        precision, _, scale = duck[duck.index("(") + 1 : -1].partition(",")
        return meta | {
            "type": "fixed",
            "precision": int(precision),
            "scale": int(scale or 0),
        }
    if duck in INTEGER_TYPES:
        return meta | {"type": "fixed", "precision": 38, "scale": 0}
    if duck in ("DOUBLE", "FLOAT", "REAL"):
        return meta | {"type": "real"}
    if duck == "BOOLEAN":
        return meta | {"type": "boolean"}
    if duck == "DATE":
        return meta | {"type": "date"}
    if duck.startswith("TIME") and not duck.startswith("TIMESTAMP"):
        return meta | {"type": "time", "scale": 9, "precision": 0}
    if duck.startswith("TIMESTAMP WITH TIME ZONE") or duck == "TIMESTAMPTZ":
        return meta | {"type": "timestamp_ltz", "scale": 9, "precision": 0}
    if duck.startswith("TIMESTAMP"):
        return meta | {"type": "timestamp_ntz", "scale": 9, "precision": 0}
    if duck == "JSON":
        return meta | {"type": "variant", "length": _MAX_TEXT, "byteLength": _MAX_TEXT}
    if duck.endswith("]"):
        return meta | {"type": "array", "length": _MAX_TEXT, "byteLength": _MAX_TEXT}
    if duck.startswith(("STRUCT", "MAP")):
        return meta | {"type": "object", "length": _MAX_TEXT, "byteLength": _MAX_TEXT}
    if duck in ("BLOB", "BYTEA", "BINARY", "VARBINARY"):
        return meta | {
            "type": "binary",
            "length": _MAX_BINARY,
            "byteLength": _MAX_BINARY,
        }
    return meta | {"type": "text", "length": _MAX_TEXT, "byteLength": _MAX_TEXT}


_MAX_TEXT = 16_777_216
_MAX_BINARY = 8_388_608
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


def _variant(value) -> str:
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
    "variant": _variant,
    "array": _variant,
    "object": _variant,
    "binary": _binary,
}
