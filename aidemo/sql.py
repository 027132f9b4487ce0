"""SQL on the active backend, from strings or from the files in ``sql/`` (Snowflake dialect)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from aidemo.errors import SqlError

if TYPE_CHECKING:
    import pandas

    from aidemo.backends import StreamingBackend

SQL_DIR = Path(os.environ.get("AIDEMO_SQL_DIR") or Path(__file__).resolve().parent.parent / "sql")


def sql_file(name: str) -> Path:
    """A file of ``sql/`` by name (``"02_tables.sql"`` or ``"monitoring/row_counts.sql"``)."""
    path = SQL_DIR / name
    if not path.suffix:
        path = path.with_suffix(".sql")
    if not path.is_file():
        known = sorted(str(p.relative_to(SQL_DIR)) for p in SQL_DIR.rglob("*.sql"))
        raise SqlError(f"no SQL file {name!r} in {SQL_DIR}; known files: {', '.join(known)}")
    return path


def run_sql(statement: str, backend: "StreamingBackend | None" = None) -> "pandas.DataFrame":
    """Run a statement or script on the backend (default: the profile's); the last result as a DataFrame."""
    from aidemo.backends import open_backend

    return (backend or open_backend()).sql(statement)


def run_file(name: str, backend: "StreamingBackend | None" = None) -> "pandas.DataFrame":
    """Run one file of ``sql/``."""
    return run_sql(sql_file(name).read_text(), backend)
