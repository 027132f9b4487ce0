"""Parsing streamed rows into a table's columns, with Snowflake's column rules.

A clean batch (one NDJSON file) goes into the table in one pass of DuckDB's JSON reader
(:func:`insert_clean`). Otherwise, or when its commit is held, it is staged into temp table
``_typed<n>``: one value ``v<i>`` per target field and a flag ``_bad`` per row. Snowflake's
rules apply on every path: a column the row omits gets its DEFAULT, NOT NULL and VARCHAR(n)
reject the row (counted, with a message naming the column), NUMBER(p,s) rounds half away
from zero from the number as written. The fast paths read the whole batch typed in one pass;
when anything in it does not fit, the validating path finds and explains the bad rows one by one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from aidemo.local.dialect.jsonsql import holds_json
from aidemo.local.errors import ServiceError
from aidemo.local.storage.catalog import Column, literal, quote


@dataclass(frozen=True)
class Field:
    """How one target column is filled from a row: JSON keys to read, type to cast to."""

    column: Column
    keys: tuple[str, ...]
    type: str

    @property
    def name(self) -> str:
        return self.column.name


@dataclass(frozen=True)
class Batch:
    """One NDJSON file to load (``compression`` "zstd" or "none") and the offset tokens it covers."""

    path: Path
    compression: str
    start_token: str | None
    end_token: str | None
    row_count: int | None = None  # declared by a file-mode fragment; checked before anything is loaded
    source: str = "the request body"  # how error messages name it


@dataclass(frozen=True)
class LoadResult:
    rows_parsed: int
    rows_inserted: int
    rows_error: int
    error_message: str | None


def stage(cur, columns: tuple[Column, ...], mapping, n: int, batch: Batch) -> tuple[list[Field], LoadResult]:
    """Parse one batch for a table's ``columns`` (``mapping``: a DATA_SOURCE pipe's items, or None)."""
    source = _source(batch)
    clean = _clean_read(cur, columns, mapping, source)
    staged = clean and _typed_table(cur, *clean, n)
    staged = staged or _stage_validating(cur, columns, mapping, n, source)
    _check_count(batch, staged[1].rows_parsed)
    return staged


def insert_clean(cur, table_ref: str, columns: tuple[Column, ...], mapping, batch: Batch) -> LoadResult | None:
    """The one pass of a clean batch: its rows INSERTed straight from DuckDB's JSON reader into the
    table, in the caller's transaction. None when a row does not fit: the caller rolls back and
    stages the batch, which finds and counts the bad rows. Raises when the row count disagrees."""
    clean = _clean_read(cur, columns, mapping, _source(batch))
    if clean is None:
        return None
    fields, values, read = clean
    targets = ", ".join(quote(f.name) for f in fields)
    try:
        cur.execute(f"INSERT INTO {table_ref} ({targets}) {_fitting_rows(fields, values, read)}")
        inserted = cur.fetchone()[0]
    except duckdb.Error:
        return None  # an unknown key, or a value that does not convert or fit
    _check_count(batch, inserted)
    return LoadResult(inserted, inserted, 0, None)


def insert_sql(table_ref: str, fields: list[Field], n: int) -> str:
    """The INSERT of batch ``n``'s good rows into the table."""
    targets = ", ".join(quote(f.name) for f in fields)
    picks = ", ".join(f"v{i}" for i in range(len(fields)))
    return f"INSERT INTO {table_ref} ({targets}) SELECT {picks} FROM _typed{n} WHERE NOT _bad"


def _source(batch: Batch) -> str:
    return f"{literal(str(batch.path))}, compression = {literal(batch.compression)}"


def _check_count(batch: Batch, parsed: int) -> None:
    if batch.row_count is not None and parsed != batch.row_count:
        raise ServiceError(
            400,
            "ERR_FRAGMENT_ROW_COUNT_MISMATCH",
            f"{batch.source} declares {batch.row_count} rows but holds {parsed}; nothing was loaded.",
        )


def _clean_read(cur, columns, mapping, source: str) -> tuple[list[Field], list[str], str] | None:
    """How one pass of DuckDB's JSON reader fills the fields: their values (one SQL expression
    each) and the read; None when the batch needs the validating path."""
    return _read_mapped(columns, mapping, source) if mapping else _read_typed(cur, columns, source)


def _read_typed(cur, columns, source: str) -> tuple[list[Field], list[str], str] | None:
    """The fast path, one pass of DuckDB's JSON reader: when every row is an object whose keys
    all name a column (each column by one spelling), every value converts and fits, and no
    row leaves a column with a DEFAULT empty (else the read fails, see :func:`_fitting_rows`).

    The reader detects the keys and types from a sample and then, reading every column it
    detected, refuses any row with a key outside them: that is the unknown-key check.
    """
    read = f"read_json({source}, format = 'newline_delimited', sample_size = {_SAMPLE_ROWS})"
    try:
        detected = dict(cur.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {read})").fetchall())
    except duckdb.Error:
        return None  # not NDJSON objects: the validating path finds and counts the bad rows
    fields, unknown = _fields(columns, None, list(detected))
    if unknown or any(len(f.keys) > 1 for f in fields):
        return None
    if not all(_reads_as(detected[f.keys[0]], f.type) for f in fields if f.keys):
        return None
    return fields, [_typed_value(f, detected) for f in fields], read


def _read_mapped(columns, mapping, source: str) -> tuple[list[Field], list[str], str] | None:
    """The fast path of a DATA_SOURCE pipe, one pass of DuckDB's JSON reader over the mapped keys
    only: matched case-sensitively, other keys ignored, as ``$1:KEY`` reads them. Each value is
    read as its text and cast to the item's type, as the validating path casts it; None when a
    type needs the validating path (the read fails when a row is not an object or a value
    does not convert or fit).
    """
    fields, _ = _fields(columns, mapping, [])
    keys = list(dict.fromkeys(f.keys[0] for f in fields))
    if len({k.upper() for k in keys}) < len(keys) or not all(_is_scalar(f.type) for f in fields):
        return None  # DuckDB's column names ignore case; VARIANT and the like take the validating path
    texts = ", ".join(f"{literal(k)}: 'VARCHAR'" for k in keys)
    read = f"read_json({source}, format = 'newline_delimited', records = true, columns = {{{texts}}})"
    return fields, [f"CAST({quote(f.keys[0])} AS {f.type})" for f in fields], read


def _fitting_rows(fields: list[Field], values: list[str], read: str) -> str:
    """The SELECT of ``values`` as ``v0, v1, ...`` from ``read``, which fails on a row that
    leaves a NOT NULL or DEFAULT column empty or is too long for a VARCHAR(n)."""
    picks = ", ".join(f"{value} AS v{i}" for i, value in enumerate(values))
    checked = []
    for i, f in enumerate(fields):
        misfits = []
        if not f.column.nullable or (f.keys and f.column.default is not None):  # an omitted key needs its DEFAULT
            misfits.append(f"v{i} IS NULL")
        if f.column.max_length is not None:
            misfits.append(f"length(v{i}) > {f.column.max_length}")
        fits = f"CASE WHEN {' OR '.join(misfits)} THEN error('misfit') ELSE v{i} END" if misfits else f"v{i}"
        checked.append(f"{fits} AS v{i}")
    return f"SELECT {', '.join(checked)} FROM (SELECT {picks} FROM {read})"


def _typed_table(cur, fields: list[Field], values: list[str], read: str, n: int) -> tuple | None:
    """Stage ``values`` (one SQL expression per field) read by ``read`` into ``_typed<n>``; None
    when a row does not convert, or leaves a NOT NULL or DEFAULT column empty, or is too long."""
    try:
        rows = _fitting_rows(fields, values, read)
        cur.execute(f"CREATE OR REPLACE TEMP TABLE _typed{n} AS SELECT *, false AS _bad FROM ({rows})")
        parsed = cur.fetchone()[0]
    except duckdb.Error:
        return None  # an unknown key, or a value that does not convert or fit: found and counted row by row
    return fields, LoadResult(parsed, parsed, 0, None)


def _typed_value(f: Field, detected: dict[str, str]) -> str:
    if not f.keys:
        return _default(f)
    key = quote(f.keys[0])
    if f.type.startswith("DECIMAL") and detected[f.keys[0]] in ("DOUBLE", "FLOAT"):
        return _decimal_of_double(key, f.type)
    return f"CAST({key} AS {f.type})"


def _decimal_of_double(key: str, decimal: str) -> str:
    """A number the reader parsed as a double, rounded to ``decimal`` as written.

    Its shortest text is the number as written, which rounds half away from zero (0.145 ->
    0.15) where the double would not (0.14499...). Printing every double costs more than the
    rest of the load, and only a double within rounding error of a half (in the last kept
    digit) can round differently from its text: the others are cast directly.
    """
    as_written = f"CAST(CAST({key} AS VARCHAR) AS {decimal})"
    match = _DECIMAL.match(decimal)
    if not match:
        return as_written
    shifted = f"(abs({key}) * {10 ** int(match.group(1))}.0)"
    return (
        f"CASE WHEN abs({shifted} - floor({shifted}) - 0.5) > {shifted} * 1e-14 "
        f"THEN CAST({key} AS {decimal}) ELSE {as_written} END"
    )


def _stage_validating(cur, columns, mapping, n: int, source: str) -> tuple[list[Field], LoadResult]:
    """Row by row: insert what fits the table, count and explain the rows that do not."""
    cur.execute(f"CREATE OR REPLACE TEMP TABLE _batch{n} AS SELECT json AS j FROM read_ndjson_objects({source})")
    keys = [k for (k,) in cur.execute(f"SELECT DISTINCT unnest(json_keys(j)) FROM _batch{n}").fetchall()]
    fields, unknown = _fields(columns, mapping, keys)
    values = ", ".join(f"{_checked_value(f)} AS v{i}" for i, f in enumerate(fields))
    bad = ["json_type(j) <> 'OBJECT'"]
    if unknown:
        bad.append(f"len(list_intersect(json_keys(j), [{', '.join(literal(k) for k in unknown)}])) > 0")
    for i, f in enumerate(fields):
        bad.append(f"({_raw(f)} IS NOT NULL AND v{i} IS NULL)")
        if not f.column.nullable:
            bad.append(f"v{i} IS NULL")
        if f.column.max_length is not None:
            bad.append(f"coalesce(length(v{i}) > {f.column.max_length}, false)")
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE _typed{n} AS SELECT *, CASE WHEN _bad THEN j END AS _bad_row FROM ("
        f"SELECT j, {values}, ({' OR '.join(bad)}) AS _bad FROM _batch{n})"
    )
    parsed, errors, sample = cur.execute(
        f"SELECT count(*), count(*) FILTER (WHERE _bad), any_value(_bad_row) FROM _typed{n}"
    ).fetchone()
    cur.execute(f"DROP TABLE _batch{n}")
    message = _explain(sample, fields, unknown, cur) if errors else None
    return fields, LoadResult(parsed, parsed - errors, errors, message)


def _checked_value(f: Field) -> str:
    value = f"TRY_CAST({_raw(f, as_json=holds_json(f.type))} AS {f.type})"
    if not f.keys or f.column.default is None:
        return value if f.keys else _default(f)
    present = " OR ".join(f"(j -> {literal(k)}) IS NOT NULL" for k in f.keys)
    return f"CASE WHEN {present} THEN {value} ELSE {_default(f)} END"


def _default(f: Field) -> str:
    """The value of a column the row omits: its DEFAULT, else NULL."""
    return f"CAST({f.column.default or 'NULL'} AS {f.type})"


def _fields(columns: tuple[Column, ...], mapping, keys: list[str]) -> tuple[list[Field], list[str]]:
    """Target columns with the batch's JSON keys that feed them, and the keys nothing takes."""
    by_name = {c.name.upper(): c for c in columns}
    if mapping:  # DATA_SOURCE form: explicit $1:KEY::TYPE list; other keys are ignored
        fields = []
        for position, m in enumerate(mapping):
            column = by_name[m["target"].upper()] if m.get("target") else columns[position]
            fields.append(Field(column, (m["source_key"],), m.get("cast_type") or column.type))
        return fields, []
    matched: dict[str, list[str]] = {}
    unknown = []
    for key in keys:
        column = by_name.get(key.upper())
        if column is None:
            unknown.append(key)
        else:
            matched.setdefault(column.name, []).append(key)
    return [Field(c, tuple(matched.get(c.name, ())), c.type) for c in columns], unknown


_DECIMAL = re.compile(r"DECIMAL\(\d+,\s*(\d+)\)\Z")
_SAMPLE_ROWS = 1_000  # rows the fast path's reader detects keys and types from
_SCALAR = {
    "VARCHAR", "TEXT", "STRING", "BOOLEAN", "DATE", "TIME", "TIMESTAMP", "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE",
}  # fmt: skip
_NUMERIC = {
    "DECIMAL", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
    "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE",
}  # fmt: skip


def _reads_as(detected: str, target: str) -> bool:
    """Whether a column read as ``detected`` and cast to ``target`` holds what reading it as
    ``target`` would: the same type, numbers into numbers (both go through the same parse), or
    text into anything but text (a date-like string stays as written only when read as text)."""
    family = target.split("(")[0]
    if holds_json(target):  # the reader's STRUCTs add the keys other rows have; a string is not parsed
        return False
    return (
        detected == target
        or (detected.split("(")[0] in _NUMERIC and family in _NUMERIC)
        or (detected == "VARCHAR" and family != "VARCHAR")
    )


def _is_scalar(duck_type: str) -> bool:
    """A number, text, boolean, date or time: a type the mapped fast path casts to."""
    family = duck_type.split("(")[0].strip().upper()
    return family in _NUMERIC or family in _SCALAR


def _raw(field: Field, as_json: bool = False) -> str:
    """The row's value for a field as text, or as JSON for a VARIANT, OBJECT or ARRAY column (a
    JSON null is NULL in either)."""
    if not field.keys:
        return "CAST(NULL AS VARCHAR)"
    parts = [f"nullif(j -> {literal(k)}, 'null')" if as_json else f"(j ->> {literal(k)})" for k in field.keys]
    return parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"


def _explain(row_json: str, fields: list[Field], unknown: list[str], cur) -> str:
    """Why one rejected row did not fit, in words a user can act on."""
    row = json.loads(row_json)
    if not isinstance(row, dict):
        return f"Row is not a JSON object: {row_json[:100]}"
    extra = [k for k in row if k in unknown]
    if extra:
        return f"Unknown column(s) {', '.join(extra)}: the table has no such column"
    for f in fields:
        value = next((row[k] for k in f.keys if k in row and row[k] is not None), None)
        if value is None:
            omitted = not any(k in row for k in f.keys)
            if not f.column.nullable and not (omitted and f.column.default is not None):
                return f"NULL result in a non-nullable column {f.name}"
            continue
        semi = holds_json(f.type)
        text = value if isinstance(value, str) and not semi else json.dumps(value)
        parsed = "CAST(? AS JSON)" if semi else "?"
        if cur.execute(f"SELECT TRY_CAST({parsed} AS {f.type}) IS NULL", [text]).fetchone()[0]:
            return f"Column {f.name}: value {text[:60]!r} cannot be converted to {f.column.declared}"
        limit = f.column.max_length
        if limit is not None and len(text) > limit:
            return (
                f"Column {f.name}: value of {len(text)} characters is too long for "
                f"{f.column.declared} (at most {limit}): {text[:60]!r}"
            )
    return "Row was rejected"
