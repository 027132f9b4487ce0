"""Running a query-request's statement in a connector session, answered as Snowflake does.

One statement per request (``execute_string`` sends each on its own); bind variables are
substituted first (:mod:`aidemo.local.http.binds`); results and DML counts are encoded by
:mod:`aidemo.local.engine.results` (Arrow or JSON, inline or in chunks); errors become Snowflake's
codes (:mod:`aidemo.local.engine.sqlerrors`).
"""

from __future__ import annotations

import logging
import uuid

import sqlglot
from sqlglot import exp

from aidemo.local.dialect.sqltokens import too_deep
from aidemo.local.dialect.translate import statements, translate_script
from aidemo.local.engine import coltypes, results, sqlexec
from aidemo.local.engine import resultset as rs
from aidemo.local.engine import sqlcommands as cmd
from aidemo.local.engine.chunks import ResultChunks
from aidemo.local.engine.sqlerrors import snowflake_error
from aidemo.local.engine.sqlresults import Result
from aidemo.local.engine.sqlsession import Session
from aidemo.local.errors import BindError, ConnectorError, QueryFailed
from aidemo.local.http import binds, filetransfer
from aidemo.local.http.sessions import INTERNAL_ERROR, ConnectorSession

log = logging.getLogger("aidemo.local.http.connector")


def run_query(store, session: ConnectorSession, body: dict, chunks: ResultChunks, query_id: str = "") -> dict:
    """Run one query-request's statement in the session; the reply's ``data`` (its large result in ``chunks``)."""
    query_id = query_id or str(uuid.uuid4())
    sql = body["sqlText"]
    describe = bool(body.get("describeOnly"))
    try:
        split = _split(sql)
        _check_request(body, 1 if split is None else len(split))
        tokens = split[0][1] if split else None
        bound = binds.substitute(sql, body.get("bindings"), missing_as_null=describe, tokens=tokens)
        with session.lock:
            with coltypes.reading(store):
                script = ";\n".join(bound)
                plan = translate_script(script, session=session.sql, split=split if bound == [sql] else None)
            kind = plan[-1][1].kind if plan else cmd.SELECT
            if plan and isinstance(plan[-1][1], filetransfer.TRANSFERS) and not describe:
                rows, stats = filetransfer.reply(store, plan[-1][1], session.sql, chunks.base_url), None
            else:
                result, stats = _execute(store, session, kind, plan, describe)
                wanted = results.result_format(body.get("parameters") or {}, session.sql)
                wanted = wanted if session.reads_arrow else "json"
                rows = results.reply_rows(result, wanted, chunks)
    except ConnectorError as exc:
        raise QueryFailed(exc.code, exc.sql_state or "42000", exc.message, query_id) from None
    except BindError as exc:
        raise QueryFailed("002049", "42601", f"SQL compilation error: {exc}", query_id) from None
    except (sqlexec.SqlError, RecursionError) as exc:
        code, state, message = snowflake_error(too_deep(sql) if isinstance(exc, RecursionError) else exc)
        raise QueryFailed(code, state, message, query_id) from None
    except Exception:
        # A fault of the service, not of the statement: Snowflake's internal error, which the
        # connector raises at once (an HTTP 500 would have it retry the statement for minutes).
        log.exception("query %s failed inside the local service", query_id)
        raise QueryFailed("000603", "XX000", INTERNAL_ERROR, query_id) from None
    data = {
        "queryId": query_id,
        **rows,
        "statementTypeId": kind,
        "version": 1,
        "finalDatabaseName": session.sql.database,
        "finalSchemaName": session.sql.schema,
        "finalWarehouseName": session.warehouse,
        "finalRoleName": session.role,
        "numberOfBinds": len(body.get("bindings") or {}),
        # 5.x's executemany asks first (describe-only) and sends all rows at once when true.
        "arrayBindSupported": kind == cmd.INSERT,
        "parameters": session_parameters(session.sql, _changed(plan)),
        "queryContext": {"entries": []},
    }
    if stats:
        data["stats"] = stats
    return data


def result_scan(sql: str) -> str | None:
    """The query id that ``SELECT * FROM TABLE(RESULT_SCAN('<id>'))`` reads (connector 4.x's
    get_results_from_sfqid fetches a finished query's result so), else None: that shape only."""
    if "result_scan" not in sql.lower():
        return None
    try:
        tree = sqlglot.parse_one(sql, read="snowflake")
    except sqlglot.errors.SqlglotError:
        return None
    used = {key for key, value in tree.args.items() if value}
    source = tree.args.get("from_") or tree.args.get("from")
    if not isinstance(tree, exp.Select) or used != {"expressions", "from_" if "from_" in used else "from"}:
        return None
    if len(tree.expressions) != 1 or not isinstance(tree.expressions[0], exp.Star):
        return None
    call = source.this.this if isinstance(source.this, exp.TableFromRows) else None
    if not isinstance(call, exp.Anonymous) or call.name.lower() != "result_scan" or len(call.expressions) != 1:
        return None
    argument = call.expressions[0]
    return argument.name if isinstance(argument, exp.Literal) and argument.is_string else None


def _split(sql: str) -> list | None:
    """The statements of the text with their tokens (made once for the whole request), or None for
    text that is one statement and holds no bind variable (a bulk INSERT is then never tokenized)."""
    if sql.strip() and not any(mark in sql for mark in (";", "--", "/*", "//", "?", ":")):
        return None
    return statements(sql)


def _check_request(body: dict, count: int) -> None:
    """Refuse what the local service does not run: many statements in one request."""
    if count == 0:
        raise ConnectorError("000900", "SQL compilation error:\nEmpty SQL statement.", "42000")
    wanted = (body.get("parameters") or {}).get("MULTI_STATEMENT_COUNT", 1)
    if count > 1 and str(wanted) != "1":
        raise ConnectorError(
            "000002",
            "Unsupported feature: the local service runs one statement per "
            "request; send them one by one (execute_string does).",
            "0A000",
        )
    if count > 1:
        raise ConnectorError(
            "000008",
            f"Actual statement count {count} did not match the desired statement count 1.",
            "0A000",
        )


def session_parameters(session: Session, names) -> list[dict]:
    """The reply's ``parameters``: the values of ``names`` in the session (the connector keeps them)."""
    return [{"name": name, "value": session.parameter(name)} for name in names]


def _changed(plan: list) -> list[str]:
    """The parameters that ALTER SESSION statements of the plan set or unset."""
    return [name for _, command in plan if isinstance(command, cmd.AlterSession) for name, _ in command.settings]


def _merge_counts(clauses: tuple[str, ...], result: Result) -> Result:
    """Snowflake's answer to MERGE: the rows inserted, updated and deleted, a column per kind of clause."""
    actions = [action for (action,) in result.rows]
    names = {"INSERT": "inserted", "UPDATE": "updated", "DELETE": "deleted"}
    columns = [(f"number of rows {names[kind]}", "BIGINT") for kind in clauses]
    return Result(columns, [tuple(actions.count(kind) for kind in clauses)])


def _execute(store, session: ConnectorSession, kind: int, plan: list, describe: bool):
    """(Result, stats) of a statement (one per bound row), as Snowflake answers it."""
    if describe and not rs.returns_rows(kind):
        if kind in rs.DML_COLUMNS:
            columns, _, _ = rs.dml_result(kind, 0)
            return Result(columns), None
        return Result([("status", "VARCHAR")]), None
    result, stats = answer(kind, plan[-1][1], sqlexec.run_plan(store, plan, session.sql))
    return (Result(result.columns) if describe else result), stats


def answer(kind: int, command: cmd.Translation, results: list[Result]) -> tuple[Result, dict | None]:
    """(Result, stats) as Snowflake answers a statement of ``kind`` that ran as ``results`` (one per
    bound row): DML as its counts, MERGE as its counts per clause, other commands as their status."""
    if kind in rs.DML_COLUMNS:
        count = sum(int(r.rows[0][0]) for r in results if r.rows)
        columns, rows, stats = rs.dml_result(kind, count)
        return Result(columns, rows), stats
    result = results[-1]
    if kind == cmd.MERGE and command.merge:
        return _merge_counts(command.merge, result), None
    if rs.returns_rows(kind) or kind == cmd.MERGE:
        return result, None
    return Result([("status", "VARCHAR")], [(result.message,)]), None
