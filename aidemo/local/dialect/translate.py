"""Snowflake SQL for the local service: split scripts, translate statements.

The local service keeps a Snowflake database as a DuckDB catalog, Snowflake schemas as
DuckDB schemas and tables as tables. :func:`translate` turns one Snowflake statement into
either :class:`DuckSql` (DuckDB SQL to run) or a service command (pipes, channels, session
context and state, transactions, SHOW listings), which the service executes against its own
metadata. This module is pure: it parses and rewrites, it never touches a database.

A statement is tokenized once (a script is split on those tokens) and parsed once, from those
tokens, by sqlglot's Snowflake dialect; a table from expression type to handler gives its
translation, whose ``kind`` is the statement type a reply names. The statements sqlglot does
not model (pipes, channels, ``SHOW``, ``DESCRIBE PIPE``, ``ALTER SESSION``, ``UNSET``,
``START TRANSACTION``, roles and grants) are read from the same tokens instead, by the handlers
of :data:`aidemo.local.dialect.tokensql.TOKEN_COMMANDS`, keyed by their leading words.

Names come back normalised as Snowflake does: unquoted identifiers upper-case, quoted
ones exactly as written.

Statement forms handled as commands (the classes of :mod:`aidemo.local.engine.sqlcommands`):

- ``USE [DATABASE] d``, ``USE [SCHEMA] [d.]s`` -> :class:`UseContext`; ``USE ROLE`` /
  ``USE WAREHOUSE`` -> :class:`UseRole` / :class:`UseWarehouse` (names the session reports);
  ``USE SECONDARY ROLES``, ``GRANT``, ``REVOKE``, ``CREATE|DROP ROLE`` -> :class:`NoOp` (the
  local service has one user holding every privilege, so grant scripts written for real
  accounts still run).
- ``CREATE DATABASE``/``CREATE SCHEMA`` -> :class:`CreateDatabase`/:class:`CreateSchema`
  (each sets the context of the statements after it, as in Snowflake); ``DROP DATABASE``/
  ``DROP SCHEMA [IF EXISTS]`` -> :class:`DropDatabase`/:class:`DropSchema`.
- ``BEGIN [TRANSACTION|WORK]``, ``START TRANSACTION``, ``COMMIT``, ``ROLLBACK`` ->
  :class:`Begin`, :class:`Commit`, :class:`Rollback`.
- ``ALTER SESSION SET p = v [, ...]`` / ``UNSET p [, ...]`` -> :class:`AlterSession`;
  ``SET x = e``, ``SET (a, b) = (e, f)`` / ``UNSET x``, ``UNSET (a, b)`` -> :class:`SetVariables` /
  :class:`UnsetVariables`.
- ``DESC[RIBE] TABLE t`` -> :class:`DescribeTable` (Snowflake's type names).
- ``CREATE [OR REPLACE] PIPE ...`` -> :class:`CreatePipe` (see :mod:`aidemo.local.dialect.pipesql`);
  ``DROP PIPE [IF EXISTS] p`` -> :class:`DropPipe`; ``DESC[RIBE] PIPE p`` -> :class:`DescribePipe`.
- ``SHOW {PIPES | CHANNELS | TABLES | VIEWS | SCHEMAS | DATABASES | COLUMNS} [LIKE '<pattern>']
  [IN <scope>]`` with Snowflake's scopes (``ACCOUNT``, ``DATABASE [d]``, ``SCHEMA [s]``,
  ``<schema>``, for channels ``TABLE t`` and ``PIPE p``, for columns ``TABLE t``) -> the ``Show*``
  commands; ``SHOW {PARAMETERS | VARIABLES | WAREHOUSES | USERS | ROLES} [LIKE ...]`` ->
  :class:`ShowSession`.

- ``CREATE [TEMPORARY] STAGE`` / ``FILE FORMAT``, ``DROP`` of them, ``LIST``, ``REMOVE``, ``PUT``,
  ``GET`` -> the commands of :mod:`aidemo.local.dialect.stagesql`.

Other queries and table DDL/DML become :class:`DuckSql` (see :mod:`aidemo.local.dialect.ducksql`);
no statement may name ``_AIDEMO``, the service's own schema. Everything else (warehouses,
users, ...) raises :class:`~aidemo.local.errors.SqlError`. ``INSERT ... VALUES`` with plain literal
rows only (bulk loads) is translated without tokenizing its rows (see :mod:`aidemo.local.dialect.insertsql`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from sqlglot import exp
from sqlglot.tokens import Token, TokenType

from aidemo.local.dialect import sandbox, stagesql
from aidemo.local.dialect.ducksql import RESERVED, not_supported, reserved, translate_with_sqlglot
from aidemo.local.dialect.insertsql import bulk_insert
from aidemo.local.dialect.sqltokens import Cursor, context, name_of, parse_tokens, quote_statement, tokenize
from aidemo.local.dialect.tokensql import NO_PRIVILEGES, TOKEN_COMMANDS
from aidemo.local.engine import sqlcommands as cmd
from aidemo.local.engine.sqlsession import Session
from aidemo.local.errors import SqlError
from aidemo.local.storage import copyinto


def split_statements(script: str) -> list[str]:
    """Split a script at the semicolons outside quotes and comments.

    Each statement is returned without its semicolon and without the comments before it;
    statements that hold nothing but comments or whitespace are dropped.
    """
    return [text for text, _ in statements(script)]


def translate(
    statement: str, *, database: str | None = None, schema: str | None = None, session: Session | None = None
) -> cmd.Translation:
    """Translate one Snowflake statement for a session (by default one in ``database.schema``).

    Unqualified names are resolved against the session's context, so the result does not depend
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
    session = session or Session(database, schema)
    return _translate(statement, tokens, session)


def translate_script(
    script: str,
    *,
    database: str | None = None,
    schema: str | None = None,
    session: Session | None = None,
    split: list[tuple[str, list[Token]]] | None = None,
) -> list[tuple[str, cmd.Translation]]:
    """Every statement of a script with its translation, each in the context that the
    script's earlier USE statements set. Raises SqlError at the first statement that
    does not translate, so a caller can run nothing unless everything translates.
    ``split`` is the script's :func:`statements` if the caller has them already.
    """
    session = session or Session(database, schema)
    fast = bulk_insert(script, session.database, session.schema)
    if fast is not None:
        return [fast]
    plan = []
    planning = dataclasses.replace(session)  # USE and CREATE DATABASE/SCHEMA move the context of what follows
    for text, tokens in statements(script) if split is None else split:
        command = _translate(script, tokens, planning)
        if hasattr(command, "context"):
            planning.database, planning.schema = command.context(planning.database, planning.schema)
        plan.append((text, command))
    return plan


def statements(script: str) -> list[tuple[str, list[Token]]]:
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


def _translate(sql: str, tokens: list[Token], session: Session) -> cmd.Translation:
    """The translation of one statement given as its tokens into ``sql`` (a statement or a whole script)."""
    text = sql[tokens[0].start : tokens[-1].end + 1]
    handler = TOKEN_COMMANDS.get(_lead(tokens)) or TOKEN_COMMANDS.get(_lead(tokens)[:1])
    if handler is not None:
        command = handler(Cursor(text, tokens, session.database, session.schema, sql))
    else:
        tree = parse_tokens(_if_not_exists_first(tokens), sql, text)
        command = copyinto.infer_schema(tree, session)  # a table function of stages, not of DuckDB
        if command is None:
            sandbox.admit(tree, text, session)
            command = _handler(tree)(tree, text, session)
    _check_names(command, text)
    return command


def _if_not_exists_first(tokens: list[Token]) -> list[Token]:
    """Snowflake reads ``IF NOT EXISTS`` after a table's name too (``CREATE TABLE t IF NOT EXISTS (...)``,
    as Snowpark writes it); sqlglot reads it before the name only, where these tokens move it."""
    table = next((i for i, t in enumerate(tokens[:6]) if t.token_type == TokenType.TABLE), None)
    if tokens[0].token_type != TokenType.CREATE or table is None:
        return tokens
    end = table + 2  # past the name's first part; then past each ".part"
    while end + 1 < len(tokens) and tokens[end].token_type == TokenType.DOT:
        end += 2
    if [t.text.upper() for t in tokens[end : end + 3]] != ["IF", "NOT", "EXISTS"]:
        return tokens
    return tokens[: table + 1] + tokens[end : end + 3] + tokens[table + 1 : end] + tokens[end + 3 :]


def _lead(tokens: list[Token]) -> tuple[str, ...]:
    """The first two words of a statement, past ``OR REPLACE`` after CREATE."""
    words = [t.text.upper() for t in tokens[:4] if t.token_type not in (TokenType.IDENTIFIER, TokenType.STRING)]
    if words[1:3] == ["OR", "REPLACE"]:
        del words[1:3]
    return tuple(words[:2])


def _check_names(command: cmd.Translation, text: str) -> None:
    """Refuse a statement that names the service's own bookkeeping as a database or schema."""
    named = ("name",) if isinstance(command, (cmd.DropDatabase, cmd.DropSchema, cmd.CreateDatabase)) else ()
    for attribute in ("database", "schema", "table_database", "table_schema", *named):
        value = getattr(command, attribute, None)
        if isinstance(value, str) and value.upper() == RESERVED:
            reserved(text)
    if isinstance(command, cmd.CreateSchema) and command.name.upper() == RESERVED:
        reserved(text)


# --- statements sqlglot parses: one handler per expression type -------------------------


def _handler(tree: exp.Expression) -> Callable[[exp.Expression, str, Session], cmd.Translation]:
    for kind in type(tree).__mro__:
        if kind in _BY_EXPRESSION:
            return _BY_EXPRESSION[kind]
    return _unsupported


def _unsupported(tree: exp.Expression, text: str, session: Session) -> cmd.Translation:
    not_supported(text)


def _duck(tree: exp.Expression, text: str, session: Session) -> cmd.DuckSql:
    return dataclasses.replace(translate_with_sqlglot(tree, text, session), kind=_kind(tree))


def _kind(tree: exp.Expression) -> int:
    for kind in type(tree).__mro__:
        if kind in _KINDS:
            return _KINDS[kind]
    return cmd.DDL


_KINDS = {
    exp.Query: cmd.SELECT, exp.Describe: cmd.DESCRIBE, exp.Insert: cmd.INSERT, exp.Update: cmd.UPDATE,
    exp.Delete: cmd.DELETE, exp.Merge: cmd.MERGE, exp.Create: cmd.CREATE, exp.Alter: cmd.ALTER, exp.Drop: cmd.DROP,
}  # fmt: skip


def _create(tree: exp.Create, text: str, session: Session) -> cmd.Translation:
    kind = str(tree.kind or "").upper()
    if kind in ("STAGE", "FILE FORMAT"):
        return stagesql.create(tree, text, session)
    temporary = tree.find(exp.TemporaryProperty) if kind == "TABLE" else None
    if temporary is not None:
        # A table of the schema, dropped when the session ends (DuckDB keeps its own temporary
        # tables in a catalog of their own, outside the session's database).
        temporary.pop()
        duck = _duck(tree, text, session)
        table = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        return dataclasses.replace(duck, temporary=(table.catalog, table.db, table.name))
    if kind not in ("DATABASE", "SCHEMA"):
        return _duck(tree, text, session)
    target = tree.this
    exists, replace = bool(tree.args.get("exists")), bool(tree.args.get("replace"))
    if kind == "DATABASE":
        return cmd.CreateDatabase(name_of(target.this), exists, replace)
    db = target.args.get("catalog")
    database = name_of(db) if db else context(session.database, "database", text)
    return cmd.CreateSchema(database, name_of(target.args["db"]), exists, replace)


def _drop(tree: exp.Drop, text: str, session: Session) -> cmd.Translation:
    kind = str(tree.args.get("kind") or "").upper()
    if kind in ("STAGE", "FILE FORMAT"):
        return stagesql.drop(tree, text, session)
    if kind not in ("DATABASE", "SCHEMA"):
        return _duck(tree, text, session)
    (target,) = tree.args["tables"]
    exists = bool(tree.args.get("exists"))
    if kind == "DATABASE":
        return cmd.DropDatabase(name_of(target.this), exists)
    db = target.args.get("catalog")
    database = name_of(db) if db else context(session.database, "database", text)
    return cmd.DropSchema(database, name_of(target.args["db"]), exists)


def _use(tree: exp.Use, text: str, session: Session) -> cmd.Translation:
    kind = tree.args.get("kind")
    kind = (kind.name if isinstance(kind, exp.Expression) else str(kind)).upper() if kind else None
    target = tree.this
    if kind == "SECONDARY ROLES":
        return cmd.NoOp(f"USE SECONDARY ROLES is not needed: {NO_PRIVILEGES}", kind=cmd.USE)
    if not isinstance(target, exp.Table):
        raise SqlError(f"{quote_statement(text)}: expected a name after USE.")
    parts = [name_of(p) for p in (target.args.get("catalog"), target.args.get("db"), target.this) if p is not None]
    if kind in ("ROLE", "WAREHOUSE"):
        if len(parts) > 1:
            raise SqlError(f"{quote_statement(text)}: USE {kind} takes a name, not a qualified name.")
        return (cmd.UseRole if kind == "ROLE" else cmd.UseWarehouse)(parts[0])
    if kind == "DATABASE" and len(parts) > 1:
        raise SqlError(f"{quote_statement(text)}: USE DATABASE takes a database name, not a qualified name.")
    if kind not in (None, "DATABASE", "SCHEMA") or len(parts) > 2:
        raise SqlError(f"{quote_statement(text)}: USE SCHEMA takes a schema name or database.schema.")
    if kind == "DATABASE" or (kind is None and len(parts) == 1):
        return cmd.UseContext(parts[0], "PUBLIC")
    if len(parts) == 1:
        return cmd.UseContext(context(session.database, "database", text), parts[0])
    return cmd.UseContext(parts[0], parts[1])


def _set(tree: exp.Set, text: str, session: Session) -> cmd.Translation:
    names, values = [], []
    for item in tree.expressions:
        assignment = item.this
        if not isinstance(assignment, exp.EQ) or item.args.get("kind") not in (None, "VARIABLE"):
            raise SqlError(f"{quote_statement(text)}: SET takes name = expression or (a, b) = (x, y).")
        left, right = assignment.this, assignment.expression
        targets = left.expressions if isinstance(left, exp.Tuple) else [left]
        sources = right.expressions if isinstance(right, exp.Tuple) and isinstance(left, exp.Tuple) else [right]
        if len(targets) != len(sources):
            raise SqlError(
                f"{quote_statement(text)}: SET names {len(targets)} variables but gives {len(sources)} values."
            )
        for target in targets:
            if not isinstance(target, exp.Column) or target.table:
                raise SqlError(f"{quote_statement(text)}: {target.sql('snowflake')!r} is not a variable name.")
            names.append(name_of(target.this))
        values.extend(sources)
    return cmd.SetVariables(tuple(names), tuple(values))


_BY_EXPRESSION = {
    exp.Query: _duck, exp.Insert: _duck, exp.Update: _duck, exp.Delete: _duck, exp.Merge: _duck,
    exp.TruncateTable: _duck, exp.Describe: _duck, exp.Alter: _duck,
    exp.Create: _create, exp.Drop: _drop, exp.Use: _use, exp.Set: _set,
    exp.Put: stagesql.put, exp.ListStage: stagesql.list_files, exp.Copy: copyinto.translate,
    exp.Transaction: lambda tree, text, session: cmd.Begin(),
    exp.Commit: lambda tree, text, session: cmd.Commit(),
    exp.Rollback: lambda tree, text, session: cmd.Rollback(),
}  # fmt: skip
