"""The protocol of ``snowflake-connector-python``: login, queries and session upkeep.

Every reply is HTTP 200 with Snowflake's ``{"success": ..., "code": ..., "message": ...,
"data": ...}`` envelope, which both connector majors turn into their own errors. A login
presents a key-pair JWT (checked as for the SDK, see :mod:`aidemo.local.http.auth`) and gets a
session token and a master token; each session keeps its own database and schema, which
USE changes for that session only. An expired session token is answered with 390112, on
which the connector renews it with its master token; an expired master token makes the
connector log in again.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import threading
import time
import uuid
import zlib

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response

from aidemo.local.engine import sqlexec
from aidemo.local.engine.chunks import KEY_HEADER
from aidemo.local.engine.sqlsession import PARAMETERS
from aidemo.local.errors import ConnectorError, QueryFailed, ServiceError
from aidemo.local.http import auth
from aidemo.local.http.auth import session_token
from aidemo.local.http.queries import result_scan, run_query, session_parameters
from aidemo.local.http.sessions import INTERNAL_ERROR, QueryOutcome, result_of, small
from aidemo.local.http.state import ServiceState, state_of
from aidemo.local.process.home import ROLE
from aidemo.local.storage.store import normalize

log = logging.getLogger(__name__)

# Sent at login. Array binds always travel inline: 4.x's executemany reads the threshold and would
# otherwise upload them to Snowflake's SYSTEM$BIND stage, which the local service does not have.
SMALL_BODY_BYTES = 1 << 20  # a login or token request: a few KB of JSON however it is compressed
_GZIP = b"\x1f\x8b"
_PIECE = 1 << 16  # inflation's step
SESSION_PARAMETERS = [
    {"name": "TIMEZONE", "value": "UTC"},
    {"name": "CLIENT_SESSION_KEEP_ALIVE_HEARTBEAT_FREQUENCY", "value": 3600},
    {"name": "CLIENT_STAGE_ARRAY_BINDING_THRESHOLD", "value": 2**31 - 1},
]

CANCELED = ("000604", "57014", "SQL execution canceled")
RESULT_WAIT_S = 45.0  # how long a result call waits for a query that still runs
SQL_TEXT_KEPT = 10_000  # characters of a query's text its status shows

# What a chunk GET with a wrong or missing key, or after the chunk expired, gets (as from S3).
_ACCESS_DENIED = "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"


def snowflake(handler):
    """A connector route: ``handler(request, state)``'s data in Snowflake's envelope, its
    ConnectorError as a failed reply, and any fault of the service as Snowflake's internal error
    (not a 500, which the connector retries)."""

    @functools.wraps(handler)
    async def route(request: Request) -> JSONResponse:
        try:
            data = await handler(request, state_of(request))
            return JSONResponse({"success": True, "code": None, "message": None, "data": data})
        except ConnectorError as exc:
            return _failure(exc)
        except (ServiceError, ClientDisconnect):
            raise  # the body limit's 413 (answered by BodyLimit), or nobody is listening any more
        except Exception:
            log.exception("%s failed inside the local service", request.url.path)
            return _failure(ConnectorError("000603", INTERNAL_ERROR, "XX000"))

    return route


@snowflake
async def login(request: Request, state: ServiceState):
    """``/session/v1/login-request``: a key-pair JWT for a session token and a master token."""
    body = await _json(request, SMALL_BODY_BYTES)
    data = body.get("data")
    if not isinstance(data, dict):
        raise ConnectorError("390400", 'The login body must be {"data": {...}}.')
    authenticator = str(data.get("AUTHENTICATOR") or "SNOWFLAKE").upper()
    if authenticator != "SNOWFLAKE_JWT":
        raise ConnectorError(
            "390100",
            "The local service accepts key-pair authentication only "
            "(authenticator SNOWFLAKE_JWT: pass private_key to connect()).",
        )
    principal = auth.login(str(data.get("TOKEN") or ""), data.get("LOGIN_NAME"), state.store.user_keys())
    q, sessions = request.query_params, state.sessions
    session, token, master = sessions.open(
        _context(
            q.get("databaseName"),
            q.get("schemaName"),
            user=principal.user,
            role=normalize(q.get("roleName") or ROLE),
            warehouse=normalize(q["warehouse"]) if q.get("warehouse") else None,
            parameters=data.get("SESSION_PARAMETERS"),
        ),
        str(data.get("CLIENT_APP_ID") or "PythonConnector")[:64],
    )
    log.info("connector session %d opened for %s", session.id, session.user)
    return {
        "token": token,
        "validityInSeconds": sessions.ttl_s,
        "masterToken": master,
        "masterValidityInSeconds": sessions.master_ttl_s,
        "sessionId": session.id,
        "displayUserName": session.user,
        "serverVersion": "aidemo-local",
        "firstLogin": False,
        "healthCheckInterval": 45,
        "newClientForUpgrade": None,
        "idToken": None,
        "parameters": [*SESSION_PARAMETERS[1:], *session_parameters(session.sql, ("TIMEZONE", "AUTOCOMMIT"))],
        "sessionInfo": session.info(),
    }


@snowflake
async def query(request: Request, state: ServiceState):
    """``/queries/v1/query-request``: run a script now, or (``asyncExec``) in a thread of its own."""
    session = state.sessions.find(session_token(request))
    body = await _json(request, state.max_body_bytes)
    if not isinstance(body.get("sqlText"), str):
        raise ConnectorError("000001", 'The query body must hold "sqlText".')
    for key in ("parameters", "bindings"):
        if body.get(key) is not None and not isinstance(body[key], dict):
            kind = type(body[key]).__name__
            raise ConnectorError("000001", f'The query body\'s "{key}" must be an object, not {kind}.')
    kept = session.keep(QueryOutcome(body["sqlText"][:SQL_TEXT_KEPT], str(uuid.uuid4()), time.time()))
    base_url = str(request.base_url)
    if (scanned := result_scan(body["sqlText"])) is not None:  # 4.x's get_results_from_sfqid
        found = state.sessions.outcome(session, scanned)
        try:
            data = dict(result_of(found[1] if found else None, scanned), queryId=kept.query_id)
        except ConnectorError as exc:
            kept.finish(QueryFailed(exc.code, exc.sql_state or "02000", exc.message, kept.query_id))
            raise kept.outcome from None
        kept.finish(data, found[1].held)
        return data
    if body.get("asyncExec"):  # execute_async: the query runs on; its id comes back now
        runner = session.detached() if session.sql.transaction is None else session  # in a transaction: in turn
        threading.Thread(target=_run_kept, args=(state, runner, body, base_url, kept), daemon=True).start()
        return {
            "queryId": kept.query_id,
            "getResultUrl": f"/queries/{kept.query_id}/result",
            "progressDesc": None,
            "queryAbortsAfterSecs": 300,
        }
    try:
        data = await run_in_threadpool(_run_now, state, session, body, base_url, kept.query_id)
    except QueryFailed as exc:
        kept.finish(exc)
        raise
    kept.finish(data, held=small(data))  # for get_results_from_sfqid later
    return data


@snowflake
async def query_status(request: Request, state: ServiceState):
    """``/monitoring/queries/{id}``: a query of the session, running or done."""
    session = state.sessions.find(session_token(request))
    found = state.sessions.outcome(session, request.path_params["query_id"].strip("/"))
    return {"queries": [found[1].status(found[0])] if found else []}


@snowflake
async def query_result(request: Request, state: ServiceState):
    """``/queries/{id}/result``: a query's result, waited for a while if it still runs."""
    session = state.sessions.find(session_token(request))
    query_id = request.path_params["query_id"]
    found = state.sessions.outcome(session, query_id)
    kept = found[1] if found else None
    deadline = time.monotonic() + RESULT_WAIT_S  # get_results_from_sfqid of a query that still runs
    while kept is not None and not kept.done.is_set() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return result_of(kept, query_id)


@snowflake
async def heartbeat(request: Request, state: ServiceState):
    """``/session/heartbeat``: the session is alive."""
    state.sessions.find(session_token(request))
    return {}


@snowflake
async def token_request(request: Request, state: ServiceState):
    """``/session/token-request``: a new session token for the master token."""
    body = await _json(request, SMALL_BODY_BYTES)
    if str(body.get("requestType", "RENEW")).upper() != "RENEW":
        raise ConnectorError("390400", "Only requestType RENEW is supported.")
    master = session_token(request)
    session, token = state.sessions.renew(master)
    return {
        "sessionToken": token,
        "validityInSecondsST": state.sessions.ttl_s,
        "masterToken": master,
        "validityInSecondsMT": state.sessions.master_ttl_s,
        "sessionId": session.id,
    }


@snowflake
async def delete_session(request: Request, state: ServiceState):
    """``POST /session?delete=true``: the session ends."""
    if request.query_params.get("delete", "").lower() != "true":
        raise ConnectorError(
            "390400",
            "POST /session needs ?delete=true (the local service only closes sessions).",
        )
    if closed := state.sessions.close(session_token(request)):
        state.spool.close_session(closed.id)
        log.info("connector session closed")


@snowflake
async def telemetry(request: Request, state: ServiceState):
    """``/telemetry/send``: the connector's telemetry, acknowledged."""
    state.sessions.find(session_token(request))
    return "Log Received"


@snowflake
async def abort(request: Request, state: ServiceState):
    """``/queries/v1/abort-request``: a query-request's statement runs to completion before its
    reply, so nothing is left to abort."""
    state.sessions.find(session_token(request))


@snowflake
async def abort_query(request: Request, state: ServiceState):
    """cursor.abort_query(): an execute_async query still running stops (as one SYSTEM$CANCEL_QUERY stops)."""
    found = state.sessions.outcome(state.sessions.find(session_token(request)), request.path_params["query_id"])
    if found is None or found[1].done.is_set() or not found[1].switch.cancel():
        raise ConnectorError("000605", "Identified SQL statement is not currently executing.")
    deadline = time.monotonic() + RESULT_WAIT_S
    while not found[1].done.is_set() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


async def result_chunk(request: Request) -> Response:
    """A result chunk, fetched as from cloud storage with the reply's headers (no session token)."""
    spool = state_of(request).spool
    chunk_id = request.path_params["chunk_id"]
    path = spool.find(chunk_id, request.headers.get(KEY_HEADER, ""))
    if path is None:
        return Response(_ACCESS_DENIED, 403, media_type="application/xml")
    done = BackgroundTask(spool.remove, chunk_id)  # sent whole: the chunk is gone
    return FileResponse(path, media_type="application/octet-stream", background=done)


def _run_now(state: ServiceState, session, body: dict, base_url: str, query_id: str) -> dict:
    before = session.context()
    try:
        return run_query(state.store, session, body, state.spool.result(session.id, base_url), query_id)
    finally:
        if session.context() != before:
            state.sessions.changed()


def _run_kept(state: ServiceState, session, body: dict, base_url: str, kept: QueryOutcome) -> None:
    """Run an execute_async query in a thread of its own; its outcome waits for the status and result calls."""
    try:
        with kept.switch.running():
            kept.finish(_run_now(state, session, body, base_url, kept.query_id))
    except QueryFailed as exc:  # how run_query answers a failed statement
        kept.finish(QueryFailed(*CANCELED, kept.query_id) if kept.switch.reason else exc)
    finally:
        if not kept.done.is_set():  # a fault of the service (the thread logs it): Snowflake's internal error
            kept.finish(QueryFailed("000603", "XX000", INTERNAL_ERROR, kept.query_id))


async def _json(request: Request, limit: int) -> dict:
    """The body's JSON object. A gzipped body (4.x gzips them) is inflated as it arrives, a piece at a
    time, and refused as soon as it inflates past ``limit`` bytes: a small bomb never grows the
    service's memory by more than the limit."""
    inflate, head, pieces, room, refused = None, b"", [], limit, None
    async for part in request.stream():
        if refused is not None:
            continue  # read to its end, so that the client reads the refusal, not a reset connection
        if head is not None:  # the first two bytes say whether the body is gzip
            head += part
            if len(head) < 2:
                continue
            part, head = head, None
            inflate = zlib.decompressobj(wbits=31) if part[:2] == _GZIP else None
        try:
            piece = _inflate(inflate, part, room) if inflate is not None else part
        except ConnectorError as exc:
            refused = exc
            continue
        room -= len(piece)
        pieces.append(piece)
    if refused is not None:
        raise refused
    raw = b"".join(pieces) + (head or b"")
    try:
        body = json.loads(raw) if raw else {}
    except (ValueError, RecursionError):  # RecursionError: arrays or objects nested thousands deep
        raise ConnectorError("390400", "The request body is not JSON.") from None
    if not isinstance(body, dict):
        raise ConnectorError("390400", f"The request body must be a JSON object, not {type(body).__name__}.")
    return body


def _inflate(inflate, data: bytes, room: int) -> bytes:
    """``data`` inflated, at most ``_PIECE`` bytes at a time; refused once past ``room`` bytes."""
    out = []
    try:
        while data:
            piece = inflate.decompress(data, min(_PIECE, room + 1))
            room -= len(piece)
            if room < 0:
                raise ConnectorError("390400", "The request body inflates past the local service's limit.")
            out.append(piece)
            data = inflate.unconsumed_tail
    except zlib.error:
        raise ConnectorError("390400", "The request body is not valid gzip.") from None
    return b"".join(out)


def _context(database: str | None, schema: str | None, parameters, **identity) -> sqlexec.Session:
    """The session from the login's query string and session parameters; a bad name or value fails the login."""
    try:
        session = sqlexec.Session.named(database or None, schema or None, **identity)
        for name, value in (parameters if isinstance(parameters, dict) else {}).items():
            if str(name).upper() in PARAMETERS:  # others are the client's own settings
                session.set_parameter(str(name).upper(), str(value))
        return session
    except sqlexec.SqlError as exc:
        raise ConnectorError("390400", str(exc)) from None


def _failure(exc: ConnectorError) -> JSONResponse:
    # Only a failed statement carries data: 5.x reads any other reply's data as the success shape.
    data = None
    if isinstance(exc, QueryFailed):
        data = {
            "errorCode": exc.code,
            "sqlState": exc.sql_state,
            "queryId": exc.query_id,
            "internalError": False,
        }
    return JSONResponse(
        {
            "success": False,
            "code": exc.code,
            "message": exc.message,
            "data": data,
            "headers": None,
        }
    )
