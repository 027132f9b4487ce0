"""INSERT ... VALUES in the local service: bulk loads of literal rows, translated without sqlglot's parser.

Bulk loads send thousands of rows as ``INSERT INTO t [(c, ...)] VALUES (<literal>, ...), ...``;
parsing and regenerating them with sqlglot costs about 0.5 s per 1,000 rows. Such rows mean the
same to DuckDB as to Snowflake, so when they hold nothing but plain literals, they pass through
with only the statement's head tokenized (:func:`bulk_insert`); tokenizing, parsing and generating
20,000 such rows with sqlglot takes about 2.7 s, more than the whole load takes without it. Any
other INSERT is parsed by sqlglot.
"""

from __future__ import annotations

import re

from sqlglot.tokens import TokenType

from aidemo.local.dialect.ducksql import RESERVED, reserved
from aidemo.local.dialect.sqltokens import Cursor, ident, tokenize
from aidemo.local.engine.sqlcommands import INSERT, DuckSql
from aidemo.local.errors import SqlError


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
        kind=INSERT,
        schemas=frozenset({(database, schema)}),
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
