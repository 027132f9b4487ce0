"""Everything the local service keeps: databases (:mod:`aidemo.local.storage.catalog`), pipes
(:mod:`aidemo.local.storage.pipes`), channels and the rows streamed into them.

A pipe and its channels live in the ``_AIDEMO`` schema of the database that holds the
pipe's table, so that loading a batch of rows (:mod:`aidemo.local.storage.loader`) and advancing
its channel's committed offset token happen in one transaction.
"""

from __future__ import annotations

import contextlib
import functools
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import duckdb

from aidemo.local.errors import ServiceError
from aidemo.local.storage.catalog import META, STREAMING_SUFFIX, Column, literal, normalize, quote
from aidemo.local.storage.held import HeldCommit, HeldCommits
from aidemo.local.storage.loader import Batch, LoadResult, insert_clean, insert_sql, stage
from aidemo.local.storage.pipes import Pipe, Pipes, now_ms

__all__ = [
    "META", "STREAMING_SUFFIX", "Batch", "Column", "LoadResult", "Pipe", "ServiceError", "Store",
    "literal", "normalize", "quote",
]  # fmt: skip

_CHANNEL_STATUS_COLUMNS = (
    "DATABASE_NAME", "SCHEMA_NAME", "PIPE_NAME", "CHANNEL_NAME", "CREATED_ON_MS",
    "LAST_COMMITTED_OFFSET_TOKEN", "ROWS_INSERTED", "ROWS_PARSED", "ROWS_ERROR_COUNT",
    "LAST_ERROR_OFFSET_UPPER_BOUND", "LAST_ERROR_MESSAGE", "LAST_ERROR_TIMESTAMP_MS",
    "PROCESSING_MS_TOTAL", "BATCHES", "OPEN_SEQ", "ROW_SEQ",
)  # fmt: skip


class Store(Pipes):
    """The service's databases with their pipes, channels and the rows streamed into them."""

    def __init__(self, path: Path, database: str, spool: Path):
        super().__init__(path, database, spool)
        # Hooks for injected faults: seconds a batch accepted now waits before it commits, and
        # the reason to reject a channel's rows (None: accept them).
        self.commit_hold: Callable[[str], float] = lambda channel: 0.0
        self.rejection: Callable[[str], str | None] = lambda channel: None
        self._held = HeldCommits(self._write_lock)
        self.stages = None  # the running service's internal stages (aidemo.local.storage.stages.Stages)

    def close(self) -> None:
        self._held.commit_all()
        with self._write_lock:
            self._held.close()
            self._writer.close()
            self._con.close()

    def commit_held(self) -> None:
        """Commit every held batch now, in order (a graceful stop keeps what it accepted)."""
        self._held.commit_all()

    def release_commits(self) -> None:
        """Let every held commit go now (a delay or stall ended early). Any thread."""
        self._held.release()

    def _dropped(self, database: str, schema: str | None = None, pipes: list[str] | None = None) -> None:
        self._held.cancel(
            lambda key: key[0] == database and schema in (None, key[1]) and (pipes is None or key[2] in pipes)
        )
        if pipes is None and self.stages is not None:
            self.stages.forget(database, schema)

    # ---- channels ----------------------------------------------------------------------

    def open_channel(self, pipe: Pipe, channel: str, offset_token: str | None) -> tuple[str, dict]:
        """Open (create or reopen) a channel; a reopen fences the previous writer."""
        key = [pipe.database, pipe.schema, pipe.name, channel]
        with self._write_lock:
            self._held.cancel(lambda k: k == tuple(key))  # a reopen discards what the old writer had in flight
            if (
                pipe.mapping is None
                and not self._writer.execute(
                    f"SELECT 1 FROM {self._meta(pipe.database, 'PIPES')} WHERE SCHEMA_NAME = ? AND PIPE_NAME = ?",
                    [pipe.schema, pipe.name],
                ).fetchone()
            ):
                self._add_default_pipe(pipe)  # SHOW PIPES lists a default pipe once it has been used
            row = self._writer.execute(
                f"SELECT OPEN_SEQ FROM {self._meta(pipe.database, 'CHANNELS')} {_CHANNEL_WHERE}",
                key,
            ).fetchone()
            if row is None:
                self._writer.execute(
                    f"INSERT INTO {self._meta(pipe.database, 'CHANNELS')} "
                    "(DATABASE_NAME, SCHEMA_NAME, PIPE_NAME, CHANNEL_NAME, "
                    "CREATED_ON_MS, LAST_COMMITTED_OFFSET_TOKEN, OPEN_SEQ, ROW_SEQ) VALUES (?, ?, ?, ?, ?, ?, 1, 0)",
                    key + [now_ms(), offset_token],
                )
                seq = 1
            else:
                seq = row[0] + 1
                token_sql = ", LAST_COMMITTED_OFFSET_TOKEN = ?" if offset_token is not None else ""
                params = [seq] + ([offset_token] if offset_token is not None else []) + key
                self._writer.execute(
                    f"UPDATE {self._meta(pipe.database, 'CHANNELS')} "
                    f"SET OPEN_SEQ = ?, ROW_SEQ = 0{token_sql} {_CHANNEL_WHERE}",
                    params,
                )
            status = self._channel_rows(self._writer, pipe, [channel])[channel]
        return _continuation(seq, 0), status

    def channel_statuses(self, pipe: Pipe, channels: list[str]) -> dict[str, dict]:
        return self._channel_rows(self.cursor(), pipe, channels)

    def fence_channels(self, channel: str | None = None) -> list[str]:
        """Invalidate the continuation token of ``channel`` (every channel if None) under its writer.

        The writer's next request is refused as stale and its uncommitted rows are discarded,
        as when another writer reopens the channel. Returns "PIPE/channel" of each one fenced.
        """
        rows = []
        with self._write_lock:
            for database in self.databases():
                rows += self._writer.execute(
                    f"UPDATE {self._meta(database, 'CHANNELS')} SET OPEN_SEQ = OPEN_SEQ + 1, ROW_SEQ = 0 "
                    "WHERE ? IS NULL OR CHANNEL_NAME = ? "
                    "RETURNING DATABASE_NAME, SCHEMA_NAME, PIPE_NAME, CHANNEL_NAME",
                    [channel, channel],
                ).fetchall()
            fenced = set(rows)
            self._held.cancel(lambda key: key in fenced)
        return sorted(f"{row[2]}/{row[3]}" for row in rows)

    def drop_channel(self, pipe: Pipe, channel: str) -> str | None:
        key = [pipe.database, pipe.schema, pipe.name, channel]
        with self._write_lock:
            self._held.cancel(lambda k: k == tuple(key))
            row = self._writer.execute(
                f"DELETE FROM {self._meta(pipe.database, 'CHANNELS')} {_CHANNEL_WHERE} "
                "RETURNING LAST_COMMITTED_OFFSET_TOKEN",
                key,
            ).fetchone()
        if row is None:
            raise ServiceError(
                404,
                "ERR_CHANNEL_DOES_NOT_EXIST_OR_NOT_AUTHORIZED",
                f"Channel '{channel}' on pipe '{pipe.name}' does not exist or not authorized.",
            )
        return row[0]

    def list_channels(
        self,
        database: str | None = None,
        schema: str | None = None,
        pipe: str | None = None,
    ) -> list[dict]:
        rows = self._each_database(
            f"SELECT {', '.join(_CHANNEL_STATUS_COLUMNS)} FROM {{CHANNELS}} WHERE (? IS NULL OR SCHEMA_NAME = ?) "
            "AND (? IS NULL OR PIPE_NAME = ?) ORDER BY SCHEMA_NAME, PIPE_NAME, CHANNEL_NAME",
            database,
            [schema, schema, pipe, pipe],
        )
        return [_status(dict(zip(_CHANNEL_STATUS_COLUMNS, row))) for row in rows]

    def _channel_rows(self, cur, pipe: Pipe, channels: list[str]) -> dict[str, dict]:
        cols = ", ".join(_CHANNEL_STATUS_COLUMNS)
        rows = cur.execute(
            f"SELECT {cols} FROM {self._meta(pipe.database, 'CHANNELS')} WHERE DATABASE_NAME = ? AND SCHEMA_NAME = ? "
            "AND PIPE_NAME = ? AND list_contains(?, CHANNEL_NAME)",
            [pipe.database, pipe.schema, pipe.name, channels],
        ).fetchall()
        return {row[3]: _status(dict(zip(_CHANNEL_STATUS_COLUMNS, row))) for row in rows}

    # ---- rows --------------------------------------------------------------------------

    def append_rows(
        self,
        pipe: Pipe,
        channel: str,
        continuation_token: str | None,
        body: bytes,
        compression: str,
        start_token: str | None,
        end_token: str | None,
    ) -> str:
        """Load one rows POST (rowset mode) and advance the channel; returns the next token."""
        path = self.spool / f"{uuid.uuid4().hex}.ndjson"
        try:
            path.write_bytes(body)
            return self.load(
                pipe,
                channel,
                continuation_token,
                [Batch(path, compression, start_token, end_token)],
            )
        finally:
            path.unlink(missing_ok=True)

    def load(
        self,
        pipe: Pipe,
        channel: str,
        continuation_token: str | None,
        batches: list[Batch],
    ) -> str:
        """Load ``batches`` and advance the channel by one step, in one transaction; returns the next token.

        Rowset mode sends one batch per request, file mode one per registered fragment. A
        stale continuation token or a batch whose row count disagrees loads nothing. A token
        of None skips the fencing check (the elastic channel has no tokens). While
        :attr:`commit_hold` says so, the batch is accepted now and committed later (see
        :mod:`aidemo.local.storage.held`).
        """
        received = time.perf_counter()
        key = [pipe.database, pipe.schema, pipe.name, channel]
        reason, hold = self.rejection(channel), self.commit_hold(channel)
        cur = self.cursor()  # a connection of its own: batches are parsed outside the write lock
        try:
            if not reason and hold <= 0:
                token = self._load_clean(cur, pipe, key, continuation_token, batches, received)
                if token is not None:
                    return token
            results = [stage(cur, pipe.columns, pipe.mapping, n, batch) for n, batch in enumerate(batches)]
            if reason:
                results = [(fields, LoadResult(r.rows_parsed, 0, r.rows_parsed, reason)) for fields, r in results]
            with self._write_lock:
                seq, row_seq = self._check_continuation(cur, key, continuation_token)
                # behind held batches, a batch waits its turn
                if hold > 0 or self._held.waiting(tuple(key)):
                    commit = functools.partial(self._commit, cur, pipe, key, batches, results, received)
                    self._held.hold(HeldCommit(tuple(key), cur, commit, time.monotonic() + hold))
                    cur = None  # the pending commit owns the cursor and its staged tables now
                else:
                    self._commit(cur, pipe, key, batches, results, received)
        finally:
            if cur is not None:
                cur.close()
        return _continuation(seq, row_seq + 1)

    def _load_clean(self, cur, pipe: Pipe, key, token: str | None, batches: list[Batch], received: float) -> str | None:
        """Load clean batches in one pass each and advance the channel, in one transaction begun
        outside the write lock: channels parse and insert in parallel, and only the check of the
        continuation token and the COMMIT queue for the lock. Returns the next token; None when
        nothing was loaded and the batches take the staged path (a row that does not fit, a
        held batch of the channel, or a concurrent change to the channel's row)."""
        cur.execute("BEGIN")
        try:
            results = []
            for batch in batches:
                result = insert_clean(cur, pipe.table_ref, pipe.columns, pipe.mapping, batch)
                if result is None:
                    cur.execute("ROLLBACK")
                    return None
                results.append(result)
            with self._write_lock:
                if self._held.waiting(tuple(key)):
                    cur.execute("ROLLBACK")
                    return None
                # the writer sees what committed since this transaction began
                seq, row_seq = self._check_continuation(self._writer, key, token)
                try:
                    self._advance(cur, key, batches, results, received)
                except duckdb.TransactionException:  # the channel's row changed meanwhile (a tokenless writer)
                    cur.execute("ROLLBACK")
                    return None
                cur.execute("COMMIT")
            return _continuation(seq, row_seq + 1)
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                cur.execute("ROLLBACK")
            raise

    def _commit(self, cur, pipe: Pipe, key, batches: list[Batch], results: list, received: float) -> None:
        """Insert the staged rows and advance the channel in one transaction (write lock held)."""
        cur.execute("BEGIN")
        try:
            for n, (fields, result) in enumerate(results):
                if result.rows_inserted:
                    cur.execute(insert_sql(pipe.table_ref, fields, n))
            self._advance(cur, list(key), batches, [r for _, r in results], received)
            cur.execute("COMMIT")
        except BaseException:
            # a failed ROLLBACK must not hide why the COMMIT failed
            with contextlib.suppress(duckdb.Error):
                cur.execute("ROLLBACK")
            raise

    def _advance(
        self,
        cur,
        key: list[str],
        batches: list[Batch],
        results: list[LoadResult],
        received: float,
    ) -> None:
        """Count the loaded rows on the channel and move its committed offset token."""
        failed = [(b, r) for b, r in zip(batches, results) if r.rows_error]
        error_sql, error_params = "", []
        if failed:
            batch, result = failed[-1]
            error_sql = ", LAST_ERROR_OFFSET_UPPER_BOUND = ?, LAST_ERROR_MESSAGE = ?, LAST_ERROR_TIMESTAMP_MS = ?"
            error_params = [batch.end_token, result.error_message, now_ms()]
        end_token = next((b.end_token for b in reversed(batches) if b.end_token is not None), None)
        cur.execute(
            f"UPDATE {self._meta(key[0], 'CHANNELS')} SET ROW_SEQ = ROW_SEQ + 1, "
            "LAST_COMMITTED_OFFSET_TOKEN = coalesce(?, LAST_COMMITTED_OFFSET_TOKEN), "
            "ROWS_INSERTED = ROWS_INSERTED + ?, ROWS_PARSED = ROWS_PARSED + ?, "
            "ROWS_ERROR_COUNT = ROWS_ERROR_COUNT + ?, PROCESSING_MS_TOTAL = PROCESSING_MS_TOTAL + ?, "
            f"BATCHES = BATCHES + 1{error_sql} {_CHANNEL_WHERE}",
            [
                end_token,
                sum(r.rows_inserted for r in results),
                sum(r.rows_parsed for r in results),
                sum(r.rows_error for r in results),
                (time.perf_counter() - received) * 1000,
            ]
            + error_params
            + key,
        )

    def _check_continuation(self, cur, key: list[str], token: str | None) -> tuple[int, int]:
        row = cur.execute(
            f"SELECT OPEN_SEQ, ROW_SEQ FROM {self._meta(key[0], 'CHANNELS')} {_CHANNEL_WHERE}",
            key,
        ).fetchone()
        if row is None:
            raise ServiceError(
                404,
                "ERR_CHANNEL_DOES_NOT_EXIST_OR_NOT_AUTHORIZED",
                f"Channel '{key[3]}' does not exist or not authorized.",
            )
        row = (row[0], row[1] + self._held.waiting(tuple(key)))  # accepted, commit held
        if token is not None and token != _continuation(*row):
            raise ServiceError(
                400,
                "ERR_CHANNEL_HAS_INVALID_CONTINUATION_TOKEN",
                f"Channel '{key[3]}' is invalid: continuation token {token!r} is stale "
                "(the channel was reopened by another writer, or a request was lost); reopen the channel.",
            )
        return row


_CHANNEL_WHERE = "WHERE DATABASE_NAME = ? AND SCHEMA_NAME = ? AND PIPE_NAME = ? AND CHANNEL_NAME = ?"


def _continuation(open_seq: int, row_seq: int) -> str:
    return f"{open_seq}_{row_seq}"


def _status(row: dict) -> dict:
    """A channel row in the shape of the REST API's channel_status object."""
    batches = row["BATCHES"]
    return {
        "database_name": row["DATABASE_NAME"],
        "schema_name": row["SCHEMA_NAME"],
        "pipe_name": row["PIPE_NAME"],
        "channel_name": row["CHANNEL_NAME"],
        "channel_status_code": "SUCCESS",
        "created_on_ms": row["CREATED_ON_MS"],
        "last_committed_offset_token": row["LAST_COMMITTED_OFFSET_TOKEN"],
        "rows_inserted": row["ROWS_INSERTED"],
        "rows_parsed": row["ROWS_PARSED"],
        "rows_error_count": row["ROWS_ERROR_COUNT"],
        "last_error_offset_upper_bound": row["LAST_ERROR_OFFSET_UPPER_BOUND"],
        "last_error_message": row["LAST_ERROR_MESSAGE"],
        "last_error_timestamp_ms": row["LAST_ERROR_TIMESTAMP_MS"],
        "snowflake_avg_processing_latency_ms": round(row["PROCESSING_MS_TOTAL"] / batches) if batches else None,
    }
