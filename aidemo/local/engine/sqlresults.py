"""Results of SQL statements in the local service, and the listings of SHOW and DESCRIBE.

Listings have Snowflake's columns and Snowflake's type names (NUMBER(38,0), VARCHAR(16777216),
TIMESTAMP_NTZ(9), ...), whatever DuckDB keeps underneath.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from aidemo.local.engine.sqlcommands import (
    DescribePipe,
    DescribeTable,
    ShowChannels,
    ShowColumns,
    ShowDatabases,
    ShowSchemas,
    ShowSequences,
    ShowViews,
)
from aidemo.local.errors import SqlError
from aidemo.local.process.home import ROLE
from aidemo.local.storage import identity
from aidemo.local.storage.catalog import META, PRIMARY, UNIQUE, VIEW_TEXTS, quote
from aidemo.local.storage.store import STREAMING_SUFFIX, Column, Store


@dataclass
class Result:
    """Columns (name, DuckDB type) and rows of one statement.

    A query's rows may instead come as ``batches``: Arrow record batches read from DuckDB as
    they are consumed (once), so that a large result is never held whole.
    """

    columns: list[tuple[str, str]] = field(default_factory=list)
    rows: list[tuple] = field(default_factory=list)
    message: str = "Statement executed successfully."
    batches: Iterator | None = None


# SHOW PIPES and DESCRIBE PIPE: Snowflake's columns (those about stages, notifications and
# integrations are NULL for streaming pipes), then the flush tick only the local service has.
_PIPE_COLUMNS = [
    ("created_on", "TIMESTAMP WITH TIME ZONE"),
    ("name", "VARCHAR"),
    ("database_name", "VARCHAR"),
    ("schema_name", "VARCHAR"),
    ("definition", "VARCHAR"),
    ("owner", "VARCHAR"),
    ("notification_channel", "VARCHAR"),
    ("comment", "VARCHAR"),
    ("integration", "VARCHAR"),
    ("pattern", "VARCHAR"),
    ("error_integration", "VARCHAR"),
    ("owner_role_type", "VARCHAR"),
    ("invalid_reason", "VARCHAR"),
    ("kind", "VARCHAR"),
    ("flush_tick_ms", "INTEGER"),
]


def pipes(store: Store, command) -> Result:
    """SHOW PIPES and DESCRIBE PIPE."""
    pipes = store.list_pipes(command.database, command.schema)
    if isinstance(command, DescribePipe):
        pipes = [p for p in pipes if p["name"] == command.name]
        if not pipes:
            raise SqlError(
                f"Pipe '{command.database}.{command.schema}.{command.name}' does not exist or not authorized."
            )
    else:
        pipes = [p for p in pipes if like(p["name"], command.like)]
    rows = [
        (
            _from_ms(p["created_on_ms"]),
            p["name"],
            p["database_name"],
            p["schema_name"],
            p["definition"] or f"COPY INTO {p['table_name']} (default pipe)",
            ROLE,
            None,
            "",
            None,
            None,
            None,
            "ROLE",
            None,
            "STREAMING",
            p["flush_tick_ms"],
        )
        for p in pipes
    ]
    return Result(list(_PIPE_COLUMNS), rows)


# SHOW CHANNELS: Snowflake's columns (offset_token is the last committed one), then the
# channel's status as the REST API and the SDK's get_channel_statuses report it.
_CHANNEL_COLUMNS = [
    ("created_on", "TIMESTAMP WITH TIME ZONE"),
    ("name", "VARCHAR"),
    ("database_name", "VARCHAR"),
    ("schema_name", "VARCHAR"),
    ("table_name", "VARCHAR"),
    ("offset_token", "VARCHAR"),
    ("is_valid", "BOOLEAN"),
    ("parent_domain", "VARCHAR"),
    ("parent_name", "VARCHAR"),
    ("channel_status_code", "VARCHAR"),
    ("last_committed_offset_token", "VARCHAR"),
    ("rows_inserted", "BIGINT"),
    ("rows_parsed", "BIGINT"),
    ("rows_error_count", "BIGINT"),
    ("last_error_offset_upper_bound", "VARCHAR"),
    ("last_error_message", "VARCHAR"),
    ("last_error_timestamp", "TIMESTAMP WITH TIME ZONE"),
    ("snowflake_avg_processing_latency_ms", "BIGINT"),
]


def channels(store: Store, command: ShowChannels) -> Result:
    """SHOW CHANNELS."""
    tables = {(p["database_name"], p["schema_name"], p["name"]): p["table_name"] for p in store.list_pipes()}
    rows = []
    for c in store.list_channels(command.database, command.schema, command.pipe):
        pipe = c["pipe_name"]
        # A table's default pipe <TABLE>-STREAMING has a row of its own once it has been used.
        table = tables.get((c["database_name"], c["schema_name"], pipe)) or pipe.removesuffix(STREAMING_SUFFIX)
        if command.table and table != command.table:
            continue
        if not like(c["channel_name"], command.like):
            continue
        error_ms = c["last_error_timestamp_ms"]
        rows.append(
            (
                _from_ms(c["created_on_ms"]),
                c["channel_name"],
                c["database_name"],
                c["schema_name"],
                table,
                c["last_committed_offset_token"],
                True,
                "PIPE",
                pipe,
                c["channel_status_code"],
                c["last_committed_offset_token"],
                c["rows_inserted"],
                c["rows_parsed"],
                c["rows_error_count"],
                c["last_error_offset_upper_bound"],
                c["last_error_message"],
                None if error_ms is None else _from_ms(error_ms),
                c["snowflake_avg_processing_latency_ms"],
            )
        )
    return Result(list(_CHANNEL_COLUMNS), rows)


def objects(store: Store, command, current: tuple[str | None, str | None] = (None, None)) -> Result:
    """SHOW DATABASES, SCHEMAS, TABLES and VIEWS, with Snowflake's columns in Snowflake's order
    (clients read them by position: the name is the second); ``current`` is the session's
    (database, schema). The service keeps no creation times: ``created_on`` is NULL."""
    if isinstance(command, ShowViews):
        _known(store, command.database, command.schema)
        return Result(list(_VIEW_COLUMNS), [r for r in _views(store, command) if like(r[1], command.like)])
    if isinstance(command, ShowDatabases):
        rows = [(None, name, "N", _flag(name == current[0]), "", ROLE, "", "", "1", "STANDARD")
                for name in store.databases()]  # fmt: skip
        columns = _DATABASE_COLUMNS
    elif isinstance(command, ShowSchemas):
        _known(store, command.database)
        rows = [(None, schema, "N", _flag((database, schema) == current), database, ROLE, "", "", "1", "ROLE")
                for database, schema in store.schemas(command.database)]  # fmt: skip
        columns = _SCHEMA_COLUMNS
    else:
        _known(store, command.database, command.schema)
        rows = [(None, table, database, schema, "TABLE", "", "", size, None, ROLE, "1", "OFF", "OFF", "N", "ROLE")
                for database, schema, table, size in store.tables(command.database, command.schema)]  # fmt: skip
        columns = _TABLE_COLUMNS
    return Result(list(columns), [r for r in rows if like(r[1], command.like)])


def _flag(value: bool) -> str:
    return "Y" if value else "N"


_DATABASE_COLUMNS = [
    ("created_on", "TIMESTAMP WITH TIME ZONE"), ("name", "VARCHAR"), ("is_default", "VARCHAR"),
    ("is_current", "VARCHAR"), ("origin", "VARCHAR"), ("owner", "VARCHAR"), ("comment", "VARCHAR"),
    ("options", "VARCHAR"), ("retention_time", "VARCHAR"), ("kind", "VARCHAR"),
]  # fmt: skip
_SCHEMA_COLUMNS = [
    ("created_on", "TIMESTAMP WITH TIME ZONE"), ("name", "VARCHAR"), ("is_default", "VARCHAR"),
    ("is_current", "VARCHAR"), ("database_name", "VARCHAR"), ("owner", "VARCHAR"), ("comment", "VARCHAR"),
    ("options", "VARCHAR"), ("retention_time", "VARCHAR"), ("owner_role_type", "VARCHAR"),
]  # fmt: skip
_TABLE_COLUMNS = [
    ("created_on", "TIMESTAMP WITH TIME ZONE"), ("name", "VARCHAR"), ("database_name", "VARCHAR"),
    ("schema_name", "VARCHAR"), ("kind", "VARCHAR"), ("comment", "VARCHAR"), ("cluster_by", "VARCHAR"),
    ("rows", "BIGINT"), ("bytes", "BIGINT"), ("owner", "VARCHAR"), ("retention_time", "VARCHAR"),
    ("automatic_clustering", "VARCHAR"), ("change_tracking", "VARCHAR"), ("is_external", "VARCHAR"),
    ("owner_role_type", "VARCHAR"),
]  # fmt: skip
_VIEW_COLUMNS = [
    ("created_on", "TIMESTAMP WITH TIME ZONE"), ("name", "VARCHAR"), ("reserved", "VARCHAR"),
    ("database_name", "VARCHAR"), ("schema_name", "VARCHAR"), ("owner", "VARCHAR"), ("comment", "VARCHAR"),
    ("text", "VARCHAR"), ("is_secure", "VARCHAR"), ("is_materialized", "VARCHAR"), ("owner_role_type", "VARCHAR"),
    ("change_tracking", "VARCHAR"),
]  # fmt: skip


def _views(store: Store, command: ShowViews) -> list[tuple]:
    found = []
    for database in [command.database] if command.database else store.databases():
        # the CREATE VIEW as written (aidemo.local.storage.viewtexts); DuckDB's own text only for a view made before
        found += (
            store.cursor()
            .execute(
                "SELECT database_name, schema_name, view_name, coalesce(written, sql) FROM duckdb_views() "
                "LEFT JOIN (SELECT SCHEMA_NAME AS written_schema, VIEW_NAME AS written_view, TEXT AS written "
                f"FROM {quote(database)}.{META}.{VIEW_TEXTS}) "
                "ON written_schema = schema_name AND written_view = view_name "
                "WHERE database_name = ? AND NOT internal AND NOT temporary "
                "AND (? IS NULL OR schema_name = ?) ORDER BY 1, 2, 3",
                [database, command.schema, command.schema],
            )
            .fetchall()
        )
    return [
        (None, name, "", db, schema, ROLE, "", sql, "false", "false", "ROLE", "OFF") for db, schema, name, sql in found
    ]


_SEQUENCE_COLUMNS = [
    ("created_on", "TIMESTAMP WITH TIME ZONE"), ("name", "VARCHAR"), ("schema_name", "VARCHAR"),
    ("database_name", "VARCHAR"), ("next_value", "BIGINT"), ("interval", "BIGINT"), ("owner", "VARCHAR"),
    ("owner_role_type", "VARCHAR"), ("comment", "VARCHAR"), ("ordered", "VARCHAR"),
]  # fmt: skip


def sequences(store: Store, command: ShowSequences) -> Result:
    """SHOW SEQUENCES: Snowflake's columns and no rows, as CREATE SEQUENCE is refused (the sequences
    behind identity columns are the service's, and Snowflake does not list those either)."""
    _known(store, command.database, command.schema)
    return Result(list(_SEQUENCE_COLUMNS), [])


_COLUMN_COLUMNS = [
    ("table_name", "VARCHAR"), ("schema_name", "VARCHAR"), ("column_name", "VARCHAR"), ("data_type", "VARCHAR"),
    ("null?", "VARCHAR"), ("default", "VARCHAR"), ("kind", "VARCHAR"), ("expression", "VARCHAR"),
    ("comment", "VARCHAR"), ("database_name", "VARCHAR"), ("autoincrement", "VARCHAR"),
]  # fmt: skip
_DESCRIBE_COLUMNS = [
    ("name", "VARCHAR"), ("type", "VARCHAR"), ("kind", "VARCHAR"), ("null?", "VARCHAR"), ("default", "VARCHAR"),
    ("primary key", "VARCHAR"), ("unique key", "VARCHAR"), ("check", "VARCHAR"), ("expression", "VARCHAR"),
    ("comment", "VARCHAR"), ("policy name", "VARCHAR"), ("privacy domain", "VARCHAR"),
]  # fmt: skip


def describe_table(store: Store, command: DescribeTable) -> Result:
    """DESCRIBE TABLE (of a table or a view, as Snowflake's) and DESCRIBE VIEW: each column with its
    Snowflake type (NUMBER(38,0), VARCHAR(10), ...)."""
    table = store.find_table(command.database, command.schema, command.name, views=True)
    if table is None:
        raise SqlError(f"Table '{command.database}.{command.schema}.{command.name}' does not exist or not authorized.")
    keys = store.key_kinds(command.database, command.schema, table)
    rows = [
        (
            c.name,
            c.declared,
            "COLUMN",
            "Y" if c.nullable else "N",
            _default(c),
            _flag(PRIMARY in keys.get(c.name, ())),
            _flag(UNIQUE in keys.get(c.name, ())),
            None,
            None,
            None,
            None,
            None,
        )
        for c in store.table_columns(command.database, command.schema, table)
    ]
    return Result(list(_DESCRIBE_COLUMNS), rows)


def columns(store: Store, command: ShowColumns) -> Result:
    """SHOW COLUMNS of one table or of the tables in a scope; ``data_type`` as Snowflake's JSON."""
    _known(store, command.database, command.schema)
    rows = []
    for database, schema, table, _ in store.tables(command.database, command.schema):
        if command.table and table != command.table:
            continue
        for c in store.table_columns(database, schema, table):
            if like(c.name, command.like):
                data_type = json.dumps({"type": c.declared.split("(")[0], "nullable": c.nullable})
                rows.append(
                    (
                        table,
                        schema,
                        c.name,
                        data_type,
                        str(c.nullable).lower(),
                        "" if identity.described(c.default) else _default(c) or "",
                        "COLUMN",
                        "",
                        "",
                        database,
                        identity.described(c.default) or "",
                    )
                )
    if command.table and not rows and not store.find_table(command.database, command.schema, command.table):
        raise SqlError(f"Table '{command.database}.{command.schema}.{command.table}' does not exist or not authorized.")
    return Result(list(_COLUMN_COLUMNS), rows)


def _default(column: Column) -> str | None:
    """A DEFAULT in Snowflake's spelling (DuckDB writes CURRENT_TIMESTAMP without parentheses, an
    identity column's DEFAULT is the sequence of aidemo.local.storage.identity)."""
    default = column.default
    if identity.described(default):
        return identity.described(default)
    if default and default.upper() in ("CURRENT_TIMESTAMP", "CURRENT_DATE", "NOW()"):
        return "CURRENT_TIMESTAMP()" if default.upper() != "CURRENT_DATE" else "CURRENT_DATE()"
    return default


def _known(store: Store, database: str | None, schema: str | None = None) -> None:
    """Refuse a scope that names a database or schema that does not exist."""
    if database is not None and not store.has_database(database):
        raise SqlError(f"Database '{database}' does not exist or not authorized.")
    if database is not None and schema is not None and not store.has_schema(database, schema):
        raise SqlError(f"Schema '{database}.{schema}' does not exist or not authorized.")


def _from_ms(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC)


def like(name: str, pattern: str | None) -> bool:
    """Snowflake's SHOW ... LIKE: case-insensitive, % and _ wildcards."""
    if pattern is None:
        return True
    regex = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, name, re.IGNORECASE | re.DOTALL) is not None
