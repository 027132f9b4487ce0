"""Snowflake SQL for the local service: split scripts, translate statements.

The local service keeps a Snowflake database as a DuckDB catalog, Snowflake schemas as
DuckDB schemas and tables as tables. :func:`translate` turns one Snowflake statement into
either :class:`DuckSql` (DuckDB SQL to run) or a service command (pipes, channels, session
context, SHOW listings), which the service executes against its own metadata. This
module is pure: it parses and rewrites, it never touches a database.

Names come back normalised as Snowflake does: unquoted identifiers upper-case, quoted
ones exactly as written.

Statement forms handled as commands:

- ``USE [DATABASE] d``, ``USE [SCHEMA] [d.]s`` -> :class:`UseContext`;
  ``USE ROLE``/``USE WAREHOUSE``/``USE SECONDARY ROLES``, ``GRANT``, ``REVOKE``,
  ``CREATE|DROP ROLE`` -> :class:`NoOp` (the local service has one user holding every
  privilege, so grant scripts written for real accounts still run).
- ``CREATE DATABASE``/``CREATE SCHEMA`` -> :class:`CreateDatabase`/:class:`CreateSchema`.
- ``CREATE [OR REPLACE] PIPE [IF NOT EXISTS] p [props] AS COPY INTO t ...`` in three forms:
  ``COPY INTO t``; ``COPY INTO t [(c, ...)] FROM (SELECT $1:KEY[::TYPE], ... FROM
  TABLE(DATA_SOURCE(TYPE => 'STREAMING')))``; ``COPY INTO t FROM
  TABLE(DATA_SOURCE(TYPE => 'STREAMING')) [MATCH_BY_COLUMN_NAME = ...]``
  -> :class:`CreatePipe`.
- ``DROP PIPE [IF EXISTS] p`` -> :class:`DropPipe`; ``DESC[RIBE] PIPE p`` -> :class:`DescribePipe`.
- ``SHOW {PIPES | CHANNELS | TABLES | SCHEMAS | DATABASES} [LIKE '<pattern>'] [IN <scope>]``
  with Snowflake's scopes (``ACCOUNT``, ``DATABASE [d]``, ``SCHEMA [s]``, ``<schema>``, and
  for channels ``TABLE t`` and ``PIPE p``) -> the ``Show*`` commands.

Other queries and table DDL/DML become :class:`DuckSql`; everything else (stages, PUT,
warehouses, users, ...) raises :class:`~aidemo.errors.SqlError`. ``INSERT ... VALUES``
with literal rows only (bulk loads) is translated from its tokens, without sqlglot's parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NoReturn, Union

import sqlglot
from sqlglot import exp
from sqlglot.dialects.snowflake import Snowflake
from sqlglot.errors import ParseError, TokenError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.tokens import Token, TokenType

from aidemo.errors import SqlError

__all__ = [
    "CreateDatabase",
    "CreatePipe",
    "CreateSchema",
    "DescribePipe",
    "DropPipe",
    "DuckSql",
    "NoOp",
    "PipeColumn",
    "ShowChannels",
    "ShowDatabases",
    "ShowPipes",
    "ShowSchemas",
    "ShowTables",
    "Translation",
    "UseContext",
    "split_statements",
    "translate",
    "translate_script",
]


@dataclass(frozen=True)
class DuckSql:
    """DuckDB SQL to run; ``returns_rows`` is true for queries (SELECT, DESCRIBE)."""

    sql: str
    returns_rows: bool


@dataclass(frozen=True)
class UseContext:
    """The session's context after a USE statement (both values, not only the changed one).

    ``USE DATABASE d`` yields schema ``PUBLIC``, as in Snowflake; the service should clear
    it when the database has no PUBLIC schema.
    """

    database: str | None
    schema: str | None


@dataclass(frozen=True)
class NoOp:
    """A statement that has nothing to do locally; ``reason`` says why."""

    reason: str


@dataclass(frozen=True)
class CreateDatabase:
    """CREATE DATABASE; the service decides what it means for its one database."""

    name: str
    if_not_exists: bool
    or_replace: bool


@dataclass(frozen=True)
class CreateSchema:
    """CREATE SCHEMA ``database.name``."""

    database: str
    name: str
    if_not_exists: bool
    or_replace: bool


@dataclass(frozen=True)
class PipeColumn:
    """One item of a DATA_SOURCE pipe: ``$1:<source_key>[::<cast_type>]`` into ``target``.

    ``target`` is None when COPY INTO has no column list: the item then fills the table
    column at the same position. ``source_key`` is case-sensitive, as Snowflake's
    semi-structured keys are. ``cast_type`` is in DuckDB spelling.
    """

    target: str | None
    source_key: str
    cast_type: str | None


@dataclass(frozen=True)
class CreatePipe:
    """A pipe into ``table_database.table_schema.table``.

    ``columns`` is None when rows map to columns by name (``COPY INTO t`` and the
    ``MATCH_BY_COLUMN_NAME`` form); ``definition`` is the COPY statement as written.
    """

    database: str
    schema: str
    name: str
    table_database: str
    table_schema: str
    table: str
    or_replace: bool
    if_not_exists: bool
    columns: tuple[PipeColumn, ...] | None
    definition: str


@dataclass(frozen=True)
class DropPipe:
    """DROP PIPE ``database.schema.name``."""

    database: str
    schema: str
    name: str
    if_exists: bool


@dataclass(frozen=True)
class DescribePipe:
    """DESCRIBE PIPE: the properties of ``database.schema.name``."""

    database: str
    schema: str
    name: str


@dataclass(frozen=True)
class ShowPipes:
    """List pipes; a None database or schema means all of them. ``like`` is case-insensitive."""

    database: str | None
    schema: str | None
    like: str | None


@dataclass(frozen=True)
class ShowChannels:
    """List channels in a scope; ``pipe`` or ``table`` narrows it to one object."""

    database: str | None
    schema: str | None
    pipe: str | None
    table: str | None
    like: str | None


@dataclass(frozen=True)
class ShowTables:
    """List tables; a None database or schema means all of them."""

    database: str | None
    schema: str | None
    like: str | None


@dataclass(frozen=True)
class ShowSchemas:
    """List schemas of ``database`` (None: of every database)."""

    database: str | None
    like: str | None


@dataclass(frozen=True)
class ShowDatabases:
    """List databases."""

    like: str | None


Translation = Union[
    DuckSql, UseContext, NoOp, CreateDatabase, CreateSchema, CreatePipe, DropPipe,
    DescribePipe, ShowPipes, ShowChannels, ShowTables, ShowSchemas, ShowDatabases,
]

_DIALECT = Snowflake()
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*\Z")
_TOKEN_REPR = re.compile(r"<Token token_type: [^,]*, text: (.*?), line: \d+, col: \d+, .*?>")
_NO_PRIVILEGES = "the local service has a single user that holds every privilege"
# Snowflake's integer types are all NUMBER(38,0).
_INTEGER_TYPES = {
    exp.DataType.Type.TINYINT, exp.DataType.Type.SMALLINT,
    exp.DataType.Type.INT, exp.DataType.Type.BIGINT,
}
_UNENFORCED_COLUMN_CONSTRAINTS = (
    exp.PrimaryKeyColumnConstraint, exp.UniqueColumnConstraint, exp.Reference,
)
_UNENFORCED_TABLE_CONSTRAINTS = (exp.PrimaryKey, exp.UniqueColumnConstraint, exp.ForeignKey)
_DUCK_STATEMENTS = (
    exp.Query, exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.TruncateTable, exp.Describe,
)


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
    tokens = _tokenize(statement, statement)
    while tokens and tokens[-1].token_type == TokenType.SEMICOLON:
        tokens.pop()
    if not tokens:
        raise SqlError("Empty SQL statement: there is nothing to run.")
    if any(t.token_type == TokenType.SEMICOLON for t in tokens):
        raise SqlError(f"{_quote(statement)} holds more than one statement; split the script "
                       "with split_statements() and translate each statement.")
    return _translate(statement[tokens[0].start : tokens[-1].end + 1], tokens, database, schema)


def translate_script(
    script: str, *, database: str | None, schema: str | None
) -> list[tuple[str, Translation]]:
    """Every statement of a script with its translation, each in the context that the
    script's earlier USE statements set. Raises SqlError at the first statement that
    does not translate, so a caller can run nothing unless everything translates.
    """
    plan = []
    for text, tokens in _statements(script):
        command = _translate(text, tokens, database, schema)
        if isinstance(command, UseContext):
            database, schema = command.database or database, command.schema or schema
        plan.append((text, command))
    return plan


def _statements(script: str) -> list[tuple[str, list[Token]]]:
    """The statements of a script, each with its tokens (positions are offsets into the script)."""
    statements, current = [], []
    for token in [*_tokenize(script, script), None]:
        if token is not None and token.token_type != TokenType.SEMICOLON:
            current.append(token)
            continue
        if current:
            statements.append((script[current[0].start : current[-1].end + 1], current))
        current = []
    return statements


def _translate(text: str, tokens: list[Token], database: str | None, schema: str | None) -> Translation:
    command = _command(_Cursor(text, tokens, database, schema))
    return command if command is not None else _translate_with_sqlglot(text, database, schema)


# --- service commands, parsed from the token stream -------------------------------------


def _command(c: _Cursor) -> Translation | None:
    """The command for statements sqlglot does not model, or None to let sqlglot parse it."""
    first = c.word()
    if first in ("GRANT", "REVOKE"):
        return NoOp(f"{first} is not needed: {_NO_PRIVILEGES}")
    if first == "USE":
        return _use(c)
    if first == "INSERT":
        return _insert_values(c)
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
    if first == "DROP" and c.word(1) == "ROLE":
        return NoOp(f"roles are not needed: {_NO_PRIVILEGES}")
    if first == "CREATE":
        c.advance(1)
        or_replace = c.accept("OR", "REPLACE")
        if c.word() == "ROLE":
            return NoOp(f"roles are not needed: {_NO_PRIVILEGES}")
        if c.word() == "PIPE":
            c.advance(1)
            return _create_pipe(c, or_replace)
        c.rewind()
    return None


def _use(c: _Cursor) -> Translation:
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


def _show(c: _Cursor) -> Translation:
    c.advance(1)
    kind = c.word()
    if kind not in ("PIPES", "CHANNELS", "TABLES", "SCHEMAS", "DATABASES"):
        c.fail("the local service supports SHOW PIPES, CHANNELS, TABLES, SCHEMAS and DATABASES")
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
    return (ShowPipes if kind == "PIPES" else ShowTables)(database, schema, like)


def _insert_values(c: _Cursor) -> DuckSql | None:
    """``INSERT INTO t [(c, ...)] VALUES (<literal>, ...), ...`` mapped token by token.

    Bulk loads send thousands of rows in this form; parsing and regenerating them with
    sqlglot costs about 0.5 s per 1,000 rows. Any other INSERT returns None (sqlglot's turn).
    """
    c.advance(1)
    try:
        c.expect("INTO")
        database, schema, name = c.object_name()
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
        values = None
    else:
        values = _values(c.tokens[c.i :])
    if values is None:
        c.rewind()
        return None
    target = ".".join(_ident(part) for part in (database, schema, name))
    column_list = f" ({', '.join(_ident(column) for column in columns)})" if columns else ""
    return DuckSql(f"INSERT INTO {target}{column_list} VALUES {values}", returns_rows=False)


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


def _create_pipe(c: _Cursor, or_replace: bool) -> CreatePipe:
    if_not_exists = c.accept("IF", "NOT", "EXISTS")
    if or_replace and if_not_exists:
        c.fail("OR REPLACE and IF NOT EXISTS cannot be used together")
    database, schema, name = c.object_name()
    while c.word() not in (None, "AS", "COPY"):  # AUTO_INGEST = ..., COMMENT = '...', and the like
        c.advance(1)
        c.expect_type(TokenType.EQ, "'=' after a pipe property")
        c.advance(2)
    c.expect("AS")
    definition = c.rest()
    c.expect("COPY")
    c.expect("INTO")
    table = c.object_name()
    targets = None
    if c.token_type() == TokenType.L_PAREN:
        c.advance(1)
        targets = [c.name_parts(max_parts=1)[0]]
        while c.token_type() == TokenType.COMMA:
            c.advance(1)
            targets.append(c.name_parts(max_parts=1)[0])
        c.expect_type(TokenType.R_PAREN, "')' after the COPY INTO column list")
        c.advance(1)
    columns = None if c.at_end() else _pipe_columns(c, definition, targets)
    if columns is None and targets is not None:
        c.fail("a COPY INTO column list needs a FROM (SELECT ...) list to fill it")
    return CreatePipe(database, schema, name, *table, or_replace=or_replace,
                      if_not_exists=if_not_exists, columns=columns, definition=definition)


def _pipe_columns(
    c: _Cursor, definition: str, targets: list[str] | None
) -> tuple[PipeColumn, ...] | None:
    """The ``$1:KEY::TYPE`` items of a DATA_SOURCE pipe, or None for the match-by-name form."""
    copy = _parse(definition, c.text)
    source = copy.args["files"][0] if isinstance(copy, exp.Copy) and copy.args.get("files") else None
    if isinstance(source, exp.Table) and _is_streaming_source(source.this):
        return None
    select = source.this if isinstance(source, exp.Subquery) else None
    from_ = select.args.get("from_") if isinstance(select, exp.Select) else None
    if from_ is None or not _is_streaming_source(from_.this):
        c.fail("a pipe reads FROM TABLE(DATA_SOURCE(TYPE => 'STREAMING')) or "
               "FROM (SELECT ... FROM TABLE(DATA_SOURCE(TYPE => 'STREAMING'))); staged files "
               "exist only in Snowflake")
    extra = sorted(k for k, v in select.args.items() if v and k not in ("expressions", "from_"))
    if extra:
        c.fail(f"the local service maps columns only; remove {', '.join(extra).upper()} "
               "from the pipe's SELECT")
    items = select.expressions
    if targets is not None and len(targets) != len(items):
        c.fail(f"COPY INTO lists {len(targets)} columns but the SELECT has {len(items)} items")
    return tuple(
        _pipe_column(c, item, targets[i] if targets else None) for i, item in enumerate(items)
    )


def _pipe_column(c: _Cursor, item: exp.Expression, target: str | None) -> PipeColumn:
    value = item.this if isinstance(item, exp.Alias) else item
    cast_type = None
    if isinstance(value, exp.Cast):
        cast_type = _duck_type(value.to).sql("duckdb")
        value = value.this
    path = value.expression.expressions if isinstance(value, exp.JSONExtract) else []
    if (
        not isinstance(value.this, exp.Parameter)
        or value.this.name != "1"
        or len(path) != 2
        or not isinstance(path[1], exp.JSONPathKey)
    ):
        c.fail(f"pipe item {item.sql('snowflake')!r} is not supported: the local service maps "
               "items of the form $1:KEY or $1:KEY::TYPE")
    return PipeColumn(target, path[1].name, cast_type)


def _is_streaming_source(node: exp.Expression | None) -> bool:
    """True for ``TABLE(DATA_SOURCE(TYPE => 'STREAMING'))``."""
    call = node.this if isinstance(node, exp.TableFromRows) else None
    if not isinstance(call, exp.Anonymous) or call.name.upper() != "DATA_SOURCE":
        return False
    return [(a.this.name.upper(), a.expression.name.upper()) for a in call.expressions
            if isinstance(a, exp.Kwarg)] == [("TYPE", "STREAMING")]


# --- everything else, through sqlglot ---------------------------------------------------


def _translate_with_sqlglot(text: str, database: str | None, schema: str | None) -> Translation:
    tree = _parse(text, text)
    if isinstance(tree, exp.Create) and tree.kind in ("DATABASE", "SCHEMA"):
        target = tree.this
        exists, replace = bool(tree.args.get("exists")), bool(tree.args.get("replace"))
        if tree.kind == "DATABASE":
            return CreateDatabase(_name(target.this), exists, replace)
        db = target.args.get("catalog")
        return CreateSchema(_name(db) if db else _context(database, "database", text),
                            _name(target.args["db"]), exists, replace)
    if not _runs_on_duckdb(tree):
        raise SqlError(f"{_quote(text)} is not supported by the local service; it handles "
                       "queries, table and view DDL/DML, databases, schemas, pipes and channels. "
                       "Run it against a Snowflake account instead.")
    if isinstance(tree, exp.Create) and isinstance(tree.this, exp.Schema):
        _relax_constraints(tree.this)
    for datatype in list(tree.find_all(exp.DataType)):
        datatype.replace(_duck_type(datatype))
    _qualify_tables(tree, database, schema, text)
    _session_context(tree, database, schema)
    normalize_identifiers(tree, dialect="snowflake")
    returns_rows = isinstance(tree, (exp.Query, exp.Describe))
    return DuckSql(tree.sql(dialect="duckdb", identify=True), returns_rows)


def _session_context(tree: exp.Expression, database: str | None, schema: str | None) -> None:
    """CURRENT_DATABASE() and CURRENT_SCHEMA() name the session's context, not DuckDB's.

    An unaliased one keeps Snowflake's column name (``CURRENT_DATABASE()``).
    """
    for node in list(tree.find_all(exp.CurrentDatabase, exp.CurrentSchema)):
        value = database if isinstance(node, exp.CurrentDatabase) else schema
        literal = exp.Literal.string(value) if value else exp.null()
        if isinstance(node.parent, exp.Select) and node.arg_key == "expressions":
            literal = exp.alias_(literal, node.sql(dialect="snowflake"), quoted=True)
        node.replace(literal)


def _runs_on_duckdb(tree: exp.Expression) -> bool:
    """True for the statements that translate to DuckDB SQL."""
    if isinstance(tree, _DUCK_STATEMENTS):
        return True
    kind = str(tree.args.get("kind") or "").upper()
    if isinstance(tree, exp.Drop):
        return kind in ("TABLE", "VIEW", "SCHEMA")
    return isinstance(tree, (exp.Create, exp.Alter)) and kind in ("TABLE", "VIEW")


def _relax_constraints(table: exp.Schema) -> None:
    """Drop PRIMARY KEY, UNIQUE and FOREIGN KEY; make primary-key columns NOT NULL.

    Snowflake does not enforce these constraints, except NOT NULL on primary-key columns;
    kept in DuckDB they would reject duplicate rows that Snowflake accepts (and that the
    kit's exactly-once checks must be able to see).
    """
    key_columns = set()
    for element in list(table.expressions):
        if isinstance(element, exp.ColumnDef):
            for constraint in list(element.constraints):
                kind = constraint.args.get("kind")
                if isinstance(kind, exp.PrimaryKeyColumnConstraint):
                    key_columns.add(_name(element.this))
                if isinstance(kind, _UNENFORCED_COLUMN_CONSTRAINTS):
                    constraint.pop()
            continue
        inner = element.expressions if isinstance(element, exp.Constraint) else [element]
        for constraint in inner:
            if isinstance(constraint, exp.PrimaryKey):
                key_columns.update(_name(column) for column in constraint.expressions)
        if any(isinstance(c, _UNENFORCED_TABLE_CONSTRAINTS) for c in inner):
            element.pop()
    for column in table.find_all(exp.ColumnDef):
        not_null = any(isinstance(c.args.get("kind"), exp.NotNullColumnConstraint)
                       and not c.args["kind"].args.get("allow_null") for c in column.constraints)
        if _name(column.this) in key_columns and not not_null:
            column.append("constraints", exp.ColumnConstraint(kind=exp.NotNullColumnConstraint()))


def _duck_type(datatype: exp.DataType) -> exp.DataType:
    """Snowflake type to DuckDB type.

    NUMBER(p,s) becomes DECIMAL(p,s) with explicit precision and scale (a bare DuckDB
    DECIMAL is DECIMAL(18,3)). NUMBER, NUMBER(38,0) and the integer types, which
    Snowflake stores as NUMBER(38,0), become BIGINT: they hold ids and counts here, and
    BIGINT is faster and maps to plain Python ints; values beyond 2**63 would not fit.
    """
    if datatype.this in _INTEGER_TYPES:
        return exp.DataType.build("BIGINT")
    if datatype.this == exp.DataType.Type.DECIMAL:
        params = [int(p.name) for p in datatype.expressions]
        precision, scale = (params + [38, 0][len(params):])[:2]
        if (precision, scale) == (38, 0):
            return exp.DataType.build("BIGINT")
        return exp.DataType.build(f"DECIMAL({precision}, {scale})")
    return datatype


def _qualify_tables(tree: exp.Expression, database: str | None, schema: str | None, text: str) -> None:
    """Give every table (and schema) reference its database and schema from the session.

    CTE names are left alone, and so is INFORMATION_SCHEMA: DuckDB has one for all
    catalogs (it lists every catalog's objects, where Snowflake's lists one database's).
    """
    ctes = {_name(cte.args["alias"].this) for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        name, db = table.args.get("this"), table.args.get("db")
        if isinstance(db, exp.Identifier) and _name(db) == "INFORMATION_SCHEMA":
            table.set("catalog", None)
            continue
        is_schema = name is None and isinstance(db, exp.Identifier)  # as in DROP SCHEMA s
        if table.args.get("catalog") or not (is_schema or isinstance(name, exp.Identifier)):
            continue
        if db is None:
            if _name(name) in ctes:
                continue
            table.set("db", _quoted(_context(schema, "schema", text)))
        table.set("catalog", _quoted(_context(database, "database", text)))


# --- shared helpers ---------------------------------------------------------------------


class _Cursor:
    """A position in the tokens of one statement, with the session's context."""

    def __init__(self, text: str, tokens: list[Token], database: str | None, schema: str | None):
        self.text, self.tokens, self.i = text, tokens, 0
        self.database, self.schema = database, schema
        self.base = tokens[0].start  # tokens may come from a whole script; text is their statement

    def _token(self, offset: int = 0) -> Token | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def word(self, offset: int = 0) -> str | None:
        """The upper-cased word at the position (keyword or unquoted name), else None."""
        token = self._token(offset)
        if token is None or token.token_type in (TokenType.IDENTIFIER, TokenType.STRING):
            return None
        return token.text.upper() if _WORD.match(token.text) else None

    def token_type(self) -> TokenType | None:
        token = self._token()
        return token.token_type if token else None

    def advance(self, count: int) -> None:
        self.i += count

    def rewind(self) -> None:
        self.i = 0

    def at_end(self) -> bool:
        return self.i >= len(self.tokens)

    def rest(self) -> str:
        """The statement's text from the position to its end."""
        return self.text[self.tokens[self.i].start - self.base :] if not self.at_end() else ""

    def accept(self, *words: str) -> bool:
        if all(self.word(k) == w for k, w in enumerate(words)):
            self.i += len(words)
            return True
        return False

    def expect(self, word: str) -> None:
        if not self.accept(word):
            self.fail(f"expected {word} {self._where()}")

    def expect_type(self, token_type: TokenType, what: str) -> None:
        if self.token_type() != token_type:
            self.fail(f"expected {what} {self._where()}")

    def end(self) -> None:
        if not self.at_end():
            self.fail(f"unexpected {self._token().text!r}; the local service does not support "
                      "this clause")

    def string(self) -> str:
        token = self._token()
        if token is None or token.token_type != TokenType.STRING:
            self.fail(f"expected a quoted string {self._where()}")
        self.i += 1
        return token.text

    def name_parts(self, max_parts: int = 3) -> list[str]:
        """A dotted name, each part normalised the Snowflake way."""
        parts = [self._identifier()]
        while self.token_type() == TokenType.DOT:
            self.i += 1
            parts.append(self._identifier())
        if len(parts) > max_parts:
            self.fail(f"{'.'.join(parts)!r} has more than {max_parts} name part(s)")
        return parts

    def object_name(self) -> tuple[str, str, str]:
        """A pipe or table name as (database, schema, name), filled in from the session."""
        parts = self.name_parts()
        if len(parts) == 1:
            return self.current_database(), self.current_schema(), parts[0]
        if len(parts) == 2:
            return self.current_database(), parts[0], parts[1]
        return parts[0], parts[1], parts[2]

    def schema_name(self) -> tuple[str, str]:
        """A schema name as (database, schema), filled in from the session."""
        parts = self.name_parts(max_parts=2)
        return (parts[0], parts[1]) if len(parts) == 2 else (self.current_database(), parts[0])

    def current_database(self) -> str:
        return _context(self.database, "database", self.text)

    def current_schema(self) -> str:
        return _context(self.schema, "schema", self.text)

    def fail(self, problem: str) -> NoReturn:
        raise SqlError(f"{_quote(self.text)}: {problem}.")

    def _identifier(self) -> str:
        token = self._token()
        if token is not None and token.token_type == TokenType.IDENTIFIER:
            self.i += 1
            return token.text
        word = self.word()
        if word is None:
            self.fail(f"expected a name {self._where()}")
        self.i += 1
        return word

    def _where(self) -> str:
        token = self._token()
        return f"at {token.text!r} (character {token.start - self.base + 1})" if token else "at the end"


def _tokenize(sql: str, statement: str) -> list[Token]:
    try:
        return _DIALECT.tokenize(sql)
    except TokenError as exc:
        raise SqlError(
            f"Cannot read {_quote(statement)}: {exc} (an unclosed quote or comment?)"
        ) from exc


def _parse(sql: str, statement: str) -> exp.Expression:
    try:
        return sqlglot.parse_one(sql, read=_DIALECT)
    except ParseError as exc:
        detail = exc.errors[0] if exc.errors else {}
        where = f" at line {detail['line']}, column {detail['col']}" if "line" in detail else ""
        # sqlglot names the offending token by its repr; keep only its text.
        message = _TOKEN_REPR.sub(r"'\1'", detail.get("description") or str(exc))
        raise SqlError(f"Cannot parse {_quote(statement)}: {message}{where}.") from exc


def _quote(statement: str, limit: int = 80) -> str:
    """The statement on one line, shortened to about ``limit`` characters, in quotes."""
    flat = " ".join(statement.split())
    return repr(flat if len(flat) <= limit else flat[: limit - 3] + "...")


def _name(identifier: exp.Expression) -> str:
    """A sqlglot identifier, normalised the Snowflake way."""
    return identifier.name if getattr(identifier, "quoted", False) else identifier.name.upper()


def _ident(name: str) -> str:
    """A DuckDB quoted identifier."""
    return '"' + name.replace('"', '""') + '"'


def _quoted(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def _context(value: str | None, what: str, statement: str) -> str:
    if value is None:
        command = "USE DATABASE" if what == "database" else "USE SCHEMA"
        raise SqlError(f"{_quote(statement)} names an object without its {what}, and the session "
                       f"has no current {what}; run {command} first or qualify the name.")
    return value
