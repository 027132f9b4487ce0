"""The unmodified snowflake-connector-python (the pinned 5.x) against the local service."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import ssl
import time
import urllib.request
from decimal import Decimal

import jwt
import pytest
import snowflake.connector
from snowflake.connector import DatabaseError, ProgrammingError
from snowflake.connector.constants import FIELD_ID_TO_NAME

from aidemo.backends.keys import fingerprint, generate_key_pair
from aidemo.local.process import service
from aidemo.local.process.home import ACCOUNT, USER
from tests.helpers import connector_arguments, own_service, share_ca

UTC = dt.UTC


def test_login_opens_a_session_in_the_requested_context(connect):
    cur = connect(schema="RAW").cursor()
    assert cur.execute("SELECT 1 AS ONE").fetchall() == [(1,)]
    assert cur.sfqid
    assert cur.execute("SHOW TABLES LIKE 'ORDERS'").fetchall()[0][1] == "ORDERS"  # after created_on, as Snowflake


def test_every_column_type_reads_back_as_its_python_value(connection):
    cur = connection.cursor()
    cur.execute(
        "CREATE TABLE TYPES (N NUMBER(10,2), I NUMBER(38,0), F FLOAT, S VARCHAR, B BOOLEAN, D DATE, "
        "T TIME, NTZ TIMESTAMP_NTZ, LTZ TIMESTAMP_LTZ, TZ TIMESTAMP_TZ)"
    )
    cur.execute(
        "INSERT INTO TYPES VALUES (-1234.5, 12345678901234567, 2.5, 'héllo ''quoted''', TRUE, '2024-01-02', "
        "'03:04:05.123456', '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05+02:00', "
        "'1969-12-31 23:59:59.5+00:00'), (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)"
    )
    rows = cur.execute("SELECT * FROM TYPES ORDER BY I NULLS LAST").fetchall()
    assert rows == [
        (
            Decimal("-1234.50"),
            12345678901234567,
            2.5,
            "héllo 'quoted'",
            True,
            dt.date(2024, 1, 2),
            dt.time(3, 4, 5, 123456),
            dt.datetime(2024, 1, 2, 3, 4, 5, 123456),
            dt.datetime(2024, 1, 2, 1, 4, 5, tzinfo=UTC),
            dt.datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=UTC),
        ),
        (None,) * 10,
    ]
    first = rows[0]
    assert type(first[0]) is Decimal and type(first[1]) is int and type(first[2]) is float
    assert first[7].tzinfo is None and first[8].utcoffset() == dt.timedelta(0)
    assert [FIELD_ID_TO_NAME[d.type_code] for d in cur.description] == [
        "FIXED",
        "FIXED",
        "REAL",
        "TEXT",
        "BOOLEAN",
        "DATE",
        "TIME",
        "TIMESTAMP_NTZ",
        "TIMESTAMP_LTZ",
        "TIMESTAMP_LTZ",
    ]
    assert [(d.precision, d.scale) for d in cur.description[:2]] == [(10, 2), (38, 0)]


def test_semi_structured_values_read_back_as_json_text(connection):
    cur = connection.cursor()
    row = cur.execute(
        'SELECT PARSE_JSON(\'{"a": [1, {"b": null}], "c": "x"}\') AS V, ARRAY_CONSTRUCT(1, 2, 3) AS A, '
        "OBJECT_CONSTRUCT('k', 'v', 'n', 1) AS O, PARSE_JSON(NULL) AS NOTHING"
    ).fetchone()
    assert [json.loads(v) for v in row[:3]] == [
        {"a": [1, {"b": None}], "c": "x"},
        [1, 2, 3],
        {"k": "v", "n": 1},
    ]
    assert row[3] is None
    assert [FIELD_ID_TO_NAME[d.type_code] for d in cur.description] == [
        "VARIANT",
        "ARRAY",
        "OBJECT",
        "VARIANT",
    ]


def test_errors_carry_snowflake_codes(connection):
    cur = connection.cursor()
    with pytest.raises(ProgrammingError) as bad:
        cur.execute("SELEC 1")
    assert (bad.value.errno, bad.value.sqlstate) == (1003, "42000")
    with pytest.raises(ProgrammingError) as missing:
        cur.execute("SELECT * FROM NO_SUCH_TABLE")
    assert (missing.value.errno, missing.value.sqlstate) == (2003, "42S02")
    assert "NO_SUCH_TABLE" in str(missing.value) and missing.value.sfqid
    with pytest.raises(ProgrammingError) as two:
        cur.execute("SELECT 1; SELECT 2")
    assert two.value.errno == 8
    with pytest.raises(ProgrammingError) as unknown_function:
        cur.execute("SELECT NO_SUCH_FUNCTION(1)")
    assert (unknown_function.value.errno, unknown_function.value.sqlstate) == (
        2140,
        "42601",
    )
    assert cur.execute("SELECT 'still usable'").fetchone() == ("still usable",)


@pytest.mark.parametrize(
    "paramstyle, marks",
    [("qmark", "?, ?, ?, ?, ?, ?, ?"), ("numeric", ":1, :2, :3, :4, :5, :6, :7")],
)
def test_bind_variables(connect, paramstyle, marks):
    cur = connect(paramstyle=paramstyle).cursor()
    cur.execute("CREATE SCHEMA IF NOT EXISTS BINDS")
    cur.execute("USE SCHEMA BINDS")
    table = f"BINDS_{paramstyle.upper()}"
    cur.execute(
        f"CREATE OR REPLACE TABLE {table} (I NUMBER(38,0), N NUMBER(10,2), S VARCHAR, B BOOLEAN, "
        "D DATE, TS TIMESTAMP_NTZ, F FLOAT)"
    )
    values = (
        -7,
        Decimal("12.34"),
        "it's a \\ back'slash",
        False,
        dt.date(2023, 12, 31),
        dt.datetime(2024, 5, 6, 7, 8, 9, 10),
        0.25,
    )
    cur.execute(f"INSERT INTO {table} VALUES ({marks})", values)
    assert cur.rowcount == 1
    assert cur.execute(f"SELECT * FROM {table} WHERE S = {marks.split(', ')[0]}", (values[2],)).fetchall() == [values]
    cur.executemany(
        f"INSERT INTO {table} (I, S) VALUES ({marks.split(', ')[0]}, {marks.split(', ')[1]})",
        [(1, "a"), (2, None), (3, "c")],
    )
    assert cur.execute(f"SELECT I, S FROM {table} WHERE I > 0 ORDER BY I").fetchall() == [(1, "a"), (2, None), (3, "c")]


def test_pyformat_binds_are_substituted_by_the_connector(connect):
    cur = connect().cursor()
    assert cur.execute("SELECT %s AS A, %s AS B", (42, "o'k")).fetchall() == [(42, "o'k")]


def test_execute_string_runs_each_statement(connection):
    cursors = connection.execute_string(
        "CREATE TABLE ES (A NUMBER); INSERT INTO ES VALUES (1), (2); SELECT SUM(A) AS TOTAL FROM ES;"
    )
    assert len(cursors) == 3
    assert cursors[1].rowcount == 2
    assert cursors[2].fetchall() == [(3,)]
    assert cursors[2].description[0].name == "TOTAL"


def test_dml_rowcounts(connection):
    cur = connection.cursor()
    cur.execute("CREATE TABLE DML (A NUMBER, B VARCHAR)")
    cur.execute("INSERT INTO DML VALUES (1, 'x'), (2, 'y'), (3, 'z')")
    assert cur.rowcount == 3
    assert [d.name for d in cur.description] == ["number of rows inserted"]
    cur.execute("UPDATE DML SET B = 'w' WHERE A >= 2")
    assert cur.rowcount == 2
    cur.execute("DELETE FROM DML WHERE A = 1")
    assert cur.rowcount == 1
    cur.execute("SELECT * FROM DML")
    assert cur.rowcount == 2


def test_use_is_kept_per_session(connect):
    a, b = connect(), connect()
    a.cursor().execute("CREATE SCHEMA IF NOT EXISTS USE_A")
    a.cursor().execute("USE SCHEMA USE_A")
    b.cursor().execute("CREATE SCHEMA IF NOT EXISTS USE_B")
    b.cursor().execute("USE SCHEMA USE_B")
    for connection, value in ((a, "from a"), (b, "from b")):
        connection.cursor().execute("CREATE OR REPLACE TABLE SAME_NAME (V VARCHAR)")
        connection.cursor().execute(f"INSERT INTO SAME_NAME VALUES ('{value}')")
    assert a.cursor().execute("SELECT V FROM SAME_NAME").fetchall() == [("from a",)]
    assert b.cursor().execute("SELECT V FROM SAME_NAME").fetchall() == [("from b",)]
    assert connect().cursor().execute("SELECT COUNT(*) FROM USE_A.SAME_NAME").fetchone() == (1,)
    assert a.cursor().execute("SELECT CURRENT_DATABASE(), CURRENT_SCHEMA()").fetchall() == [
        ("AUTOMATED_INTELLIGENCE", "USE_A")
    ]
    a.cursor().execute("USE ROLE SYSADMIN")
    a.cursor().execute("USE WAREHOUSE OTHER_WH")
    assert (a.role, a.warehouse, a.schema) == ("SYSADMIN", "OTHER_WH", "USE_A")
    assert (b.role, b.warehouse, b.schema) == (
        "AUTOMATED_INTELLIGENCE",
        "LOCAL_WH",
        "USE_B",
    )


def test_describe_only_returns_metadata_without_running(connection):
    cur = connection.cursor()
    cur.execute("CREATE TABLE DESCRIBED (A NUMBER(5,1), B VARCHAR)")
    description = cur.describe("INSERT INTO DESCRIBED VALUES (1.5, 'x')")
    assert [d.name for d in description] == ["number of rows inserted"]
    description = cur.describe("SELECT A, B FROM DESCRIBED")
    assert [(d.name, FIELD_ID_TO_NAME[d.type_code], d.scale) for d in description] == [
        ("A", "FIXED", 1),
        ("B", "TEXT", None),
    ]
    assert cur.execute("SELECT COUNT(*) FROM DESCRIBED").fetchone() == (0,)


def test_fetch_pandas_all_reads_json_results(connection):
    cur = connection.cursor()
    frame = cur.execute("SELECT 1.25::NUMBER(10,2) AS N, 'x' AS S, 7 AS I").fetch_pandas_all()
    assert list(frame.columns) == ["N", "S", "I"]
    assert frame.to_dict("records") == [{"N": 1.25, "S": "x", "I": 7}]


def test_a_wrong_key_or_an_unknown_user_fails_the_same_clear_way(local_home):
    from cryptography.hazmat.primitives import serialization

    other = serialization.load_pem_private_key(generate_key_pair().private_key_pem.encode(), password=None)
    der = other.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    messages = []
    for user in (USER, "NOBODY"):
        with pytest.raises(DatabaseError) as refused:
            snowflake.connector.connect(**connector_arguments(local_home, user=user, private_key=der))
        assert refused.value.errno == 390144
        messages.append(refused.value.msg)
    assert messages[0] == messages[1]  # nothing tells which users exist
    assert "JWT token is invalid" in messages[0] and "private key" in messages[0]


def test_close_ends_the_session(connect):
    connection = connect()
    connection.cursor().execute("SELECT 1")
    connection.close()
    assert connection.is_closed()
    with pytest.raises(DatabaseError):
        connection.cursor().execute("SELECT 1")


def test_a_session_outlives_its_token_and_a_service_restart(local_home, tmp_path, monkeypatch):
    monkeypatch.setenv("AIDEMO_LOCAL_SESSION_TTL_S", "1")
    home = share_ca(local_home, tmp_path / "home")
    with own_service(home) as backend:
        connection = snowflake.connector.connect(**connector_arguments(home))
        try:
            cur = connection.cursor()
            cur.execute("CREATE SCHEMA RENEWED")
            cur.execute("USE SCHEMA RENEWED")
            cur.execute("SET KEPT_VARIABLE = 'kept'")
            cur.execute("ALTER SESSION SET QUERY_TAG = 'restarted'")
            time.sleep(2.5)  # past the session token's one-second validity: the connector renews it
            assert cur.execute("SELECT CURRENT_SCHEMA()").fetchone() == ("RENEWED",)
            service.stop(home)
            service.start(home)
            cur.execute("CREATE TABLE KEPT (A NUMBER)")  # still in the session's USE context
            assert backend.sql("SELECT COUNT(*) AS N FROM RENEWED.KEPT")["N"].tolist() == [0]
            # variables and session parameters are the session's too
            assert cur.execute("SELECT $KEPT_VARIABLE").fetchone() == ("kept",)
            tags = [r for r in cur.execute("SHOW PARAMETERS LIKE 'QUERY_TAG'").fetchall()]
            assert [r[:2] for r in tags] == [("QUERY_TAG", "restarted")]
        finally:
            connection.close()


# ---- the protocol on the wire, as 4.x sends it (gzipped bodies) --------------------------


def _post(home, path: str, body: dict | bytes | None, token: str | None = None) -> dict:
    """POST as 4.x does (gzipped JSON); bytes are sent as they are."""
    context = ssl.create_default_context(cafile=str(home.ca_cert))
    if isinstance(body, dict):
        body = gzip.compress(json.dumps(body).encode())
    request = urllib.request.Request(
        f"https://127.0.0.1:{service.status(home).port}{path}",
        method="POST",
        data=body or b"",
        headers={
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
            "Accept": "application/snowflake",
            "Authorization": f'Snowflake Token="{token or "None"}"',
        },
    )
    with urllib.request.urlopen(request, context=context, timeout=30) as reply:
        assert reply.status == 200
        return json.loads(reply.read())


def _login_jwt(home) -> str:
    public = home.user_public_key()
    now = int(time.time())
    claims = {
        "iss": f"{ACCOUNT}.{USER}.{fingerprint(public)}",
        "sub": f"{ACCOUNT}.{USER}",
        "iat": now,
        "exp": now + 60,
    }
    return jwt.encode(claims, home.user_key.read_text(), algorithm="RS256")


def test_session_lifecycle_on_the_wire(local_home):
    login = _post(
        local_home,
        "/session/v1/login-request?databaseName=AUTOMATED_INTELLIGENCE&schemaName=raw",
        {
            "data": {
                "ACCOUNT_NAME": ACCOUNT,
                "LOGIN_NAME": USER,
                "AUTHENTICATOR": "SNOWFLAKE_JWT",
                "TOKEN": _login_jwt(local_home),
            }
        },
    )
    assert login["success"], login
    data = login["data"]
    assert data["sessionInfo"]["schemaName"] == "RAW" and data["masterToken"] != data["token"]
    token, master = data["token"], data["masterToken"]
    kept = local_home.connector_sessions.read_text()
    assert token not in kept and master not in kept  # only their hashes are kept
    assert _post(local_home, "/session/heartbeat", {}, token)["success"]
    renewed = _post(
        local_home,
        "/session/token-request",
        {"oldSessionToken": token, "requestType": "RENEW"},
        master,
    )
    assert renewed["success"] and renewed["data"]["sessionToken"] != token
    assert _post(local_home, "/queries/v1/query-request", {"sqlText": "SELECT 1"}, token)["code"] == "390112"
    token = renewed["data"]["sessionToken"]
    result = _post(
        local_home,
        "/queries/v1/query-request",
        {
            "sqlText": "SELECT ? AS X",
            "bindings": {"1": {"type": "TEXT", "value": "y"}},
            "parameters": {"PYTHON_CONNECTOR_QUERY_RESULT_FORMAT": "JSON"},  # what a client without pyarrow sends
        },
        token,
    )
    assert result["data"]["queryResultFormat"] == "json" and result["data"]["rowset"] == [["y"]]
    assert result["data"]["finalSchemaName"] == "RAW"
    assert _post(local_home, "/session?delete=true", {}, token)["success"]
    assert _post(local_home, "/queries/v1/query-request", {"sqlText": "SELECT 1"}, token)["code"] == "390112"
    assert _post(local_home, "/session/token-request", {"requestType": "RENEW"}, master)["code"] == "390114"
    assert _post(local_home, "/session/heartbeat", {}, "made-up")["code"] == "390112"


@pytest.mark.parametrize(
    "body, problem",
    [
        (b"\x1f\x8b not gzip at all", "not valid gzip"),
        (gzip.compress(b"{not json"), "not JSON"),
        (b'{"data": "x"}', "login body must be"),
        (
            gzip.compress(b'{"data": {"AUTHENTICATOR": "SNOWFLAKE", "PASSWORD": "x"}}'),
            "key-pair authentication only",
        ),
    ],
    ids=["not gzip", "not json", "not an object", "a password"],
)
def test_bad_login_bodies_get_a_clear_refusal(local_home, body, problem):
    reply = _post(local_home, "/session/v1/login-request", body)
    assert not reply["success"] and reply["code"].startswith("390") and problem in reply["message"]
