"""Held commits: batches accepted now and committed later (an injected delayed or stalled commit).

A graceful close commits them; a crash loses them, and then their writers' continuation
tokens no longer match: they reopen and replay from the committed token.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb

log = logging.getLogger("aidemo.local")


@dataclass
class HeldCommit:
    """Rows accepted for a channel whose commit waits."""

    key: tuple[str, ...]
    cursor: duckdb.DuckDBPyConnection  # holds the staged temp tables
    commit: Callable[[], None]  # inserts the staged rows and advances the channel (write lock held)
    due: float  # time.monotonic() when it may commit
    cancelled: bool = field(default=False)


class HeldCommits:
    """Held commits in the order they were accepted, committed by a thread of their own when due.

    ``lock`` is the store's write lock: a commit runs under it, and every method but
    :meth:`release` and :meth:`commit_all` expects the caller to hold it.
    """

    def __init__(self, lock: threading.Lock):
        self._lock = lock
        self._pending: dict[tuple[str, ...], collections.deque[HeldCommit]] = {}
        self._queue: collections.deque[HeldCommit] = collections.deque()
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def waiting(self, key: tuple[str, ...]) -> int:
        """How many accepted batches of this channel wait for their commit."""
        return len(self._pending.get(key, ()))

    def hold(self, job: HeldCommit) -> None:
        self._pending.setdefault(job.key, collections.deque()).append(job)
        with self._ready:
            self._queue.append(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="aidemo-commits", daemon=True)
                self._thread.start()
            self._ready.notify_all()

    def cancel(self, matches: Callable[[tuple[str, ...]], bool]) -> None:
        """Discard the held batches of every channel whose key (database, schema, pipe, channel) matches."""
        for key in [k for k in self._pending if matches(k)]:
            for job in self._pending.pop(key):
                job.cancelled = True

    def commit_all(self) -> None:
        """Commit every held batch now, in order (a graceful stop keeps what it accepted)."""
        with self._lock:
            while self._queue:
                with self._ready:
                    job = self._queue.popleft()
                self._apply(job)

    def release(self) -> None:
        """Let every held commit go now (a delay or stall ended early). Any thread."""
        with self._ready:
            for job in self._queue:
                job.due = 0.0
            self._ready.notify_all()

    def close(self) -> None:
        """Stop the committing thread (write lock held)."""
        self._closed = True
        with self._ready:
            self._ready.notify_all()

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._closed and not (self._queue and self._queue[0].due <= time.monotonic()):
                    due = self._queue[0].due if self._queue else math.inf
                    # a stall without an end (due = inf) waits for release() to notify
                    self._ready.wait(None if due == math.inf else due - time.monotonic())
            with self._lock:  # only this thread and commit_all() (under this lock) take from the queue
                if self._closed:
                    return
                with self._ready:
                    job = self._queue.popleft()
                self._apply(job)

    def _apply(self, job: HeldCommit) -> None:
        try:
            if not job.cancelled:
                self._pending[job.key].popleft()
                if not self._pending[job.key]:
                    del self._pending[job.key]
                job.commit()
        except duckdb.Error:  # e.g. the table was dropped meanwhile: the rows are lost, as uncommitted rows are
            log.exception("a delayed commit on %s failed", "/".join(job.key))
        finally:
            with contextlib.suppress(duckdb.Error):
                job.cursor.close()
