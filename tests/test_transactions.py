"""Transactions of a connector session, as Snowflake's: autocommit by default, BEGIN / COMMIT /
ROLLBACK, the connector's commit(), rollback() and context manager, AUTOCOMMIT = FALSE."""

from __future__ import annotations

import pytest
import snowflake.connector
from snowflake.connector import DatabaseError, ProgrammingError

from tests.conftest import connector_arguments


def _schema(connection) -> str:
    return connection.cursor().execute("SELECT CURRENT_SCHEMA()").fetchone()[0]


def _other(connect, connection):
    other = connect()
    other.cursor().execute(f"USE SCHEMA {_schema(connection)}")
    return other


@pytest.fixture
def t(connection):
    connection.cursor().execute("CREATE TABLE T (ID NUMBER(38,0) NOT NULL, NAME VARCHAR)")
    return connection


def _count(connection) -> int:
    return connection.cursor().execute("SELECT COUNT(*) FROM T").fetchone()[0]


@pytest.mark.parametrize("begin", ["BEGIN", "BEGIN TRANSACTION", "BEGIN WORK", "START TRANSACTION"])
def test_a_rolled_back_insert_leaves_no_row(t, begin):
    cur = t.cursor()
    cur.execute(begin)
    cur.execute("INSERT INTO T VALUES (1, 'a'), (2, 'b')")
    assert _count(t) == 2  # the session sees its own rows
    cur.execute("ROLLBACK")
    assert _count(t) == 0


def test_another_session_sees_rows_only_once_committed(t, connect):
    other = _other(connect, t)
    t.cursor().execute("BEGIN")
    t.cursor().execute("INSERT INTO T VALUES (1, 'a')")
    assert _count(other) == 0
    t.commit()
    assert _count(other) == 1 and _count(t) == 1


def test_conn_rollback_and_commit(t):
    t.cursor().execute("BEGIN")
    t.cursor().execute("INSERT INTO T VALUES (1, 'a')")
    t.rollback()
    assert _count(t) == 0
    t.commit()  # nothing open: COMMIT succeeds, as in Snowflake
    t.rollback()


def test_the_context_manager_commits_on_exit_and_rolls_back_on_an_exception(local_home, connection):
    schema = _schema(connection)
    connection.cursor().execute("CREATE TABLE T (ID NUMBER(38,0), NAME VARCHAR)")
    arguments = connector_arguments(local_home, schema=schema, autocommit=False)
    with snowflake.connector.connect(**arguments) as conn:
        conn.cursor().execute("INSERT INTO T VALUES (1, 'kept')")
    with pytest.raises(RuntimeError), snowflake.connector.connect(**arguments) as conn:
        conn.cursor().execute("INSERT INTO T VALUES (2, 'dropped')")
        raise RuntimeError("the block fails")
    assert connection.cursor().execute("SELECT ID, NAME FROM T").fetchall() == [(1, "kept")]


def test_autocommit_false_keeps_rows_until_commit(t, connect):
    other = _other(connect, t)
    t.autocommit(False)
    t.cursor().execute("INSERT INTO T VALUES (1, 'a')")
    assert _count(other) == 0
    t.commit()
    assert _count(other) == 1
    t.cursor().execute("DELETE FROM T")
    t.rollback()
    assert _count(other) == 1 and _count(t) == 1
    t.autocommit(True)
    t.cursor().execute("DELETE FROM T")
    assert _count(other) == 0


def test_ddl_inside_a_transaction_commits_it_first(t, connect):
    other = _other(connect, t)
    t.cursor().execute("BEGIN")
    t.cursor().execute("INSERT INTO T VALUES (1, 'a')")
    t.cursor().execute("CREATE TABLE U (X NUMBER)")
    assert _count(other) == 1
    t.cursor().execute("ROLLBACK")  # nothing is open any more
    assert _count(t) == 1


def test_a_failed_statement_rolls_the_transaction_back_and_says_so(t):
    cur = t.cursor()
    cur.execute("BEGIN")
    cur.execute("INSERT INTO T VALUES (1, 'a')")
    with pytest.raises(DatabaseError, match="rolled the whole transaction back") as failed:
        cur.execute("INSERT INTO T VALUES (NULL, 'b')")
    assert failed.value.errno == 100072  # NULL result in a non-nullable column
    assert _count(t) == 0
    cur.execute("INSERT INTO T VALUES (3, 'c')")  # autocommit again
    cur.execute("ROLLBACK")
    assert _count(t) == 1


def test_a_refused_statement_keeps_the_transaction_open(t):
    cur = t.cursor()
    cur.execute("BEGIN")
    cur.execute("INSERT INTO T VALUES (1, 'a')")
    with pytest.raises(ProgrammingError):
        cur.execute("SELECT FROM WHERE")  # a syntax error never reaches the engine
    cur.execute("COMMIT")
    assert _count(t) == 1


def test_closing_a_session_with_an_open_transaction_rolls_it_back(t, connect):
    other = _other(connect, t)
    other.cursor().execute("BEGIN")
    other.cursor().execute("INSERT INTO T VALUES (1, 'a')")
    other.close()
    assert _count(t) == 0
