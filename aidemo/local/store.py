"""Everything the local service keeps, in one embedded DuckDB database.

The Snowflake database is a DuckDB catalog (the file is attached under the database's
name), schemas and tables are DuckDB's own. Pipes, channels and users live in the
``_AIDEMO`` schema of the same catalog, so that loading a batch of rows and advancing
its channel's committed offset token happen in one transaction.
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import duckdb

log = logging.getLogger("aidemo.local")

META = "_AIDEMO"
DEFAULT_FLUSH_TICK_MS = 1000
STREAMING_SUFFIX = "-STREAMING"
MEMORY_LIMIT = "1GB"  # DuckDB's working memory; beyond it, it spills to the spool's duckdb/ directory


class ServiceError(Exception):
    """A request the service refuses; becomes ``{"code", "message"}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool


@dataclass(frozen=True)
class Field:
    """How one target column is filled from a row: JSON keys to read, type to cast to."""

    column: str
    keys: tuple[str, ...]
    type: str
    nullable: bool


@dataclass(frozen=True)
class Pipe:
    database: str
    schema: str
    name: str
    table: str
    columns: tuple[Column, ...]
    mapping: tuple[dict, ...] | None  # DATA_SOURCE form: [{"target", "source_key", "cast_type"}]
    flush_tick_ms: int

    @property
    def table_ref(self) -> str:
        return f"{quote(self.database)}.{quote(self.schema)}.{quote(self.table)}"


@dataclass(frozen=True)
class Batch:
    """One NDJSON file to load (``compression`` "zstd" or "none") and the offset tokens it covers."""

    path: Path
    compression: str
    start_token: str | None
    end_token: str | None
    row_count: int | None = None  # declared by a file-mode fragment; checked before anything is loaded
    source: str = "the request body"  # how error messages name it


@dataclass(frozen=True)
class LoadResult:
    rows_parsed: int
    rows_inserted: int
    rows_error: int
    error_message: str | None


@dataclass
class _Commit:
    """Rows accepted for a channel whose commit waits (a delayed or stalled commit)."""

    key: tuple[str, ...]
    seq: int
    row_seq: int
    cursor: duckdb.DuckDBPyConnection  # holds the staged temp tables
    pipe: Pipe
    batches: list[Batch]
    results: list[LoadResult]
    received: float
    due: float  # time.monotonic() when it may commit
    cancelled: bool = field(default=False)


_CHANNEL_STATUS_COLUMNS = (
    "DATABASE_NAME", "SCHEMA_NAME", "PIPE_NAME", "CHANNEL_NAME", "CREATED_ON_MS",
    "LAST_COMMITTED_OFFSET_TOKEN", "ROWS_INSERTED", "ROWS_PARSED", "ROWS_ERROR_COUNT",
    "LAST_ERROR_OFFSET_UPPER_BOUND", "LAST_ERROR_MESSAGE", "LAST_ERROR_TIMESTAMP_MS",
    "PROCESSING_MS_TOTAL", "BATCHES", "OPEN_SEQ", "ROW_SEQ",
)


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def normalize(identifier: str) -> str:
    """Snowflake's rule: unquoted names are upper-case, quoted ones are kept as written."""
    if len(identifier) >= 2 and identifier[0] == identifier[-1] == '"':
        return identifier[1:-1].replace('""', '"')
    return identifier.upper()


class Store:
    """The service's DuckDB database: tables, pipes, channels and users."""

    def __init__(self, path: Path, database: str, spool: Path):
        self.database = database
        self.spool = spool
        # DuckDB would otherwise cache up to 80% of RAM: bound it so long runs keep a flat footprint
        self._con = duckdb.connect(config={"memory_limit": MEMORY_LIMIT, "temp_directory": str(spool / "duckdb")})
        self._con.execute(f"ATTACH {literal(str(path))} AS {quote(database)}")
        self._con.execute(f"USE {quote(database)}")
        # One writer at a time: loads and metadata changes are serialised; reads use MVCC.
        self._write_lock = threading.Lock()
        self._writer = self._con.cursor()
        self._create_metadata()
        # Hooks for injected faults: seconds a batch accepted now waits before it commits, and
        # the reason to reject a channel's rows (None: accept them).
        self.commit_hold: Callable[[], float] = lambda: 0.0
        self.rejection: Callable[[str], str | None] = lambda channel: None
        # Accepted, not yet committed batches. A graceful close commits them; a crash loses them, and
        # then their writers' continuation tokens no longer match: they reopen and replay from the
        # committed token.
        self._pending: dict[tuple[str, ...], collections.deque[_Commit]] = {}
        self._commits: collections.deque[_Commit] = collections.deque()
        self._commits_ready = threading.Condition()
        self._committer: threading.Thread | None = None
        self._closed = False

    def close(self) -> None:
        self.commit_held()
        with self._write_lock:
            self._closed = True
            self._writer.close()
            self._con.close()
        with self._commits_ready:
            self._commits_ready.notify_all()

    @contextlib.contextmanager
    def writing(self):
        """The writer connection, held exclusively for one change."""
        with self._write_lock:
            yield self._writer

    def reset(self) -> None:
        """Drop every schema with its tables, pipes and channels (users stay)."""
        with self._write_lock:
            schemas = self._writer.execute(
                "SELECT schema_name FROM duckdb_schemas() WHERE database_name = ? AND schema_name NOT IN (?, 'main')",
                [self.database, META],
            ).fetchall()
            for (schema,) in schemas:
                self._writer.execute(f"DROP SCHEMA {quote(self.database)}.{quote(schema)} CASCADE")
            self._writer.execute(f"DELETE FROM {self._meta('PIPES')}; DELETE FROM {self._meta('CHANNELS')}")
            self._cancel_pending(lambda key: True)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A connection of its own for one reader thread."""
        cur = self._con.cursor()
        cur.execute(f"USE {quote(self.database)}")
        return cur

    def _meta(self, table: str) -> str:
        return f"{quote(self.database)}.{META}.{table}"

    def _create_metadata(self) -> None:
        self._writer.execute(f"""
            CREATE SCHEMA IF NOT EXISTS {quote(self.database)}.{META};
            CREATE TABLE IF NOT EXISTS {self._meta('USERS')} (
                NAME VARCHAR NOT NULL, RSA_PUBLIC_KEY VARCHAR NOT NULL);
            CREATE TABLE IF NOT EXISTS {self._meta('PIPES')} (
                DATABASE_NAME VARCHAR NOT NULL, SCHEMA_NAME VARCHAR NOT NULL, PIPE_NAME VARCHAR NOT NULL,
                TABLE_NAME VARCHAR NOT NULL, DEFINITION VARCHAR, MAPPING VARCHAR,
                CREATED_ON_MS BIGINT NOT NULL, FLUSH_TICK_MS INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS {self._meta('CHANNELS')} (
                DATABASE_NAME VARCHAR NOT NULL, SCHEMA_NAME VARCHAR NOT NULL, PIPE_NAME VARCHAR NOT NULL,
                CHANNEL_NAME VARCHAR NOT NULL, CREATED_ON_MS BIGINT NOT NULL,
                LAST_COMMITTED_OFFSET_TOKEN VARCHAR, ROWS_INSERTED BIGINT NOT NULL DEFAULT 0,
                ROWS_PARSED BIGINT NOT NULL DEFAULT 0, ROWS_ERROR_COUNT BIGINT NOT NULL DEFAULT 0,
                LAST_ERROR_OFFSET_UPPER_BOUND VARCHAR, LAST_ERROR_MESSAGE VARCHAR,
                LAST_ERROR_TIMESTAMP_MS BIGINT, PROCESSING_MS_TOTAL DOUBLE NOT NULL DEFAULT 0,
                BATCHES BIGINT NOT NULL DEFAULT 0, OPEN_SEQ BIGINT NOT NULL, ROW_SEQ BIGINT NOT NULL);
        """)

    # ---- users -------------------------------------------------------------------------

    def set_user_key(self, user: str, public_key_pem: str) -> None:
        with self._write_lock:
            self._writer.execute(f"DELETE FROM {self._meta('USERS')} WHERE NAME = ?", [user.upper()])
            self._writer.execute(f"INSERT INTO {self._meta('USERS')} VALUES (?, ?)", [user.upper(), public_key_pem])

    def user_keys(self) -> dict[str, str]:
        return dict(self.cursor().execute(f"SELECT NAME, RSA_PUBLIC_KEY FROM {self._meta('USERS')}").fetchall())

    # ---- tables and pipes --------------------------------------------------------------

    def table_columns(self, database: str, schema: str, table: str, cur=None) -> tuple[Column, ...]:
        rows = (cur or self.cursor()).execute(
            "SELECT column_name, data_type, is_nullable FROM duckdb_columns() "
            "WHERE database_name = ? AND schema_name = ? AND table_name = ? ORDER BY column_index",
            [database, schema, table],
        ).fetchall()
        return tuple(Column(name, type_, nullable) for name, type_, nullable in rows)

    def find_table(self, database: str, schema: str, table: str, cur=None) -> str | None:
        """The table's stored name (lookups are case-insensitive), or None."""
        row = (cur or self.cursor()).execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name ILIKE ? "
            "AND schema_name ILIKE ? AND table_name ILIKE ? AND NOT temporary",
            [database, schema, table],
        ).fetchone()
        return row[0] if row else None

    def pipe(self, database: str, schema: str, name: str, cur=None) -> Pipe:
        """Resolve a pipe (or a table's default ``<TABLE>-STREAMING`` pipe) or refuse with 404."""
        cur = cur or self.cursor()
        database, schema, name = normalize(database), normalize(schema), normalize(name)
        row = cur.execute(
            f"SELECT TABLE_NAME, MAPPING, FLUSH_TICK_MS FROM {self._meta('PIPES')} "
            "WHERE DATABASE_NAME = ? AND SCHEMA_NAME = ? AND PIPE_NAME = ?",
            [database, schema, name],
        ).fetchone()
        if row:
            table, mapping, tick = row[0], json.loads(row[1]) if row[1] else None, row[2]
        elif name.endswith(STREAMING_SUFFIX):
            table, mapping, tick = name[: -len(STREAMING_SUFFIX)], None, DEFAULT_FLUSH_TICK_MS
        else:
            table = None
        stored = table and self.find_table(database, schema, table, cur)
        if not stored:
            raise ServiceError(
                404, "ERR_PIPE_DOES_NOT_EXIST_OR_NOT_AUTHORIZED",
                f"Pipe '{database}.{schema}.{name}' does not exist or not authorized.",
            )
        columns = self.table_columns(database, schema, stored, cur)
        return Pipe(database, schema, name, stored, columns, tuple(mapping) if mapping else None, tick)

    def create_pipe(self, database: str, schema: str, name: str, table: str, definition: str,
                    mapping: list[dict] | None, replace: bool) -> None:
        with self._write_lock:
            if not self.find_table(database, schema, table, self._writer):
                raise ServiceError(400, "002003", f"Table '{database}.{schema}.{table}' does not exist or not authorized.")
            key = [database, schema, name]
            exists = self._writer.execute(
                f"SELECT count(*) FROM {self._meta('PIPES')} WHERE DATABASE_NAME = ? AND SCHEMA_NAME = ? AND PIPE_NAME = ?", key
            ).fetchone()[0]
            if exists and not replace:
                raise ServiceError(409, "002002", f"Object '{database}.{schema}.{name}' already exists.")
            self._writer.execute("BEGIN")
            try:
                self._delete_pipe(key)
                self._writer.execute(
                    f"INSERT INTO {self._meta('PIPES')} VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    key + [table, definition, json.dumps(mapping) if mapping else None, _now_ms(), DEFAULT_FLUSH_TICK_MS],
                )
                self._writer.execute("COMMIT")
            except BaseException:
                self._writer.execute("ROLLBACK")
                raise

    def drop_pipe(self, database: str, schema: str, name: str) -> bool:
        with self._write_lock:
            self._writer.execute("BEGIN")
            try:
                found = self._delete_pipe([database, schema, name])
                self._writer.execute("COMMIT")
            except BaseException:
                self._writer.execute("ROLLBACK")
                raise
            return found

    def _delete_pipe(self, key: list[str]) -> bool:
        where = "WHERE DATABASE_NAME = ? AND SCHEMA_NAME = ? AND PIPE_NAME = ?"
        found = self._writer.execute(f"SELECT count(*) FROM {self._meta('PIPES')} {where}", key).fetchone()[0]
        self._writer.execute(f"DELETE FROM {self._meta('PIPES')} {where}", key)
        self._writer.execute(f"DELETE FROM {self._meta('CHANNELS')} {where}", key)
        return bool(found)

    def list_pipes(self, database: str | None = None, schema: str | None = None) -> list[dict]:
        cur = self.cursor()
        rows = cur.execute(
            f"SELECT CREATED_ON_MS, PIPE_NAME, DATABASE_NAME, SCHEMA_NAME, TABLE_NAME, DEFINITION, FLUSH_TICK_MS "
            f"FROM {self._meta('PIPES')} WHERE (? IS NULL OR DATABASE_NAME = ?) AND (? IS NULL OR SCHEMA_NAME = ?) "
            "ORDER BY DATABASE_NAME, SCHEMA_NAME, PIPE_NAME",
            [database, database, schema, schema],
        ).fetchall()
        keys = ("created_on_ms", "name", "database_name", "schema_name", "table_name", "definition", "flush_tick_ms")
        return [dict(zip(keys, row)) for row in rows]

    def set_flush_tick(self, database: str, schema: str, name: str, tick_ms: int) -> None:
        """Set the SDK's flush cadence for a pipe (sent as max_append_request_buffer_duration_ms)."""
        if not 10 <= tick_ms <= 600_000:
            raise ServiceError(400, "INVALID_PARAMETER", f"flush tick must be 10..600000 ms, got {tick_ms}")
        pipe = self.pipe(database, schema, name)
        with self._write_lock:
            updated = self._writer.execute(
                f"UPDATE {self._meta('PIPES')} SET FLUSH_TICK_MS = ? WHERE DATABASE_NAME = ? AND SCHEMA_NAME = ? AND PIPE_NAME = ? RETURNING 1",
                [tick_ms, pipe.database, pipe.schema, pipe.name],
            ).fetchall()
            if not updated:  # a table's default pipe gets a row the first time it is tuned
                self._writer.execute(
                    f"INSERT INTO {self._meta('PIPES')} VALUES (?, ?, ?, ?, NULL, NULL, ?, ?)",
                    [pipe.database, pipe.schema, pipe.name, pipe.table, _now_ms(), tick_ms],
                )

    # ---- channels ----------------------------------------------------------------------

    def open_channel(self, pipe: Pipe, channel: str, offset_token: str | None) -> tuple[str, dict]:
        """Open (create or reopen) a channel; a reopen fences the previous writer."""
        key = [pipe.database, pipe.schema, pipe.name, channel]
        with self._write_lock:
            self._cancel_pending(lambda k: k == tuple(key))  # a reopen discards what the old writer had in flight
            row = self._writer.execute(
                f"SELECT OPEN_SEQ FROM {self._meta('CHANNELS')} {_CHANNEL_WHERE}", key
            ).fetchone()
            if row is None:
                self._writer.execute(
                    f"INSERT INTO {self._meta('CHANNELS')} (DATABASE_NAME, SCHEMA_NAME, PIPE_NAME, CHANNEL_NAME, "
                    "CREATED_ON_MS, LAST_COMMITTED_OFFSET_TOKEN, OPEN_SEQ, ROW_SEQ) VALUES (?, ?, ?, ?, ?, ?, 1, 0)",
                    key + [_now_ms(), offset_token],
                )
                seq = 1
            else:
                seq = row[0] + 1
                token_sql = ", LAST_COMMITTED_OFFSET_TOKEN = ?" if offset_token is not None else ""
                params = [seq] + ([offset_token] if offset_token is not None else []) + key
                self._writer.execute(
                    f"UPDATE {self._meta('CHANNELS')} SET OPEN_SEQ = ?, ROW_SEQ = 0{token_sql} {_CHANNEL_WHERE}", params
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
        with self._write_lock:
            rows = self._writer.execute(
                f"UPDATE {self._meta('CHANNELS')} SET OPEN_SEQ = OPEN_SEQ + 1, ROW_SEQ = 0 "
                "WHERE ? IS NULL OR CHANNEL_NAME = ? "
                "RETURNING DATABASE_NAME, SCHEMA_NAME, PIPE_NAME, CHANNEL_NAME",
                [channel, channel],
            ).fetchall()
            fenced = set(rows)
            self._cancel_pending(lambda key: key in fenced)
        return sorted(f"{row[2]}/{row[3]}" for row in rows)

    def drop_channel(self, pipe: Pipe, channel: str) -> str | None:
        key = [pipe.database, pipe.schema, pipe.name, channel]
        with self._write_lock:
            self._cancel_pending(lambda k: k == tuple(key))
            row = self._writer.execute(
                f"DELETE FROM {self._meta('CHANNELS')} {_CHANNEL_WHERE} RETURNING LAST_COMMITTED_OFFSET_TOKEN", key
            ).fetchone()
        if row is None:
            raise ServiceError(404, "ERR_CHANNEL_DOES_NOT_EXIST_OR_NOT_AUTHORIZED",
                               f"Channel '{channel}' on pipe '{pipe.name}' does not exist or not authorized.")
        return row[0]

    def forget_default_pipes_of_dropped_tables(self, w) -> None:
        """Drop the channels of default pipes whose table is gone, as Snowflake drops a table's
        default pipe with it (a table created again under that name starts without channels).
        Runs on the writer ``w`` inside the caller's transaction."""
        rows = w.execute(
            f"SELECT DISTINCT DATABASE_NAME, SCHEMA_NAME, PIPE_NAME FROM {self._meta('CHANNELS')} c "
            "WHERE PIPE_NAME LIKE ? AND NOT EXISTS (SELECT 1 FROM "
            f"{self._meta('PIPES')} p WHERE (p.DATABASE_NAME, p.SCHEMA_NAME, p.PIPE_NAME) "
            "= (c.DATABASE_NAME, c.SCHEMA_NAME, c.PIPE_NAME))",
            [f"%{STREAMING_SUFFIX}"],
        ).fetchall()
        for database, schema, pipe in rows:
            if not self.find_table(database, schema, pipe[: -len(STREAMING_SUFFIX)], w):
                key = [database, schema, pipe]
                self._cancel_pending(lambda k, key=tuple(key): k[:3] == key)
                w.execute(f"DELETE FROM {self._meta('CHANNELS')} "
                          "WHERE DATABASE_NAME = ? AND SCHEMA_NAME = ? AND PIPE_NAME = ?", key)

    def list_channels(self, database: str | None = None, schema: str | None = None,
                      pipe: str | None = None) -> list[dict]:
        cols = ", ".join(_CHANNEL_STATUS_COLUMNS)
        rows = self.cursor().execute(
            f"SELECT {cols} FROM {self._meta('CHANNELS')} WHERE (? IS NULL OR DATABASE_NAME = ?) "
            "AND (? IS NULL OR SCHEMA_NAME = ?) AND (? IS NULL OR PIPE_NAME = ?) "
            "ORDER BY DATABASE_NAME, SCHEMA_NAME, PIPE_NAME, CHANNEL_NAME",
            [database, database, schema, schema, pipe, pipe],
        ).fetchall()
        return [_status(dict(zip(_CHANNEL_STATUS_COLUMNS, row))) for row in rows]

    def _channel_rows(self, cur, pipe: Pipe, channels: list[str]) -> dict[str, dict]:
        cols = ", ".join(_CHANNEL_STATUS_COLUMNS)
        rows = cur.execute(
            f"SELECT {cols} FROM {self._meta('CHANNELS')} WHERE DATABASE_NAME = ? AND SCHEMA_NAME = ? "
            "AND PIPE_NAME = ? AND list_contains(?, CHANNEL_NAME)",
            [pipe.database, pipe.schema, pipe.name, channels],
        ).fetchall()
        return {row[3]: _status(dict(zip(_CHANNEL_STATUS_COLUMNS, row))) for row in rows}

    # ---- rows --------------------------------------------------------------------------

    def append_rows(self, pipe: Pipe, channel: str, continuation_token: str | None, body: bytes,
                    compression: str, start_token: str | None, end_token: str | None) -> str:
        """Load one rows POST (rowset mode) and advance the channel; returns the next token."""
        path = self.spool / f"{uuid.uuid4().hex}.ndjson"
        try:
            path.write_bytes(body)
            return self.load(pipe, channel, continuation_token, [Batch(path, compression, start_token, end_token)])
        finally:
            path.unlink(missing_ok=True)

    def load(self, pipe: Pipe, channel: str, continuation_token: str | None, batches: list[Batch]) -> str:
        """Load ``batches`` and advance the channel by one step, in one transaction; returns the next token.

        Rowset mode sends one batch per request, file mode one per registered fragment. A
        stale continuation token or a batch whose row count disagrees loads nothing. A token
        of None skips the fencing check (the elastic channel has no tokens). While
        :attr:`commit_hold` says so, the batch is accepted now and committed later (see
        :class:`_Commit`).
        """
        received = time.perf_counter()
        key = [pipe.database, pipe.schema, pipe.name, channel]
        cur = self.cursor()  # a connection of its own: batches are parsed outside the write lock
        try:
            results = [self._stage(cur, pipe, n, batch) for n, batch in enumerate(batches)]
            reason = self.rejection(channel)
            if reason:
                results = [(fields, LoadResult(r.rows_parsed, 0, r.rows_parsed, reason)) for fields, r in results]
            with self._write_lock:
                seq, row_seq = self._check_continuation(cur, key, channel, continuation_token)
                hold = self.commit_hold()
                if hold > 0 or tuple(key) in self._pending:  # behind held batches, a batch waits its turn
                    self._defer(_Commit(tuple(key), seq, row_seq, cur, pipe, batches, results, received,
                                        time.monotonic() + hold))
                    cur = None  # the pending commit owns the cursor and its staged tables now
                else:
                    self._commit(cur, pipe, key, batches, results, received)
        finally:
            if cur is not None:
                cur.close()
        return _continuation(seq, row_seq + 1)

    def _commit(self, cur, pipe: Pipe, key, batches: list[Batch], results: list, received: float) -> None:
        """Insert the staged rows and advance the channel in one transaction (write lock held)."""
        cur.execute("BEGIN")
        try:
            for n, (fields, result) in enumerate(results):
                if result.rows_inserted:
                    targets = ", ".join(quote(f.column) for f in fields)
                    picks = ", ".join(f"v{i}" for i in range(len(fields)))
                    cur.execute(f"INSERT INTO {pipe.table_ref} ({targets}) SELECT {picks} FROM _typed{n} WHERE NOT _bad")
            self._advance(cur, list(key), batches, [r for _, r in results], received)
            cur.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(duckdb.Error):  # a failed ROLLBACK must not hide why the COMMIT failed
                cur.execute("ROLLBACK")
            raise

    # ---- delayed commits (write lock held unless said otherwise) ----------------------

    def _defer(self, job: _Commit) -> None:
        self._pending.setdefault(job.key, collections.deque()).append(job)
        with self._commits_ready:
            self._commits.append(job)
            if self._committer is None:
                self._committer = threading.Thread(target=self._run_commits, name="aidemo-commits", daemon=True)
                self._committer.start()
            self._commits_ready.notify_all()

    def _cancel_pending(self, matches: Callable[[tuple[str, ...]], bool]) -> None:
        for key in [k for k in self._pending if matches(k)]:
            for job in self._pending.pop(key):
                job.cancelled = True

    def commit_held(self) -> None:
        """Commit every held batch now, in order (a graceful stop keeps what it accepted)."""
        with self._write_lock:
            while self._commits:
                with self._commits_ready:
                    job = self._commits.popleft()
                self._apply(job)

    def release_commits(self) -> None:
        """Let every held commit go now (a delay or stall ended early). Any thread."""
        with self._commits_ready:
            for job in self._commits:
                job.due = 0.0
            self._commits_ready.notify_all()

    def _run_commits(self) -> None:
        """Commit held batches in the order they were accepted, each when it is due."""
        while True:
            with self._commits_ready:
                while not self._closed and not (self._commits and self._commits[0].due <= time.monotonic()):
                    wait = self._commits[0].due - time.monotonic() if self._commits else None
                    self._commits_ready.wait(wait)
            with self._write_lock:  # only this thread and close() (under this lock) take from the queue
                if self._closed:
                    return
                with self._commits_ready:
                    job = self._commits.popleft()
                self._apply(job)

    def _apply(self, job: _Commit) -> None:
        try:
            if not job.cancelled:
                self._pending[job.key].popleft()
                if not self._pending[job.key]:
                    del self._pending[job.key]
                self._commit(job.cursor, job.pipe, job.key, job.batches, job.results, job.received)
        except duckdb.Error:  # e.g. the table was dropped meanwhile: the rows are lost, as uncommitted rows are
            log.exception("a delayed commit on %s failed", "/".join(job.key))
        finally:
            with contextlib.suppress(duckdb.Error):
                job.cursor.close()

    def _advance(self, cur, key: list[str], batches: list[Batch], results: list[LoadResult], received: float) -> None:
        """Count the loaded rows on the channel and move its committed offset token."""
        failed = [(b, r) for b, r in zip(batches, results) if r.rows_error]
        error_sql, error_params = "", []
        if failed:
            batch, result = failed[-1]
            error_sql = ", LAST_ERROR_OFFSET_UPPER_BOUND = ?, LAST_ERROR_MESSAGE = ?, LAST_ERROR_TIMESTAMP_MS = ?"
            error_params = [batch.end_token, result.error_message, _now_ms()]
        end_token = next((b.end_token for b in reversed(batches) if b.end_token is not None), None)
        cur.execute(
            f"UPDATE {self._meta('CHANNELS')} SET ROW_SEQ = ROW_SEQ + 1, "
            "LAST_COMMITTED_OFFSET_TOKEN = coalesce(?, LAST_COMMITTED_OFFSET_TOKEN), "
            "ROWS_INSERTED = ROWS_INSERTED + ?, ROWS_PARSED = ROWS_PARSED + ?, "
            "ROWS_ERROR_COUNT = ROWS_ERROR_COUNT + ?, PROCESSING_MS_TOTAL = PROCESSING_MS_TOTAL + ?, "
            f"BATCHES = BATCHES + 1{error_sql} {_CHANNEL_WHERE}",
            [end_token, sum(r.rows_inserted for r in results), sum(r.rows_parsed for r in results),
             sum(r.rows_error for r in results), (time.perf_counter() - received) * 1000] + error_params + key,
        )

    def _check_continuation(self, cur, key: list[str], channel: str, token: str | None) -> tuple[int, int]:
        row = cur.execute(
            f"SELECT OPEN_SEQ, ROW_SEQ FROM {self._meta('CHANNELS')} {_CHANNEL_WHERE}", key
        ).fetchone()
        if row is None:
            raise ServiceError(404, "ERR_CHANNEL_DOES_NOT_EXIST_OR_NOT_AUTHORIZED",
                               f"Channel '{channel}' does not exist or not authorized.")
        row = (row[0], row[1] + len(self._pending.get(tuple(key), ())))  # accepted, commit held
        if token is not None and token != _continuation(*row):
            raise ServiceError(
                400, "ERR_CHANNEL_HAS_INVALID_CONTINUATION_TOKEN",
                f"Channel '{channel}' is invalid: continuation token {token!r} is stale "
                "(the channel was reopened by another writer, or a request was lost); reopen the channel.",
            )
        return row

    def _stage(self, cur, pipe: Pipe, n: int, batch: Batch) -> tuple[list[Field], LoadResult]:
        """Parse one batch into temp table ``_typed<n>`` (values ``v<i>`` per field, flag ``_bad``)."""
        source = f"{literal(str(batch.path))}, compression = {literal(batch.compression)}"
        staged = self._stage_typed(cur, pipe, n, source) or self._stage_validating(cur, pipe, n, source)
        parsed = staged[1].rows_parsed
        if batch.row_count is not None and parsed != batch.row_count:
            raise ServiceError(
                400, "ERR_FRAGMENT_ROW_COUNT_MISMATCH",
                f"{batch.source} declares {batch.row_count} rows but holds {parsed}; nothing was loaded.",
            )
        return staged

    def _stage_typed(self, cur, pipe: Pipe, n: int, source: str) -> tuple[list[Field], LoadResult] | None:
        """The fast path, one pass of DuckDB's JSON reader: when every row is an object whose keys
        all name a column (each column by one spelling) and every value converts; None otherwise.

        The reader detects the keys and types from a sample and then, reading every column it
        detected, refuses any row with a key outside them: that is the unknown-key check.
        """
        if pipe.mapping:
            return None
        read = f"read_json({source}, format = 'newline_delimited', sample_size = {_SAMPLE_ROWS})"
        try:
            detected = dict(cur.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {read})").fetchall())
        except duckdb.Error:
            return None  # not NDJSON objects: the validating path finds and counts the bad rows
        fields, unknown = _fields(pipe, list(detected))
        if unknown or any(len(f.keys) > 1 for f in fields):
            return None
        if not all(_reads_as(detected[f.keys[0]], f.type) for f in fields if f.keys):
            return None
        values = ", ".join(
            f"CAST({quote(f.keys[0])} AS {f.type}) AS v{i}" if f.keys else f"CAST(NULL AS {f.type}) AS v{i}"
            for i, f in enumerate(fields)
        )
        try:
            cur.execute(f"CREATE OR REPLACE TEMP TABLE _typed{n} AS SELECT {values}, false AS _bad FROM {read}")
        except duckdb.Error:
            return None  # an unknown key, or a value that does not convert: found and counted row by row
        missing = [f"v{i} IS NULL" for i, f in enumerate(fields) if not f.nullable]
        parsed, nulls = cur.execute(
            f"SELECT count(*), count(*) FILTER (WHERE {' OR '.join(missing) or 'false'}) FROM _typed{n}"
        ).fetchone()
        if nulls:
            return None
        return fields, LoadResult(parsed, parsed, 0, None)

    def _stage_validating(self, cur, pipe: Pipe, n: int, source: str) -> tuple[list[Field], LoadResult]:
        """Row by row: insert what fits the table, count and explain the rows that do not."""
        cur.execute(f"CREATE OR REPLACE TEMP TABLE _batch{n} AS SELECT json AS j FROM read_ndjson_objects({source})")
        keys = [k for (k,) in cur.execute(f"SELECT DISTINCT unnest(json_keys(j)) FROM _batch{n}").fetchall()]
        fields, unknown = _fields(pipe, keys)
        values = ", ".join(
            f"TRY_CAST({_raw(f)} AS {f.type}) AS v{i}" for i, f in enumerate(fields)
        )
        bad = ["json_type(j) <> 'OBJECT'"]
        if unknown:
            bad.append(f"len(list_intersect(json_keys(j), [{', '.join(literal(k) for k in unknown)}])) > 0")
        for i, f in enumerate(fields):
            bad.append(f"({_raw(f)} IS NOT NULL AND v{i} IS NULL)")
            if not f.nullable:
                bad.append(f"v{i} IS NULL")
        cur.execute(
            f"CREATE OR REPLACE TEMP TABLE _typed{n} AS SELECT *, CASE WHEN _bad THEN j END AS _bad_row FROM ("
            f"SELECT j, {values}, ({' OR '.join(bad)}) AS _bad FROM _batch{n})"
        )
        parsed, errors, sample = cur.execute(
            f"SELECT count(*), count(*) FILTER (WHERE _bad), any_value(_bad_row) FROM _typed{n}"
        ).fetchone()
        cur.execute(f"DROP TABLE _batch{n}")
        message = _explain(sample, fields, unknown, cur) if errors else None
        return fields, LoadResult(parsed, parsed - errors, errors, message)


_CHANNEL_WHERE = "WHERE DATABASE_NAME = ? AND SCHEMA_NAME = ? AND PIPE_NAME = ? AND CHANNEL_NAME = ?"


def _now_ms() -> int:
    return int(time.time() * 1000)


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


def _fields(pipe: Pipe, keys: list[str]) -> tuple[list[Field], list[str]]:
    """Target columns with the batch's JSON keys that feed them, and the keys nothing takes."""
    by_name = {c.name.upper(): c for c in pipe.columns}
    if pipe.mapping:  # DATA_SOURCE form: explicit $1:KEY::TYPE list; other keys are ignored
        fields = []
        for position, m in enumerate(pipe.mapping):
            column = by_name[m["target"].upper()] if m.get("target") else pipe.columns[position]
            fields.append(Field(column.name, (m["source_key"],), m.get("cast_type") or column.type, column.nullable))
        return fields, []
    matched: dict[str, list[str]] = {}
    unknown = []
    for key in keys:
        column = by_name.get(key.upper())
        if column is None:
            unknown.append(key)
        else:
            matched.setdefault(column.name, []).append(key)
    fields = [Field(c.name, tuple(matched.get(c.name, ())), c.type, c.nullable) for c in pipe.columns]
    return fields, unknown


_SAMPLE_ROWS = 1_000  # rows the fast path's reader detects keys and types from
_NUMERIC = {"DECIMAL", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
            "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE"}


def _reads_as(detected: str, target: str) -> bool:
    """Whether a column read as ``detected`` and cast to ``target`` holds what reading it as
    ``target`` would: the same type, numbers into numbers (both go through the same parse), or
    text into anything but text (a date-like string stays as written only when read as text)."""
    family = target.split("(")[0]
    return (detected == target or (detected.split("(")[0] in _NUMERIC and family in _NUMERIC)
            or (detected == "VARCHAR" and family != "VARCHAR"))


def _raw(field: Field) -> str:
    if not field.keys:
        return "CAST(NULL AS VARCHAR)"
    parts = [f"(j ->> {literal(k)})" for k in field.keys]
    return parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"


def _explain(row_json: str, fields: list[Field], unknown: list[str], cur) -> str:
    """Why one rejected row did not fit, in words a user can act on."""
    row = json.loads(row_json)
    if not isinstance(row, dict):
        return f"Row is not a JSON object: {row_json[:100]}"
    extra = [k for k in row if k in unknown]
    if extra:
        return f"Unknown column(s) {', '.join(extra)}: the table has no such column"
    for f in fields:
        value = next((row[k] for k in f.keys if k in row and row[k] is not None), None)
        if value is None:
            if not f.nullable:
                return f"NULL result in a non-nullable column {f.column}"
            continue
        text = value if isinstance(value, str) else json.dumps(value)
        if cur.execute(f"SELECT TRY_CAST(? AS {f.type}) IS NULL", [text]).fetchone()[0]:
            return f"Column {f.column}: value {text[:60]!r} cannot be converted to {f.type}"
    return "Row was rejected"
