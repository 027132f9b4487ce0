"""Snowflake's type of a DuckDB column: the one table every wire format reads.

A column's DuckDB type (as a cursor's description or a relation reports it) maps to one
:class:`SnowflakeType`: the name DESCRIBE shows, and the rowtype entry the connector and the
SQL API send (type, precision, scale, length, byteLength). The encoders of each wire format
(:mod:`aidemo.local.engine.resultset` for JSON cells, :mod:`aidemo.local.engine.arrowresults` for Arrow)
start from it.

DuckDB keeps one instant for TIMESTAMP WITH TIME ZONE, so TIMESTAMP_LTZ and TIMESTAMP_TZ
columns are both TIMESTAMP_LTZ (the same instant, shown in the session's time zone).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_TEXT = 16_777_216
MAX_BINARY = 8_388_608


@dataclass(frozen=True)
class SnowflakeType:
    """A Snowflake type as the wire formats describe it: ``type`` is the rowtype's (fixed, text, ...)."""

    name: str
    type: str
    precision: int | None = None
    scale: int | None = None
    length: int | None = None
    byte_length: int | None = None

    def row_type(self, name: str, nullable: bool = True) -> dict:
        """The connector's rowtype entry for a column of this type (every key the connector reads)."""
        return {
            "name": name,
            "database": "",
            "schema": "",
            "table": "",
            "nullable": nullable,
            "type": self.type,
            "precision": self.precision,
            "scale": self.scale,
            "length": self.length,
            "byteLength": self.byte_length,
            "collation": None,
        }


def _number(precision: int, scale: int) -> SnowflakeType:
    return SnowflakeType(f"NUMBER({precision},{scale})", "fixed", precision, scale)


_TEXT = SnowflakeType(f"VARCHAR({MAX_TEXT})", "text", length=MAX_TEXT, byte_length=MAX_TEXT)
_INTEGER = _number(38, 0)
_NTZ = SnowflakeType("TIMESTAMP_NTZ(9)", "timestamp_ntz", 0, 9)
_LTZ = SnowflakeType("TIMESTAMP_LTZ(9)", "timestamp_ltz", 0, 9)


def _semi(name: str) -> SnowflakeType:
    return SnowflakeType(name, name.lower(), length=MAX_TEXT, byte_length=MAX_TEXT)


#: DuckDB's integer types: all of them are Snowflake's NUMBER(38,0).
INTEGER_TYPES = frozenset(
    ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT", "UHUGEINT")
)

# DuckDB type name -> Snowflake type; DECIMAL(p,s), lists, structs and maps are matched by shape.
_BY_NAME = {name: _INTEGER for name in INTEGER_TYPES} | {
    "DOUBLE": SnowflakeType("FLOAT", "real"),
    "FLOAT": SnowflakeType("FLOAT", "real"),
    "REAL": SnowflakeType("FLOAT", "real"),
    "BOOLEAN": SnowflakeType("BOOLEAN", "boolean"),
    "DATE": SnowflakeType("DATE", "date"),
    "TIME": SnowflakeType("TIME(9)", "time", 0, 9),
    "TIMESTAMP": _NTZ,
    "TIMESTAMP_S": _NTZ,
    "TIMESTAMP_MS": _NTZ,
    "TIMESTAMP_NS": _NTZ,
    "TIMESTAMP WITH TIME ZONE": _LTZ,
    "TIMESTAMPTZ": _LTZ,
    "JSON": _semi("VARIANT"),
    "BLOB": SnowflakeType(f"BINARY({MAX_BINARY})", "binary", length=MAX_BINARY, byte_length=MAX_BINARY),
    "VARCHAR": _TEXT,
}
_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)\Z")


def of(duck) -> SnowflakeType:
    """The Snowflake type of a DuckDB column type (a name such as ``DECIMAL(10,2)``, or a DuckDBPyType)."""
    duck = str(duck).upper()
    if known := _BY_NAME.get(duck):
        return known
    if match := _DECIMAL.match(duck):
        return _number(int(match.group(1)), int(match.group(2)))
    if duck.endswith("]"):
        return _semi("ARRAY")
    if duck.startswith(("STRUCT", "MAP")):
        return _semi("OBJECT")
    return _TEXT  # UUID, ENUM, INTERVAL, ...: Snowflake has no such type, their text is the value
