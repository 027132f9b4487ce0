"""Snowflake's error codes and SQLSTATEs for statements the local service refuses.

The connector raises ``ProgrammingError`` with ``errno`` = the code and ``sqlstate``; apps
and tests branch on them (2003: object does not exist, 1003: syntax error, ...).
"""

from __future__ import annotations

import duckdb
from sqlglot.errors import ParseError, TokenError

SYNTAX = ("001003", "42000")
UNKNOWN_OBJECT = ("002003", "42S02")
UNKNOWN_FUNCTION = ("002140", "42601")
EXISTS = ("002002", "42710")
INVALID_IDENTIFIER = ("000904", "42000")
UNSUPPORTED = ("000002", "0A000")
NOT_NULL = ("100072", "22000")
CONVERSION = ("100038", "22018")
DIVISION_BY_ZERO = ("100051", "22012")
OUT_OF_RANGE = ("100035", "22003")
CONSTRAINT = ("100116", "23000")


def snowflake_error(exc: Exception) -> tuple[str, str, str]:
    """(code, SQLSTATE, message) for an error of running a statement."""
    cause = _root(exc)
    text = str(exc)
    lower = text.lower()
    if isinstance(cause, (ParseError, TokenError, duckdb.ParserException)):
        code = SYNTAX
    elif isinstance(cause, duckdb.CatalogException) and "function with name" in lower:
        code = UNKNOWN_FUNCTION
    elif "does not exist" in lower:
        code = UNKNOWN_OBJECT
    elif "already exists" in lower:
        code = EXISTS
    elif isinstance(cause, duckdb.BinderException) and "column" in lower:
        code = INVALID_IDENTIFIER
    elif isinstance(cause, duckdb.ConstraintException):
        code = NOT_NULL if "not null" in lower else CONSTRAINT
    elif "division by zero" in lower or "divide by zero" in lower:
        code = DIVISION_BY_ZERO
    elif isinstance(cause, duckdb.ConversionException):
        code = CONVERSION
    elif isinstance(cause, duckdb.OutOfRangeException):
        code = OUT_OF_RANGE
    elif "not supported" in lower or "cannot run" in lower:
        code = UNSUPPORTED
    else:
        code = SYNTAX
    prefix = "SQL compilation error:\n" if code[1].startswith("42") else ""
    return code[0], code[1], prefix + text


def _root(exc: BaseException) -> BaseException:
    """The first error of another library down the chain of causes (DuckDB's or sqlglot's)."""
    seen = exc
    while seen.__cause__ is not None:
        seen = seen.__cause__
        if not type(seen).__module__.startswith("aidemo"):
            return seen
    return exc
