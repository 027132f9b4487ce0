"""Statements of Snowflake's SQL API: each runs in a thread of its own and is kept by its handle.

A submitted request becomes a :class:`Statement`; its SQL runs under a cancel
:class:`~aidemo.local.engine.cancel.Switch` (a cancel or the request's timeout interrupts DuckDB), and
what it comes to stays for ``GET /api/v2/statements/{handle}``: its result as jsonv2 partitions
of about :data:`PARTITION_BYTES` each (kept encoded, within :data:`RESULT_BUDGET_BYTES` for all
statements, the oldest forgotten first), or its error. A request of several statements gets a
handle per statement next to its own. A ``requestId`` resubmitted with ``retry=true`` finds the
statement it started instead of running it again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from aidemo.local.engine import resultset as rs
from aidemo.local.engine import sftypes
from aidemo.local.engine.cancel import Switch
from aidemo.local.engine.sqlresults import Result
from aidemo.local.errors import ServiceError, StatementError

log = logging.getLogger("aidemo.local")

PARTITION_BYTES = 1 << 20  # jsonv2 text per result partition
RESULT_BUDGET_BYTES = 256 << 20  # results kept for all statements together
MAX_RUNNING = 16  # statements running at once (AIDEMO_LOCAL_SQL_API_MAX_RUNNING); more are answered 429
MAX_KEPT = 1_000  # statements kept (finished ones beyond are forgotten, oldest first)
URL = "/api/v2/statements"
IN_PROGRESS = (
    "333334",
    "Asynchronous execution in progress. Use provided query id to perform query monitoring and management.",
)
SUCCESS = ("090001", "00000")
CANCELED = ("000604", "57014", "SQL execution canceled")
TIMED_OUT = (
    "000630",
    "57014",
    "Statement reached its statement or warehouse timeout of {} second(s) and was canceled.",
)
NOT_EXECUTING = ("000605", "Identified SQL statement is not currently executing.")


@dataclass(eq=False)
class Statement:
    """One statement (or one request's statements) and what it came to."""

    handle: str
    request_id: str
    user: str = ""  # who submitted it: only they reach it
    created_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    switch: Switch = field(default_factory=Switch)
    done: threading.Event = field(default_factory=threading.Event)
    head: dict = field(default_factory=dict)  # the 200 reply but its data
    partitions: list[bytes] = field(default_factory=list)  # each the JSON text of its rows
    error: StatementError | None = None
    children: list[Statement] = field(default_factory=list)  # a multi-statement request's statements
    _waiters: list[Callable[[], None]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"{URL}/{self.handle}"

    @property
    def size(self) -> int:
        return sum(map(len, self.partitions))

    def finish(self) -> None:
        """The statement ended (its result or its error is set): wake whoever waits for it."""
        self.done.set()
        for wake in list(self._waiters):
            wake()

    async def wait(self, timeout_s: float) -> bool:
        """Wait (without holding a thread) until the statement ends or ``timeout_s`` passes; whether it ended."""
        loop = asyncio.get_running_loop()
        ended = loop.create_future()

        def wake():
            loop.call_soon_threadsafe(lambda: ended.done() or ended.set_result(None))

        self._waiters.append(wake)
        try:
            if not self.done.is_set():
                await asyncio.wait_for(ended, timeout_s)
        except TimeoutError:
            pass
        finally:
            self._waiters.remove(wake)
        return self.done.is_set()

    def status(self) -> dict:
        """What the SQL API answers for the statement beside its result: handle, URL, creation."""
        return {"statementHandle": self.handle, "statementStatusUrl": self.url, "createdOn": self.created_ms}

    def accepted(self) -> tuple[int, bytes, dict]:
        """The 202 of a statement that runs on (or was submitted with async=true)."""
        code, message = IN_PROGRESS
        return 202, _json({"code": code, "message": message, **self.status()}), {}

    def reply(self, partition: int = 0) -> tuple[int, bytes, dict]:
        """(HTTP status, JSON body, headers) for the statement now: 202 while it runs, else its
        result's ``partition`` (the first one with the result's metadata) or its error."""
        if not self.done.is_set():
            return self.accepted()
        if self.error is not None:
            return self.error.status, _json(failure_body(self.error, self.status())), {}
        if not 0 <= partition < len(self.partitions):
            message = f"Partition {partition} is out of range: the result has {len(self.partitions)} partition(s)."
            raise ServiceError(400, "000001", message)
        head = self.head if partition == 0 else {k: v for k, v in self.head.items() if k != "resultSetMetaData"}
        body = _json(head)[:-1] + b', "data": ' + self.partitions[partition] + b"}"
        return 200, body, {"Link": _links(self.url, partition, len(self.partitions))}


def failure_body(error: StatementError, status: dict | None = None) -> dict:
    """The documented error body (QueryFailureStatus): code, message, sqlState and the statement's handle."""
    return {"code": error.code, "message": error.message, "sqlState": error.sql_state, **(status or {})}


def internal_error() -> StatementError:
    """Snowflake's internal error (000603), for a fault of the service rather than of the statement."""
    message = "SQL execution internal error: the local service failed on this request; its log says why."
    return StatementError(422, "000603", "XX000", message)


def canceled(reason: str, timeout_s: int | None) -> StatementError:
    """The error of a statement its switch stopped: a cancel (422) or its timeout (408)."""
    if reason == "timeout":
        code, state, message = TIMED_OUT
        return StatementError(408, code, state, message.format(timeout_s))
    return StatementError(422, *CANCELED)


def set_result(statement: Statement, result: Result, stats: dict | None, nullable: bool = True) -> None:
    """Encode a statement's result as jsonv2 partitions with its metadata (all cells strings)."""
    types = [sftypes.of(duck) for _, duck in result.columns]
    cells = rs.row_cells(types, {"boolean": lambda v: "true" if v else "false"})
    partitions: list[bytes] = []
    info: list[dict] = []
    pending: list[bytes] = []
    size = 0

    def close():
        nonlocal pending, size
        partitions.append(b"[" + b",".join(pending) + b"]")
        info.append({"rowCount": len(pending), "uncompressedSize": len(partitions[-1])})
        pending, size = [], 0

    rows = [result.rows] if result.batches is None else map(rs.batch_rows, result.batches)
    for block in rows:
        for row in block:
            values = cells(row)
            encoded = _json(values if nullable else ["null" if v is None else v for v in values])
            pending.append(encoded)
            size += len(encoded) + 1
            if size >= PARTITION_BYTES:
                close()
    if pending or not partitions:
        close()
    code, state = SUCCESS
    statement.head = {
        "resultSetMetaData": {
            "numRows": sum(p["rowCount"] for p in info),
            "format": "jsonv2",
            "partitionInfo": info,
            "rowType": [t.row_type(name) for (name, _), t in zip(result.columns, types)],
        },
        "code": code,
        "sqlState": state,
        "message": result.message,
        **({"stats": stats} if stats else {}),
        "requestId": statement.request_id,
        **statement.status(),
    }
    statement.partitions = partitions


class Statements:
    """The service's SQL API statements by handle and by request id (thread-safe)."""

    def __init__(self, max_running: int = MAX_RUNNING) -> None:
        self.max_running = max_running
        self._lock = threading.Lock()
        self._by_handle: dict[str, Statement] = {}
        self._by_request: dict[tuple[str, str], str] = {}  # (user, request id) -> handle

    def submit(
        self, user: str, request_id: str | None, retry: bool, run: Callable[[Statement], None]
    ) -> tuple[Statement, bool]:
        """The statement of ``user``'s request and whether it is new; a new one runs ``run(statement)``
        in a thread of its own. With ``retry``, a request id the user sent before finds its statement
        (unless that one failed): the statement does not run twice."""
        with self._lock:
            known = self._by_handle.get(self._by_request.get((user, request_id or ""), ""))
            if retry and known is not None and not (known.done.is_set() and known.error is not None):
                return known, False
            if sum(not s.done.is_set() for s in self._by_handle.values()) >= self.max_running:
                message = f"Request rate exceeds max: at most {self.max_running} statements run at once; retry later."
                raise StatementError(429, "000610", "57014", message)
            statement = self._add(Statement(str(uuid.uuid4()), request_id or str(uuid.uuid4()), user))
        threading.Thread(target=self._run, args=(run, statement), name=f"statement-{statement.handle}").start()
        return statement, True

    def child(self, parent: Statement) -> Statement:
        """A handle of its own for one statement of a multi-statement request (ended by the caller)."""
        with self._lock:
            child = Statement(str(uuid.uuid4()), parent.request_id, parent.user, switch=parent.switch)
            self._add(child, request=False)
        parent.children.append(child)
        return child

    def find(self, handle: str, user: str) -> Statement:
        """``user``'s statement of a handle; 404 with Snowflake's code when the service has none (or
        another user's: a handle reaches only the statements of whoever submitted them)."""
        with self._lock:
            statement = self._by_handle.get(handle)
        if statement is None or statement.user != user:
            raise StatementError(404, "000709", "02000", f"Statement {handle} not found.")
        return statement

    def cancel_all(self) -> None:
        """Cancel every running statement (the service stops)."""
        with self._lock:
            running = [s for s in self._by_handle.values() if not s.done.is_set()]
        for statement in running:
            statement.switch.cancel()

    def _add(self, statement: Statement, request: bool = True) -> Statement:
        self._by_handle[statement.handle] = statement
        if request:  # the latest statement of a request id is the one a retry finds
            self._by_request[(statement.user, statement.request_id)] = statement.handle
        return statement

    def _run(self, run: Callable[[Statement], None], statement: Statement) -> None:
        try:
            run(statement)
        except Exception:  # a fault of the service: Snowflake's internal error, never a 500
            log.exception("statement %s failed inside the local service", statement.handle)
            statement.error = internal_error()
        finally:
            for child in statement.children:  # those the request did not come to end with it
                if not child.done.is_set():
                    child.error = child.error or statement.error or StatementError(422, *CANCELED)
                    child.finish()
            statement.finish()
            with self._lock:
                self._forget()

    def _forget(self) -> None:
        """Forget the oldest finished statements past the kept count or the results' budget."""
        finished = [s for s in self._by_handle.values() if s.done.is_set()]
        total = sum(s.size for s in finished)
        for old in finished:
            if len(self._by_handle) <= MAX_KEPT and total <= RESULT_BUDGET_BYTES:
                break
            total -= old.size
            del self._by_handle[old.handle]
            if self._by_request.get((old.user, old.request_id)) == old.handle:
                del self._by_request[(old.user, old.request_id)]


def _links(url: str, partition: int, count: int) -> str:
    """The Link header of a result partition: first, previous, next and last partitions."""
    links = {"first": 0, "prev": partition - 1, "next": partition + 1, "last": count - 1}
    return ",".join(f'<{url}?partition={n}>; rel="{rel}"' for rel, n in links.items() if 0 <= n < count)


def _json(value) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
