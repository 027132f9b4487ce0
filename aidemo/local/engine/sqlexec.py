"""Running Snowflake SQL in the local service: translated statements and service commands.

A script is translated whole before anything runs, so an unsupported or unparseable
statement fails without applying the statements before it. Each kind of command has its
handler in :data:`_HANDLERS`. Each statement's Result holds its columns (DuckDB
types) and rows, or the Arrow batches a query's rows stream in.
"""

from __future__ import annotations

import contextlib
import time

import duckdb
from sqlglot import exp

from aidemo.local.dialect import stagesql
from aidemo.local.dialect.ducksql import translate_with_sqlglot
from aidemo.local.dialect.sandbox import check_schemas
from aidemo.local.dialect.translate import translate_script
from aidemo.local.engine import coltypes, sessionsql
from aidemo.local.engine import resultset as rs
from aidemo.local.engine import sqlcommands as cmd
from aidemo.local.engine import sqlresults as listings
from aidemo.local.engine.sqlerrors import statement_error
from aidemo.local.engine.sqlresults import Result
from aidemo.local.engine.sqlsession import UNKNOWN_VARIABLE, Session, Variable, literal_of
from aidemo.local.engine.transactions import Transaction, conflict, result_of, streamed
from aidemo.local.errors import ServiceError, SnowflakeError, SqlError
from aidemo.local.storage import copyinto, unload
from aidemo.local.storage.catalog import PUBLIC, table_ref
from aidemo.local.storage.store import Store, quote
from aidemo.local.storage.tablekeys import show as show_keys

__all__ = ["Result", "Session", "end_session", "run_plan", "run_script"]


def run_script(store: Store, script: str, session: Session) -> list[Result]:
    """Translate every statement, then run them in order; one Result per statement (see :func:`run_plan`)."""
    with coltypes.reading(store):
        plan = translate_script(script, session=session)
    return run_plan(store, plan, session)


def run_plan(store: Store, plan: list[tuple[str, cmd.Translation]], session: Session) -> list[Result]:
    """Run translated statements in order in ``session``; one Result per statement.

    Outside a transaction, consecutive DuckDB statements (table DDL and DML, queries) that write
    to the same database run in one transaction: if one of them fails, none of them applies.
    Service commands (pipes, databases, schemas) apply one by one, as statements of a Snowflake
    multi-statement request do. Inside a transaction (BEGIN, or AUTOCOMMIT = FALSE), DML and
    queries run in it; DDL commits it first, as in Snowflake. USE, ALTER SESSION and SET update
    ``session`` when they run.
    """
    if not plan:
        raise SqlError("the SQL text holds no statement")
    results: list[Result] = []
    start = 0
    while start < len(plan):
        if session.transaction is not None and session.transaction.rolled_back:
            session.transaction = None  # a query's rows failed as they were read, and it ended
        end = start + 1
        statement, command = plan[start]
        if isinstance(command, cmd.DuckSql) and _autocommits(session, command):
            _commit(store, None, session)  # DDL commits the open transaction first
            written = {command.database} - {None}
            while end < len(plan) and isinstance(plan[end][1], cmd.DuckSql) and _autocommits(session, plan[end][1]):
                written.add(plan[end][1].database)
                if len(written - {None}) > 1:  # DuckDB writes to one database per transaction
                    break
                end += 1
            results.extend(_duck(store, plan[start:end]))
            for _, done in plan[start:end]:
                if done.temporary:
                    session.temporary_tables.append(done.temporary)
                if done.dropped in session.temporary_tables:
                    session.temporary_tables.remove(done.dropped)
                if done.dropped:
                    stagesql.table_dropped(store, *done.dropped)
        else:
            with _named(statement):
                results.append(_HANDLERS[type(command)](store, command, session))
        if end < len(plan) and results[-1].batches is not None:  # read before what follows changes rows
            results[-1] = _fetched(results[-1])
        start = end
    return results


def _fetched(result: Result) -> Result:
    """A Result with all its rows read."""
    if result.batches is None:
        return result
    return Result(result.columns, [r for b in result.batches for r in rs.batch_rows(b)], result.message)


def end_session(store: Store, session: Session) -> None:
    """A session ends: its open transaction is rolled back, its temporary tables and stages dropped."""
    _rollback(store, None, session)
    for database, schema, table in session.temporary_tables:
        if store.find_table(database, schema, table) == table:
            ref = table_ref(database, schema, table)
            drop = cmd.DuckSql(f"DROP TABLE {ref}", False, database, dropped=(database, schema, table))
            _duck(store, [("DROP TABLE", drop)])
    session.temporary_tables.clear()
    stagesql.end_session(store, session)


def _autocommits(session: Session, command: cmd.DuckSql) -> bool:
    return command.is_ddl or (session.transaction is None and session.autocommit)


@contextlib.contextmanager
def _named(statement: str):
    """Errors of running a statement as SqlError naming the statement."""
    try:
        yield
    except duckdb.Error as exc:
        if locked := conflict(exc):
            raise SnowflakeError(locked[0], f"{_short(statement)}: {locked[1]}") from exc
        raise statement_error(_short(statement), exc) from exc
    except (SqlError, ServiceError) as exc:
        raise SqlError(f"{_short(statement)}: {exc}") from exc


def _in_transaction(store: Store, command: cmd.DuckSql, session: Session) -> Result:
    """A statement of the session's transaction (with AUTOCOMMIT = FALSE, the first one opens it)."""
    check_schemas(store, command.schemas)
    if session.transaction is None:
        session.transaction = Transaction(store)
    transaction = session.transaction
    try:
        return transaction.run(command)
    finally:
        if transaction.rolled_back:  # a failed statement ended it
            session.transaction = None


def _begin(store: Store, command: cmd.Begin, session: Session) -> Result:
    if session.transaction is None:
        session.transaction = Transaction(store)
    return Result(message="Statement executed successfully.")


def _commit(store: Store, command: cmd.Commit | None, session: Session) -> Result:
    transaction, session.transaction = session.transaction, None
    if transaction is not None:
        transaction.commit()
    return Result(message="Statement executed successfully.")


def _rollback(store: Store, command: cmd.Rollback | None, session: Session) -> Result:
    transaction, session.transaction = session.transaction, None
    if transaction is not None:
        transaction.rollback()
    return Result(message="Statement executed successfully.")


def _alter_session(store: Store, command: cmd.AlterSession, session: Session) -> Result:
    for name, value in command.settings:
        session.set_parameter(name, value)
        if name == "AUTOCOMMIT" and session.autocommit:
            _commit(store, None, session)  # turning autocommit on commits what is open
    return Result(message="Statement executed successfully.")


def _set_variables(store: Store, command: cmd.SetVariables, session: Session) -> Result:
    """SET: each expression evaluated now, kept as the literal of its value."""
    values = []
    for expression in command.values:
        select = translate_with_sqlglot(exp.select(expression.copy()), "SET", session)
        if session.transaction is not None:  # sees the transaction's own rows
            result = _fetched(_in_transaction(store, select, session))
        else:
            result = result_of(store.cursor().execute(select.sql))
        values.append(literal_of(result.rows[0][0]))
    now = time.time()
    for name, (literal, kind) in zip(command.names, values):
        session.variables[name] = Variable(literal, kind, now)
    return Result(message="Statement executed successfully.")


def _unset_variables(store: Store, command: cmd.UnsetVariables, session: Session) -> Result:
    for name in command.names:
        if session.variables.pop(name, None) is None:
            raise SnowflakeError(UNKNOWN_VARIABLE, f"Session variable '${name}' does not exist")
    return Result(message="Statement executed successfully.")


def _use_role(store: Store, command: cmd.UseRole, session: Session) -> Result:
    session.role = command.name
    return Result(message="Statement executed successfully.")


def _use_warehouse(store: Store, command: cmd.UseWarehouse, session: Session) -> Result:
    session.warehouse = command.name
    return Result(message="Statement executed successfully.")


def _create_database(store: Store, command: cmd.CreateDatabase, session: Session) -> Result:
    created = store.create_database(command.name, command.if_not_exists, command.or_replace)
    if not created:
        return Result(message=f"{command.name} already exists, statement succeeded.")
    session.database, session.schema = command.context(session.database, session.schema)
    return Result(message=f"Database {command.name} successfully created.")


def _drop_database(store: Store, command: cmd.DropDatabase, session: Session) -> Result:
    if not store.drop_database(command.name) and not command.if_exists:
        raise SqlError(f"Database '{command.name}' does not exist or not authorized.")
    if session.database == command.name:
        session.database = session.schema = None
    return _dropped(command.name)


def _drop_schema(store: Store, command: cmd.DropSchema, session: Session) -> Result:
    if not store.drop_schema(command.database, command.name) and not command.if_exists:
        raise SqlError(f"Schema '{command.database}.{command.name}' does not exist or not authorized.")
    if (session.database, session.schema) == (command.database, command.name):
        session.schema = None
    return _dropped(command.name)


def _drop_pipe(store: Store, command: cmd.DropPipe, session: Session) -> Result:
    found = store.drop_pipe(command.database, command.schema, command.name)
    if not found and not command.if_exists:
        raise SqlError(f"Pipe '{command.database}.{command.schema}.{command.name}' does not exist or not authorized.")
    return _dropped(command.name)


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
    for _, command in block:
        check_schemas(store, command.schemas)
    if len(block) == 1 and block[0][1].returns_rows:
        statement, command = block[0]
        with _named(statement):
            return [streamed(store.cursor().sql(command.sql), lambda: _named(statement))]
    results = []
    with store.writing() as w:
        w.execute("BEGIN")
        try:
            for statement, command in block:
                with _named(statement):
                    if command.sql:  # (an ALTER TABLE that changes only keys may have nothing for DuckDB)
                        w.execute(command.sql)
                    results.append(result_of(w) if command.sql else Result())
                    if command.keys:  # a CREATE TABLE: its keys, and no sequence of a table it replaced
                        w.execute(command.keys)
                        store.drop_unused_sequences(w, command.database)
                    if command.dropped and store.has_database(command.dropped[0]):
                        store.forget_table(w, *command.dropped)  # its pipes and channels go with it
            w.execute("COMMIT")
        except BaseException:
            w.execute("ROLLBACK")
            raise
    return results


def _create_schema(store: Store, command: cmd.CreateSchema, session: Session) -> Result:
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
    session.database, session.schema = command.context(session.database, session.schema)
    return Result(message=f"Schema {command.name} successfully created.")


def _create_pipe(store: Store, command: cmd.CreatePipe, session: Session) -> Result:
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


def _show_page(store: Store, command: cmd.ShowPage, session: Session) -> Result:
    """The rows of a SHOW whose name starts so, from ``start`` on (names in order), at most ``limit``."""
    result = _HANDLERS[type(command.listing)](store, command.listing, session)
    names = [name for name, _ in result.columns]
    key = next((i for i, name in enumerate(names) if name in ("name", "key", "column_name")), 0)
    rows = sorted(result.rows, key=lambda r: str(r[key]))  # LIMIT ... FROM pages through names in order
    rows = [r for r in rows if command.starts_with is None or str(r[key]).startswith(command.starts_with)]
    if command.start is not None:
        rows = [r for r in rows if str(r[key]) >= command.start]
    return Result(result.columns, rows[: command.limit] if command.limit is not None else rows)


def _objects(store: Store, command, session: Session) -> Result:
    return listings.objects(store, command, (session.database, session.schema))


def _listing(function):
    """A handler for a listing that needs only the store and the command."""
    return lambda store, command, session: function(store, command)


_HANDLERS = {
    cmd.UseContext: _use, cmd.UseRole: _use_role, cmd.UseWarehouse: _use_warehouse,
    cmd.NoOp: lambda store, command, session: Result(message=command.reason),
    cmd.CreateDatabase: _create_database, cmd.DropDatabase: _drop_database,
    cmd.CreateSchema: _create_schema, cmd.DropSchema: _drop_schema,
    cmd.CreatePipe: _create_pipe, cmd.DropPipe: _drop_pipe,
    cmd.ShowPipes: _listing(listings.pipes), cmd.DescribePipe: _listing(listings.pipes),
    cmd.ShowChannels: _listing(listings.channels), cmd.ShowTables: _objects, cmd.ShowSchemas: _objects,
    cmd.ShowDatabases: _objects, cmd.ShowViews: _objects, cmd.DescribeTable: _listing(listings.describe_table),
    cmd.ShowColumns: _listing(listings.columns), cmd.ShowKeys: _listing(show_keys),
    cmd.ShowSequences: _listing(listings.sequences),
    cmd.ShowSession: lambda store, command, session: sessionsql.show(session, command.what, command.like),
    cmd.ShowPage: _show_page, cmd.Begin: _begin, cmd.Commit: _commit, cmd.Rollback: _rollback,
    cmd.AlterSession: _alter_session, cmd.SetVariables: _set_variables, cmd.UnsetVariables: _unset_variables,
    cmd.DuckSql: _in_transaction, **stagesql.HANDLERS, copyinto.CopyInto: copyinto.run,
    copyinto.InferSchema: copyinto.run_infer, unload.UnloadInto: unload.run,
}  # fmt: skip


def _short(statement: str, limit: int = 80) -> str:
    text = " ".join(statement.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
