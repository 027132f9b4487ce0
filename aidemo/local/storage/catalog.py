"""The service's catalog: Snowflake databases, schemas and tables, kept as DuckDB's own.

Each Snowflake database is a DuckDB catalog of its own, a file under the home's
``databases/`` attached under the database's name. Next to its schemas, each holds the
``_AIDEMO`` schema with its pipes and channels, so that loading a batch of rows and
advancing its channel's committed offset token are one transaction (DuckDB writes to one
attached database per transaction). SQL cannot name ``_AIDEMO``, nor reach files outside
the home's spool and databases: external access is off and the engine's settings locked.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote as url_quote
from urllib.parse import unquote

import duckdb

from aidemo.local.engine import cancel, sftypes
from aidemo.local.errors import ServiceError

META = "_AIDEMO"
PUBLIC = "PUBLIC"
STREAMING_SUFFIX = "-STREAMING"  # a table's default pipe is <TABLE>-STREAMING
KEYS = "TABLE_KEYS"  # the keys tables declare (aidemo.local.storage.tablekeys), of these kinds:
PRIMARY, UNIQUE, FOREIGN = "PRIMARY KEY", "UNIQUE", "FOREIGN KEY"
VIEW_TEXTS = "VIEW_TEXTS"  # each view's CREATE VIEW as written (aidemo.local.storage.viewtexts)
#: DuckDB's worker threads: half the cores, the rest left to the SDK clients that usually share the
#: machine. Loads run on connections of their own in parallel; per query, more threads cost more CPU
#: per row loaded (about a fifth more with 2 than with 1 on a 2-core machine).
THREADS = max(1, (os.cpu_count() or 2) // 2)
SNOWFLAKE_TYPE_FUNCTION = "aidemo_snowflake_type"  # sftypes.of(...).name in SQL, for INFORMATION_SCHEMA.COLUMNS
MEMORY_LIMIT = "1GB"  # DuckDB's working memory; beyond it, it spills to the spool's duckdb/ directory
_SUFFIX = ".duckdb"


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def table_ref(database: str, schema: str, table: str) -> str:
    """``"database"."schema"."table"``, quoted for DuckDB."""
    return ".".join(quote(part) for part in (database, schema, table))


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def normalize(identifier: str) -> str:
    """Snowflake's rule: unquoted names are upper-case, quoted ones are kept as written."""
    if len(identifier) >= 2 and identifier[0] == identifier[-1] == '"':
        return identifier[1:-1].replace('""', '"')
    return identifier.upper()


_LENGTH = re.compile(r"(?:VAR)?CHAR(?:ACTER)?\((\d+)\)\Z")


@dataclass(frozen=True)
class Column:
    """A table column: DuckDB type, Snowflake type as declared, nullability, DEFAULT expression."""

    name: str
    type: str
    nullable: bool
    declared: str
    default: str | None = None

    @property
    def max_length(self) -> int | None:
        """The character limit of a VARCHAR(n) column."""
        match = _LENGTH.match(self.declared)
        return int(match.group(1)) if match else None


class Catalog:
    """The databases of the local service in one DuckDB instance; ``database`` is the default one."""

    def __init__(self, path: Path, database: str, spool: Path):
        self.database = database
        self.spool = spool
        self.root = path.with_name("databases")
        self.root.mkdir(mode=0o700, exist_ok=True)
        _adopt_single_file(path, self.root / _file_name(database))
        # DuckDB would otherwise cache up to 80% of RAM: bound it so long runs keep a flat footprint
        self._con = duckdb.connect(
            config={
                "memory_limit": MEMORY_LIMIT,
                "threads": THREADS,
                "temp_directory": str(spool / "duckdb"),
                "autoinstall_known_extensions": False,
                "autoload_known_extensions": False,
            }
        )
        # Files only in the spool (loads) and databases/ (CREATE DATABASE); SQL cannot change that.
        allowed = ", ".join(literal(f"{d.resolve()}/") for d in (spool, self.root))
        self._con.execute(f"SET allowed_directories = [{allowed}]")
        self._con.execute("SET enable_external_access = false")
        self._con.execute("SET lock_configuration = true")
        self._con.create_function(SNOWFLAKE_TYPE_FUNCTION, _snowflake_type, ["VARCHAR"], "VARCHAR", side_effects=False)
        # One writer at a time: loads and metadata changes are serialised; reads use MVCC.
        self._write_lock = _CountingLock()
        self._writer = self._con.cursor()
        self._users: dict[str, str] = {}
        self._databases: dict[str, Path] = {}
        for file in sorted(self.root.glob("*" + _SUFFIX)):
            self._attach(unquote(file.name[: -len(_SUFFIX)]), file)

    @contextlib.contextmanager
    def writing(self):
        """The writer connection, held exclusively for one change."""
        with self._write_lock, cancel.tracking(self._writer):
            yield self._writer

    def changes(self) -> int:
        """A mark that moves whenever a change may have committed (every change commits holding the
        write lock, a session's transaction too): see :meth:`unchanged_since`."""
        return self._write_lock.releases

    def unchanged_since(self, mark: int) -> bool:
        """Whether no change has committed since :meth:`changes` gave ``mark``, nor is committing now."""
        return not self._write_lock.locked() and self._write_lock.releases == mark

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A connection of its own for one reader thread."""
        return cancel.track(self._con.cursor())

    def _meta(self, database: str, table: str) -> str:
        return f"{quote(database)}.{META}.{table}"

    def _dropped(self, database: str, schema: str | None = None, pipes: list[str] | None = None) -> None:
        """Called (write lock held) when a database, schema or pipes are gone: forget their channels' state."""

    # ---- users -------------------------------------------------------------------------

    def set_user_key(self, user: str, public_key_pem: str) -> None:
        """Register (or replace) a user's RSA public key; the service sets its user's key at every start."""
        with self._write_lock:
            self._users[user.upper()] = public_key_pem

    def user_keys(self) -> dict[str, str]:
        return dict(self._users)

    # ---- databases and schemas ---------------------------------------------------------

    def databases(self) -> list[str]:
        return sorted(self._databases)

    def has_database(self, name: str) -> bool:
        return name in self._databases

    def create_database(self, name: str, if_not_exists: bool = False, or_replace: bool = False) -> bool:
        """Create a database with its PUBLIC schema; False if it existed and IF NOT EXISTS said keep it."""
        with self._write_lock:
            if name in self._databases:
                if if_not_exists:
                    return False
                if not or_replace:
                    raise ServiceError(409, "002002", f"Object '{name}' already exists.")
                self._detach(name)
            self._attach(name, self.root / _file_name(name))
            self._writer.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(name)}.{PUBLIC}")
            return True

    def drop_database(self, name: str) -> bool:
        """Drop a database with everything in it; False if there is none."""
        with self._write_lock:
            if name not in self._databases:
                return False
            self._detach(name)
            return True

    def schemas(self, database: str | None = None) -> list[tuple[str, str]]:
        """(database, schema) of every schema, of one database or of all."""
        return (
            self.cursor()
            .execute(
                "SELECT database_name, schema_name FROM duckdb_schemas() WHERE list_contains(?, database_name) "
                "AND schema_name NOT IN (?, 'main') ORDER BY 1, 2",
                [[database] if database else self.databases(), META],
            )
            .fetchall()
        )

    def has_schema(self, database: str, schema: str) -> bool:
        return (database, schema) in self.schemas(database) if self.has_database(database) else False

    def drop_schema(self, database: str, schema: str) -> bool:
        """Drop a schema with its tables, pipes and channels; False if there is none."""
        if not self.has_schema(database, schema):
            return False
        with self._write_lock:
            self._in_transaction(
                f"DROP SCHEMA {quote(database)}.{quote(schema)} CASCADE",
                f"DELETE FROM {self._meta(database, 'PIPES')} WHERE SCHEMA_NAME = {literal(schema)}",
                f"DELETE FROM {self._meta(database, 'CHANNELS')} WHERE SCHEMA_NAME = {literal(schema)}",
                f"DELETE FROM {self._meta(database, KEYS)} WHERE SCHEMA_NAME = {literal(schema)}",
                f"DELETE FROM {self._meta(database, VIEW_TEXTS)} WHERE SCHEMA_NAME = {literal(schema)}",
            )
            self.drop_unused_sequences(self._writer, database)
            self._dropped(database, schema)
        return True

    def forget_table(self, cur, database: str, schema: str, table: str) -> None:
        """Delete the pipes into a dropped table and their channels, its keys and the foreign keys that
        reference it (Snowflake's DROP TABLE drops those too), in the caller's transaction."""
        cur.execute(
            f"DELETE FROM {self._meta(database, KEYS)} WHERE SCHEMA_NAME = ? AND TABLE_NAME = ? "
            "OR PK_DATABASE_NAME = ? AND PK_SCHEMA_NAME = ? AND PK_TABLE_NAME = ?",
            [schema, table, database, schema, table],
        )
        self.drop_unused_sequences(cur, database)
        pipes = self._meta(database, "PIPES")
        names = [table + STREAMING_SUFFIX] + [name for (name,) in cur.execute(
            f"DELETE FROM {pipes} WHERE SCHEMA_NAME = ? AND TABLE_NAME = ? RETURNING PIPE_NAME", [schema, table]
        ).fetchall()]  # fmt: skip
        cur.execute(
            f"DELETE FROM {self._meta(database, 'CHANNELS')} WHERE SCHEMA_NAME = ? AND list_contains(?, PIPE_NAME)",
            [schema, names],
        )
        self._dropped(database, schema, names)

    def key_kinds(self, database: str, schema: str, table: str) -> dict[str, set[str]]:
        """The kinds of key (PRIMARY, UNIQUE, FOREIGN) each column of a table is part of."""
        kinds: dict[str, set[str]] = {}
        for column, kind in (
            self.cursor()
            .execute(
                f"SELECT COLUMN_NAME, KIND FROM {self._meta(database, KEYS)} WHERE SCHEMA_NAME = ? AND TABLE_NAME = ?",
                [schema, table],
            )
            .fetchall()
        ):
            kinds.setdefault(column, set()).add(kind)
        return kinds

    def drop_unused_sequences(self, cur, database: str) -> None:
        """Drop the sequences of identity columns (aidemo.local.storage.identity) that no column uses any more."""
        unused = cur.execute(
            "SELECT sequence_name FROM duckdb_sequences() s WHERE database_name = ? AND schema_name = ? "
            "AND NOT EXISTS (SELECT 1 FROM duckdb_columns() c WHERE c.database_name = s.database_name "
            "AND contains(c.column_default, s.sequence_name))",
            [database, META],
        ).fetchall()
        for (name,) in unused:
            cur.execute(f"DROP SEQUENCE {quote(database)}.{META}.{quote(name)}")

    # ---- tables ------------------------------------------------------------------------

    def tables(self, database: str | None = None, schema: str | None = None) -> list[tuple]:
        """(database, schema, table, rows) of the tables in a scope, with their exact row counts.

        DuckDB's own ``estimated_size`` still counts deleted rows, so each table is counted.
        """
        cur = self.cursor()
        names = cur.execute(
            "SELECT database_name, schema_name, table_name FROM duckdb_tables() "
            "WHERE list_contains(?, database_name) AND schema_name <> ? AND (? IS NULL OR schema_name = ?) "
            "AND NOT temporary ORDER BY 1, 2, 3",
            [[database] if database else self.databases(), META, schema, schema],
        ).fetchall()
        if not names:
            return []
        counts = cur.execute(" UNION ALL ".join(f"SELECT count(*) FROM {table_ref(*name)}" for name in names))
        return [(*name, count) for name, (count,) in zip(names, counts.fetchall())]

    def table_columns(self, database: str, schema: str, table: str, cur=None) -> tuple[Column, ...]:
        rows = (
            (cur or self.cursor())
            .execute(
                "SELECT column_name, data_type, is_nullable, comment, column_default FROM duckdb_columns() "
                "WHERE database_name = ? AND schema_name = ? AND table_name = ? ORDER BY column_index",
                [database, schema, table],
            )
            .fetchall()
        )
        return tuple(
            Column(name, type_, nullable, comment or sftypes.of(type_).name, default)
            for name, type_, nullable, comment, default in rows
        )

    def find_table(self, database: str, schema: str, table: str, cur=None, views: bool = False) -> str | None:
        """The table's stored name (lookups are case-insensitive), or None; a view's too if ``views``."""
        if schema.upper() == META or not self.has_database(database):
            return None
        sql = (
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ? "
            "AND schema_name ILIKE ? AND table_name ILIKE ? AND NOT temporary"
        )
        if views:
            sql += (
                " UNION ALL SELECT view_name FROM duckdb_views() WHERE database_name = ? "
                "AND schema_name ILIKE ? AND view_name ILIKE ? AND NOT internal"
            )
        row = (cur or self.cursor()).execute(sql, [database, schema, table] * (1 + views)).fetchone()
        return row[0] if row else None

    # ---- internals (write lock held) -----------------------------------------------------

    def _in_transaction(self, *statements: str) -> None:
        self._writer.execute("BEGIN")
        try:
            for sql in statements:
                self._writer.execute(sql)
            self._writer.execute("COMMIT")
        except BaseException:
            self._writer.execute("ROLLBACK")
            raise

    def _attach(self, name: str, file: Path) -> None:
        try:
            self._writer.execute(f"ATTACH {literal(str(file))} AS {quote(name)}")
        except duckdb.BinderException as exc:  # DuckDB compares catalog names case-insensitively
            raise ServiceError(
                409,
                "002002",
                f"Database '{name}' clashes with an existing database name.",
            ) from exc
        self._databases[name] = file
        self._writer.execute(f"""
            CREATE SCHEMA IF NOT EXISTS {quote(name)}.{META};
            CREATE TABLE IF NOT EXISTS {self._meta(name, "PIPES")} (
                DATABASE_NAME VARCHAR NOT NULL, SCHEMA_NAME VARCHAR NOT NULL, PIPE_NAME VARCHAR NOT NULL,
                TABLE_NAME VARCHAR NOT NULL, DEFINITION VARCHAR, MAPPING VARCHAR,
                CREATED_ON_MS BIGINT NOT NULL, FLUSH_TICK_MS INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS {self._meta(name, "CHANNELS")} (
                DATABASE_NAME VARCHAR NOT NULL, SCHEMA_NAME VARCHAR NOT NULL, PIPE_NAME VARCHAR NOT NULL,
                CHANNEL_NAME VARCHAR NOT NULL, CREATED_ON_MS BIGINT NOT NULL,
                LAST_COMMITTED_OFFSET_TOKEN VARCHAR, ROWS_INSERTED BIGINT NOT NULL DEFAULT 0,
                ROWS_PARSED BIGINT NOT NULL DEFAULT 0, ROWS_ERROR_COUNT BIGINT NOT NULL DEFAULT 0,
                LAST_ERROR_OFFSET_UPPER_BOUND VARCHAR, LAST_ERROR_MESSAGE VARCHAR,
                LAST_ERROR_TIMESTAMP_MS BIGINT, PROCESSING_MS_TOTAL DOUBLE NOT NULL DEFAULT 0,
                BATCHES BIGINT NOT NULL DEFAULT 0, OPEN_SEQ BIGINT NOT NULL, ROW_SEQ BIGINT NOT NULL);
            -- the keys tables declare (aidemo.local.storage.tablekeys), one row per column of a key
            CREATE TABLE IF NOT EXISTS {self._meta(name, KEYS)} (
                SCHEMA_NAME VARCHAR NOT NULL, TABLE_NAME VARCHAR NOT NULL, CONSTRAINT_NAME VARCHAR NOT NULL,
                KIND VARCHAR NOT NULL, COLUMN_NAME VARCHAR NOT NULL, PK_DATABASE_NAME VARCHAR, PK_SCHEMA_NAME VARCHAR,
                PK_TABLE_NAME VARCHAR, PK_COLUMN_NAME VARCHAR, KEY_SEQUENCE BIGINT NOT NULL,
                CREATED_ON TIMESTAMP WITH TIME ZONE NOT NULL);
            CREATE TABLE IF NOT EXISTS {self._meta(name, VIEW_TEXTS)} (
                SCHEMA_NAME VARCHAR NOT NULL, VIEW_NAME VARCHAR NOT NULL, TEXT VARCHAR NOT NULL);
        """)

    def _detach(self, name: str) -> None:
        file = self._databases.pop(name)
        self._writer.execute(f"DETACH {quote(name)}")
        for path in (file, file.with_name(file.name + ".wal")):
            path.unlink(missing_ok=True)
        self._dropped(name)


def _file_name(database: str) -> str:
    return url_quote(database, safe="") + _SUFFIX


def _adopt_single_file(old: Path, new: Path) -> None:
    """A home from before databases/ kept its one database in ``old``: move it to its place."""
    if old.exists() and not new.exists():
        for suffix in ("", ".wal"):
            source = old.with_name(old.name + suffix)
            if source.exists():
                source.rename(new.with_name(new.name + suffix))


def _snowflake_type(duck: str) -> str:
    """The Snowflake name of a DuckDB type name, for SQL (INFORMATION_SCHEMA.COLUMNS)."""
    return sftypes.of(duck).name


class _CountingLock:
    """The write lock, counting its releases: a count that has not moved, with the lock free, means
    no change committed in between."""

    def __init__(self):
        self._lock = threading.Lock()
        self.releases = 0

    def __enter__(self) -> _CountingLock:
        self._lock.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.releases += 1  # before the release: whoever sees the lock free sees the count moved
        self._lock.release()

    def locked(self) -> bool:
        return self._lock.locked()
