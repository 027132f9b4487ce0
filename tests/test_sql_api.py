"""Snowflake's SQL API v2 over HTTPS against the local service, as an HTTP client sends it.

Each test posts to ``/api/v2/statements`` with a key-pair JWT (``KEYPAIR_JWT``) and checks what
Snowflake documents: status codes, statement handles, rowType and jsonv2 cells (all strings),
result partitions, async execution with cancel, ``requestId`` retries, multi-statement requests
and the error body (code, message, sqlState, statementHandle).
"""

from __future__ import annotations

import itertools
import ssl
import time
import uuid

import httpx
import pytest

from aidemo.backends.keys import keypair_jwt
from aidemo.local.process.home import ACCOUNT, ROLE, USER
from tests.helpers import own_service, share_ca

URL = "/api/v2/statements"
# Runs for hours unless cancelled (DuckDB sums about 10^8 rows a second).
ENDLESS = "SELECT SUM(RANDOM()) AS S FROM TABLE(GENERATOR(ROWCOUNT => 1000000000000))"
_schemas = itertools.count(1)


def _client(backend) -> httpx.Client:
    """An HTTPS client of a backend's service that authenticates as the demo user with a key-pair JWT."""
    jwt = keypair_jwt(ACCOUNT, USER, backend.home.user_key.read_text(), role=ROLE)
    headers = {"Authorization": f"Bearer {jwt}", "X-Snowflake-Authorization-Token-Type": "KEYPAIR_JWT"}
    return httpx.Client(base_url=backend.info.url, verify=_trust(backend), headers=headers, timeout=60)


@pytest.fixture(scope="module")
def api(backend):
    """A client of the session's service."""
    with _client(backend) as c:
        yield c


@pytest.fixture
def schema(api):
    """A schema of the test's own in the demo database."""
    name = f"SQLAPI_{next(_schemas)}_{uuid.uuid4().hex[:6].upper()}"
    reply = api.post(URL, json={"statement": f"CREATE SCHEMA {name}"})
    assert reply.status_code == 200, reply.text
    return name


def _trust(backend) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(backend.home.ca_cert))


def run(api, statement: str, status: int = 200, params: dict | None = None, **body) -> dict:
    reply = api.post(URL, params=params or {}, json={"statement": statement, **body})
    assert reply.status_code == status, reply.text
    return reply.json()


def wait_done(api, handle: str) -> httpx.Response:
    """GET the statement until it no longer answers 202."""
    for _ in range(600):
        reply = api.get(f"{URL}/{handle}")
        if reply.status_code != 202:
            return reply
        time.sleep(0.1)
    raise AssertionError(f"statement {handle} still runs")


def test_a_query_answers_its_rowtype_and_string_cells(api):
    reply = run(api, "SELECT 1::NUMBER(10,2) AS N, 'x' AS T, 2.5::FLOAT AS R, TRUE AS B, NULL AS Z")
    meta = reply["resultSetMetaData"]
    assert meta["format"] == "jsonv2" and meta["numRows"] == 1
    assert [(c["name"], c["type"], c["scale"]) for c in meta["rowType"]][:4] == [
        ("N", "fixed", 2),
        ("T", "text", None),
        ("R", "real", None),
        ("B", "boolean", None),
    ]
    assert reply["data"] == [["1.00", "x", "2.5", "true", None]]
    assert reply["code"] == "090001" and reply["sqlState"] == "00000"
    assert reply["statementStatusUrl"] == f"{URL}/{reply['statementHandle']}"
    uuid.UUID(reply["statementHandle"])
    # nullable=false: SQL NULL as the string "null"
    assert run(api, "SELECT NULL AS Z", params={"nullable": "false"})["data"] == [["null"]]


def test_bindings_are_typed_as_their_snowflake_types(api):
    bindings = {
        "1": {"type": "FIXED", "value": "42"},
        "2": {"type": "REAL", "value": "1.5"},
        "3": {"type": "TEXT", "value": "it's"},
        "4": {"type": "BOOLEAN", "value": "true"},
        "5": {"type": "DATE", "value": "2024-01-02"},
        "6": {"type": "TIME", "value": "13:45:00.5"},
        "7": {"type": "TIMESTAMP_NTZ", "value": "2024-01-02T13:45:00"},
        "8": {"type": "TIMESTAMP_LTZ", "value": "2024-01-02T13:45:00+02:00"},
        "9": {"type": "DATE", "value": "1704153600000"},  # the connector's form: epoch milliseconds
        "10": {"type": "TEXT", "value": None},
    }
    marks = ", ".join(f"? AS C{n}" for n in range(1, 11))
    reply = run(api, f"SELECT {marks}", bindings=bindings)
    types = [c["type"] for c in reply["resultSetMetaData"]["rowType"]]
    assert types == [
        "fixed",
        "real",
        "text",
        "boolean",
        "date",
        "time",
        "timestamp_ntz",
        "timestamp_ltz",
        "date",
        "text",
    ]
    assert reply["data"] == [
        [
            "42",
            "1.5",
            "it's",
            "true",
            "19724",  # days since 1970-01-01
            "49500.500000000",  # seconds since midnight
            "1704203100.000000000",  # seconds since the epoch
            "1704195900.000000000",  # the same instant in UTC: 11:45
            "19724",
            None,
        ]
    ]
    # bound values are values, never SQL
    reply = run(api, "SELECT ? = 'a'' OR 1=1 --' AS SAME", bindings={"1": {"type": "TEXT", "value": "a' OR 1=1 --"}})
    assert reply["data"] == [["true"]]


def test_dml_answers_its_counts_and_stats(api, schema):
    run(api, "CREATE TABLE T (ID NUMBER, NAME VARCHAR)", schema=schema)
    reply = run(
        api,
        "INSERT INTO T VALUES (?, ?)",
        schema=schema,
        bindings={"1": {"type": "FIXED", "value": ["1", "2", "3"]}, "2": {"type": "TEXT", "value": ["a", "b", "c"]}},
    )
    assert reply["resultSetMetaData"]["rowType"][0]["name"] == "number of rows inserted"
    assert reply["data"] == [["3"]] and reply["stats"] == {"numRowsInserted": 3}
    reply = run(
        api,
        "SELECT NAME FROM T WHERE ID >= ? ORDER BY ID",
        schema=schema,
        bindings={"1": {"type": "FIXED", "value": "2"}},
    )
    assert reply["data"] == [["b"], ["c"]]


def test_async_answers_202_then_cancel_stops_the_statement(api):
    accepted = run(api, ENDLESS, status=202, params={"async": "true"})
    handle = accepted["statementHandle"]
    assert accepted["code"] == "333334" and accepted["statementStatusUrl"] == f"{URL}/{handle}"
    running = api.get(f"{URL}/{handle}")
    assert running.status_code == 202 and running.json()["statementHandle"] == handle
    cancel = api.post(f"{URL}/{handle}/cancel")
    assert cancel.status_code == 200, cancel.text
    assert (cancel.json()["code"], cancel.json()["statementHandle"]) == ("000604", handle)
    done = wait_done(api, handle)
    assert done.status_code == 422
    assert {k: done.json()[k] for k in ("code", "sqlState", "message", "statementHandle")} == {
        "code": "000604",
        "sqlState": "57014",
        "message": "SQL execution canceled",
        "statementHandle": handle,
    }
    again = api.post(f"{URL}/{handle}/cancel")
    assert again.status_code == 422 and again.json()["code"] == "000605"


def test_an_async_query_s_result_comes_from_its_handle(api):
    handle = run(api, "SELECT 6 * 7 AS ANSWER", status=202, params={"async": "true"})["statementHandle"]
    done = wait_done(api, handle)
    assert done.status_code == 200
    assert done.json()["data"] == [["42"]] and done.json()["statementHandle"] == handle
    assert done.json()["resultSetMetaData"]["rowType"][0]["name"] == "ANSWER"


def test_a_large_result_comes_in_partitions(api):
    rows = 150_000
    reply = api.post(
        URL, json={"statement": f"SELECT SEQ8() AS N, 'row ' || SEQ8() AS S FROM TABLE(GENERATOR(ROWCOUNT => {rows}))"}
    )
    assert reply.status_code == 200
    first = reply.json()
    meta = first["resultSetMetaData"]
    partitions = meta["partitionInfo"]
    assert meta["numRows"] == rows and len(partitions) > 1
    assert sum(p["rowCount"] for p in partitions) == rows and len(first["data"]) == partitions[0]["rowCount"]
    assert f'{URL}/{first["statementHandle"]}?partition=1>; rel="next"' in reply.headers["link"]
    data = list(first["data"])
    for number in range(1, len(partitions)):
        part = api.get(f"{URL}/{first['statementHandle']}", params={"partition": number})
        assert part.status_code == 200 and "resultSetMetaData" not in part.json()
        assert len(part.json()["data"]) == partitions[number]["rowCount"]
        data += part.json()["data"]
    assert sorted(data, key=lambda r: int(r[0])) == [[str(n), f"row {n}"] for n in range(rows)]
    beyond = api.get(f"{URL}/{first['statementHandle']}", params={"partition": len(partitions)})
    assert beyond.status_code == 400 and "out of range" in beyond.json()["message"]


def test_a_retried_request_id_does_not_run_twice(api, schema):
    run(api, "CREATE TABLE R (ID NUMBER)", schema=schema)
    request_id = str(uuid.uuid4())
    first = run(api, "INSERT INTO R VALUES (1)", schema=schema, params={"requestId": request_id})
    retried = run(api, "INSERT INTO R VALUES (1)", schema=schema, params={"requestId": request_id, "retry": "true"})
    assert retried["statementHandle"] == first["statementHandle"] and retried["requestId"] == request_id
    assert run(api, "SELECT COUNT(*) FROM R", schema=schema)["data"] == [["1"]]
    # without retry=true the same request id is a new request: it runs again
    again = run(api, "INSERT INTO R VALUES (1)", schema=schema, params={"requestId": request_id})
    assert again["statementHandle"] != first["statementHandle"]
    assert run(api, "SELECT COUNT(*) FROM R", schema=schema)["data"] == [["2"]]


def test_a_multi_statement_request_has_a_handle_per_statement(api, schema):
    script = "CREATE TABLE M (ID NUMBER); INSERT INTO M VALUES (1), (2); SELECT SUM(ID) AS TOTAL FROM M"
    reply = run(api, script, schema=schema, parameters={"MULTI_STATEMENT_COUNT": "3"})
    assert reply["data"] == [["Multiple statements executed successfully."]]
    handles = reply["statementHandles"]
    assert len(handles) == 3 and len(set(handles)) == 3
    answers = [api.get(f"{URL}/{handle}") for handle in handles]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert answers[0].json()["resultSetMetaData"]["rowType"][0]["name"] == "status"
    assert answers[1].json()["data"] == [["2"]]
    assert answers[2].json()["data"] == [["3"]]
    assert answers[2].json()["resultSetMetaData"]["rowType"][0]["name"] == "TOTAL"
    # MULTI_STATEMENT_COUNT 0: any number of statements
    assert len(run(api, "SELECT 1; SELECT 2", parameters={"MULTI_STATEMENT_COUNT": "0"})["statementHandles"]) == 2
    wrong = run(api, "SELECT 1; SELECT 2", status=422)
    assert (wrong["code"], wrong["sqlState"]) == ("000008", "0A000")
    assert "Actual statement count 2 did not match the desired statement count 1" in wrong["message"]


def test_a_script_s_tables_type_the_statements_after_them(api, schema):
    script = (  # one request, translated whole before PLANNED exists
        "CREATE TABLE PLANNED (D DATE, AMOUNT NUMBER(10,2)); INSERT INTO PLANNED VALUES ('2024-01-31', 10.25); "
        "CREATE TABLE COPIED AS SELECT D, AMOUNT FROM PLANNED; "
        "SELECT DATEADD(day, 1, D) AS NEXT_DAY, AVG(AMOUNT) AS MEAN FROM COPIED GROUP BY D"
    )
    reply = run(api, script, schema=schema, parameters={"MULTI_STATEMENT_COUNT": "4"})
    answer = api.get(f"{URL}/{reply['statementHandles'][-1]}").json()
    assert answer["data"] == [["19754", "10.25000000"]]  # 2024-02-01 in days since the epoch
    assert [(c["type"], c["scale"]) for c in answer["resultSetMetaData"]["rowType"]] == [("date", None), ("fixed", 8)]


def test_errors_answer_the_documented_body_and_status(api, schema, backend):
    missing = run(api, "SELECT * FROM NOT_THERE", status=422, schema=schema)
    assert (missing["code"], missing["sqlState"]) == ("002003", "42S02")
    assert "NOT_THERE" in missing["message"] and uuid.UUID(missing["statementHandle"])
    syntax = run(api, "SELEC 1", status=422)
    assert syntax["code"] == "001003" and syntax["sqlState"] == "42000"
    unbound = run(api, "SELECT ?", status=422)
    assert unbound["code"] == "002049"
    bad_date = run(api, "SELECT ?", status=422, bindings={"1": {"type": "DATE", "value": "not a date"}})
    assert "not a valid DATE" in bad_date["message"]
    timed_out = run(api, ENDLESS, status=408, timeout=1)
    assert (timed_out["code"], timed_out["sqlState"]) == ("000630", "57014")
    assert "timeout of 1 second(s)" in timed_out["message"]
    unknown = api.get(f"{URL}/{uuid.uuid4()}")
    assert unknown.status_code == 404 and unknown.json()["code"] == "000709"
    for body in (b"{not json", b'{"statement": 5}', b'{"statement": "SELECT 1", "timeout": "soon"}'):
        reply = api.post(URL, content=body, headers={"Content-Type": "application/json"})
        assert reply.status_code == 400 and reply.json()["message"], body
    no_key = httpx.post(backend.info.url + URL, json={"statement": "SELECT 1"}, verify=_trust(backend))
    assert no_key.status_code == 401 and no_key.json()["code"] == "390101"


def test_too_many_running_statements_answer_429(local_home, tmp_path, monkeypatch):
    monkeypatch.setenv("AIDEMO_LOCAL_SQL_API_MAX_RUNNING", "1")
    with own_service(share_ca(local_home, tmp_path / "home")) as backend:
        with _client(backend) as api:
            first = run(api, ENDLESS, status=202, params={"async": "true"})["statementHandle"]
            refused = run(api, "SELECT 1", status=429)
            assert refused["code"] == "000610" and "Request rate exceeds max" in refused["message"]
            assert api.post(f"{URL}/{first}/cancel").status_code == 200
            assert wait_done(api, first).status_code == 422
            assert run(api, "SELECT 1 AS ONE")["data"] == [["1"]]
