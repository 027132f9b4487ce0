"""A session's explicit transaction: BEGIN ... COMMIT / ROLLBACK on a DuckDB connection of its own.

Statements outside a transaction run in autocommit, through the store's one writer. A
transaction holds a DuckDB connection of its own for its lifetime, so the service's other
writers (streaming commits above all) go on while it is open; DuckDB's MVCC keeps its rows
from other sessions until COMMIT and detects conflicting writes when it commits.

Two limits of DuckDB shape what a transaction may do here. One DuckDB transaction writes one
attached database (a Snowflake database), so a statement that would write a second one is
refused before it runs and the transaction stays open. And a statement that fails at run time
aborts the whole DuckDB transaction, where Snowflake undoes the statement alone and keeps the
transaction open: the service then starts the transaction again and runs its earlier changes
once more, which gives the same rows when they read neither the clock nor chance nor an order
nothing fixes, and no change has committed since the transaction began. Otherwise the
transaction is rolled back and the error says so: rows are never kept or lost silently.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import duckdb

from aidemo.local.engine.sqlcommands import DuckSql
from aidemo.local.engine.sqlerrors import duck_error, unsupported
from aidemo.local.engine.sqlresults import Result
from aidemo.local.errors import SnowflakeError

LOCKED = ("000625", "57014")  # Snowflake: a statement waited for a lock another transaction holds
ROLLED_BACK = (
    "The statement failed inside a transaction, and the local service could not undo it alone (it "
    "undoes a statement by running the transaction's earlier changes again, which it does only when "
    "they read neither the clock nor chance and nothing else committed meanwhile), so it rolled the "
    "whole transaction back (nothing of it was kept)."
)
BATCH_ROWS = 65_536  # rows per Arrow record batch of a streamed query
_REPLAY_CHARS = 16 << 20  # the SQL of a transaction's changes kept to run them again, at most


class Transaction:
    """An open transaction: its connection, the database it has written (one at most), and the
    statements that changed rows in it (None once they are too many to keep or cannot run again)."""

    def __init__(self, store):
        self._store = store
        self._mark = store.changes()  # before BEGIN: any commit after it may be in what the statements read
        self.cursor = store.cursor()
        self.database: str | None = None
        self.rolled_back = False
        self._changes: list[str] | None = []
        self._kept = 0
        self.cursor.execute("BEGIN TRANSACTION")

    def run(self, command: DuckSql) -> Result:
        """Run one statement in the transaction; a query's rows stream as they are read. On a DuckDB
        error the statement is undone alone where it can be, else the transaction rolls back."""
        if command.database and self.database not in (None, command.database):
            raise unsupported(
                f"a transaction that writes {self.database} and {command.database}",
                f"a transaction in the local service writes one database: COMMIT before writing {command.database}",
            )
        if command.returns_rows:
            with self._statement():
                relation = self.cursor.sql(command.sql)
            return streamed(relation, self._statement)
        with self._statement():
            self.cursor.execute(command.sql)
            result = result_of(self.cursor)
        self.database = self.database or command.database
        self._kept += len(command.sql)
        if self._changes is not None and command.repeatable and self._kept <= _REPLAY_CHARS:
            self._changes.append(command.sql)
        else:
            self._changes = None
        return result

    @contextlib.contextmanager
    def _statement(self):
        """DuckDB's error of one statement as Snowflake's, once the statement is undone."""
        try:
            yield
        except duckdb.Error as exc:
            code, words = conflict(exc) or duck_error(exc)
            if not self._undo_statement():
                words = f"{words}. {ROLLED_BACK}"
            raise SnowflakeError(code, words) from exc

    def _undo_statement(self) -> bool:
        """Start the aborted transaction again with its earlier changes; False if it rolled back."""
        with contextlib.suppress(duckdb.Error):
            self.cursor.execute("ROLLBACK")
        if self._changes is not None:
            with contextlib.suppress(duckdb.Error):
                self.cursor.execute("BEGIN TRANSACTION")
                for sql in self._changes:
                    self.cursor.execute(sql)
                if self._store.unchanged_since(self._mark):  # checked last: the new snapshot is the old one
                    return True
        self.rollback()
        return False

    def commit(self) -> None:
        """COMMIT, holding the store's write lock (so that other transactions see that a change committed)."""
        if self.rolled_back:
            return
        try:
            with self._store.writing():
                self.cursor.execute("COMMIT")
        except duckdb.Error as exc:  # a write conflict with a transaction that committed first
            self._close()
            code, words = conflict(exc) or duck_error(exc)
            raise SnowflakeError(code, f"Transaction could not commit and was rolled back: {words}") from exc
        self._close()

    def rollback(self) -> None:
        self.rolled_back = True
        with contextlib.suppress(duckdb.Error):  # an aborted transaction may have ended already
            self.cursor.execute("ROLLBACK")
        self._close()

    def _close(self) -> None:
        with contextlib.suppress(duckdb.Error):
            self.cursor.close()


def streamed(relation: duckdb.DuckDBPyRelation, errors: Callable[[], contextlib.AbstractContextManager]) -> Result:
    """A query's Result whose rows DuckDB produces batch by batch as they are read; ``errors`` wraps
    the reading, so that an error while the rows are computed is handled as the statement's."""

    def batches():
        with errors():
            try:
                yield from relation.to_arrow_reader(BATCH_ROWS)
            except OSError as exc:  # DuckDB's error, as the Arrow stream hands it over
                raise _duck_exception(str(exc)) from exc

    return Result(list(zip(relation.columns, map(str, relation.types))), batches=batches())


def _duck_exception(message: str) -> duckdb.Error:
    """The DuckDB exception that a message headed "Conversion Error: ..." (and the like) came from."""
    heading = message.partition(" Error: ")[0].title().replace(" ", "")
    kind = getattr(duckdb, f"{heading}Exception", None)
    return (kind if isinstance(kind, type) and issubclass(kind, duckdb.Error) else duckdb.Error)(message)


def conflict(error: duckdb.Error) -> tuple[tuple[str, str], str] | None:
    """(code, words) for a write that conflicts with another session's open transaction, else None.

    Snowflake makes the later writer wait for the lock (and fails it when LOCK_TIMEOUT passes);
    DuckDB fails it at once, which the local service says in Snowflake's lock error.
    """
    if not isinstance(error, duckdb.TransactionException) or "conflict" not in str(error).lower():
        return None
    return LOCKED, (
        "the rows it writes are being changed by another session's open transaction; the local "
        "service cannot wait for that transaction to end: retry once it has committed or rolled back"
    )


def result_of(cur: duckdb.DuckDBPyConnection) -> Result:
    """The columns (name, DuckDB type) and rows of the statement ``cur`` ran last."""
    if not cur.description:
        return Result()
    return Result([(d[0], str(d[1])) for d in cur.description], cur.fetchall())
