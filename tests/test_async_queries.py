"""Asynchronous queries through the unmodified connector: execute_async runs on in the service,
get_query_status / is_still_running follow it, and get_results_from_sfqid fetches the result of a
query that still runs or has finished (its own or one run with execute); abort_query stops one.
Connector 4.x and Snowpark's collect_nowait (their venv, tests/connector4x.py) follow them the same way."""

from __future__ import annotations

import json
import textwrap

import pytest
from snowflake.connector import ProgrammingError
from snowflake.connector.constants import QueryStatus

from tests import connector4x

ROWS = 200_000_000  # seconds of DuckDB: still running when its status is first asked for
LONG = f"SELECT COUNT(*) AS S FROM TABLE(GENERATOR(ROWCOUNT => {ROWS})) WHERE RANDOM() IS NOT NULL"
ENDLESS = LONG.replace(str(ROWS), "1000000000000")  # hours, unless aborted


def test_execute_async_runs_on_and_its_result_waits_for_it(connection):
    cur = connection.cursor()
    query_id = cur.execute_async(LONG)["queryId"]
    status = connection.get_query_status(query_id)
    assert status == QueryStatus.RUNNING and connection.is_still_running(status)
    cur.get_results_from_sfqid(query_id)  # polls the status until the query ends
    assert cur.fetchall() == [(ROWS,)]
    assert [d.name for d in cur.description] == ["S"]
    done = connection.get_query_status_throw_if_error(query_id)
    assert done == QueryStatus.SUCCESS and not connection.is_still_running(done)


def test_the_session_runs_queries_while_an_async_one_runs_on(connection):
    cur = connection.cursor()
    query_id = cur.execute_async(LONG)["queryId"]
    assert cur.execute("SELECT 'meanwhile' AS M").fetchall() == [("meanwhile",)]
    assert connection.get_query_status(query_id) == QueryStatus.RUNNING  # it did not wait for the long one
    cur.get_results_from_sfqid(query_id)
    assert cur.fetchall() == [(ROWS,)]


def test_a_quick_async_query_and_a_failed_one(connection):
    cur = connection.cursor()
    query_id = cur.execute_async("SELECT 6 * 7 AS ANSWER, 'x' AS T")["queryId"]
    cur.get_results_from_sfqid(query_id)
    assert cur.fetchall() == [(42, "x")]
    assert connection.get_query_status(query_id) == QueryStatus.SUCCESS
    failed = cur.execute_async("SELECT * FROM NOT_THERE")["queryId"]
    with pytest.raises(ProgrammingError) as missing:  # when it has failed, or at the first fetch
        cur.get_results_from_sfqid(failed)
        cur.fetchall()
    assert missing.value.errno == 2003
    assert connection.get_query_status(failed) == QueryStatus.FAILED_WITH_ERROR
    with pytest.raises(ProgrammingError) as again:
        connection.get_query_status_throw_if_error(failed)
    assert again.value.errno == 2003 and "NOT_THERE" in again.value.msg


def test_a_finished_query_s_result_comes_again_by_its_id(connection, connect):
    cur = connection.cursor()
    cur.execute("CREATE TABLE AGAIN (ID NUMBER(10,0), NAME VARCHAR)")
    cur.execute("INSERT INTO AGAIN VALUES (1, 'one'), (2, 'two')")
    cur.execute("SELECT ID, NAME FROM AGAIN ORDER BY ID")
    query_id = cur.sfqid
    assert connection.get_query_status(query_id) == QueryStatus.SUCCESS
    other = connection.cursor()
    other.get_results_from_sfqid(query_id)
    assert other.fetchall() == [(1, "one"), (2, "two")]
    # another connection of the same user finds it too
    elsewhere = connect().cursor()
    elsewhere.get_results_from_sfqid(query_id)
    assert elsewhere.fetchall() == [(1, "one"), (2, "two")]
    with pytest.raises(ProgrammingError):
        cur.execute("SELECT * FROM AGAIN_NOT_THERE")
    failed = cur.sfqid
    assert connection.get_query_status(failed) == QueryStatus.FAILED_WITH_ERROR


def test_abort_query_stops_a_running_async_query(connection):
    cur = connection.cursor()
    query_id = cur.execute_async(ENDLESS)["queryId"]
    assert connection.get_query_status(query_id) == QueryStatus.RUNNING
    assert cur.abort_query(query_id) is True
    assert connection.get_query_status(query_id) == QueryStatus.ABORTED
    with pytest.raises(ProgrammingError) as canceled:
        connection.get_query_status_throw_if_error(query_id)
    assert canceled.value.errno == 604 and "SQL execution canceled" in canceled.value.msg
    assert cur.abort_query(query_id) is False  # it no longer runs
    assert cur.execute("SELECT 1").fetchall() == [(1,)]  # the session goes on


def test_a_large_finished_result_says_it_is_no_longer_held(connection):
    cur = connection.cursor()
    cur.execute("SELECT SEQ8() AS N, 'row ' || SEQ8() AS S FROM TABLE(GENERATOR(ROWCOUNT => 100000))")
    assert len(cur.fetchall()) == 100_000  # its chunks were served once
    assert connection.get_query_status(cur.sfqid) == QueryStatus.SUCCESS
    other = connection.cursor()
    with pytest.raises(ProgrammingError) as gone:
        other.get_results_from_sfqid(cur.sfqid)
        other.fetchall()
    assert "no longer held" in gone.value.msg and "Run the query again" in gone.value.msg


ASYNC_4X = textwrap.dedent(
    """
    import base64, json, sys
    import snowflake.connector
    args = json.loads(sys.stdin.read())
    connect = dict(args["connect"], private_key=base64.b64decode(args["connect"]["private_key"]))
    connection = snowflake.connector.connect(**connect)
    cur = connection.cursor()
    query_id = cur.execute_async(args["long"])["queryId"]
    running = connection.get_query_status(query_id).name
    cur.get_results_from_sfqid(query_id)
    rows = cur.fetchall()
    done = connection.get_query_status(query_id).name
    cur.execute("SELECT 'again' AS A")
    other = connection.cursor()
    other.get_results_from_sfqid(cur.sfqid)
    again = other.fetchall()
    from snowflake.snowpark import Session
    session = Session.builder.configs(connect).create()
    job = session.sql(args["long"]).collect_nowait()
    snowpark = [list(row) for row in job.result()]
    snowpark_done = job.is_done()
    session.close()
    print(json.dumps({"running": running, "rows": rows, "done": done, "again": again,
                      "snowpark": snowpark, "snowpark_done": snowpark_done}))
    connection.close()
    """
)


def test_4x_and_snowpark_follow_an_async_query_and_fetch_a_finished_one(local_home):
    report = json.loads(connector4x.run(local_home, ["-c", ASYNC_4X], {"long": LONG}).splitlines()[-1])
    assert report == {
        "running": "RUNNING",
        "rows": [[ROWS]],
        "done": "SUCCESS",
        "again": [["again"]],
        "snowpark": [[ROWS]],  # collect_nowait's AsyncJob.result()
        "snowpark_done": True,
    }
