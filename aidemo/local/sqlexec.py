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
from dataclasses import dataclass

import duckdb

from aidemo.local import sqlcommands as cmd
from aidemo.local import sqlresults as listings
from aidemo.local.catalog import INTEGER_TYPES, PUBLIC
from aidemo.local.errors import SqlError
from aidemo.local.sqlerrors import statement_error
from aidemo.local.sqlresults import Result
from aidemo.local.store import ServiceError, Store, normalize, quote
from aidemo.local.translate import translate_script

__all__ = ["Result", "Session", "run_script", "to_reply"]


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

    Consecutive DuckDB statements (table DDL and DML, queries) that write to the same
    database run in one transaction: if one of them fails, none of them applies. Service
    commands (pipes, databases, schemas) apply one by one, as statements of a Snowflake
    multi-statement request do. A USE statement updates ``session`` when it runs.
    """
    plan = translate_script(script, database=session.database, schema=session.schema)
    if not plan:
        raise SqlError("the SQL text holds no statement")
    results: list[Result] = []
    start = 0
    while start < len(plan):
        end = start + 1
        if isinstance(plan[start][1], cmd.DuckSql):
            written = {plan[start][1].database} - {None}
            while end < len(plan) and isinstance(plan[end][1], cmd.DuckSql):
                written.add(plan[end][1].database)
                if len(written - {None}) > 1:  # DuckDB writes to one database per transaction
                    break
                end += 1
            results.extend(_duck(store, plan[start:end]))
        else:
            statement, command = plan[start]
            with _named(statement):
                results.append(_run(store, command, session))
        start = end
    return results


@contextlib.contextmanager
def _named(statement: str):
    """Errors of running a statement as SqlError naming the statement."""
    try:
        yield
    except duckdb.Error as exc:
        raise statement_error(_short(statement), exc) from exc
    except (SqlError, ServiceError) as exc:
        raise SqlError(f"{_short(statement)}: {exc}") from exc


def _run(store: Store, command, session: Session) -> Result:
    if isinstance(command, cmd.UseContext):
        return _use(store, command, session)
    if isinstance(command, cmd.NoOp):
        return Result(message=command.reason)
    if isinstance(command, cmd.CreateDatabase):
        created = store.create_database(command.name, command.if_not_exists, command.or_replace)
        if not created:
            return Result(message=f"{command.name} already exists, statement succeeded.")
        session.database, session.schema = command.name, PUBLIC  # as Snowflake does
        return Result(message=f"Database {command.name} successfully created.")
    if isinstance(command, cmd.DropDatabase):
        if not store.drop_database(command.name) and not command.if_exists:
            raise SqlError(f"Database '{command.name}' does not exist or not authorized.")
        if session.database == command.name:
            session.database = session.schema = None
        return _dropped(command.name)
    if isinstance(command, cmd.CreateSchema):
        result = _create_schema(store, command)
        session.database, session.schema = (
            command.database,
            command.name,
        )  # as Snowflake does
        return result
    if isinstance(command, cmd.DropSchema):
        if not store.drop_schema(command.database, command.name) and not command.if_exists:
            raise SqlError(f"Schema '{command.database}.{command.name}' does not exist or not authorized.")
        if (session.database, session.schema) == (command.database, command.name):
            session.schema = None
        return _dropped(command.name)
    if isinstance(command, cmd.CreatePipe):
        return _create_pipe(store, command)
    if isinstance(command, cmd.DropPipe):
        found = store.drop_pipe(command.database, command.schema, command.name)
        if not found and not command.if_exists:
            raise SqlError(
                f"Pipe '{command.database}.{command.schema}.{command.name}' does not exist or not authorized."
            )
        return _dropped(command.name)
    if isinstance(command, (cmd.ShowPipes, cmd.DescribePipe)):
        return listings.pipes(store, command)
    if isinstance(command, cmd.ShowChannels):
        return listings.channels(store, command)
    if isinstance(command, (cmd.ShowTables, cmd.ShowSchemas, cmd.ShowDatabases)):
        return listings.objects(store, command)
    if isinstance(command, cmd.DescribeTable):
        return listings.describe_table(store, command)
    if isinstance(command, cmd.ShowColumns):
        return listings.columns(store, command)
    raise SqlError(f"the local service cannot run {type(command).__name__}")


def _use(store: Store, command: cmd.UseContext, session: Session) -> Result:
    if not store.has_database(command.database):
        raise SqlError(f"Database '{command.database}' does not exist or not authorized.")
    schema = command.schema
    if not store.has_schema(command.database, schema):
        if schema != PUBLIC:  # USE DATABASE picks PUBLIC, which a database may lack
            raise SqlError(f"Schema '{command.database}.{schema}' does not exist or not authorized.")
        schema = None
    session.database, session.schema = command.database, schema
    return Result(message="Statement executed successfully.")


def _dropped(name: str) -> Result:
    return Result([("status", "VARCHAR")], [(f"{name} successfully dropped.",)])


def _duck(store: Store, block: list[tuple[str, cmd.DuckSql]]) -> list[Result]:
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
                    if command.dropped and store.has_database(command.dropped[0]):
                        store.forget_table(w, *command.dropped)  # its pipes and channels go with it
            w.execute("COMMIT")
        except BaseException:
            w.execute("ROLLBACK")
            raise
    return results


def _result(cur: duckdb.DuckDBPyConnection) -> Result:
    if not cur.description:
        return Result()
    return Result([(d[0], str(d[1])) for d in cur.description], cur.fetchall())


def _create_schema(store: Store, command: cmd.CreateSchema) -> Result:
    if not store.has_database(command.database):
        raise SqlError(f"Database '{command.database}' does not exist or not authorized.")
    if store.has_schema(command.database, command.name):
        if command.if_not_exists:
            return Result(message=f"{command.name} already exists, statement succeeded.")
        if not command.or_replace:
            raise SqlError(f"Object '{command.database}.{command.name}' already exists.")
        store.drop_schema(command.database, command.name)
    with store.writing() as w:
        w.execute(f"CREATE SCHEMA {quote(command.database)}.{quote(command.name)}")
    return Result(message=f"Schema {command.name} successfully created.")


def _create_pipe(store: Store, command: cmd.CreatePipe) -> Result:
    if (command.table_database, command.table_schema) != (
        command.database,
        command.schema,
    ):
        raise SqlError("the local service needs a pipe and its table in the same schema")
    exists = any(p["name"] == command.name for p in store.list_pipes(command.database, command.schema))
    if exists and command.if_not_exists:
        return Result(message=f"{command.name} already exists, statement succeeded.")
    mapping = (
        [{"target": c.target, "source_key": c.source_key, "cast_type": c.cast_type} for c in command.columns]
        if command.columns
        else None
    )
    table = store.find_table(command.database, command.schema, command.table)
    if table is None:
        raise SqlError(f"Table '{command.database}.{command.schema}.{command.table}' does not exist or not authorized.")
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
    if duck in INTEGER_TYPES:
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


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _cell(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        delta = value - _EPOCH
        return f"{delta.days * 86400 + delta.seconds}.{delta.microseconds:06d}000"
    if isinstance(value, dt.date):
        return str((value - dt.date(1970, 1, 1)).days)
    if isinstance(value, (list, dict)):
        return json.dumps(value, default=str)
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    return str(value)
