"""Snowflake's SQL API v2 in the local service: the routes of ``/api/v2/statements``.

``POST /api/v2/statements`` submits a request's SQL (bind variables in ``bindings``; several
statements when the MULTI_STATEMENT_COUNT parameter allows them). It answers 200 with the
result when the statement ends within :data:`SYNC_WAIT_S`, else (and at once with
``async=true``) 202 with the statement's handle. ``GET /api/v2/statements/{handle}`` answers 202
while the statement runs, then its result, one partition at a time (``?partition=N``); ``POST
.../cancel`` stops it. Failures answer Snowflake's error body (code, message, sqlState,
statementHandle) with the documented status: 400 for a malformed request, 404 for an unknown
handle, 408 for a statement past its timeout, 422 for one that failed or was canceled, 429 when
too many run at once. Callers authenticate with a key-pair JWT (``KEYPAIR_JWT``).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import threading
from dataclasses import dataclass

import duckdb
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from aidemo.local.dialect.sqltokens import too_deep
from aidemo.local.dialect.translate import statements as split_statements
from aidemo.local.dialect.translate import translate_script
from aidemo.local.engine import coltypes, sqlexec
from aidemo.local.engine.sqlerrors import snowflake_error
from aidemo.local.engine.sqlresults import Result
from aidemo.local.engine.sqlsession import PARAMETERS
from aidemo.local.errors import BindError, ServiceError, SqlError, StatementError
from aidemo.local.http import binds
from aidemo.local.http.auth import KEYPAIR_JWT, endpoint
from aidemo.local.http.queries import answer
from aidemo.local.http.replies import field, read_json
from aidemo.local.http.state import state_of
from aidemo.local.http.statements import (
    CANCELED,
    NOT_EXECUTING,
    Statement,
    Statements,
    canceled,
    failure_body,
    internal_error,
    set_result,
)

SYNC_WAIT_S = 45.0  # how long a request without async=true waits for its statement
CANCEL_WAIT_S = 10.0  # how long a cancel waits for the statement to stop
MAX_TIMEOUT_S = 604_800  # a timeout of 0 means the longest Snowflake allows (7 days)
MULTIPLE = "Multiple statements executed successfully."
#: What a statement can fail with; anything else is a fault of the service (Snowflake's internal error).
KNOWN = (SqlError, StatementError, BindError, duckdb.Error, RecursionError, ValueError)


@dataclass(frozen=True)
class Submitted:
    """A request's statement and what it runs with, checked."""

    sql: str
    bindings: dict | None
    database: str | None
    schema: str | None
    role: str | None
    warehouse: str | None
    parameters: dict
    timeout_s: int | None
    nullable: bool


def parse(body: dict, nullable: bool) -> Submitted:
    """The body (``statement``, ``bindings``, context, ``parameters``, ``timeout``) checked; 400 if malformed."""
    sql = field(body, "statement", str, "")
    if not sql.strip():
        raise ServiceError(400, "000001", 'body must hold a non-empty "statement"')
    names = {name: field(body, name, str) for name in ("database", "schema", "role", "warehouse")}
    timeout = field(body, "timeout", int)
    if timeout is not None and not 0 <= timeout <= MAX_TIMEOUT_S:
        raise ServiceError(400, "000001", f"'timeout' must be 0 to {MAX_TIMEOUT_S} seconds, got {timeout}")
    parameters = {str(k).upper(): str(v) for k, v in field(body, "parameters", dict, {}).items()}
    bindings = field(body, "bindings", dict)
    if bindings is not None and not all(isinstance(b, dict) for b in bindings.values()):
        raise ServiceError(400, "000001", '"bindings" must map "1", "2", ... to {"type": ..., "value": ...}')
    return Submitted(sql, bindings, **names, parameters=parameters, timeout_s=timeout, nullable=nullable)


def _answering(handler):
    """A route whose StatementError becomes the documented error body (with its SQLSTATE)."""

    @functools.wraps(handler)
    async def route(request: Request, principal) -> Response:
        try:
            return await handler(request, principal)
        except StatementError as exc:
            return JSONResponse(failure_body(exc), status_code=exc.status)

    return route


@endpoint(KEYPAIR_JWT)  # an ingest-scoped (OAUTH) token cannot run SQL
@_answering
async def submit(request: Request, principal) -> Response:
    """``POST /api/v2/statements``: run the body's SQL; its result, or its handle while it runs."""
    state, q = state_of(request), request.query_params
    submitted = parse(await read_json(request), q.get("nullable", "true").lower() != "false")
    run = functools.partial(_execute, state.store, state.statements, principal, submitted)
    retry = q.get("retry", "").lower() == "true"
    statement, _ = state.statements.submit(principal.user, q.get("requestId"), retry, run)
    if q.get("async", "").lower() == "true":
        return _reply(statement.accepted())
    await statement.wait(SYNC_WAIT_S)
    return _reply(statement.reply())


@endpoint(KEYPAIR_JWT)
@_answering
async def status(request: Request, principal) -> Response:
    """``GET /api/v2/statements/{handle}``: 202 while it runs, then one partition of its result."""
    statement = state_of(request).statements.find(request.path_params["handle"], principal.user)
    partition = request.query_params.get("partition", "0")
    if not partition.isdigit():
        raise StatementError(400, "000001", "22023", f"'partition' must be a partition number, got {partition!r}")
    return _reply(statement.reply(int(partition)))


@endpoint(KEYPAIR_JWT)
@_answering
async def cancel(request: Request, principal) -> Response:
    """``POST /api/v2/statements/{handle}/cancel``: the statement stops."""
    statement = state_of(request).statements.find(request.path_params["handle"], principal.user)
    if statement.done.is_set():
        code, message = NOT_EXECUTING
        raise StatementError(422, code, "57014", message)
    statement.switch.cancel()
    await statement.wait(CANCEL_WAIT_S)
    code, state, message = CANCELED
    return JSONResponse({"code": code, "sqlState": state, "message": message, **statement.status()})


def _reply(answer: tuple[int, bytes, dict]) -> Response:
    status, body, headers = answer
    return Response(body, status_code=status, headers=headers, media_type="application/json")


def _execute(store, statements: Statements, principal, submitted: Submitted, statement: Statement) -> None:
    """Run a request's statements in a session of its own, under the statement's switch and timeout."""
    timer = threading.Timer(_timeout(submitted) or MAX_TIMEOUT_S, statement.switch.cancel, ("timeout",))
    timer.daemon = True
    timer.start()
    try:
        with statement.switch.running():
            identity = {
                "user": principal.user,
                "role": submitted.role or principal.role,
                "warehouse": submitted.warehouse,
            }
            session = sqlexec.Session.named(submitted.database or store.database, submitted.schema,
                                            **{k: v for k, v in identity.items() if v})  # fmt: skip
            try:
                _run(store, statements, statement, submitted, session)
            finally:
                sqlexec.end_session(store, session)  # what a request leaves open ends with it
    except KNOWN as exc:
        statement.error = _failure(statement, submitted, exc)
    finally:
        timer.cancel()


def _run(store, statements: Statements, statement: Statement, submitted: Submitted, session) -> None:
    """Translate the whole request, then run it statement by statement, each result kept as it ends."""
    count = len(split_statements(submitted.sql))
    wanted = submitted.parameters.get("MULTI_STATEMENT_COUNT", "1")
    if not wanted.isdigit():
        raise StatementError(400, "000001", "22023", f"MULTI_STATEMENT_COUNT must be a number, got {wanted!r}")
    if wanted != "0" and count != int(wanted):
        message = f"Actual statement count {count} did not match the desired statement count {wanted}."
        raise StatementError(422, "000008", "0A000", message)
    for name, value in submitted.parameters.items():
        if name in PARAMETERS and name != "MULTI_STATEMENT_COUNT":
            session.set_parameter(name, value)
    bound = binds.substitute(submitted.sql, api_bindings(submitted.bindings))
    with coltypes.reading(store):
        plan = translate_script(";\n".join(bound), session=session)
    if count == 1:  # one statement (or one per row of array binds): its answer sums their counts
        result, stats = answer(plan[-1][1].kind, plan[-1][1], sqlexec.run_plan(store, plan, session))
        set_result(statement, result, stats, submitted.nullable)
        return
    children = [statements.child(statement) for _ in plan]
    for child, step in zip(children, plan):
        try:  # one by one: a query's rows are read before the next statement changes them
            result, stats = answer(step[1].kind, step[1], sqlexec.run_plan(store, [step], session))
            set_result(child, result, stats, submitted.nullable)
        except Exception as exc:
            child.error = _failure(child, submitted, exc) if isinstance(exc, KNOWN) else internal_error()
            raise
        finally:
            child.finish()
    set_result(statement, Result([("multiple statement execution", "VARCHAR")], [(MULTIPLE,)]), None)
    statement.head["statementHandles"] = [child.handle for child in children]


def _timeout(submitted: Submitted) -> int:
    """The request's timeout in seconds (0 for the longest): its own, else STATEMENT_TIMEOUT_IN_SECONDS."""
    if submitted.timeout_s is not None:
        return submitted.timeout_s
    default = PARAMETERS["STATEMENT_TIMEOUT_IN_SECONDS"][0]
    value = submitted.parameters.get("STATEMENT_TIMEOUT_IN_SECONDS", default)
    return int(value) if value.isdigit() else int(default)


def _failure(statement: Statement, submitted: Submitted, exc: Exception) -> StatementError:
    """The error of a statement that failed: stopped by its switch, refused, or Snowflake's SQL error."""
    if statement.switch.reason is not None:
        return canceled(statement.switch.reason, _timeout(submitted))
    if isinstance(exc, StatementError):
        return exc
    if isinstance(exc, BindError):
        return StatementError(422, "002049", "42601", f"SQL compilation error: {exc}")
    code, state, message = snowflake_error(too_deep(submitted.sql) if isinstance(exc, RecursionError) else exc)
    return StatementError(422, code, state, message)


# ---- bind variables ------------------------------------------------------------------------

_EPOCH = dt.datetime(1970, 1, 1)
_INTEGER = re.compile(r"-?\d+( -?\d+)?")
_DATETIMES = ("DATE", "TIME", "TIMESTAMP", "TIMESTAMP_NTZ", "TIMESTAMP_LTZ", "TIMESTAMP_TZ")


def api_bindings(bindings: dict | None) -> dict | None:
    """The SQL API's ``bindings`` in the connector's form: dates, times and timestamps given as ISO
    text (``2024-01-02``, ``13:45:00.5``, ``2024-01-02T13:45:00+02:00``) become epoch counts."""
    if bindings is None:
        return None
    converted = {}
    for key, binding in bindings.items():
        kind, value = str(binding.get("type") or "TEXT").upper(), binding.get("value")
        if kind in _DATETIMES:
            value = [_epoch(kind, v) for v in value] if isinstance(value, list) else _epoch(kind, value)
        converted[key] = {**binding, "type": kind, "value": value}
    return converted


def _epoch(kind: str, value):
    """One date, time or timestamp value as the connector sends it (epoch ms for dates, else ns)."""
    if not isinstance(value, str) or _INTEGER.fullmatch(value.strip()):
        return value
    try:
        if kind == "DATE":
            return str((dt.date.fromisoformat(value.strip()) - _EPOCH.date()).days * 86_400_000)
        if kind == "TIME":
            at = dt.time.fromisoformat(value.strip())
            return str(_nanos(dt.datetime.combine(_EPOCH.date(), at) - _EPOCH))
        at = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise BindError(f"bound value {value!r} is not a valid {kind}") from None
    if at.tzinfo is None:
        return str(_nanos(at - _EPOCH))
    nanos = _nanos(at.astimezone(dt.UTC).replace(tzinfo=None) - _EPOCH)
    if kind == "TIMESTAMP_TZ":
        return f"{nanos} {int(at.utcoffset().total_seconds()) // 60 + 1440}"
    return str(nanos)


def _nanos(delta: dt.timedelta) -> int:
    return ((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds) * 1000
