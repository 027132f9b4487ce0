"""INSERT ... VALUES in the local service: bulk loads of literal rows, translated without sqlglot's parser.

Bulk loads send thousands of rows as ``INSERT INTO t [(c, ...)] VALUES (<literal>, ...), ...``;
parsing and regenerating them with sqlglot costs about 0.5 s per 1,000 rows. Such rows mean the
same to DuckDB as to Snowflake, so they are mapped token by token (:func:`insert_values`), or
when they hold nothing but plain literals, passed through with only the statement's head
tokenized (:func:`bulk_insert`). Any other INSERT is left to sqlglot.
"""

from __future__ import annotations

import re

from sqlglot.tokens import Token, TokenType

from aidemo.local.ducksql import RESERVED, reserved
from aidemo.local.errors import SqlError
from aidemo.local.sqlcommands import DuckSql
from aidemo.local.sqltokens import Cursor, ident, tokenize


def insert_values(c: Cursor) -> DuckSql | None:
    """``INSERT INTO t [(c, ...)] VALUES (<literal>, ...), ...`` mapped token by token, the cursor
    at INSERT; any other INSERT returns None (sqlglot's turn)."""
    head = _insert_head(c)
    values = _values(c.tokens[c.i :]) if head else None
    if values is None:
        c.rewind()
        return None
    return _insert_sql(head, values)


def _insert_head(c: Cursor) -> tuple[str, str, str, list[str]] | None:
    """Database, schema, table and columns of ``INSERT INTO t [(c, ...)] VALUES``, the cursor
    after VALUES; None if the statement does not start so."""
    c.advance(1)
    try:
        c.expect("INTO")
        database, schema, name = c.object_name()
        if RESERVED in (database.upper(), schema.upper()):
            reserved(c.text)
        columns = []
        if c.token_type() == TokenType.L_PAREN:
            c.advance(1)
            columns.append(c.name_parts(max_parts=1)[0])
            while c.token_type() == TokenType.COMMA:
                c.advance(1)
                columns.append(c.name_parts(max_parts=1)[0])
            c.expect_type(TokenType.R_PAREN, "')'")
            c.advance(1)
        c.expect("VALUES")
    except SqlError:
        return None
    return database, schema, name, columns


def _insert_sql(head: tuple[str, str, str, list[str]], values: str) -> DuckSql:
    database, schema, name, columns = head
    target = ".".join(ident(part) for part in (database, schema, name))
    column_list = f" ({', '.join(ident(column) for column in columns)})" if columns else ""
    return DuckSql(
        f"INSERT INTO {target}{column_list} VALUES {values}",
        returns_rows=False,
        database=database,
    )


# One literal of a bulk INSERT's rows: a string without backslash escapes ('' is a quote in
# Snowflake and DuckDB alike), a number, NULL, TRUE or FALSE. Such rows mean the same to DuckDB
# as written, so they pass through without being tokenized.
_LITERAL = r"(?:'(?:[^'\\]|'')*'|-?\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|(?i:NULL|TRUE|FALSE))"
_ROW = rf"\(\s*{_LITERAL}(?:\s*,\s*{_LITERAL})*\s*\)"
_ROWS = re.compile(rf"\s*({_ROW}(?:\s*,\s*{_ROW})*)\s*;?\s*")
_VALUES = re.compile(r"\bVALUES\b", re.IGNORECASE)


def bulk_insert(script: str, database: str | None, schema: str | None) -> tuple[str, DuckSql] | None:
    """``INSERT INTO t [(c, ...)] VALUES`` followed only by rows of plain literals, translated with
    only its head tokenized (sqlglot's tokenizer takes most of the time of a big INSERT), or None."""
    if not script.lstrip()[:6].upper() == "INSERT":
        return None
    found = _VALUES.search(script)
    rows = found and _ROWS.fullmatch(script, found.end())
    if not rows:
        return None
    head_text = script[: found.end()].strip()
    tokens = tokenize(head_text, head_text)
    head = _insert_head(Cursor(head_text, tokens, database, schema))
    if head is None:
        return None
    text = script[script.index(head_text[0]) : rows.end(1)]
    return text, _insert_sql(head, rows.group(1))


def _values(tokens: list[Token]) -> str | None:
    """DuckDB text of a VALUES list of literal rows, or None if it holds anything else."""
    rows, i, n = [], 0, len(tokens)
    while i < n and tokens[i].token_type == TokenType.L_PAREN:
        row = []
        i += 1
        while True:
            sign = "-" if i < n and tokens[i].token_type == TokenType.DASH else ""
            i += bool(sign)
            value = _literal(tokens[i], sign) if i < n else None
            if value is None:
                return None
            row.append(value)
            i += 1
            if i < n and tokens[i].token_type == TokenType.COMMA:
                i += 1
                continue
            break
        if i >= n or tokens[i].token_type != TokenType.R_PAREN:
            return None
        rows.append(f"({', '.join(row)})")
        i += 1
        if i == n:
            return ", ".join(rows)
        if tokens[i].token_type != TokenType.COMMA:
            return None
        i += 1
    return None


def _literal(token: Token, sign: str) -> str | None:
    """A literal token in DuckDB spelling (the tokenizer has already undone Snowflake's escapes)."""
    kind = token.token_type
    if kind == TokenType.NUMBER:
        return sign + token.text
    if sign:
        return None
    if kind in (TokenType.STRING, TokenType.RAW_STRING):
        return "'" + token.text.replace("'", "''") + "'"
    if kind in (TokenType.NULL, TokenType.TRUE, TokenType.FALSE):
        return token.text.upper()
    return None
