"""Snowflake SQL for the local service: split scripts, translate statements.

The local service keeps a Snowflake database as a DuckDB catalog, Snowflake schemas as
DuckDB schemas and tables as tables. :func:`translate` turns one Snowflake statement into
either :class:`DuckSql` (DuckDB SQL to run) or a service command (pipes, channels, session
context, SHOW listings), which the service executes against its own metadata. This
module is pure: it parses and rewrites, it never touches a database.

Names come back normalised as Snowflake does: unquoted identifiers upper-case, quoted
ones exactly as written.

Statement forms handled as commands (the classes of :mod:`aidemo.local.sqlcommands`):

- ``USE [DATABASE] d``, ``USE [SCHEMA] [d.]s`` -> :class:`UseContext`;
  ``USE ROLE``/``USE WAREHOUSE``/``USE SECONDARY ROLES``, ``GRANT``, ``REVOKE``,
  ``CREATE|DROP ROLE`` -> :class:`NoOp` (the local service has one user holding every
  privilege, so grant scripts written for real accounts still run).
- ``CREATE DATABASE``/``CREATE SCHEMA`` -> :class:`CreateDatabase`/:class:`CreateSchema`
  (each sets the context of the statements after it, as in Snowflake); ``DROP DATABASE``/
  ``DROP SCHEMA [IF EXISTS]`` -> :class:`DropDatabase`/:class:`DropSchema`.
- ``DESC[RIBE] TABLE t`` -> :class:`DescribeTable` (Snowflake's type names).
- ``CREATE [OR REPLACE] PIPE [IF NOT EXISTS] p [props] AS COPY INTO t ...`` in three forms:
  ``COPY INTO t``; ``COPY INTO t [(c, ...)] FROM (SELECT $1:KEY[::TYPE], ... FROM
  TABLE(DATA_SOURCE(TYPE => 'STREAMING')))``; ``COPY INTO t FROM
  TABLE(DATA_SOURCE(TYPE => 'STREAMING')) [MATCH_BY_COLUMN_NAME = ...]``
  -> :class:`CreatePipe` (see :mod:`aidemo.local.pipesql`).
- ``DROP PIPE [IF EXISTS] p`` -> :class:`DropPipe`; ``DESC[RIBE] PIPE p`` -> :class:`DescribePipe`.
- ``SHOW {PIPES | CHANNELS | TABLES | SCHEMAS | DATABASES | COLUMNS} [LIKE '<pattern>'] [IN <scope>]``
  with Snowflake's scopes (``ACCOUNT``, ``DATABASE [d]``, ``SCHEMA [s]``, ``<schema>``, for
  channels ``TABLE t`` and ``PIPE p``, for columns ``TABLE t``) -> the ``Show*`` commands.

Other queries and table DDL/DML become :class:`DuckSql` (see :mod:`aidemo.local.ducksql`);
no statement may name ``_AIDEMO``, the service's own schema. Everything else (stages, PUT,
warehouses, users, ...) raises :class:`~aidemo.local.errors.SqlError`. ``INSERT ... VALUES``
with literal rows only (bulk loads) is translated without sqlglot's parser (see
:mod:`aidemo.local.insertsql`).
"""

from __future__ import annotations

from sqlglot.tokens import Token, TokenType

from aidemo.local.ducksql import RESERVED, reserved, translate_with_sqlglot
from aidemo.local.errors import SqlError
from aidemo.local.insertsql import bulk_insert, insert_values
from aidemo.local.pipesql import create_pipe
from aidemo.local.sqlcommands import (
    CreateDatabase,
    CreateSchema,
    DescribePipe,
    DescribeTable,
    DropDatabase,
    DropPipe,
    DropSchema,
    NoOp,
    ShowChannels,
    ShowColumns,
    ShowDatabases,
    ShowPipes,
    ShowSchemas,
    ShowTables,
    Translation,
    UseContext,
)
from aidemo.local.sqltokens import Cursor, quote_statement, tokenize

_NO_PRIVILEGES = "the local service has a single user that holds every privilege"


def split_statements(script: str) -> list[str]:
    """Split a script at the semicolons outside quotes and comments.

    Each statement is returned without its semicolon and without the comments before it;
    statements that hold nothing but comments or whitespace are dropped.
    """
    return [text for text, _ in _statements(script)]


def translate(statement: str, *, database: str | None, schema: str | None) -> Translation:
    """Translate one Snowflake statement for a session whose context is ``database.schema``.

    Unqualified names are resolved against that context, so the result does not depend
    on the DuckDB connection's search path. Raises SqlError for statements that cannot be
    parsed or that the local service does not support; the message quotes the statement.
    """
    tokens = tokenize(statement, statement)
    while tokens and tokens[-1].token_type == TokenType.SEMICOLON:
        tokens.pop()
    if not tokens:
        raise SqlError("Empty SQL statement: there is nothing to run.")
    if any(t.token_type == TokenType.SEMICOLON for t in tokens):
        raise SqlError(
            f"{quote_statement(statement)} holds more than one statement; split the script "
            "with split_statements() and translate each statement."
        )
    return _translate(statement[tokens[0].start : tokens[-1].end + 1], tokens, database, schema)


def translate_script(script: str, *, database: str | None, schema: str | None) -> list[tuple[str, Translation]]:
    """Every statement of a script with its translation, each in the context that the
    script's earlier USE statements set. Raises SqlError at the first statement that
    does not translate, so a caller can run nothing unless everything translates.
    """
    fast = bulk_insert(script, database, schema)
    if fast is not None:
        return [fast]
    plan = []
    for text, tokens in _statements(script):
        command = _translate(text, tokens, database, schema)
        # USE, and CREATE DATABASE or SCHEMA as in Snowflake, set the context of what follows
        if isinstance(command, UseContext):
            database, schema = command.database or database, command.schema or schema
        elif isinstance(command, CreateDatabase):
            database, schema = command.name, "PUBLIC"
        elif isinstance(command, CreateSchema):
            database, schema = command.database, command.name
        plan.append((text, command))
    return plan


def _statements(script: str) -> list[tuple[str, list[Token]]]:
    """The statements of a script, each with its tokens (positions are offsets into the script)."""
    statements, current = [], []
    for token in [*tokenize(script, script), None]:
        if token is not None and token.token_type != TokenType.SEMICOLON:
            current.append(token)
            continue
        if current:
            statements.append((script[current[0].start : current[-1].end + 1], current))
        current = []
    return statements


def _translate(text: str, tokens: list[Token], database: str | None, schema: str | None) -> Translation:
    command = _command(Cursor(text, tokens, database, schema))
    if command is None:
        return translate_with_sqlglot(text, database, schema)
    _check_names(command, text)
    return command


def _check_names(command: Translation, text: str) -> None:
    """Refuse a statement that names the service's own bookkeeping as a database or schema."""
    named = ("name",) if isinstance(command, (DropDatabase, DropSchema)) else ()
    for attribute in ("database", "schema", "table_database", "table_schema", *named):
        value = getattr(command, attribute, None)
        if isinstance(value, str) and value.upper() == RESERVED:
            reserved(text)


# --- service commands, parsed from the token stream -------------------------------------


def _command(c: Cursor) -> Translation | None:
    """The command for statements sqlglot does not model, or None to let sqlglot parse it."""
    first = c.word()
    if first in ("GRANT", "REVOKE"):
        return NoOp(f"{first} is not needed: {_NO_PRIVILEGES}")
    if first == "USE":
        return _use(c)
    if first == "INSERT":
        return insert_values(c)
    if first == "SHOW":
        return _show(c)
    if first in ("DESC", "DESCRIBE") and c.word(1) == "PIPE":
        c.advance(2)
        name = c.object_name()
        c.end()
        return DescribePipe(*name)
    if first == "DROP" and c.word(1) == "PIPE":
        c.advance(2)
        if_exists = c.accept("IF", "EXISTS")
        name = c.object_name()
        c.end()
        return DropPipe(*name, if_exists=if_exists)
    if first in ("DESC", "DESCRIBE") and c.word(1) in ("TABLE", "VIEW"):
        c.advance(2)
        name = c.object_name()
        c.end()
        return DescribeTable(*name)
    if first == "DROP" and c.word(1) in ("DATABASE", "SCHEMA"):
        kind = c.word(1)
        c.advance(2)
        if_exists = c.accept("IF", "EXISTS")
        if kind == "DATABASE":
            (name,) = c.name_parts(max_parts=1)
        else:
            database, name = c.schema_name()
        c.accept("CASCADE") or c.accept("RESTRICT")
        c.end()
        return DropDatabase(name, if_exists) if kind == "DATABASE" else DropSchema(database, name, if_exists)
    if first == "DROP" and c.word(1) == "ROLE":
        return NoOp(f"roles are not needed: {_NO_PRIVILEGES}")
    if first == "CREATE":
        c.advance(1)
        or_replace = c.accept("OR", "REPLACE")
        if c.word() == "ROLE":
            return NoOp(f"roles are not needed: {_NO_PRIVILEGES}")
        if c.word() == "PIPE":
            c.advance(1)
            return create_pipe(c, or_replace)
        c.rewind()
    return None


def _use(c: Cursor) -> Translation:
    c.advance(1)
    kind = c.word() if c.word() in ("DATABASE", "SCHEMA", "ROLE", "WAREHOUSE", "SECONDARY") else None
    if kind in ("ROLE", "WAREHOUSE", "SECONDARY"):
        return NoOp(f"USE {kind} is not needed: the local service has one role and no warehouses")
    if kind:
        c.advance(1)
    parts = c.name_parts()
    c.end()
    if kind == "DATABASE" and len(parts) > 1:
        c.fail("USE DATABASE takes a database name, not a qualified name")
    if kind == "DATABASE" or (kind is None and len(parts) == 1):
        return UseContext(parts[0], "PUBLIC")
    if len(parts) > 2:
        c.fail("USE SCHEMA takes a schema name or database.schema")
    if len(parts) == 1:
        return UseContext(c.current_database(), parts[0])
    return UseContext(parts[0], parts[1])


def _show(c: Cursor) -> Translation:
    c.advance(1)
    kind = c.word()
    if kind not in ("PIPES", "CHANNELS", "TABLES", "SCHEMAS", "DATABASES", "COLUMNS"):
        c.fail("the local service supports SHOW PIPES, CHANNELS, TABLES, SCHEMAS, DATABASES and COLUMNS")
    c.advance(1)
    like = c.string() if c.accept("LIKE") else None
    if kind == "DATABASES":
        c.end()
        return ShowDatabases(like)
    # Without IN, Snowflake lists the objects of the current database, if there is one.
    database, schema, pipe, table = c.database, None, None, None
    if c.accept("IN"):
        if c.accept("ACCOUNT"):
            database = None
        elif c.accept("DATABASE"):
            if not c.at_end():
                (database,) = c.name_parts(max_parts=1)
        elif kind == "SCHEMAS":
            c.fail("SHOW SCHEMAS takes IN ACCOUNT or IN DATABASE [<name>]")
        elif kind == "COLUMNS" and c.word() in ("TABLE", "VIEW"):
            c.advance(1)
            database, schema, table = c.object_name()
        elif kind == "CHANNELS" and c.word() in ("PIPE", "TABLE"):
            which = c.word()
            c.advance(1)
            database, schema, name = c.object_name()
            pipe, table = (name, None) if which == "PIPE" else (None, name)
        else:
            c.accept("SCHEMA")
            if c.at_end():
                schema = c.schema
            else:
                database, schema = c.schema_name()
    c.end()
    if kind == "SCHEMAS":
        return ShowSchemas(database, like)
    if kind == "CHANNELS":
        return ShowChannels(database, schema, pipe, table, like)
    if kind == "COLUMNS":
        return ShowColumns(database, schema, table, like)
    return (ShowPipes if kind == "PIPES" else ShowTables)(database, schema, like)
