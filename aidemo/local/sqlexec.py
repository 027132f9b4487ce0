"""Running Snowflake SQL in the local service: translated statements and service commands.

A script is translated whole before anything runs, so an unsupported or unparseable
statement fails without applying the statements before it. Results come back in the
shape of Snowflake's SQL API (``resultSetMetaData.rowType`` and string cells).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import json
import re
from dataclasses import dataclass, field

import duckdb

from aidemo.errors import SqlError
from aidemo.local import translate as t
from aidemo.local.home import ROLE
from aidemo.local.store import META, STREAMING_SUFFIX, Store, normalize, quote


@dataclass
class Result:
    """Columns (name, DuckDB type) and rows of one statement."""

    columns: list[tuple[str, str]] = field(default_factory=list)
    rows: list[tuple] = field(default_factory=list)
    message: str = "Statement executed successfully."


@dataclass
class Session:
    """The context of one SQL session: current database and schema, which USE statements set.

    A connector session keeps one for its lifetime; a SQL API request builds one from its body.
    """

    database: str | None = None
    schema: str | None = None

    @classmethod
    def named(cls, database, schema) -> Session:
        """A session in ``database.schema`` as a client names them (unquoted names upper-case)."""
        for what, value in (("database", database), ("schema", schema)):
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise SqlError(f"the {what} must be a name, not {value!r}")
        return cls(
            database and normalize(database.strip()),
            schema and normalize(schema.strip()),
        )


def run_script(store: Store, script: str, session: Session) -> list[Result]:
    """Translate every statement, then run them in order; one Result per statement.

    Consecutive DuckDB statements (table DDL and DML, queries) run in one transaction:
    if one of them fails, none of them applies. Service commands (pipes, databases,
    schemas) apply one by one, as statements of a Snowflake multi-statement request do.
    A USE statement updates ``session`` when it runs.
    """
    plan = t.translate_script(script, database=session.database, schema=session.schema)
    if not plan:
        raise SqlError("the SQL text holds no statement")
    results: list[Result] = []
    start = 0
    while start < len(plan):
        end = start + 1
        if isinstance(plan[start][1], t.DuckSql):
            while end < len(plan) and isinstance(plan[end][1], t.DuckSql):
                end += 1
            results.extend(_duck(store, plan[start:end]))
        else:
            statement, command = plan[start]
            with _named(statement):
                results.append(_run(store, command))
            if isinstance(command, t.UseContext):
                session.database, session.schema = command.database, command.schema
        start = end
    return results


@contextlib.contextmanager
def _named(statement: str):
    """Errors of running a statement as SqlError naming the statement."""
    try:
        yield
    except duckdb.Error as exc:
        raise SqlError(f"{_short(statement)}: {str(exc).splitlines()[0]}") from exc
    except SqlError as exc:
        raise SqlError(f"{_short(statement)}: {exc}") from exc


def _run(store: Store, command) -> Result:
    if isinstance(command, (t.UseContext, t.NoOp)):
        return Result(
            message=getattr(command, "reason", "Statement executed successfully.")
        )
    if isinstance(command, t.CreateDatabase):
        return _create_database(store, command)
    if isinstance(command, t.CreateSchema):
        return _create_schema(store, command)
    if isinstance(command, t.CreatePipe):
        return _create_pipe(store, command)
    if isinstance(command, t.DropPipe):
        found = store.drop_pipe(command.database, command.schema, command.name)
        if not found and not command.if_exists:
            raise SqlError(
                f"Pipe '{command.database}.{command.schema}.{command.name}' does not exist or not authorized."
            )
        return Result(
            [("status", "VARCHAR")], [(f"{command.name} successfully dropped.",)]
        )
    if isinstance(command, (t.ShowPipes, t.DescribePipe)):
        return _show_pipes(store, command)
    if isinstance(command, t.ShowChannels):
        return _show_channels(store, command)
    if isinstance(command, (t.ShowTables, t.ShowSchemas, t.ShowDatabases)):
        return _show_objects(store, command)
    raise SqlError(f"the local service cannot run {type(command).__name__}")


def _duck(store: Store, block: list[tuple[str, t.DuckSql]]) -> list[Result]:
    """Consecutive DuckDB statements, all or nothing; a lone query reads without the write lock."""
    if len(block) == 1 and block[0][1].returns_rows:
        statement, command = block[0]
        cur = store.cursor()
        with _named(statement):
            cur.execute(command.sql)
            return [_result(cur)]
    results = []
    with store.writing() as w:
        w.execute("BEGIN")
        try:
            for statement, command in block:
                with _named(statement):
                    w.execute(command.sql)
                    results.append(_result(w))
            if any(command.sql.startswith("DROP TABLE") for _, command in block):
                store.forget_default_pipes_of_dropped_tables(w)
            w.execute("COMMIT")
        except BaseException:
            w.execute("ROLLBACK")
            raise
    return results


def _result(cur: duckdb.DuckDBPyConnection) -> Result:
    if not cur.description:
        return Result()
    return Result([(d[0], str(d[1])) for d in cur.description], cur.fetchall())


def _create_database(store: Store, command: t.CreateDatabase) -> Result:
    if command.name.upper() != store.database.upper():
        raise SqlError(
            f"the local service holds one database, {store.database}; it cannot create {command.name}"
        )
    if command.or_replace:
        store.reset()
        return Result(message=f"Database {command.name} successfully created.")
    if not command.if_not_exists:
        raise SqlError(f"Object '{command.name}' already exists.")
    return Result(message=f"{command.name} already exists, statement succeeded.")


def _create_schema(store: Store, command: t.CreateSchema) -> Result:
    if command.database.upper() != store.database.upper():
        raise SqlError(
            f"Database '{command.database}' does not exist or not authorized."
        )
    if command.name.upper() == META:
        raise SqlError(f"schema name {META} is reserved by the local service")
    name = f"{quote(store.database)}.{quote(command.name)}"
    with store.writing() as w:
        if command.or_replace:
            w.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        w.execute(
            f"CREATE SCHEMA {'IF NOT EXISTS ' if command.if_not_exists else ''}{name}"
        )
    return Result(message=f"Schema {command.name} successfully created.")


def _create_pipe(store: Store, command: t.CreatePipe) -> Result:
    if (command.table_database, command.table_schema) != (
        command.database,
        command.schema,
    ):
        raise SqlError(
            "the local service needs a pipe and its table in the same schema"
        )
    exists = any(
        p["name"] == command.name
        for p in store.list_pipes(command.database, command.schema)
    )
    if exists and command.if_not_exists:
        return Result(message=f"{command.name} already exists, statement succeeded.")
    mapping = (
        [
            {"target": c.target, "source_key": c.source_key, "cast_type": c.cast_type}
            for c in command.columns
        ]
        if command.columns
        else None
    )
    table = store.find_table(command.database, command.schema, command.table)
    if table is None:
        raise SqlError(
            f"Table '{command.database}.{command.schema}.{command.table}' does not exist or not authorized."
        )
    store.create_pipe(
        command.database,
        command.schema,
        command.name,
        table,
        command.definition,
        mapping,
        command.or_replace,
    )
    return Result(message=f"Pipe {command.name} successfully created.")


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


def _show_pipes(store: Store, command) -> Result:
    pipes = store.list_pipes(command.database, command.schema)
    if isinstance(command, t.DescribePipe):
        pipes = [p for p in pipes if p["name"] == command.name]
        if not pipes:
            raise SqlError(
                f"Pipe '{command.database}.{command.schema}.{command.name}' does not exist or not authorized."
            )
    else:
        pipes = [p for p in pipes if _like(p["name"], command.like)]
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


def _show_channels(store: Store, command: t.ShowChannels) -> Result:
    tables = {
        (p["database_name"], p["schema_name"], p["name"]): p["table_name"]
        for p in store.list_pipes()
    }
    rows = []
    for c in store.list_channels(command.database, command.schema, command.pipe):
        pipe = c["pipe_name"]
        # A table's default pipe <TABLE>-STREAMING has no row of its own until it is tuned.
        table = tables.get(
            (c["database_name"], c["schema_name"], pipe)
        ) or pipe.removesuffix(STREAMING_SUFFIX)
        if command.table and table != command.table:
            continue
        if not _like(c["channel_name"], command.like):
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


def _show_objects(store: Store, command) -> Result:
    cur = store.cursor()
    if isinstance(command, t.ShowDatabases):
        rows = [(store.database,)]
        columns = [("name", "VARCHAR")]
    elif isinstance(command, t.ShowSchemas):
        rows = cur.execute(
            "SELECT schema_name, database_name FROM duckdb_schemas() WHERE database_name = ? "
            "AND schema_name NOT IN (?, 'main') ORDER BY 1",
            [store.database, META],
        ).fetchall()
        columns = [("name", "VARCHAR"), ("database_name", "VARCHAR")]
    else:
        rows = cur.execute(
            "SELECT table_name, database_name, schema_name, estimated_size FROM duckdb_tables() "
            "WHERE database_name = ? AND schema_name <> ? AND (? IS NULL OR schema_name = ?) ORDER BY 1",
            [store.database, META, command.schema, command.schema],
        ).fetchall()
        columns = [
            ("name", "VARCHAR"),
            ("database_name", "VARCHAR"),
            ("schema_name", "VARCHAR"),
            ("rows", "BIGINT"),
        ]
    return Result(columns, [r for r in rows if _like(r[0], command.like)])


def _from_ms(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc)


def _like(name: str, pattern: str | None) -> bool:
    """Snowflake's SHOW ... LIKE: case-insensitive, % and _ wildcards."""
    if pattern is None:
        return True
    regex = "".join(
        ".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern
    )
    return re.fullmatch(regex, name, re.IGNORECASE | re.DOTALL) is not None


def _short(statement: str, limit: int = 80) -> str:
    text = " ".join(statement.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---- the SQL API's reply shape -----------------------------------------------------------


def to_reply(result: Result, handle: str) -> dict:
    """Snowflake SQL API (jsonv2) reply: row types and string cells."""
    row_type = [_row_type(name, duck) for name, duck in result.columns]
    data = [[_cell(v) for v in row] for row in result.rows]
    return {
        "resultSetMetaData": {
            "numRows": len(data),
            "format": "jsonv2",
            "rowType": row_type,
        },
        "data": data,
        "code": "090001",
        "statementStatusUrl": f"/api/v2/statements/{handle}",
        "statementHandle": handle,
        "sqlState": "00000",
        "message": result.message,
    }


def _row_type(name: str, duck: str) -> dict:
    duck = duck.upper()
    meta = {"name": name, "nullable": True}
    if duck.startswith("DECIMAL"):
        precision, _, scale = duck[duck.index("(") + 1 : -1].partition(",")
        return meta | {
            "type": "fixed",
            "precision": int(precision),
            "scale": int(scale or 0),
        }
    if duck in (
        "BIGINT",
        "INTEGER",
        "SMALLINT",
        "TINYINT",
        "HUGEINT",
        "UBIGINT",
        "UINTEGER",
        "USMALLINT",
        "UTINYINT",
        "UHUGEINT",
    ):
        return meta | {"type": "fixed", "precision": 38, "scale": 0}
    if duck in ("DOUBLE", "FLOAT", "REAL"):
        return meta | {"type": "real"}
    if duck == "BOOLEAN":
        return meta | {"type": "boolean"}
    if duck == "DATE":
        return meta | {"type": "date"}
    if duck.startswith("TIMESTAMP WITH TIME ZONE") or duck == "TIMESTAMPTZ":
        return meta | {"type": "timestamp_tz"}
    if duck.startswith("TIMESTAMP"):
        return meta | {"type": "timestamp_ntz"}
    return meta | {"type": "text"}


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def _cell(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        delta = value - _EPOCH
        return f"{delta.days * 86400 + delta.seconds}.{delta.microseconds:06d}000"
    if isinstance(value, dt.date):
        return str((value - dt.date(1970, 1, 1)).days)
    if isinstance(value, (list, dict)):
        return json.dumps(value, default=str)
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    return str(value)
