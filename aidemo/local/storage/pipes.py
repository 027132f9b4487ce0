"""Pipes: the named ones that CREATE PIPE makes and every table's default pipe ``<TABLE>-STREAMING``.

A pipe's row lives in the ``_AIDEMO.PIPES`` table of its database. A default pipe gets its
row the first time it is used (or its flush tick is set), so SHOW PIPES lists it from then
on, as Snowflake does.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from aidemo.local.errors import ServiceError
from aidemo.local.storage.catalog import META, STREAMING_SUFFIX, Catalog, Column, normalize, table_ref

DEFAULT_FLUSH_TICK_MS = 1000


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
        return table_ref(self.database, self.schema, self.table)


class Pipes(Catalog):
    """The pipes of every database."""

    def pipe(self, database: str, schema: str, name: str, cur=None) -> Pipe:
        """Resolve a pipe (or a table's default ``<TABLE>-STREAMING`` pipe) or refuse with 404."""
        cur = cur or self.cursor()
        database, schema, name = normalize(database), normalize(schema), normalize(name)
        if not self.has_database(database) or schema.upper() == META:
            raise _no_pipe(database, schema, name)
        row = cur.execute(
            f"SELECT TABLE_NAME, MAPPING, FLUSH_TICK_MS FROM {self._meta(database, 'PIPES')} "
            "WHERE DATABASE_NAME = ? AND SCHEMA_NAME = ? AND PIPE_NAME = ?",
            [database, schema, name],
        ).fetchone()
        if row:
            table, mapping, tick = (
                row[0],
                json.loads(row[1]) if row[1] else None,
                row[2],
            )
        elif name.endswith(STREAMING_SUFFIX):
            table, mapping, tick = (
                name[: -len(STREAMING_SUFFIX)],
                None,
                DEFAULT_FLUSH_TICK_MS,
            )
        else:
            table = None
        stored = table and self.find_table(database, schema, table, cur)
        if not stored:
            raise _no_pipe(database, schema, name)
        columns = self.table_columns(database, schema, stored, cur)
        return Pipe(
            database,
            schema,
            name,
            stored,
            columns,
            tuple(mapping) if mapping else None,
            tick,
        )

    def create_pipe(
        self,
        database: str,
        schema: str,
        name: str,
        table: str,
        definition: str,
        mapping: list[dict] | None,
        replace: bool,
    ) -> None:
        if not self.has_database(database):
            raise ServiceError(
                400,
                "002003",
                f"Database '{database}' does not exist or not authorized.",
            )
        with self._write_lock:
            if not self.find_table(database, schema, table, self._writer):
                raise ServiceError(
                    400,
                    "002003",
                    f"Table '{database}.{schema}.{table}' does not exist or not authorized.",
                )
            key = [database, schema, name]
            exists = self._writer.execute(
                f"SELECT count(*) FROM {self._meta(database, 'PIPES')} "
                "WHERE DATABASE_NAME = ? AND SCHEMA_NAME = ? AND PIPE_NAME = ?",
                key,
            ).fetchone()[0]
            if exists and not replace:
                raise ServiceError(
                    409,
                    "002002",
                    f"Object '{database}.{schema}.{name}' already exists.",
                )
            self._writer.execute("BEGIN")
            try:
                self._delete_pipe(key)
                self._writer.execute(
                    f"INSERT INTO {self._meta(database, 'PIPES')} VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    key
                    + [
                        table,
                        definition,
                        json.dumps(mapping) if mapping else None,
                        now_ms(),
                        DEFAULT_FLUSH_TICK_MS,
                    ],
                )
                self._writer.execute("COMMIT")
            except BaseException:
                self._writer.execute("ROLLBACK")
                raise

    def drop_pipe(self, database: str, schema: str, name: str) -> bool:
        if not self.has_database(database):
            return False
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
        pipes, channels = self._meta(key[0], "PIPES"), self._meta(key[0], "CHANNELS")
        found = self._writer.execute(f"SELECT count(*) FROM {pipes} {where}", key).fetchone()[0]
        self._writer.execute(f"DELETE FROM {pipes} {where}", key)
        self._writer.execute(f"DELETE FROM {channels} {where}", key)
        self._dropped(key[0], key[1], [key[2]])
        return bool(found)

    def list_pipes(self, database: str | None = None, schema: str | None = None) -> list[dict]:
        """Pipes of a scope (None: every database or schema), default pipes once they have been used."""
        keys = (
            "created_on_ms",
            "name",
            "database_name",
            "schema_name",
            "table_name",
            "definition",
            "flush_tick_ms",
        )
        return [
            dict(zip(keys, row))
            for row in self._each_database(
                "SELECT CREATED_ON_MS, PIPE_NAME, DATABASE_NAME, SCHEMA_NAME, TABLE_NAME, DEFINITION, FLUSH_TICK_MS "
                "FROM {PIPES} WHERE (? IS NULL OR SCHEMA_NAME = ?) ORDER BY SCHEMA_NAME, PIPE_NAME",
                database,
                [schema, schema],
            )
        ]

    def _each_database(self, sql: str, database: str | None, params: list) -> list[tuple]:
        """Rows of ``sql`` (naming {PIPES} and {CHANNELS}) run on one database, or on each in turn."""
        cur, rows = self.cursor(), []
        for name in [database] if database else self.databases():
            if self.has_database(name):
                tables = {t: self._meta(name, t) for t in ("PIPES", "CHANNELS")}
                rows += cur.execute(sql.format(**tables), params).fetchall()
        return rows

    def set_flush_tick(self, database: str, schema: str, name: str, tick_ms: int) -> None:
        """Set the SDK's flush cadence for a pipe (sent as max_append_request_buffer_duration_ms)."""
        if not 10 <= tick_ms <= 600_000:
            raise ServiceError(
                400,
                "INVALID_PARAMETER",
                f"flush tick must be 10..600000 ms, got {tick_ms}",
            )
        pipe = self.pipe(database, schema, name)
        with self._write_lock:
            updated = self._writer.execute(
                f"UPDATE {self._meta(pipe.database, 'PIPES')} SET FLUSH_TICK_MS = ? "
                "WHERE DATABASE_NAME = ? AND SCHEMA_NAME = ? AND PIPE_NAME = ? RETURNING 1",
                [tick_ms, pipe.database, pipe.schema, pipe.name],
            ).fetchall()
            if not updated:  # a table's default pipe gets a row the first time it is used or tuned
                self._add_default_pipe(pipe, tick_ms)

    def _add_default_pipe(self, pipe: Pipe, tick_ms: int = DEFAULT_FLUSH_TICK_MS) -> None:
        self._writer.execute(
            f"INSERT INTO {self._meta(pipe.database, 'PIPES')} VALUES (?, ?, ?, ?, NULL, NULL, ?, ?)",
            [pipe.database, pipe.schema, pipe.name, pipe.table, now_ms(), tick_ms],
        )


def now_ms() -> int:
    return int(time.time() * 1000)


def _no_pipe(database: str, schema: str, name: str) -> ServiceError:
    return ServiceError(
        404,
        "ERR_PIPE_DOES_NOT_EXIST_OR_NOT_AUTHORIZED",
        f"Pipe '{database}.{schema}.{name}' does not exist or not authorized.",
    )
