"""What a Snowflake statement becomes in the local service: DuckDB SQL or a service command.

:mod:`aidemo.local.translate` produces these; :mod:`aidemo.local.sqlexec` runs them.
Names are normalised as Snowflake does (unquoted upper-case, quoted as written).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DuckSql:
    """DuckDB SQL to run; ``returns_rows`` is true for queries (SELECT, DESCRIBE).

    ``database`` is the one database the statement writes to (None for a query), and
    ``dropped`` the (database, schema, table) a DROP TABLE removes.
    """

    sql: str
    returns_rows: bool
    database: str | None = None
    dropped: tuple[str, str, str] | None = None


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
    """CREATE DATABASE ``name``."""

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


@dataclass(frozen=True)
class DropDatabase:
    """DROP DATABASE ``name``."""

    name: str
    if_exists: bool


@dataclass(frozen=True)
class DropSchema:
    """DROP SCHEMA ``database.name``."""

    database: str
    name: str
    if_exists: bool


@dataclass(frozen=True)
class DescribeTable:
    """DESCRIBE TABLE: the columns of ``database.schema.name`` with their Snowflake types."""

    database: str
    schema: str
    name: str


@dataclass(frozen=True)
class ShowColumns:
    """List columns of one table (``table``) or of the tables in a scope."""

    database: str | None
    schema: str | None
    table: str | None
    like: str | None


Translation = (
    DuckSql | UseContext | NoOp | CreateDatabase | CreateSchema | DropDatabase | DropSchema
    | CreatePipe | DropPipe | DescribePipe | DescribeTable | ShowPipes | ShowChannels | ShowTables
    | ShowSchemas | ShowDatabases | ShowColumns
)  # fmt: skip
