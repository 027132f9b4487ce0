"""What a Snowflake statement becomes in the local service: DuckDB SQL or a service command.

:mod:`aidemo.local.dialect.translate` produces these; :mod:`aidemo.local.engine.sqlexec` runs them.
Names are normalised as Snowflake does (unquoted upper-case, quoted as written).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from sqlglot import exp

# Snowflake's statement type ids (statementTypeId of a reply; level-3 family in the high nibble).
SELECT, INSERT, UPDATE, DELETE, MERGE = 0x1000, 0x3100, 0x3200, 0x3300, 0x3400
ALTER_SESSION, USE, SHOW, DESCRIBE = 0x4100, 0x4300, 0x4400, 0x4500
BEGIN, COMMIT, ROLLBACK = 0x5100, 0x5200, 0x5300
CREATE, ALTER, DROP, DDL = 0x6100, 0x6200, 0x6300, 0x6000
SET_VARIABLE = 0x4200  # SET / UNSET of session variables: Snowflake's "session" family
COPY, UNLOAD, LIST_FILES = 0x3600, 0x3700, 0x4700  # COPY INTO a table, COPY INTO a stage, LIST
PUT_FILES, GET_FILES, REMOVE_FILES = 0x7100, 0x7200, 0x7300  # stage file operations


@dataclass(frozen=True)
class DuckSql:
    """DuckDB SQL to run; ``returns_rows`` is true for queries (SELECT, DESCRIBE).

    ``kind`` is the statement's type id; ``database`` is the one database the statement writes
    to (None for a query), ``dropped`` the (database, schema, table) a DROP TABLE removes and
    ``temporary`` the one a CREATE TEMPORARY TABLE makes (dropped when the session ends);
    ``merge`` the kinds of change (INSERT, UPDATE, DELETE) a MERGE's clauses make, whose rows
    it returns one action each;
    ``schemas`` the (database, schema) pairs it names, which must be the user's (aidemo.local.dialect.sandbox);
    ``repeatable`` false where running it again on the same rows may change them otherwise (it reads
    the clock or chance, or an order that DuckDB does not fix);
    ``keys`` the service's SQL that keeps what the statement declares, run after it in its transaction:
    a table's keys (aidemo.local.storage.tablekeys), a view's text (aidemo.local.storage.viewtexts).
    """

    sql: str
    returns_rows: bool
    database: str | None = None
    dropped: tuple[str, str, str] | None = None
    kind: int = SELECT
    temporary: tuple[str, str, str] | None = None
    merge: tuple[str, ...] = ()
    schemas: frozenset[tuple[str, str | None]] = frozenset()
    repeatable: bool = True
    keys: str = ""

    @property
    def is_ddl(self) -> bool:
        """CREATE, ALTER, DROP, TRUNCATE: commits an open transaction first, as in Snowflake."""
        return self.kind in (CREATE, ALTER, DROP, DDL)


@dataclass(frozen=True)
class UseContext:
    """The session's context after a USE statement (both values, not only the changed one).

    ``USE DATABASE d`` yields schema ``PUBLIC``, as in Snowflake; the service should clear
    it when the database has no PUBLIC schema.
    """

    kind: ClassVar[int] = USE
    database: str | None
    schema: str | None

    def context(self, database: str | None, schema: str | None) -> tuple[str | None, str | None]:
        """The context of the statements after this one."""
        return self.database or database, self.schema or schema


@dataclass(frozen=True)
class UseRole:
    """USE ROLE: the name the session reports (the local service has one user with every privilege)."""

    kind: ClassVar[int] = USE
    name: str


@dataclass(frozen=True)
class UseWarehouse:
    """USE WAREHOUSE: the name the session reports (the local service has no warehouses)."""

    kind: ClassVar[int] = USE
    name: str


@dataclass(frozen=True)
class NoOp:
    """A statement that has nothing to do locally; ``reason`` says why."""

    reason: str
    kind: int = DDL


@dataclass(frozen=True)
class CreateDatabase:
    """CREATE DATABASE ``name``."""

    kind: ClassVar[int] = CREATE
    name: str
    if_not_exists: bool
    or_replace: bool

    def context(self, database: str | None, schema: str | None) -> tuple[str | None, str | None]:
        return self.name, "PUBLIC"  # as Snowflake does


@dataclass(frozen=True)
class CreateSchema:
    """CREATE SCHEMA ``database.name``."""

    kind: ClassVar[int] = CREATE
    database: str
    name: str
    if_not_exists: bool
    or_replace: bool

    def context(self, database: str | None, schema: str | None) -> tuple[str | None, str | None]:
        return self.database, self.name  # as Snowflake does


@dataclass(frozen=True)
class ShowPage:
    """A SHOW's rows narrowed by STARTS WITH (case-sensitive) and LIMIT n [FROM 'name'], by ``name``."""

    kind: ClassVar[int] = SHOW
    listing: object
    starts_with: str | None
    limit: int | None
    start: str | None


@dataclass(frozen=True)
class Begin:
    """BEGIN [TRANSACTION | WORK] / START TRANSACTION."""

    kind: ClassVar[int] = BEGIN


@dataclass(frozen=True)
class Commit:
    """COMMIT [WORK]."""

    kind: ClassVar[int] = COMMIT


@dataclass(frozen=True)
class Rollback:
    """ROLLBACK [WORK]."""

    kind: ClassVar[int] = ROLLBACK


@dataclass(frozen=True)
class AlterSession:
    """ALTER SESSION SET / UNSET: (parameter, value) pairs, value None to unset."""

    kind: ClassVar[int] = ALTER_SESSION
    settings: tuple[tuple[str, str | None], ...]


@dataclass(frozen=True)
class SetVariables:
    """SET name = expr / SET (a, b) = (x, y): each expression (Snowflake) evaluated when it runs."""

    kind: ClassVar[int] = SET_VARIABLE
    names: tuple[str, ...]
    values: tuple[exp.Expression, ...]


@dataclass(frozen=True)
class UnsetVariables:
    """UNSET name / UNSET (a, b)."""

    kind: ClassVar[int] = SET_VARIABLE
    names: tuple[str, ...]


@dataclass(frozen=True)
class ShowSession:
    """SHOW PARAMETERS | VARIABLES | WAREHOUSES | USERS | ROLES: what the session itself knows."""

    kind: ClassVar[int] = SHOW
    what: str
    like: str | None


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

    kind: ClassVar[int] = CREATE
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

    kind: ClassVar[int] = DROP
    database: str
    schema: str
    name: str
    if_exists: bool


@dataclass(frozen=True)
class DescribePipe:
    """DESCRIBE PIPE: the properties of ``database.schema.name``."""

    kind: ClassVar[int] = DESCRIBE
    database: str
    schema: str
    name: str


@dataclass(frozen=True)
class ShowPipes:
    """List pipes; a None database or schema means all of them. ``like`` is case-insensitive."""

    kind: ClassVar[int] = SHOW
    database: str | None
    schema: str | None
    like: str | None


@dataclass(frozen=True)
class ShowChannels:
    """List channels in a scope; ``pipe`` or ``table`` narrows it to one object."""

    kind: ClassVar[int] = SHOW
    database: str | None
    schema: str | None
    pipe: str | None
    table: str | None
    like: str | None


@dataclass(frozen=True)
class ShowTables:
    """List tables; a None database or schema means all of them."""

    kind: ClassVar[int] = SHOW
    database: str | None
    schema: str | None
    like: str | None


@dataclass(frozen=True)
class ShowSchemas:
    """List schemas of ``database`` (None: of every database)."""

    kind: ClassVar[int] = SHOW
    database: str | None
    like: str | None


@dataclass(frozen=True)
class ShowViews:
    """List views; a None database or schema means all of them."""

    kind: ClassVar[int] = SHOW
    database: str | None
    schema: str | None
    like: str | None


@dataclass(frozen=True)
class ShowSequences:
    """List sequences (the local service has none a user makes); a None database or schema means all."""

    kind: ClassVar[int] = SHOW
    database: str | None
    schema: str | None
    like: str | None


@dataclass(frozen=True)
class ShowDatabases:
    """List databases."""

    kind: ClassVar[int] = SHOW
    like: str | None


@dataclass(frozen=True)
class DropDatabase:
    """DROP DATABASE ``name``."""

    kind: ClassVar[int] = DROP
    name: str
    if_exists: bool


@dataclass(frozen=True)
class DropSchema:
    """DROP SCHEMA ``database.name``."""

    kind: ClassVar[int] = DROP
    database: str
    name: str
    if_exists: bool


@dataclass(frozen=True)
class DescribeTable:
    """DESCRIBE TABLE: the columns of ``database.schema.name`` with their Snowflake types."""

    kind: ClassVar[int] = DESCRIBE
    database: str
    schema: str
    name: str


@dataclass(frozen=True)
class ShowColumns:
    """List columns of one table (``table``) or of the tables in a scope."""

    kind: ClassVar[int] = SHOW
    database: str | None
    schema: str | None
    table: str | None
    like: str | None


@dataclass(frozen=True)
class ShowKeys:
    """SHOW PRIMARY KEYS | UNIQUE KEYS | IMPORTED KEYS (``kind``: aidemo.local.storage.tablekeys' PRIMARY, UNIQUE,
    FOREIGN) of one table or of a scope (None database or schema: all of them)."""

    kind: ClassVar[int] = SHOW
    keys: str
    database: str | None
    schema: str | None
    table: str | None


Translation = (
    DuckSql | UseContext | UseRole | UseWarehouse | NoOp | CreateDatabase | CreateSchema | DropDatabase
    | DropSchema | CreatePipe | DropPipe | DescribePipe | DescribeTable | ShowPipes | ShowChannels | ShowTables
    | ShowSchemas | ShowDatabases | ShowColumns | ShowViews | ShowSession | Begin | Commit | Rollback
    | AlterSession | SetVariables | UnsetVariables | ShowPage | ShowKeys | ShowSequences
)  # fmt: skip
