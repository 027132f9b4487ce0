"""Sessions of the connector protocol: who logged in, their SQL context, their tokens.

Session and master tokens are random (``secrets``); the service keeps only their hashes.
An unknown or expired session token is answered like an expired one (390112), on which a
connector renews it with its master token (390114 when that one has expired too).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aidemo.local.engine.cancel import Switch
from aidemo.local.engine.sqlsession import Session, Variable
from aidemo.local.errors import ConnectorError, QueryFailed
from aidemo.local.storage.stages import StageRef

log = logging.getLogger("aidemo.local.http.connector")

SESSION_TTL_S = 3600
MASTER_TTL_S = 14400
MAX_SESSIONS = 10_000
MAX_OUTCOMES = 100
KEEP_BYTES = 256 << 10  # a finished query's result up to this size stays for get_results_from_sfqid
JSON_ONLY_CLIENTS = frozenset({"JavaScript"})  # CLIENT_APP_IDs of clients without an Arrow reader
SESSION_EXPIRED = "390112"
MASTER_EXPIRED = "390114"


#: The message of Snowflake's internal error (000603), for a fault of the service rather than of the request.
INTERNAL_ERROR = "SQL execution internal error: the local service failed on this request; its log says why."


@dataclass(eq=False)
class QueryOutcome:
    """A query of the session and what it came to: its reply data or its error, None while it runs.

    A finished query whose result is not ``held`` (too large to keep) answers its status only.
    """

    sql: str
    query_id: str
    started: float
    outcome: dict | QueryFailed | None = None
    ended: float | None = None
    held: bool = True
    switch: Switch = field(default_factory=Switch, repr=False)  # interrupts it while it runs
    done: threading.Event = field(default_factory=threading.Event, repr=False)

    def finish(self, outcome: dict | QueryFailed, held: bool = True) -> None:
        """The query ended with ``outcome``."""
        self.outcome, self.ended, self.held = outcome, time.time(), held
        self.done.set()

    def status(self, session: ConnectorSession) -> dict:
        """The query's entry in the monitoring reply (``GET /monitoring/queries/<id>``)."""
        failed = isinstance(self.outcome, QueryFailed)
        if self.outcome is None:
            status, state = "RUNNING", "RUNNING"
        elif failed and self.switch.reason is not None:
            status, state = "ABORTED", "FAILED"
        else:
            status, state = ("FAILED_WITH_ERROR", "FAILED") if failed else ("SUCCESS", "SUCCEEDED")
        ended = self.ended or time.time()
        return {
            "id": self.query_id,
            "status": status,
            "state": state,
            "errorCode": self.outcome.code if failed else "",
            "errorMessage": self.outcome.message if failed else "",
            "sqlText": self.sql,
            "startTime": int(self.started * 1000),
            "endTime": int(self.ended * 1000) if self.ended else 0,
            "totalDuration": int((ended - self.started) * 1000),
            "sessionId": session.id,
            "warehouseName": session.warehouse or "",
        }


@dataclass
class ConnectorSession:
    """One connector session: its SQL session (who logged in, context, parameters), and its tokens."""

    sql: Session
    token_hash: str = ""
    master_hash: str = ""
    expires: float = 0.0  # epoch seconds
    master_expires: float = 0.0
    client: str = "PythonConnector"  # the login's CLIENT_APP_ID
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # The latest MAX_OUTCOMES queries, by query id (get_query_status, get_results_from_sfqid).
    outcomes: dict[str, QueryOutcome] = field(default_factory=dict, repr=False)

    @property
    def id(self) -> int:
        return self.sql.id

    @property
    def reads_arrow(self) -> bool:
        """Whether the client reads Arrow results (Node's snowflake-sdk reads JSON only, as Snowflake sends it)."""
        return self.client not in JSON_ONLY_CLIENTS

    @property
    def user(self) -> str:
        return self.sql.user

    @property
    def role(self) -> str:
        return self.sql.role

    @property
    def warehouse(self) -> str | None:
        return self.sql.warehouse

    def keep(self, kept: QueryOutcome) -> QueryOutcome:
        """Keep a query's outcome for its status and result calls."""
        self.outcomes[kept.query_id] = kept
        while len(self.outcomes) > MAX_OUTCOMES:
            del self.outcomes[next(iter(self.outcomes))]
        return kept

    def record(self) -> dict:
        """What a restarted service needs to find the session again (no token, only hashes)."""
        return {
            "id": self.id,
            "user": self.user,
            "role": self.role,
            "warehouse": self.warehouse,
            "database": self.sql.database,
            "schema": self.sql.schema,
            "parameters": self.sql.parameters,
            "variables": {name: vars(v) for name, v in self.sql.variables.items()},
            "temporary_tables": self.sql.temporary_tables,
            "temporary_stages": [dataclasses.astuple(ref) for ref in self.sql.temporary_stages],
            "token_hash": self.token_hash,
            "expires": self.expires,
            "master_hash": self.master_hash,
            "master_expires": self.master_expires,
            "client": self.client,
        }

    @classmethod
    def from_record(cls, r: dict) -> ConnectorSession:
        variables = {name: Variable(**v) for name, v in r.get("variables", {}).items()}
        sql = Session(r["database"], r["schema"], r["user"], r["role"], r["warehouse"], r["id"],
                      dict(r.get("parameters", {})), variables,
                      [tuple(t) for t in r.get("temporary_tables", [])],
                      [StageRef(*t) for t in r.get("temporary_stages", [])])  # fmt: skip
        return cls(
            sql,
            r["token_hash"],
            r["master_hash"],
            r["expires"],
            r["master_expires"],
            r.get("client", "PythonConnector"),
        )

    def detached(self) -> ConnectorSession:
        """The session for an execute_async query outside a transaction: the same context, parameters
        and variables (copied as they are now), a lock of its own, so the session's next queries need
        not wait for it; what it changes in the context stays with it."""
        sql = dataclasses.replace(self.sql, parameters=dict(self.sql.parameters), variables=dict(self.sql.variables))
        return dataclasses.replace(self, sql=sql, lock=threading.Lock())

    def context(self) -> tuple:
        """What a restart must keep: a change of it is saved."""
        return (self.sql.database, self.sql.schema, self.role, self.warehouse, dict(self.sql.parameters),
                dict(self.sql.variables), list(self.sql.temporary_tables), list(self.sql.temporary_stages))  # fmt: skip

    def info(self) -> dict:
        return {
            "databaseName": self.sql.database,
            "schemaName": self.sql.schema,
            "warehouseName": self.warehouse,
            "roleName": self.role,
        }


class Sessions:
    """The service's connector sessions, found by their (random, unguessable) tokens.

    Only the tokens' SHA-256 hashes are kept, in memory and in ``path`` (rewritten on every
    change), so sessions and their USE context outlive a restart of the service as they
    would on Snowflake.
    """

    def __init__(
        self,
        path: Path | None = None,
        ttl_s: int = SESSION_TTL_S,
        master_ttl_s: int = MASTER_TTL_S,
        on_end: Callable[[Session], None] = lambda sql: None,
    ):
        """``on_end`` is called with a session's SQL session when it closes or expires (its open
        transaction and temporary tables end with it)."""
        self.path, self.ttl_s, self.master_ttl_s = path, ttl_s, master_ttl_s
        self.on_end = on_end
        self._by_token: dict[str, ConnectorSession] = {}
        self._by_master: dict[str, ConnectorSession] = {}
        self._next_id = 1_000_001
        self._lock = threading.Lock()
        self._load()

    def open(self, sql: Session, client: str = "PythonConnector") -> tuple[ConnectorSession, str, str]:
        """A new session for ``sql`` (who logged in, and where) from a ``client`` (its CLIENT_APP_ID):
        (session, session token, master token)."""
        with self._lock:
            self._sweep()
            if len(self._by_master) >= MAX_SESSIONS:
                raise ConnectorError(
                    "390201",
                    f"Too many open sessions (at most {MAX_SESSIONS}); close some.",
                )
            sql.id = self._next_id
            session = ConnectorSession(sql, client=client)
            self._next_id += 1
            master = self._issue_master(session)
            token = self._issue(session)
            self._save()
            return session, token, master

    def find(self, token: str) -> ConnectorSession:
        """The session of a session token; 390112 when it is unknown or expired (the connector renews).

        Use keeps the session alive: it ends after ``master_ttl_s`` without any, as Snowflake's
        do after 4 hours idle (the connector's heartbeat counts as use).
        """
        with self._lock:
            session = self._by_token.get(_hash(token))
            now = time.time()
            if session is None or session.expires < now:
                raise ConnectorError(
                    SESSION_EXPIRED,
                    "Session token expired. Renew it with the master token.",
                )
            session.master_expires = now + self.master_ttl_s  # kept on disk at the next change
            return session

    def outcome(self, session: ConnectorSession, query_id: str) -> tuple[ConnectorSession, QueryOutcome] | None:
        """A query of the session's user by its id, with the session that ran it (this one first)."""
        with self._lock:
            mine = [session, *(s for s in self._by_master.values() if s.user == session.user and s is not session)]
        return next(((s, s.outcomes[query_id]) for s in mine if query_id in s.outcomes), None)

    def renew(self, master_token: str) -> tuple[ConnectorSession, str]:
        """A new session token for the session of a master token; 390114 when that one has expired."""
        with self._lock:
            session = self._by_master.get(_hash(master_token))
            if session is None or session.master_expires < time.time():
                raise ConnectorError(
                    MASTER_EXPIRED,
                    "Authentication token has expired. The user must authenticate again.",
                )
            self._by_token.pop(session.token_hash, None)
            token = self._issue(session)
            self._save()
            return session, token

    def changed(self) -> None:
        """A session's context changed (USE): keep it."""
        with self._lock:
            self._save()

    def close(self, token: str) -> ConnectorSession | None:
        """Close the session of a session token; the session, or None if there was none."""
        with self._lock:
            session = self._by_token.pop(_hash(token), None)
            if session is not None:
                self._by_master.pop(session.master_hash, None)
                self.on_end(session.sql)
                self._save()
            return session

    def _issue(self, session: ConnectorSession) -> str:
        token = "ver:1-hint:local-" + secrets.token_urlsafe(32)
        session.token_hash, session.expires = _hash(token), time.time() + self.ttl_s
        self._by_token[session.token_hash] = session
        return token

    def _issue_master(self, session: ConnectorSession) -> str:
        token = "ver:1-hint:local-" + secrets.token_urlsafe(32)
        session.master_hash, session.master_expires = (
            _hash(token),
            time.time() + self.master_ttl_s,
        )
        self._by_master[session.master_hash] = session
        return token

    def _sweep(self) -> None:
        now = time.time()
        for master, session in list(self._by_master.items()):
            if session.master_expires < now:
                del self._by_master[master]
                self._by_token.pop(session.token_hash, None)
                self.on_end(session.sql)

    def _save(self) -> None:
        if self.path is None:
            return
        records = [session.record() for session in self._by_master.values()]
        partial = self.path.with_name(self.path.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(records, f)
        os.replace(partial, self.path)

    def _load(self) -> None:
        if self.path is None or not self.path.exists():
            return
        try:
            records = json.loads(self.path.read_text())
            sessions = [ConnectorSession.from_record(r) for r in records]
        except (ValueError, KeyError, TypeError) as exc:
            log.warning(
                "connector sessions in %s are unreadable (%s); starting without them",
                self.path,
                exc,
            )
            return
        for session in sessions:
            self._by_master[session.master_hash] = session
            self._by_token[session.token_hash] = session
            self._next_id = max(self._next_id, session.id + 1)
        self._sweep()


def result_of(kept: QueryOutcome | None, query_id: str) -> dict:
    """The reply data of a finished query, for its result call or a RESULT_SCAN of it; else its error."""
    if kept is None:
        raise ConnectorError("000709", f"Statement {query_id} not found.", "02000")
    if kept.outcome is None:
        raise ConnectorError("000709", f"Statement {query_id} is still running; ask for its result again.", "02000")
    if isinstance(kept.outcome, ConnectorError):
        raise kept.outcome
    if not kept.held:
        raise ConnectorError(
            "000709",
            f"The result of statement {query_id} is no longer held: the local service keeps the results "
            f"of execute_async queries and those under {KEEP_BYTES >> 10} KB. Run the query again.",
            "02000",
        )
    return kept.outcome


def small(data: dict) -> bool:
    """Whether a reply's result is small enough to keep (and has no chunks, which are served once)."""
    if data.get("chunks"):
        return False
    if "rowsetBase64" in data:
        return len(data["rowsetBase64"]) <= KEEP_BYTES
    rowset = data.get("rowset") or []
    if len(rowset) * max(1, len(data.get("rowtype") or ())) > KEEP_BYTES >> 4:
        return False
    return sum(len(cell) for row in rowset for cell in row if cell) <= KEEP_BYTES


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
