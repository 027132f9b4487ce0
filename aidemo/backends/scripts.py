"""SQL on the active backend, from strings or from the files in ``sql/`` (Snowflake dialect),
and literals for writing rows as SQL.

The files name the demo's objects ``AUTOMATED_INTELLIGENCE.RAW.<name>``, so that they run as
they are in a Snowflake worksheet; run through a backend, they act on the database and schema
of its profile instead (:func:`sql_text`).
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re
from pathlib import Path
from typing import TYPE_CHECKING

from aidemo.errors import SqlError
from aidemo.local.process.sqlfiles import SQL_DIR  # sql/ ships with the package; see there

if TYPE_CHECKING:
    import pandas

    from aidemo.backends.backend import StreamingBackend


def sql_file(name: str) -> Path:
    """A file of ``sql/`` by name (``"02_tables.sql"`` or ``"monitoring/row_counts.sql"``)."""
    path = SQL_DIR / name
    if not path.suffix:
        path = path.with_suffix(".sql")
    if not path.is_file():
        known = sorted(str(p.relative_to(SQL_DIR)) for p in SQL_DIR.rglob("*.sql"))
        raise SqlError(f"no SQL file {name!r} in {SQL_DIR}; known files: {', '.join(known)}")
    return path


# The database and schema as the files write them: qualified names, and the database after DATABASE
# (CREATE DATABASE, GRANT ... ON DATABASE); a role of the same name is left alone.
_QUALIFIED = re.compile(r"\bAUTOMATED_INTELLIGENCE\.RAW\b")
_DATABASE = re.compile(r"(\bDATABASE\s+(?:IF\s+NOT\s+EXISTS\s+)?)AUTOMATED_INTELLIGENCE\b", re.I)


def sql_text(name: str, backend: StreamingBackend) -> str:
    """The text of a file of ``sql/`` with the backend's database and schema in place of the files'."""
    text = _QUALIFIED.sub(f"{backend.database}.{backend.schema}", sql_file(name).read_text())
    return _DATABASE.sub(lambda match: match[1] + backend.database, text)


def run_sql(statement: str, backend: StreamingBackend | None = None) -> pandas.DataFrame:
    """Run a statement or script on the backend (default: the profile's); the last result as a DataFrame."""
    from aidemo.backends.backend import open_backend

    if backend is not None:
        return backend.sql(statement)
    with open_backend() as own:
        return own.sql(statement)


def run_file(name: str, backend: StreamingBackend | None = None) -> pandas.DataFrame:
    """Run one file of ``sql/`` on the backend's database and schema (see :func:`sql_text`)."""
    from aidemo.backends.backend import open_backend

    if backend is not None:
        return backend.sql(sql_text(name, backend))
    with open_backend() as own:
        return own.sql(sql_text(name, own))


def insert_statements(table: str, frame: pandas.DataFrame, batch_rows: int = 1000) -> list[str]:
    """``INSERT INTO table (columns) VALUES ...`` statements of ``batch_rows`` rows each, in Snowflake SQL."""
    columns = ", ".join(frame.columns)
    rows = [f"({', '.join(map(sql_literal, row))})" for row in frame.itertuples(index=False, name=None)]
    return [
        f"INSERT INTO {table} ({columns}) VALUES\n" + ",\n".join(rows[i : i + batch_rows])
        for i in range(0, len(rows), batch_rows)
    ]


def insert_script(table: str, frame: pandas.DataFrame, batch_rows: int = 1000) -> str:
    """The statements of :func:`insert_statements` as one script."""
    return ";\n".join(insert_statements(table, frame, batch_rows))


def sql_literal(value) -> str:
    """A Python value as a Snowflake literal: strings quoted (``'`` doubled, ``\\`` escaped),
    dates as ISO strings, numbers as written, None and NaN as NULL."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NULL"
    if isinstance(value, str):
        # In Snowflake's single-quoted strings a backslash starts an escape sequence.
        return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (dt.date, dt.datetime)):
        return f"'{value.isoformat()}'"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real) and math.isfinite(value):
        return repr(float(value))
    raise SqlError(f"cannot write {value!r} ({type(value).__name__}) as a SQL literal")
