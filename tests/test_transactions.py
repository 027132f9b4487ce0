"""Transactions of a connector session, as Snowflake's: autocommit by default, BEGIN / COMMIT /
ROLLBACK, the connector's commit(), rollback() and context manager, AUTOCOMMIT = FALSE."""

from __future__ import annotations

import pytest
import snowflake.connector
from snowflake.connector import DatabaseError, ProgrammingError

from tests.helpers import connector_arguments


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


@pytest.mark.parametrize(
    "failing, errno",
    [
        ("INSERT INTO T VALUES (NULL, 'b')", 100072),  # NULL result in a non-nullable column
        ("INSERT INTO T SELECT 2, 'b' UNION ALL SELECT 'x'::INT, 'c'", 100038),  # fails after a row
        ("UPDATE T SET ID = 'x'::INT", 100038),
        ("SELECT * FROM NO_SUCH_TABLE", 2003),
    ],
    ids=["not-null", "insert-select", "update", "missing-table"],
)
def test_a_failed_statement_is_undone_alone_and_the_transaction_commits_the_rest(t, connect, failing, errno):
    other = _other(connect, t)
    cur = t.cursor()
    cur.execute("BEGIN")
    cur.execute("INSERT INTO T VALUES (1, 'a')")
    cur.execute("UPDATE T SET NAME = 'A' WHERE ID = 1")
    with pytest.raises(DatabaseError) as failed:
        cur.execute(failing)
    assert failed.value.errno == errno and "rolled" not in str(failed.value)
    assert cur.execute("SELECT ID, NAME FROM T").fetchall() == [(1, "A")]  # still open, its changes kept
    assert _count(other) == 0
    cur.execute("INSERT INTO T VALUES (3, 'c')")
    cur.execute("COMMIT")
    assert other.cursor().execute("SELECT ID, NAME FROM T ORDER BY ID").fetchall() == [(1, "A"), (3, "c")]


def test_a_failed_statement_with_autocommit_off_keeps_the_transaction(t):
    t.autocommit(False)
    cur = t.cursor()
    cur.execute("INSERT INTO T VALUES (1, 'a')")
    with pytest.raises(DatabaseError):
        cur.execute("INSERT INTO T VALUES (NULL, 'b')")
    t.rollback()
    assert _count(t) == 0
    cur.execute("INSERT INTO T VALUES (2, 'b')")
    with pytest.raises(DatabaseError):
        cur.execute("INSERT INTO T VALUES ('x'::INT, 'c')")
    t.commit()
    t.autocommit(True)
    assert t.cursor().execute("SELECT ID FROM T").fetchall() == [(2,)]


def test_a_query_failing_as_its_rows_stream_is_undone_alone(t):
    cur = t.cursor()
    cur.execute("BEGIN")
    cur.execute("INSERT INTO T VALUES (1, 'a')")
    with pytest.raises(ProgrammingError) as failed:
        cur.execute("SELECT SEQ8() + IFF(SEQ8() = 290000, 'x'::INT, 0) AS X FROM TABLE(GENERATOR(ROWCOUNT => 300000))")
    assert failed.value.errno == 100038
    cur.execute("COMMIT")
    assert _count(t) == 1


def test_a_failed_statement_after_changes_it_cannot_repeat_rolls_the_transaction_back(t):
    cur = t.cursor()
    cur.execute("BEGIN")
    cur.execute("INSERT INTO T SELECT 1, UUID_STRING()")  # another value each time it runs
    with pytest.raises(DatabaseError, match="rolled the whole transaction back") as failed:
        cur.execute("INSERT INTO T VALUES (NULL, 'b')")
    assert failed.value.errno == 100072
    assert _count(t) == 0
    cur.execute("INSERT INTO T VALUES (3, 'c')")  # autocommit again
    cur.execute("ROLLBACK")
    assert _count(t) == 1


def test_a_failed_statement_after_another_session_committed_rolls_the_transaction_back(t, connect):
    other = _other(connect, t)
    cur = t.cursor()
    cur.execute("BEGIN")
    cur.execute("INSERT INTO T SELECT COUNT(*) + 100, 'count' FROM T")  # reads what is committed
    other.cursor().execute("INSERT INTO T VALUES (7, 'other')")  # running it again would read this row
    with pytest.raises(DatabaseError, match="rolled the whole transaction back"):
        cur.execute("INSERT INTO T VALUES (NULL, 'b')")
    cur.execute("COMMIT")
    assert t.cursor().execute("SELECT ID FROM T").fetchall() == [(7,)]


def test_a_query_inside_a_transaction_answers_as_outside(t):
    cur = t.cursor()
    cur.execute("INSERT INTO T SELECT SEQ4(), 'row ' || SEQ4() FROM TABLE(GENERATOR(ROWCOUNT => 200000))")
    cur.execute("BEGIN")
    cur.execute("DELETE FROM T WHERE ID >= 150000")
    rows = cur.execute("SELECT ID, NAME FROM T ORDER BY ID").fetchall()
    assert cur._query_result_format == "arrow" and len(rows) == 150000 and rows[-1] == (149999, "row 149999")
    frame = cur.execute("SELECT ID FROM T WHERE ID < 10").fetch_pandas_all()
    assert frame["ID"].tolist() == list(range(10))
    cur.execute("ROLLBACK")
    assert _count(t) == 200000


def test_a_large_result_inside_a_transaction_comes_in_arrow_chunks(local_home):
    from tests.test_arrow_results import LARGE, ROWS, _login, _query

    token = _login(local_home)
    _query(local_home, token, "BEGIN")
    data = _query(local_home, token, LARGE)
    assert data["queryResultFormat"] == "arrow" and data["total"] == ROWS and len(data["chunks"]) >= 2
    _query(local_home, token, "ROLLBACK")


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


def test_streaming_commits_go_on_while_a_transaction_is_open(backend, fresh_table, connect):
    from tests.helpers import ids, order

    cur = connect().cursor()
    cur.execute("BEGIN")
    cur.execute(f"INSERT INTO RAW.{fresh_table} (ORDER_ID) VALUES (9999)")
    client = backend.create_client("in-transaction", f"{fresh_table}-STREAMING")
    channel, _ = client.open_channel("ch_1")
    channel.append_rows([order(i) for i in range(1, 101)], "1", "100")
    channel.wait_for_commit(lambda token: token == "100", 30)
    assert ids(backend, fresh_table) == list(range(1, 101))  # streamed rows committed, the open insert unseen
    cur.execute("ROLLBACK")
    client.close()
    assert ids(backend, fresh_table) == list(range(1, 101))


def test_a_write_conflicting_with_another_open_transaction_is_refused_as_locked(t, connect):
    t.cursor().execute("INSERT INTO T VALUES (1, 'a')")
    other = _other(connect, t)
    t.cursor().execute("BEGIN")
    other.cursor().execute("BEGIN")
    t.cursor().execute("UPDATE T SET NAME = 'mine' WHERE ID = 1")
    with pytest.raises(DatabaseError, match="another session's open transaction.*rolled") as failed:
        other.cursor().execute("UPDATE T SET NAME = 'theirs' WHERE ID = 1")
    assert (failed.value.errno, failed.value.sqlstate) == (625, "57014")
    with pytest.raises(DatabaseError, match="another session's open transaction") as failed:
        other.cursor().execute("UPDATE T SET NAME = 'autocommit' WHERE ID = 1")
    assert failed.value.errno == 625
    t.cursor().execute("COMMIT")
    assert t.cursor().execute("SELECT NAME FROM T").fetchall() == [("mine",)]


def test_a_transaction_writes_one_database(t):
    cur = t.cursor()
    cur.execute("CREATE DATABASE IF NOT EXISTS TXN_OTHER_DB")
    cur.execute("CREATE OR REPLACE TABLE TXN_OTHER_DB.PUBLIC.U (X NUMBER)")
    cur.execute("BEGIN")
    cur.execute("INSERT INTO TXN_OTHER_DB.PUBLIC.U VALUES (1)")
    with pytest.raises(ProgrammingError, match="writes one database") as refused:
        cur.execute("INSERT INTO AUTOMATED_INTELLIGENCE.RAW.ORDERS (ORDER_ID) VALUES (-1)")
    assert refused.value.sqlstate == "0A000"
    cur.execute("COMMIT")  # the transaction stayed open: its first insert commits
    assert cur.execute("SELECT X FROM TXN_OTHER_DB.PUBLIC.U").fetchall() == [(1,)]
    cur.execute("DROP DATABASE TXN_OTHER_DB")


def sql_api(backend, schema: str, statement: str) -> dict:
    """The SQL API's reply to a body holding ``statement`` (one or more), run in ``schema``."""
    import json

    from aidemo.backends.keys import keypair_jwt
    from aidemo.local.process.home import ACCOUNT, ROLE, USER
    from tests.test_sql_lockdown import _post

    jwt = keypair_jwt(ACCOUNT, USER, backend.home.user_key.read_text(), role=ROLE)
    headers = {
        "Authorization": f"Bearer {jwt}",
        "X-Snowflake-Authorization-Token-Type": "KEYPAIR_JWT",
        "Content-Type": "application/json",
    }
    # MULTI_STATEMENT_COUNT 0: as many statements as the text holds
    body = {"statement": statement, "schema": schema, "parameters": {"MULTI_STATEMENT_COUNT": "0"}}
    status, reply = _post(backend, "/api/v2/statements", json.dumps(body).encode(), headers)
    assert status == 200, reply
    return json.loads(reply)


def test_the_sql_api_runs_a_body_s_transaction_and_rolls_back_what_it_leaves_open(backend, t):
    schema = _schema(t)

    def post(statement: str):
        return sql_api(backend, schema, statement)

    post("BEGIN; INSERT INTO T VALUES (1, 'kept'); COMMIT")
    post("BEGIN; INSERT INTO T VALUES (2, 'left open')")
    post("INSERT INTO T VALUES (3, 'a'); INSERT INTO T VALUES (4, 'b')")
    assert t.cursor().execute("SELECT ID FROM T ORDER BY ID").fetchall() == [(1,), (3,), (4,)]
