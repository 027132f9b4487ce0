"""Statements sqlglot's Snowflake dialect does not model, read from their tokens.

Pipes and channels, ``SHOW``, ``DESCRIBE TABLE | VIEW | PIPE``, ``ALTER SESSION``, ``UNSET``,
``START TRANSACTION``, roles and grants: sqlglot parses these as an opaque command, misreads them
(``START TRANSACTION`` as a column alias) or refuses them. Each has a handler in
:data:`TOKEN_COMMANDS`, keyed by its leading words, that reads the statement with a
:class:`~aidemo.local.dialect.sqltokens.Cursor` over the tokens the statement was split with.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot.tokens import TokenType

from aidemo.local.dialect.pipesql import create_pipe
from aidemo.local.dialect.sqltokens import Cursor
from aidemo.local.dialect.stagesql import get_command, remove_command
from aidemo.local.engine import sqlcommands as cmd
from aidemo.local.storage import tablekeys

NO_PRIVILEGES = "the local service has a single user that holds every privilege"


def _no_privileges(c: Cursor) -> cmd.Translation:
    what = c.word()
    return cmd.NoOp(f"{what} is not needed: {NO_PRIVILEGES}" if what in ("GRANT", "REVOKE") else
                    f"roles are not needed: {NO_PRIVILEGES}")  # fmt: skip


def _engine_setting(c: Cursor) -> cmd.Translation:
    c.fail(
        f"SET {c.word(1)} is not supported by the local service: SET assigns session variables "
        "(SET name = expression), and the engine's settings are not for SQL to change"
    )


def _start_transaction(c: Cursor) -> cmd.Translation:
    c.advance(2)
    c.end()
    return cmd.Begin()


def _describe(c: Cursor) -> cmd.Translation:
    which = c.word(1)
    c.advance(2)
    name = c.object_name()
    if which != "PIPE" and c.accept("TYPE"):  # DESC TABLE t TYPE = COLUMNS: the default listing
        c.expect_type(TokenType.EQ, "'=' after TYPE")
        c.advance(1)
        c.expect("COLUMNS")
    c.end()
    return cmd.DescribePipe(*name) if which == "PIPE" else cmd.DescribeTable(*name)


def _drop_pipe(c: Cursor) -> cmd.Translation:
    c.advance(2)
    if_exists = c.accept("IF", "EXISTS")
    name = c.object_name()
    c.end()
    return cmd.DropPipe(*name, if_exists=if_exists)


def _create_pipe(c: Cursor) -> cmd.Translation:
    c.advance(1)
    or_replace = c.accept("OR", "REPLACE")
    c.expect("PIPE")
    return create_pipe(c, or_replace)


def _alter_session(c: Cursor) -> cmd.Translation:
    c.advance(2)
    unset = c.accept("UNSET")
    if not unset:
        c.expect("SET")
    settings = []
    while not c.at_end():
        (name,) = c.name_parts(max_parts=1)
        value = None
        if not unset:
            c.expect_type(TokenType.EQ, f"'=' after {name}")
            c.advance(1)
            value = c.value()
        settings.append((name.upper(), value))
        if c.token_type() == TokenType.COMMA:
            c.advance(1)
    if not settings:
        c.fail("ALTER SESSION names no parameter")
    return cmd.AlterSession(tuple(settings))


def _unset(c: Cursor) -> cmd.Translation:
    c.advance(1)
    parenthesised = c.token_type() == TokenType.L_PAREN
    c.advance(parenthesised)
    names = [c.name_parts(max_parts=1)[0]]
    while parenthesised and c.token_type() == TokenType.COMMA:
        c.advance(1)
        names.append(c.name_parts(max_parts=1)[0])
    if parenthesised:
        c.expect_type(TokenType.R_PAREN, "')'")
        c.advance(1)
    c.end()
    return cmd.UnsetVariables(tuple(names))


_SHOW_OBJECTS = ("PIPES", "CHANNELS", "TABLES", "VIEWS", "SCHEMAS", "DATABASES", "COLUMNS", "SEQUENCES")
_SHOW_SESSION = ("PARAMETERS", "VARIABLES", "WAREHOUSES", "USERS", "ROLES")


def _show(c: Cursor) -> cmd.Translation:
    c.advance(1)
    c.accept("TERSE")  # the same columns: TERSE changes nothing of what the service lists
    kind = c.word()
    if kind in _SHOW_KEYS and c.word(1) == "KEYS":
        return _show_keys(c)
    if kind not in _SHOW_OBJECTS + _SHOW_SESSION:
        c.fail(f"the local service supports SHOW {', '.join(_SHOW_OBJECTS + _SHOW_SESSION)}")
    c.advance(1)
    like = c.string() if c.accept("LIKE") else None
    listing = _show_scope(c, kind, like)
    starts_with = c.string() if c.accept("STARTS", "WITH") else None
    limit, start = None, None
    if c.accept("LIMIT"):
        limit = c.value()
        if not limit.isdigit():
            c.fail("LIMIT takes a number of rows")
        start = c.string() if c.accept("FROM") else None
    c.end()
    if starts_with is None and limit is None:
        return listing
    return cmd.ShowPage(listing, starts_with, int(limit) if limit else None, start)


def _show_scope(c: Cursor, kind: str, like: str | None) -> cmd.Translation:
    """The listing of SHOW <kind> [LIKE ...] [IN <scope>], the cursor after the scope."""
    if kind in ("DATABASES", *_SHOW_SESSION):
        if kind == "PARAMETERS" and c.accept("IN"):
            c.expect("SESSION")  # parameters of the session are all the service keeps
        return cmd.ShowDatabases(like) if kind == "DATABASES" else cmd.ShowSession(kind, like)
    # Without IN, Snowflake lists the objects of the current database, if there is one.
    database, schema, pipe, table = c.database, None, None, None
    if c.accept("IN"):
        if c.accept("ACCOUNT"):
            database = None
        elif c.accept("DATABASE"):
            if not _scope_ends(c):
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
            if _scope_ends(c):
                schema = c.schema
            else:
                database, schema = c.schema_name()
    if kind == "SCHEMAS":
        return cmd.ShowSchemas(database, like)
    if kind == "CHANNELS":
        return cmd.ShowChannels(database, schema, pipe, table, like)
    if kind == "COLUMNS":
        return cmd.ShowColumns(database, schema, table, like)
    listing = {"PIPES": cmd.ShowPipes, "TABLES": cmd.ShowTables, "VIEWS": cmd.ShowViews, "SEQUENCES": cmd.ShowSequences}
    return listing[kind](database, schema, like)


_SHOW_KEYS = {"PRIMARY": tablekeys.PRIMARY, "UNIQUE": tablekeys.UNIQUE, "IMPORTED": tablekeys.FOREIGN}


def _show_keys(c: Cursor) -> cmd.Translation:
    """SHOW PRIMARY | UNIQUE | IMPORTED KEYS [IN ACCOUNT | DATABASE [d] | SCHEMA [s] | [TABLE] t]."""
    keys = _SHOW_KEYS[c.word()]
    c.advance(2)
    database, schema, table = c.database, None, None  # without IN: the current database's, as SHOW TABLES
    if c.accept("IN"):
        if c.accept("ACCOUNT"):
            database = None
        elif c.accept("DATABASE"):
            if not c.at_end():
                (database,) = c.name_parts(max_parts=1)
        elif c.accept("SCHEMA"):
            database, schema = (c.database, c.schema) if c.at_end() else c.schema_name()
        else:
            c.accept("TABLE")
            database, schema, table = c.object_name()
    c.end()
    return cmd.ShowKeys(keys, database, schema, table)


def _scope_ends(c: Cursor) -> bool:
    """True where a SHOW's IN DATABASE / IN SCHEMA names none (the session's is meant)."""
    return c.at_end() or (c.word() in ("STARTS", "LIMIT") and c.token_type() != TokenType.IDENTIFIER)


#: Keyed by the first two words (past CREATE's OR REPLACE), else by the first word alone.
TOKEN_COMMANDS: dict[tuple[str, ...], Callable[[Cursor], cmd.Translation]] = {
    ("GRANT",): _no_privileges, ("REVOKE",): _no_privileges,
    ("CREATE", "ROLE"): _no_privileges, ("DROP", "ROLE"): _no_privileges,
    ("START", "TRANSACTION"): _start_transaction,
    ("DESC", "PIPE"): _describe, ("DESCRIBE", "PIPE"): _describe,
    ("DESC", "TABLE"): _describe, ("DESCRIBE", "TABLE"): _describe,
    ("DESC", "VIEW"): _describe, ("DESCRIBE", "VIEW"): _describe,
    ("CREATE", "PIPE"): _create_pipe, ("DROP", "PIPE"): _drop_pipe,
    ("ALTER", "SESSION"): _alter_session, ("UNSET",): _unset, ("SHOW",): _show,
    ("GET",): get_command, ("REMOVE",): remove_command, ("RM",): remove_command,
    ("SET", "GLOBAL"): _engine_setting, ("SET", "SESSION"): _engine_setting, ("SET", "LOCAL"): _engine_setting,
}  # fmt: skip
