"""Snowflake file formats (TYPE = PARQUET | CSV and their options) as the DuckDB readers of staged files.

:func:`resolve` merges a stage's FILE_FORMAT, a named file format (FORMAT_NAME) and a statement's
own options, refusing options the local service does not honour rather than loading something
else. :func:`reader_sql` is the DuckDB query that reads one staged file (only COPY INTO and
INFER_SCHEMA run it; user SQL can call no DuckDB table function), :func:`file_columns` its
columns, and :func:`inferred_type` the Snowflake type INFER_SCHEMA reports for a column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from aidemo.local.engine.sqlerrors import unsupported
from aidemo.local.errors import SnowflakeError

_INVALID = ("001008", "22023")
_COMPRESSIONS = {"AUTO": "auto", "GZIP": "gzip", "ZSTD": "zstd", "NONE": "none", "SNAPPY": "auto"}
# Options that change nothing the local service reads, by format (Snowflake's defaults or hints).
_IGNORED = {
    "PARQUET": {
        "BINARY_AS_TEXT",
        "USE_LOGICAL_TYPE",
        "USE_VECTORIZED_SCANNER",
        "TRIM_SPACE",
        "REPLACE_INVALID_CHARACTERS",
    },
    "CSV": {"ENCODING", "VALIDATE_UTF8", "SKIP_BLANK_LINES", "REPLACE_INVALID_CHARACTERS", "BINARY_FORMAT"},
}
_CSV = {
    "FIELD_DELIMITER", "RECORD_DELIMITER", "SKIP_HEADER", "FIELD_OPTIONALLY_ENCLOSED_BY", "NULL_IF",
    "EMPTY_FIELD_AS_NULL", "ESCAPE", "ESCAPE_UNENCLOSED_FIELD", "ERROR_ON_COLUMN_COUNT_MISMATCH", "PARSE_HEADER",
    "DATE_FORMAT", "TIME_FORMAT", "TIMESTAMP_FORMAT", "TRIM_SPACE",
}  # fmt: skip


@dataclass(frozen=True)
class FileFormat:
    """A resolved file format: its type and options (names upper-case, values as written)."""

    type: str
    options: tuple[tuple[str, object], ...] = ()

    def get(self, name: str, default=None):
        return dict(self.options).get(name, default)

    def flag(self, name: str, default: bool) -> bool:
        value = self.get(name, default)
        return value if isinstance(value, bool) else str(value).upper() in ("TRUE", "T", "YES", "ON", "1")


def resolve(*layers: dict, named=None) -> FileFormat:
    """The format of a load: each layer's options over the ones before (a stage's, then the statement's).

    ``named(name)`` gives the options of a FORMAT_NAME.
    """
    merged: dict = {}
    for layer in layers:
        if "FORMAT_NAME" in layer:
            merged = {**merged, **named(str(layer["FORMAT_NAME"]))}
        merged.update({k: v for k, v in layer.items() if k != "FORMAT_NAME"})
    kind = str(merged.pop("TYPE", "CSV")).upper()
    if kind not in ("PARQUET", "CSV"):
        raise unsupported(f"FILE_FORMAT = (TYPE = {kind})", "the local service loads PARQUET and CSV files")
    compression = str(merged.get("COMPRESSION", "AUTO")).upper()
    if compression not in _COMPRESSIONS:
        raise unsupported(f"COMPRESSION = {compression}", "the local service reads AUTO, GZIP, ZSTD and NONE")
    for name, value in merged.items():
        known = name == "COMPRESSION" or name in _IGNORED[kind] or (kind == "CSV" and name in _CSV)
        if not known:
            raise unsupported(f"file format option {name} = {value} for TYPE = {kind}")
        if name.endswith("_FORMAT") and str(value).upper() != "AUTO":
            raise unsupported(f"{name} = '{value}'", "the local service reads dates and times in AUTO format only")
    if kind == "CSV" and str(merged.get("RECORD_DELIMITER", "\n")) not in ("\n", "\r\n"):
        raise unsupported("RECORD_DELIMITER other than a newline")
    return FileFormat(kind, tuple(sorted(merged.items())))


def reader_sql(path: Path, fmt: FileFormat) -> str:
    """The DuckDB query reading one staged file (CSV fields as text, as Snowflake reads them)."""
    location = _literal(str(path))
    compression = _COMPRESSIONS[str(fmt.get("COMPRESSION", "AUTO")).upper()]
    if fmt.type == "PARQUET":
        sql = f"SELECT * FROM read_parquet({location})"
    else:
        nulls = fmt.get("NULL_IF", ["\\N"])
        nulls = [nulls] if isinstance(nulls, str) else list(nulls)
        if fmt.flag("EMPTY_FIELD_AS_NULL", True):
            nulls.append("")
        quote = _single(fmt.get("FIELD_OPTIONALLY_ENCLOSED_BY", "NONE"), "FIELD_OPTIONALLY_ENCLOSED_BY")
        escape = _single(fmt.get("ESCAPE", "NONE"), "ESCAPE") or quote
        skip = str(fmt.get("SKIP_HEADER", 0))
        if not skip.isdigit():
            raise SnowflakeError(_INVALID, f"invalid value [{skip}] for parameter 'SKIP_HEADER'")
        skip = int(skip) + (1 if fmt.flag("PARSE_HEADER", False) else 0)
        options = {
            "header": "false",
            "all_varchar": "true",
            "skip": str(skip),
            "delim": _literal(str(fmt.get("FIELD_DELIMITER", ","))),
            "quote": _literal(quote),
            "escape": _literal(escape),
            "nullstr": "[" + ", ".join(_literal(n) for n in nulls) + "]",
            "allow_quoted_nulls": "false",
            "compression": _literal(compression),
            "auto_detect": "true",
            "strict_mode": "false",
        }
        sql = f"SELECT * FROM read_csv({location}, {', '.join(f'{k} = {v}' for k, v in options.items())})"
    return sql


def _single(value, name: str) -> str:
    text = str(value)
    if text.upper() == "NONE":
        return ""
    if len(text) != 1:
        raise SnowflakeError(_INVALID, f"invalid value ['{text}'] for parameter '{name}'")
    return text


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def file_columns(cur, path: Path, fmt: FileFormat) -> list[tuple[str, str]]:
    """(name, DuckDB type) of the columns of a staged file: a Parquet file's names as the file has
    them (DuckDB renames one that differs from another only in case), a CSV's by position."""
    described = [(row[0], row[1]) for row in cur.execute(f"DESCRIBE {reader_sql(path, fmt)}").fetchall()]
    if fmt.type != "PARQUET":
        return described
    names = pq.read_schema(path).names
    return [(name, kind) for name, (_, kind) in zip(names, described)] if len(names) == len(described) else described


def header_names(cur, path: Path, fmt: FileFormat) -> list[str]:
    """The names in a CSV's header line (PARSE_HEADER = TRUE), after SKIP_HEADER lines."""
    header = FileFormat("CSV", tuple((k, v) for k, v in fmt.options if k not in ("PARSE_HEADER", "SKIP_HEADER")))
    skip = int(str(fmt.get("SKIP_HEADER", 0)))
    rows = cur.execute(f"{reader_sql(path, header)} LIMIT 1 OFFSET {skip}").fetchall()
    return [str(v) for v in rows[0]] if rows else []


_TYPES = {
    "BIGINT": "NUMBER(38, 0)", "INTEGER": "NUMBER(38, 0)", "SMALLINT": "NUMBER(38, 0)", "TINYINT": "NUMBER(38, 0)",
    "UBIGINT": "NUMBER(38, 0)", "UINTEGER": "NUMBER(38, 0)", "USMALLINT": "NUMBER(38, 0)", "UTINYINT": "NUMBER(38, 0)",
    "HUGEINT": "NUMBER(38, 0)", "DOUBLE": "REAL", "FLOAT": "REAL", "VARCHAR": "TEXT", "BOOLEAN": "BOOLEAN",
    "DATE": "DATE", "TIME": "TIME(6)", "BLOB": "BINARY", "TIMESTAMP_NS": "TIMESTAMP_NTZ(9)",
    "TIMESTAMP": "TIMESTAMP_NTZ(6)", "TIMESTAMP_MS": "TIMESTAMP_NTZ(3)", "TIMESTAMP_S": "TIMESTAMP_NTZ(0)",
    "TIMESTAMP WITH TIME ZONE": "TIMESTAMP_TZ(6)", "UUID": "TEXT",
}  # fmt: skip
_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")


def inferred_type(duck_type: str) -> str:
    """The Snowflake type INFER_SCHEMA reports for a file column of this DuckDB type."""
    if match := _DECIMAL.fullmatch(duck_type):
        return f"NUMBER({match.group(1)}, {match.group(2)})"
    if duck_type.endswith("[]"):
        return "ARRAY"
    if duck_type.startswith(("STRUCT", "MAP")):
        return "OBJECT"
    return _TYPES.get(duck_type, "VARIANT")
