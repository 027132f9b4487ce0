"""A session's explicit transaction: BEGIN ... COMMIT / ROLLBACK on a DuckDB connection of its own.

Statements outside a transaction run in autocommit, through the store's one writer. A
transaction holds a DuckDB connection of its own for its lifetime, so the service's other
writers (streaming commits above all) go on while it is open; DuckDB's MVCC keeps its rows
from other sessions until COMMIT and detects conflicting writes when it commits.

Two limits of DuckDB shape what a transaction may do here: one DuckDB transaction writes one
attached database (a Snowflake database), so a statement that would write a second one is
refused before it runs and the transaction stays open; and a statement that fails at run time
aborts the whole DuckDB transaction, where Snowflake undoes the statement alone. The service
then rolls the transaction back and says so in the error: rows are never kept or lost silently.
"""

from __future__ import annotations

import contextlib

import duckdb

from aidemo.local.sqlcommands import DuckSql
from aidemo.local.sqlerrors import SnowflakeError, duck_error, unsupported
from aidemo.local.sqlresults import Result

LOCKED = ("000625", "57014")  # Snowflake: a statement waited for a lock another transaction holds
ROLLED_BACK = (
    "The statement failed inside a transaction; the local service cannot undo one statement of a "
    "transaction alone, so it rolled the whole transaction back (nothing of it was kept)."
)


class Transaction:
    """An open transaction: its connection, and the database it has written (one at most)."""

    def __init__(self, cursor: duckdb.DuckDBPyConnection):
        self.cursor = cursor
        self.database: str | None = None
        self.rolled_back = False
        cursor.execute("BEGIN TRANSACTION")

    def run(self, command: DuckSql) -> Result:
        """Run one statement in the transaction; on a DuckDB error, roll back and say so."""
        if command.database and self.database not in (None, command.database):
            raise unsupported(
                f"a transaction that writes {self.database} and {command.database}",
                f"a transaction in the local service writes one database: COMMIT before writing {command.database}",
            )
        try:
            self.cursor.execute(command.sql)
            result = result_of(self.cursor)
        except duckdb.Error as exc:
            self.rollback()
            code, words = conflict(exc) or duck_error(exc)
            raise SnowflakeError(code, f"{words}. {ROLLED_BACK}") from exc
        self.database = self.database or command.database
        return result

    def commit(self) -> None:
        try:
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
