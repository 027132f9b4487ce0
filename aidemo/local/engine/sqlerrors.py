"""Snowflake's error codes, SQLSTATEs and words for statements the local service refuses or fails.

The connector raises ``ProgrammingError`` with ``errno`` = the code and ``sqlstate``; apps
and tests branch on them (2003: object does not exist, 1003: syntax error, ...). An error of
DuckDB's is answered in Snowflake's words (``invalid identifier 'X'``, ``Division by zero``),
never in DuckDB's own: each kind of DuckDB error is one row of ``_DUCK_ERRORS``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import duckdb
from sqlglot.errors import ParseError, TokenError

from aidemo.local.errors import SnowflakeError

SYNTAX = ("001003", "42000")
UNKNOWN_OBJECT = ("002003", "42S02")
UNKNOWN_FUNCTION = ("002140", "42601")
EXISTS = ("002002", "42710")
INVALID_IDENTIFIER = ("000904", "42000")
AMBIGUOUS = ("002028", "42601")
NOT_GROUPED = ("002065", "42601")
ARGUMENT_TYPES = ("001044", "42P13")
UNSUPPORTED = ("000002", "0A000")
#: A construct the local service does not implement (Snowflake answers compile-time refusals 002xxx, 0A000).
UNSUPPORTED_FEATURE = ("002076", "0A000")
NOT_NULL = ("100072", "22000")
CONVERSION = ("100038", "22018")
BOOLEAN_CONVERSION = ("100037", "22018")
DATE_CONVERSION = ("100040", "22007")
TIMESTAMP_CONVERSION = ("100035", "22007")
DIVISION_BY_ZERO = ("100051", "22012")
OUT_OF_RANGE = ("100039", "22003")
CONSTRAINT = ("100116", "23000")
TOO_LONG = ("100074", "22001")
JSON_PARSE = ("100069", "22P02")
VARIANT_CAST = ("100071", "22000")


def unsupported(construct: str, instead: str = "run this statement on a Snowflake account") -> SnowflakeError:
    """The refusal of a construct the local service does not implement (0A000), naming it and what to do."""
    return SnowflakeError(
        UNSUPPORTED_FEATURE, f"Unsupported feature '{construct}': the local service does not implement it; {instead}."
    )


def snowflake_error(exc: Exception) -> tuple[str, str, str]:
    """(code, SQLSTATE, message) for an error of running a statement."""
    coded = _coded(exc)
    cause = _root(exc)
    if coded is not None:
        code, text = coded.code, str(exc)
    elif isinstance(cause, duckdb.Error):
        code, text = duck_error(cause)
    elif isinstance(cause, (ParseError, TokenError)):
        code, text = SYNTAX, str(exc)
    else:
        code, text = _service_code(str(exc)), str(exc)
    prefix = "SQL compilation error:\n" if code[1].startswith(("42", "0A")) else ""
    return code[0], code[1], prefix + text


def statement_error(statement: str, error: duckdb.Error) -> SnowflakeError:
    """A DuckDB error of running ``statement``, in Snowflake's code and words, naming the statement."""
    code, words = duck_error(error)
    return SnowflakeError(code, f"{statement}: {words}")


def duck_error(error: duckdb.Error) -> tuple[tuple[str, str], str]:
    """(code, message) of a DuckDB error, in Snowflake's terms; DuckDB's own text never comes through."""
    first = str(error).splitlines()[0] if str(error) else ""
    detail = first.partition(": ")[2] or first  # without DuckDB's "Binder Error: " heading
    for kinds, pattern, code, words in _DUCK_ERRORS:
        match = pattern.search(detail) if isinstance(error, kinds) else None
        if match:
            return code, words(match)
    return _fallback(error)


def _name(text: str) -> str:
    """A name as Snowflake prints it in an error: upper-case, parts joined by dots, no quotes."""
    return ".".join(part.strip('"') for part in text.split(".")).upper()


_Words = Callable[[re.Match], str]
_DUCK_ERRORS: list[tuple[type | tuple[type, ...], re.Pattern, tuple[str, str], _Words]] = [
    (
        duckdb.BinderException,
        re.compile(r'Referenced column "?([^"]+?)"? not found'),
        INVALID_IDENTIFIER,
        lambda m: f"invalid identifier '{_name(m[1])}'",
    ),
    (
        duckdb.BinderException,
        re.compile(r'Table "([^"]+)" does not have a column named "([^"]+)"'),
        INVALID_IDENTIFIER,
        lambda m: f"invalid identifier '{_name(m[1])}.{_name(m[2])}'",
    ),
    (
        duckdb.BinderException,
        re.compile(r'Ambiguous reference to column name "([^"]+)"'),
        AMBIGUOUS,
        lambda m: f"ambiguous column name '{_name(m[1])}'",
    ),
    (
        duckdb.BinderException,
        re.compile(r'column "?([^"]+?)"? must appear in the GROUP BY clause'),
        NOT_GROUPED,
        lambda m: f"'{_name(m[1])}' in select clause is neither an aggregate nor in the group by clause.",
    ),
    (
        duckdb.BinderException,
        re.compile(r"(?:No function matches|Could not choose a best candidate).*?['\"]([^'\"(]+)\("),
        ARGUMENT_TYPES,
        lambda m: f"Invalid argument types for function '{_name(m[1])}'",
    ),
    (
        duckdb.CatalogException,
        re.compile(r'(?:Scalar |Aggregate |Table )?Function with name "?([^"!\s]+)"? does not exist'),
        UNKNOWN_FUNCTION,
        lambda m: f"Unknown function {_name(m[1])}",
    ),
    (
        duckdb.CatalogException,
        re.compile(r'(?:Table|View|Schema|Catalog) with name "?([^"!]+?)"? does not exist'),
        UNKNOWN_OBJECT,
        lambda m: f"Object '{_name(m[1])}' does not exist or not authorized.",
    ),
    (
        duckdb.CatalogException,
        re.compile(r'with name "?([^"!]+?)"? already exists'),
        EXISTS,
        lambda m: f"Object '{_name(m[1])}' already exists.",
    ),
    (
        duckdb.ConstraintException,
        re.compile(r"NOT NULL constraint failed: (\S+)"),
        NOT_NULL,
        lambda m: f"NULL result in a non-nullable column '{_name(m[1].rpartition('.')[2])}'",
    ),
    (
        duckdb.ConstraintException,
        re.compile(r'CHECK constraint failed on table "?([^"]+?)"? .*CHECK\(\(length\("?([^")]+)"?\) <= (\d+)'),
        TOO_LONG,
        lambda m: f"String is too long and would be truncated: column {m[2]} of {m[1]} is VARCHAR({m[3]})",
    ),
    (
        duckdb.ConstraintException,
        re.compile(r"."),
        CONSTRAINT,
        lambda m: "A constraint of the table does not hold for a row.",
    ),
    (
        duckdb.Error,
        re.compile(r"Division by zero", re.IGNORECASE),
        DIVISION_BY_ZERO,
        lambda m: "Division by zero",
    ),
    (
        duckdb.ConversionException,
        re.compile(r"Could not convert string '(.*)' to (?:INT|UINT|DOUBLE|FLOAT|DECIMAL|HUGEINT)"),
        CONVERSION,
        lambda m: f"Numeric value '{m[1]}' is not recognized",
    ),
    (
        duckdb.ConversionException,
        re.compile(r'date field value out of range: "(.*)"|invalid date field format: "(.*)"'),
        DATE_CONVERSION,
        lambda m: f"Date '{m[1] or m[2]}' is not recognized",
    ),
    (
        duckdb.ConversionException,
        re.compile(r'timestamp field value out of range: "(.*)"|invalid timestamp field format: "(.*?)"'),
        TIMESTAMP_CONVERSION,
        lambda m: f"Timestamp '{m[1] or m[2]}' is not recognized",
    ),
    (
        duckdb.ConversionException,
        re.compile(r"Could not convert string '(.*)' to BOOL"),
        BOOLEAN_CONVERSION,
        lambda m: f"Boolean value '{m[1]}' is not recognized",
    ),
    (
        duckdb.ConversionException,
        re.compile(r"with value (\S+) can't be cast because the value is out of range|Could not cast value (\S+)"),
        OUT_OF_RANGE,
        lambda m: f"Numeric value '{m[1] or m[2]}' is out of range",
    ),
    (
        duckdb.OutOfRangeException,
        re.compile(r"."),
        OUT_OF_RANGE,
        lambda m: "Numeric value is out of range",
    ),
    (
        duckdb.Error,
        re.compile(r"Malformed JSON at byte (\d+) of input: ([^.]*)"),
        JSON_PARSE,
        lambda m: f"Error parsing JSON: {m[2]}, pos {int(m[1]) + 1}",
    ),
    (
        duckdb.ConversionException,
        re.compile(r"Expected (OBJECT|ARRAY), but got \w+: (.*)"),
        VARIANT_CAST,
        lambda m: f"Failed to cast variant value {m[2]} to {m[1]}",
    ),
    (
        duckdb.ConversionException,
        re.compile(r'Failed to cast value to (?:numerical|decimal): "(.*)"$'),
        CONVERSION,
        lambda m: f"Numeric value '{m[1]}' is not recognized",
    ),
    (
        duckdb.ConversionException,
        re.compile(r"Failed to cast value to (?:numerical|decimal): (.*)"),
        VARIANT_CAST,
        lambda m: f"Failed to cast variant value {m[1]} to FIXED",
    ),
    (
        duckdb.ParserException,
        re.compile(r'syntax error at or near "([^"]*)"'),
        SYNTAX,
        lambda m: f"syntax error unexpected '{m[1]}'.",
    ),
]


def _fallback(error: duckdb.Error) -> tuple[tuple[str, str], str]:
    """A DuckDB error no row of ``_DUCK_ERRORS`` names: its kind in Snowflake's words, without DuckDB's text."""
    if isinstance(error, duckdb.ConversionException):
        return CONVERSION, "A value cannot be converted to the type the statement needs."
    if isinstance(error, (duckdb.ParserException, duckdb.BinderException)):
        return SYNTAX, "The statement cannot be compiled: check its names, types and clauses."
    if isinstance(error, duckdb.CatalogException):
        return UNKNOWN_OBJECT, "An object the statement names does not exist or not authorized."
    if isinstance(error, duckdb.NotImplementedException):
        return UNSUPPORTED_FEATURE, "Unsupported feature: the local service does not implement this statement."
    return ("100097", "22000"), "The statement failed while it ran: check the values it computes."


def _service_code(text: str) -> tuple[str, str]:
    """The code of an error the service itself raised, from what it says."""
    lower = text.lower()
    if "does not exist" in lower:
        return UNKNOWN_OBJECT
    if "already exists" in lower:
        return EXISTS
    if "not supported" in lower or "cannot run" in lower:
        return UNSUPPORTED
    return SYNTAX


def _coded(exc: BaseException) -> SnowflakeError | None:
    """The first error down the chain of causes that carries a Snowflake code of its own."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, SnowflakeError):
            return seen
        seen = seen.__cause__
    return None


def _root(exc: BaseException) -> BaseException:
    """The first error of another library down the chain of causes (DuckDB's or sqlglot's)."""
    seen = exc
    while seen.__cause__ is not None:
        seen = seen.__cause__
        if not type(seen).__module__.startswith("aidemo"):
            return seen
    return exc
