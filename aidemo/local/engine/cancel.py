"""Cancelling a running statement: DuckDB interrupts the connections it runs on.

A statement run under a :class:`Switch` (see :meth:`Switch.running`) has each connection it
reads or writes with registered as the catalog hands it out (:func:`track`, :func:`tracking`);
:meth:`Switch.cancel` interrupts them, and DuckDB ends the statement with an
``InterruptException``. A connection handed out after the cancel is refused the same way, so
a statement cancelled between two of its steps stops at the next one. DuckDB forgets an
interrupt when a query begins on the connection, so a cancel that lands between a connection's
hand-out and its query's start is repeated until the statement lets go of its connections.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time

import duckdb

REPEAT_S = 0.05  # how often a cancel interrupts again, while the statement still holds connections

__all__ = ["Switch", "track", "tracking"]

_current: contextvars.ContextVar[Switch | None] = contextvars.ContextVar("aidemo_statement_switch", default=None)


class Switch:
    """The cancel switch of one statement (or one request's statements)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connections: list[duckdb.DuckDBPyConnection] = []
        self.reason: str | None = None  # why it was cancelled ("canceled", "timeout"), None while it is not

    def cancel(self, reason: str = "canceled") -> bool:
        """Interrupt what the statement runs; False if it was cancelled already."""
        with self._lock:
            if self.reason is not None:
                return False
            self.reason = reason
            if not self._interrupt():
                return True
        threading.Thread(target=self._repeat, name="cancel", daemon=True).start()
        return True

    def _interrupt(self) -> bool:
        """Interrupt every connection held (under the lock); False when none is."""
        for connection in self._connections:
            connection.interrupt()
        return bool(self._connections)

    def _repeat(self) -> None:
        # Nothing joins the list after a cancel (_add refuses), so once it is empty it stays empty.
        while True:
            time.sleep(REPEAT_S)
            with self._lock:
                if not self._interrupt():
                    return

    @contextlib.contextmanager
    def running(self):
        """Connections the catalog hands out inside the block belong to this switch."""
        token = _current.set(self)
        try:
            yield self
        finally:
            _current.reset(token)
            with self._lock:
                self._connections.clear()

    def _add(self, connection: duckdb.DuckDBPyConnection) -> None:
        with self._lock:
            if self.reason is not None:
                raise duckdb.InterruptException("INTERRUPT Error: Interrupted!")
            self._connections.append(connection)

    def _remove(self, connection: duckdb.DuckDBPyConnection) -> None:
        with self._lock:
            if connection in self._connections:
                self._connections.remove(connection)


def track(connection: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A connection of the running statement's own (a reader's cursor): interrupted if it is cancelled."""
    switch = _current.get()
    if switch is not None:
        switch._add(connection)
    return connection


@contextlib.contextmanager
def tracking(connection: duckdb.DuckDBPyConnection):
    """A shared connection (the writer) held by the running statement for the block only."""
    switch = _current.get()
    if switch is None:
        yield connection
        return
    switch._add(connection)
    try:
        yield connection
    finally:
        switch._remove(connection)  # before the writer is released to another statement
