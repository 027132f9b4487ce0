"""The protocol of ``snowflake-connector-python``: login, queries and session upkeep.

Every reply is HTTP 200 with Snowflake's ``{"success": ..., "code": ..., "message": ...,
"data": ...}`` envelope, which both connector majors turn into their own errors. A login
presents a key-pair JWT (checked as for the SDK, see :mod:`aidemo.local.auth`) and gets a
session token and a master token; each session keeps its own database and schema, which
USE changes for that session only. An expired session token is answered with 390112, on
which the connector renews it with its master token; an expired master token makes the
connector log in again.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from aidemo.local import auth, binds, sqlexec
from aidemo.local import resultset as rs
from aidemo.local import translate as t
from aidemo.local.home import ACCOUNT, ROLE
from aidemo.local.sqlerrors import snowflake_error
from aidemo.local.store import normalize

log = logging.getLogger("aidemo.local.connector")

SESSION_TTL_S = 3600
MASTER_TTL_S = 14400
MAX_SESSIONS = 10_000
SESSION_EXPIRED = "390112"
# Sent at login. The local service has no stages, so array binds always travel inline
# (4.x's executemany reads the threshold and would otherwise upload them to a stage).
SESSION_PARAMETERS = [
    {"name": "TIMEZONE", "value": "UTC"},
    {"name": "CLIENT_SESSION_KEEP_ALIVE_HEARTBEAT_FREQUENCY", "value": 3600},
    {"name": "CLIENT_STAGE_ARRAY_BINDING_THRESHOLD", "value": 2**31 - 1},
]
MASTER_EXPIRED = "390114"


class ConnectorError(Exception):
    """A request the protocol answers with ``success: false`` and a Snowflake code."""

    def __init__(self, code: str, message: str, sql_state: str | None = None):
        super().__init__(message)
        self.code, self.message, self.sql_state = code, message, sql_state


@dataclass
class ConnectorSession:
    """One connector session: who logged in, its SQL context, and its tokens."""

    id: int
    user: str
    role: str
    warehouse: str | None
    sql: sqlexec.Session
    token: str = ""
    master_token: str = ""
    expires: float = 0.0
    master_expires: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def info(self) -> dict:
        return {
            "databaseName": self.sql.database,
            "schemaName": self.sql.schema,
            "warehouseName": self.warehouse,
            "roleName": self.role,
        }


class Sessions:
    """The service's connector sessions, found by their (random, unguessable) tokens."""

    def __init__(self, ttl_s: int = SESSION_TTL_S, master_ttl_s: int = MASTER_TTL_S):
        self.ttl_s, self.master_ttl_s = ttl_s, master_ttl_s
        self._by_token: dict[str, ConnectorSession] = {}
        self._by_master: dict[str, ConnectorSession] = {}
        self._next_id = 1_000_001
        self._lock = threading.Lock()

    def open(self, **context) -> ConnectorSession:
        with self._lock:
            self._sweep()
            if len(self._by_master) >= MAX_SESSIONS:
                raise ConnectorError(
                    "390201",
                    f"Too many open sessions (at most {MAX_SESSIONS}); close some.",
                )
            session = ConnectorSession(self._next_id, **context)
            self._next_id += 1
            self._issue(session, master=True)
            return session

    def find(self, token: str) -> ConnectorSession:
        """The session of a session token; 390112 when it is unknown or expired (the connector renews)."""
        with self._lock:
            session = self._by_token.get(token)
            if session is None or session.expires < time.monotonic():
                raise ConnectorError(
                    SESSION_EXPIRED,
                    "Session token expired. Renew it with the master token.",
                )
            return session

    def renew(self, master_token: str) -> ConnectorSession:
        """New session token for the session of a master token; 390114 when that one has expired."""
        with self._lock:
            session = self._by_master.get(master_token)
            if session is None or session.master_expires < time.monotonic():
                raise ConnectorError(
                    MASTER_EXPIRED,
                    "Authentication token has expired. The user must authenticate again.",
                )
            self._by_token.pop(session.token, None)
            self._issue(session, master=False)
            return session

    def close(self, token: str) -> bool:
        with self._lock:
            session = self._by_token.pop(token, None)
            if session is not None:
                self._by_master.pop(session.master_token, None)
            return session is not None

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_master)

    def _issue(self, session: ConnectorSession, master: bool) -> None:
        now = time.monotonic()
        session.token, session.expires = (
            "ver:1-hint:local-" + secrets.token_urlsafe(32),
            now + self.ttl_s,
        )
        self._by_token[session.token] = session
        if master:
            session.master_token, session.master_expires = (
                "ver:1-hint:local-" + secrets.token_urlsafe(32),
                now + self.master_ttl_s,
            )
            self._by_master[session.master_token] = session

    def _sweep(self) -> None:
        now = time.monotonic()
        for master, session in list(self._by_master.items()):
            if session.master_expires < now:
                del self._by_master[master]
                self._by_token.pop(session.token, None)


def routes(service) -> list[Route]:
    """The connector's routes, served for ``service`` (an :class:`aidemo.local.app.Service`)."""
    sessions = Sessions(
        int(os.environ.get("AIDEMO_LOCAL_SESSION_TTL_S", SESSION_TTL_S)),
        int(os.environ.get("AIDEMO_LOCAL_MASTER_TTL_S", MASTER_TTL_S)),
    )

    def snowflake(handler):
        async def route(request: Request) -> JSONResponse:
            try:
                data = await handler(request)
                return JSONResponse(
                    {"success": True, "code": None, "message": None, "data": data}
                )
            except ConnectorError as exc:
                return _failure(exc)

        return route

    @snowflake
    async def login(request):
        body = await _json(request)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise ConnectorError("390400", 'The login body must be {"data": {...}}.')
        authenticator = str(data.get("AUTHENTICATOR") or "SNOWFLAKE").upper()
        if authenticator != "SNOWFLAKE_JWT":
            raise ConnectorError(
                "390100",
                "The local service accepts key-pair authentication only "
                "(authenticator SNOWFLAKE_JWT: pass private_key to connect()).",
            )
        try:
            principal = auth.verify_keypair_jwt(
                str(data.get("TOKEN") or ""), ACCOUNT, service.store.user_keys()
            )
            if str(data.get("LOGIN_NAME") or principal.user).upper() != principal.user:
                raise auth.AuthError(
                    "390144", "login name does not match the JWT's user"
                )
        except auth.AuthError as exc:
            # The reason stays in the log: the reply must not tell which users exist.
            log.info("connector login refused: %s", exc.message)
            raise ConnectorError("390144", "JWT token is invalid.") from None
        q = request.query_params
        session = sessions.open(
            user=principal.user,
            role=normalize(q.get("roleName") or ROLE),
            warehouse=normalize(q["warehouse"]) if q.get("warehouse") else None,
            sql=_context(q.get("databaseName"), q.get("schemaName")),
        )
        log.info("connector session %d opened for %s", session.id, session.user)
        return {
            "token": session.token,
            "validityInSeconds": sessions.ttl_s,
            "masterToken": session.master_token,
            "masterValidityInSeconds": sessions.master_ttl_s,
            "sessionId": session.id,
            "displayUserName": session.user,
            "serverVersion": "aidemo-local",
            "firstLogin": False,
            "healthCheckInterval": 45,
            "newClientForUpgrade": None,
            "idToken": None,
            "parameters": SESSION_PARAMETERS,
            "sessionInfo": session.info(),
        }

    @snowflake
    async def query(request):
        session = sessions.find(_token(request))
        body = await _json(request)
        if not isinstance(body, dict) or not isinstance(body.get("sqlText"), str):
            raise ConnectorError("000001", 'The query body must hold "sqlText".')
        return await run_in_threadpool(run_query, service.store, session, body)

    @snowflake
    async def heartbeat(request):
        sessions.find(_token(request))
        return {}

    @snowflake
    async def token_request(request):
        body = await _json(request)
        if str((body or {}).get("requestType", "RENEW")).upper() != "RENEW":
            raise ConnectorError("390400", "Only requestType RENEW is supported.")
        session = sessions.renew(_token(request))
        return {
            "sessionToken": session.token,
            "validityInSecondsST": sessions.ttl_s,
            "masterToken": session.master_token,
            "validityInSecondsMT": sessions.master_ttl_s,
            "sessionId": session.id,
        }

    @snowflake
    async def delete_session(request):
        if request.query_params.get("delete", "").lower() != "true":
            raise ConnectorError(
                "390400",
                "POST /session needs ?delete=true (the local service only closes sessions).",
            )
        if sessions.close(_token(request)):
            log.info("connector session closed")

    @snowflake
    async def telemetry(request):
        sessions.find(_token(request))
        return "Log Received"

    @snowflake
    async def abort(request):
        # Queries run to completion before their reply: nothing is left to abort.
        sessions.find(_token(request))

    return [
        Route("/session/v1/login-request", login, methods=["POST"]),
        Route("/queries/v1/query-request", query, methods=["POST"]),
        Route("/queries/v1/abort-request", abort, methods=["POST"]),
        Route("/session/heartbeat", heartbeat, methods=["POST"]),
        Route("/session/token-request", token_request, methods=["POST"]),
        Route("/session", delete_session, methods=["POST"]),
        Route("/telemetry/send", telemetry, methods=["POST"]),
    ]


def run_query(store, session: ConnectorSession, body: dict) -> dict:
    """Run one query-request's statement in the session; the reply's ``data``."""
    query_id = str(uuid.uuid4())
    sql = body["sqlText"]
    describe = bool(body.get("describeOnly"))
    try:
        count = len(t.split_statements(sql))
        if count != 1:
            raise ConnectorError(
                "000008",
                f"Actual statement count {count} did not match the desired "
                "statement count 1.",
                "0A000",
            )
        kind = rs.statement_type(sql)
        statements = binds.substitute(
            sql, body.get("bindings"), missing_as_null=describe
        )
        with session.lock:
            columns, rows, stats = _execute(store, session, kind, statements, describe)
    except ConnectorError as exc:
        raise _QueryFailed(
            exc.code, exc.sql_state or "42000", exc.message, query_id
        ) from None
    except binds.BindError as exc:
        raise _QueryFailed(
            "002049", "42601", f"SQL compilation error: {exc}", query_id
        ) from None
    except sqlexec.SqlError as exc:
        code, state, message = snowflake_error(exc)
        raise _QueryFailed(code, state, message, query_id) from None
    rowtype, rowset = rs.encode(columns, rows)
    data = {
        "queryId": query_id,
        "queryResultFormat": "json",
        "rowtype": rowtype,
        "rowset": rowset,
        "total": len(rowset),
        "returned": len(rowset),
        "statementTypeId": kind,
        "version": 1,
        "finalDatabaseName": session.sql.database,
        "finalSchemaName": session.sql.schema,
        "finalWarehouseName": session.warehouse,
        "finalRoleName": session.role,
        "numberOfBinds": len(body.get("bindings") or {}),
        "arrayBindSupported": False,
        "parameters": [],
        "queryContext": {"entries": []},
    }
    if stats:
        data["stats"] = stats
    return data


def _execute(
    store, session: ConnectorSession, kind: int, statements: list[str], describe: bool
):
    """(columns, rows, stats) of a statement (one per bound row), as Snowflake answers it."""
    if describe and not rs.returns_rows(kind):
        if kind in rs.DML_COLUMNS:
            columns, _, _ = rs.dml_result(kind, 0)
            return columns, [], None
        return [("status", "VARCHAR")], [], None
    results = sqlexec.run_script(store, ";\n".join(statements), session.sql)
    if kind in rs.DML_COLUMNS:
        count = sum(int(r.rows[0][0]) for r in results if r.rows)
        return rs.dml_result(kind, count)
    result = results[-1]
    if rs.returns_rows(kind) or kind == rs.MERGE:
        return result.columns, [] if describe else result.rows, None
    return [("status", "VARCHAR")], [(result.message,)], None


class _QueryFailed(ConnectorError):
    def __init__(self, code: str, sql_state: str, message: str, query_id: str):
        super().__init__(code, message, sql_state)
        self.query_id = query_id


async def _json(request: Request):
    raw = await request.body()
    if raw[:2] == b"\x1f\x8b":  # 4.x gzips its request bodies
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError):
            raise ConnectorError(
                "390400", "The request body is not valid gzip."
            ) from None
    try:
        return json.loads(raw) if raw else {}
    except ValueError:
        raise ConnectorError("390400", "The request body is not JSON.") from None


def _token(request: Request) -> str:
    """The token of ``Authorization: Snowflake Token="..."``."""
    header = request.headers.get("authorization", "")
    prefix = 'snowflake token="'
    if not header.lower().startswith(prefix) or not header.endswith('"'):
        raise ConnectorError(
            "390101", 'Authorization header must be Snowflake Token="<token>".'
        )
    return header[len(prefix) : -1]


def _context(database: str | None, schema: str | None) -> sqlexec.Session:
    """The session's context from the login's query string; a bad name fails the login."""
    try:
        return sqlexec.Session.named(database or None, schema or None)
    except sqlexec.SqlError as exc:
        raise ConnectorError("390400", str(exc)) from None


def _failure(exc: ConnectorError) -> JSONResponse:
    data = {"errorCode": exc.code, "internalError": False}
    if isinstance(exc, _QueryFailed):
        data |= {"sqlState": exc.sql_state, "queryId": exc.query_id}
    return JSONResponse(
        {
            "success": False,
            "code": exc.code,
            "message": exc.message,
            "data": data,
            "headers": None,
        }
    )
