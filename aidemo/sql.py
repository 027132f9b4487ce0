"""SQL on the active backend, from strings or from the files in ``sql/`` (Snowflake dialect),
and literals for writing rows as SQL."""

from __future__ import annotations

import datetime as dt
import math
import numbers
from pathlib import Path
from typing import TYPE_CHECKING

from aidemo.errors import SqlError
from aidemo.local.sqlfiles import SQL_DIR  # sql/ ships with the package; see there

if TYPE_CHECKING:
    import pandas

    from aidemo.backends import StreamingBackend


def sql_file(name: str) -> Path:
    """A file of ``sql/`` by name (``"02_tables.sql"`` or ``"monitoring/row_counts.sql"``)."""
    path = SQL_DIR / name
    if not path.suffix:
        path = path.with_suffix(".sql")
    if not path.is_file():
        known = sorted(str(p.relative_to(SQL_DIR)) for p in SQL_DIR.rglob("*.sql"))
        raise SqlError(f"no SQL file {name!r} in {SQL_DIR}; known files: {', '.join(known)}")
    return path


def run_sql(statement: str, backend: StreamingBackend | None = None) -> pandas.DataFrame:
    """Run a statement or script on the backend (default: the profile's); the last result as a DataFrame."""
    from aidemo.backends import open_backend

    if backend is not None:
        return backend.sql(statement)
    with open_backend() as own:
        return own.sql(statement)


def run_file(name: str, backend: StreamingBackend | None = None) -> pandas.DataFrame:
    """Run one file of ``sql/``."""
    return run_sql(sql_file(name).read_text(), backend)


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
