"""Sessions of the connector protocol: who logged in, their SQL context, their tokens.

Session and master tokens are random (``secrets``) and live only in the service's memory;
an unknown or expired session token is answered like an expired one (390112), so a
connector renews it with its master token, and logs in again when that one is gone too.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field

from aidemo.local import sqlexec

SESSION_TTL_S = 3600
MASTER_TTL_S = 14400
MAX_SESSIONS = 10_000
MAX_OUTCOMES = 100
SESSION_EXPIRED = "390112"
MASTER_EXPIRED = "390114"


class ConnectorError(Exception):
    """A request the protocol answers with ``success: false`` and a Snowflake code."""

    def __init__(self, code: str, message: str, sql_state: str | None = None):
        super().__init__(message)
        self.code, self.message, self.sql_state = code, message, sql_state


class QueryFailed(ConnectorError):
    """A statement failed: the error also carries its SQLSTATE and query id."""

    def __init__(self, code: str, sql_state: str, message: str, query_id: str):
        super().__init__(code, message, sql_state)
        self.query_id = query_id


@dataclass(frozen=True)
class AsyncOutcome:
    """What an execute_async statement came to: its reply data, or its error."""

    sql: str
    outcome: dict | QueryFailed
    started: float
    ended: float

    @property
    def query_id(self) -> str:
        failed = isinstance(self.outcome, QueryFailed)
        return self.outcome.query_id if failed else self.outcome["queryId"]

    def status(self, session: ConnectorSession) -> dict:
        """The statement's entry in the monitoring reply (``GET /monitoring/queries/<id>``)."""
        failed = isinstance(self.outcome, QueryFailed)
        return {
            "id": self.query_id,
            "status": "FAILED_WITH_ERROR" if failed else "SUCCESS",
            "state": "FAILED" if failed else "SUCCEEDED",
            "errorCode": self.outcome.code if failed else "",
            "errorMessage": self.outcome.message if failed else "",
            "sqlText": self.sql,
            "startTime": int(self.started * 1000),
            "endTime": int(self.ended * 1000),
            "totalDuration": int((self.ended - self.started) * 1000),
            "sessionId": session.id,
            "warehouseName": session.warehouse or "",
        }


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
    # The latest MAX_OUTCOMES execute_async statements, by query id.
    outcomes: dict[str, AsyncOutcome] = field(default_factory=dict, repr=False)

    def keep(self, kept: AsyncOutcome) -> AsyncOutcome:
        """Keep an execute_async statement's outcome for its status and result calls."""
        self.outcomes[kept.query_id] = kept
        while len(self.outcomes) > MAX_OUTCOMES:
            del self.outcomes[next(iter(self.outcomes))]
        return kept

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
