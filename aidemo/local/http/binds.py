"""Bind variables of the connector protocol, substituted as typed Snowflake literals.

The connector sends qmark (``?``) and numeric (``:1``) parameters as
``bindings = {"1": {"type": "FIXED", "value": "42"}, ...}`` with every value as text (dates
in epoch milliseconds, times and timestamps in nanoseconds, binary as hex). Substituting a
literal of the bound type before translation lets every statement the service runs take
binds, service commands included. A value that is a list (array binding, as
``executemany`` sends) makes one statement per row.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math

from sqlglot.dialects.snowflake import Snowflake
from sqlglot.errors import TokenError
from sqlglot.tokens import TokenType

from aidemo.local.errors import BindError


def substitute(sql: str, bindings: dict | None, missing_as_null: bool = False, tokens: list | None = None) -> list[str]:
    """The statement with its bind variables replaced, once per bound row.

    Array-bound ``INSERT ... VALUES (?, ...)`` becomes one multi-row INSERT rather than a
    statement per row. ``missing_as_null`` binds NULL to unbound variables (a describe-only
    request has none). ``tokens`` are the statement's if the caller has them already.
    """
    if "?" not in sql and ":" not in sql:
        return [sql]  # no bind variable: spares tokenizing a bulk INSERT once more
    tokens = _tokens(sql) if tokens is None else tokens
    places = _placeholders(tokens)
    if not places:
        return [sql]
    bindings = bindings or {}
    if not isinstance(bindings, dict) or not all(isinstance(b, dict) for b in bindings.values()):
        raise BindError('bindings must map "1", "2", ... to {"type": ..., "value": ...}')
    sizes = {len(b["value"]) for b in bindings.values() if isinstance(b.get("value"), list)}
    if len(sizes) > 1:
        raise BindError("array bindings must all hold the same number of values")
    count = sizes.pop() if sizes else None
    if count == 0:
        raise BindError("array bindings hold no values")
    values = _values_tuple(tokens, places) if count else None
    if values:
        start, end = values
        rows = ", ".join(_fill(sql, start, end, places, bindings, row, missing_as_null) for row in range(count))
        return [sql[:start] + rows + sql[end:]]
    return [_fill(sql, 0, len(sql), places, bindings, row, missing_as_null) for row in range(count or 1)]


def _fill(
    sql: str,
    start: int,
    end: int,
    places,
    bindings: dict,
    row: int,
    missing_as_null: bool,
) -> str:
    """``sql[start:end]`` with the bind variables in it replaced by the literals of one row."""
    parts, last = [], start
    for position, (begin, finish, number) in enumerate(places, 1):
        key = str(number or position)
        if key not in bindings and not missing_as_null:
            raise BindError(f"Bind variable {'?' if number is None else ':' + key} not set.")
        binding = bindings.get(key, {})
        value = binding.get("value")
        value = value[row] if isinstance(value, list) else value
        parts += [sql[last:begin], literal(str(binding.get("type") or "TEXT"), value)]
        last = finish
    return "".join(parts) + sql[last:end]


def _tokens(sql: str) -> list:
    try:
        return Snowflake().tokenize(sql)
    except TokenError:
        return []  # not readable: translation reports it


def _placeholders(tokens: list) -> list[tuple[int, int, int | None]]:
    """(start, end, number or None for ``?``) of each bind variable, in order."""
    found = []
    for i, token in enumerate(tokens):
        if token.token_type == TokenType.PLACEHOLDER and token.text == "?":
            found.append((token.start, token.end + 1, None))
        elif (
            token.token_type == TokenType.COLON
            and i + 1 < len(tokens)
            and tokens[i + 1].token_type == TokenType.NUMBER
            and tokens[i + 1].start == token.end + 1
            and tokens[i + 1].text.isdigit()
        ):
            found.append((token.start, tokens[i + 1].end + 1, int(tokens[i + 1].text)))
    return found


def _values_tuple(tokens: list, places: list) -> tuple[int, int] | None:
    """(start, end) of the one ``(...)`` after VALUES that ends an INSERT and holds every bind variable."""
    if not tokens or tokens[0].token_type != TokenType.INSERT:
        return None
    while tokens and tokens[-1].token_type == TokenType.SEMICOLON:
        tokens = tokens[:-1]
    kinds = [t.token_type for t in tokens]
    if TokenType.VALUES not in kinds:
        return None
    opening = kinds.index(TokenType.VALUES) + 1
    if opening >= len(tokens) or kinds[opening] != TokenType.L_PAREN:
        return None
    depth = 0
    for i in range(opening, len(tokens)):
        depth += {TokenType.L_PAREN: 1, TokenType.R_PAREN: -1}.get(kinds[i], 0)
        if depth == 0:
            break
    if i != len(tokens) - 1:
        return None  # more rows or clauses follow the tuple
    start, end = tokens[opening].start, tokens[-1].end + 1
    return (start, end) if all(start < p[0] and p[1] <= end for p in places) else None


_EPOCH = dt.datetime(1970, 1, 1)


def literal(kind: str, value) -> str:
    """A Snowflake literal for one bound value given as the connector sends it."""
    if value is None:
        return "NULL"
    if not isinstance(value, (str, int, float)):
        raise BindError(f"bound value {value!r} must be text")
    text, kind = str(value), kind.upper()
    try:
        if kind == "FIXED":
            number = decimal.Decimal(text)
            if not number.is_finite():
                raise ValueError(text)
            return f"({text})" if number < 0 else text
        if kind == "REAL":
            number = float(text)
            if not math.isfinite(number):
                return f"CAST('{number!r}' AS DOUBLE)"
            digits = repr(number) if "e" in repr(number) else f"{number!r}e0"  # an exponent makes it FLOAT
            return f"({digits})" if number < 0 else digits
        if kind == "BOOLEAN":
            return {"true": "TRUE", "1": "TRUE", "false": "FALSE", "0": "FALSE"}[text.lower()]
        if kind == "DATE":
            return f"CAST('{(_EPOCH + dt.timedelta(milliseconds=int(text))).date()}' AS DATE)"
        if kind == "TIME":
            return f"CAST('{(_EPOCH + _nanos(text)).time()}' AS TIME)"
        if kind in ("TIMESTAMP_NTZ", "TIMESTAMP"):
            return f"CAST('{_EPOCH + _nanos(text)}' AS TIMESTAMP_NTZ)"
        if kind in ("TIMESTAMP_LTZ", "TIMESTAMP_TZ"):
            nanos, _, offset = text.partition(" ")
            zone = dt.timezone(dt.timedelta(minutes=int(offset) - 1440)) if offset else dt.UTC
            at = (_EPOCH + _nanos(nanos)).replace(tzinfo=dt.UTC).astimezone(zone)
            return f"CAST('{at.isoformat(' ')}' AS {kind})"
        if kind == "BINARY":
            return f"X'{bytes.fromhex(text).hex().upper()}'"
    except (ValueError, KeyError, ArithmeticError, OverflowError):
        raise BindError(f"bound value {text!r} is not a valid {kind}") from None
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def _nanos(text: str) -> dt.timedelta:
    nanos = int(text)
    return dt.timedelta(microseconds=nanos // 1000)
