"""Isolation by construction (issue 25): no SQL on any route reaches the service's bookkeeping,
files or DuckDB's own catalog, and every refusal leaves everything as it was.

Each probe runs against the unmodified connector or raw HTTPS, in a demo database with a channel
whose committed offset token is "42"; after each one the channels, the home's files and the
tables are checked unchanged.
"""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request

import pytest
from snowflake.connector.errors import ProgrammingError

from aidemo.backends.keys import keypair_jwt
from aidemo.local.process.home import ACCOUNT, ROLE, USER
from tests.test_connector import _login_jwt
from tests.test_connector import _post as post_connector
from tests.test_sql_lockdown import _post as post_sql_api

TOKEN = "42"


def _https(backend, method: str, path: str, body: bytes, headers: dict) -> tuple[int, bytes]:
    import ssl

    context = ssl.create_default_context(cafile=str(backend.home.ca_cert))
    request = urllib.request.Request(backend.info.url + path, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, context=context, timeout=30) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _jwt_headers(backend) -> dict:
    jwt = keypair_jwt(ACCOUNT, USER, backend.home.user_key.read_text(), role=ROLE)
    return {
        "Authorization": f"Bearer {jwt}",
        "X-Snowflake-Authorization-Token-Type": "KEYPAIR_JWT",
        "Content-Type": "application/json",
    }


@pytest.fixture
def guarded(demo_db):
    """The demo database with channel GUARDED committed at offset token 42, and a snapshot of
    everything a probe must not change: the channels, the home's files, the tables' rows."""
    headers = _jwt_headers(demo_db)
    status, scoped = _https(demo_db, "POST", "/oauth/token", b"grant_type=x&scope=127.0.0.1", headers)
    assert status == 200, scoped
    status, reply = _https(
        demo_db,
        "PUT",
        f"/v2/streaming/databases/{demo_db.database}/schemas/RAW/pipes/ORDERS_PIPE/channels/GUARDED",
        json.dumps({"offset_token": TOKEN}).encode(),
        {"Authorization": f"Bearer {scoped.decode()}", "X-Snowflake-Authorization-Token-Type": "OAUTH"},
    )
    assert status == 200, reply
    demo_db.sql(f"INSERT INTO {demo_db.database}.RAW.ORDERS (ORDER_ID, CUSTOMER_ID) VALUES (1, 1), (2, 2)")

    def state():
        channels = demo_db.sql(f"SHOW CHANNELS IN DATABASE {demo_db.database}")
        files = sorted(str(p.relative_to(demo_db.home.root)) for p in demo_db.home.root.rglob("*") if p.is_file())
        files = [f for f in files if not f.endswith((".wal", ".log")) and "/duckdb/" not in f and "chunks" not in f]
        rows = demo_db.sql(f"SELECT COUNT(*) AS N FROM {demo_db.database}.RAW.ORDERS")["N"].tolist()
        return channels.to_dict("records"), files, rows

    before = state()
    (channel,) = before[0]
    assert channel["last_committed_offset_token"] == TOKEN
    yield demo_db
    assert state() == before


def _refused(cur, statement: str, errno: int, *params) -> str:
    with pytest.raises(ProgrammingError) as refused:
        cur.execute(statement, params or None)
    assert refused.value.errno == errno, refused.value.msg
    return refused.value.msg


INJECTIONS = [
    "SELECT * FROM IDENTIFIER('ORDERS; COPY (SELECT 1) TO ''{spool}/stolen.csv''')",
    "SELECT * FROM IDENTIFIER('read_blob(''{home}/databases/*'')')",
    "SELECT IDENTIFIER('1; SELECT * FROM read_blob(''{home}/user.p8'')') FROM ORDERS",
    "UPDATE IDENTIFIER('ORDERS SET ORDER_ID = 0; UPDATE ORDERS') SET ORDER_ID = 0",
    "SELECT * FROM IDENTIFIER(1)",
]


@pytest.mark.parametrize("statement", INJECTIONS)
def test_identifier_takes_a_name_only(guarded, connect, statement):
    cur = connect(database=guarded.database, schema="RAW").cursor()
    text = statement.format(spool=guarded.home.root / "spool", home=guarded.home.root)
    message = _refused(cur, text, 1003)
    assert "IDENTIFIER(" in message


def test_identifier_names_a_table_as_quoted_names(guarded, connect):
    cur = connect(database=guarded.database, schema="RAW", paramstyle="qmark").cursor()
    assert cur.execute("SELECT COUNT(*) FROM IDENTIFIER('ORDERS')").fetchone() == (2,)
    assert cur.execute("SELECT COUNT(*) FROM IDENTIFIER(?)", ["RAW.ORDERS"]).fetchone() == (2,)
    cur.execute("SET T = 'ORDERS'")
    assert cur.execute("SELECT MAX(IDENTIFIER('ORDER_ID')) FROM IDENTIFIER($T)").fetchone() == (2,)
    assert cur.execute('SELECT COUNT(*) FROM IDENTIFIER(\'"RAW"."ORDERS"\')').fetchone() == (2,)


BOOKKEEPING = [
    "SELECT * FROM IDENTIFIER('_AIDEMO.CHANNELS')",
    "UPDATE IDENTIFIER('_AIDEMO.CHANNELS') SET LAST_COMMITTED_OFFSET_TOKEN = '999'",
    "CREATE TABLE STOLEN AS SELECT * FROM IDENTIFIER('{db}._AIDEMO.CHANNELS')",
    "UPDATE {db}.\"_aidemo\".CHANNELS SET LAST_COMMITTED_OFFSET_TOKEN = '999'",
    'DELETE FROM "{db}"."_AIDEMO"."CHANNELS"',
    "INSERT INTO _AIDEMO.PIPES SELECT * FROM _AIDEMO.PIPES",
    "SELECT * FROM system.main.duckdb_tables",
    "SET stolen = (SELECT MAX(LAST_COMMITTED_OFFSET_TOKEN) FROM _AIDEMO.CHANNELS)",
    "CREATE VIEW PEEK AS SELECT * FROM IDENTIFIER('_AIDEMO.CHANNELS')",
    "MERGE INTO _AIDEMO.CHANNELS C USING ORDERS O ON TRUE WHEN MATCHED THEN DELETE",
    "WITH X AS (SELECT * FROM _AIDEMO.CHANNELS) SELECT * FROM X",
    "SELECT * FROM temp.main.x",
]


@pytest.mark.parametrize("statement", BOOKKEEPING)
def test_the_bookkeeping_is_an_unknown_schema_whatever_the_spelling(guarded, connect, statement):
    cur = connect(database=guarded.database, schema="RAW").cursor()
    assert "does not exist or not authorized" in _refused(cur, statement.format(db=guarded.database), 2003)


def test_a_bind_or_a_session_variable_naming_the_bookkeeping_is_refused(guarded, connect):
    cur = connect(database=guarded.database, schema="RAW", paramstyle="qmark").cursor()
    _refused(cur, "UPDATE IDENTIFIER(?) SET LAST_COMMITTED_OFFSET_TOKEN = '999'", 2003, "_AIDEMO.CHANNELS")
    cur.execute("SET target = '_AIDEMO.CHANNELS'")
    _refused(cur, "DELETE FROM IDENTIFIER($target)", 2003)


DUCKDB_FUNCTIONS = [
    ("SELECT * FROM duckdb_schemas()", "DUCKDB_SCHEMAS"),
    ("SELECT * FROM duckdb_tables()", "DUCKDB_TABLES"),
    ("SELECT * FROM TABLE(duckdb_columns())", "DUCKDB_COLUMNS"),
    ("SELECT * FROM pragma_table_info('_AIDEMO.CHANNELS')", "PRAGMA_TABLE_INFO"),
    ("SELECT * FROM pragma_storage_info('_AIDEMO.CHANNELS')", "PRAGMA_STORAGE_INFO"),
    ("SELECT * FROM json_execute_serialized_sql(json_serialize_sql('SELECT * FROM _AIDEMO.CHANNELS'))", None),
    ("SELECT json_serialize_sql('SELECT 1')", "JSON_SERIALIZE_SQL"),
    ("SELECT * FROM glob('*')", None),
    ("SELECT * FROM query_table('ORDERS')", "QUERY_TABLE"),
    ("SELECT current_setting('allowed_directories')", "CURRENT_SETTING"),
    ("SELECT * FROM read_text('{home}/token.secret')", "READ_TEXT"),
]


@pytest.mark.parametrize(("statement", "name"), DUCKDB_FUNCTIONS)
def test_duckdbs_own_functions_are_unknown_functions(guarded, connect, statement, name):
    cur = connect(database=guarded.database, schema="RAW").cursor()
    text = statement.format(home=guarded.home.root)
    with pytest.raises(ProgrammingError) as refused:
        cur.execute(text)
    if name is None:  # sqlglot reads it as something else; still never run
        assert refused.value.errno in (1003, 2140), refused.value.msg
    else:
        assert (refused.value.errno, refused.value.sqlstate) == (2140, "42601")
        assert refused.value.msg.endswith(f"Unknown function {name}"), refused.value.msg


def test_information_schema_never_lists_the_bookkeeping(guarded, connect):
    cur = connect(database=guarded.database, schema="RAW").cursor()
    for view, column in (("SCHEMATA", "SCHEMA_NAME"), ("TABLES", "TABLE_SCHEMA"), ("COLUMNS", "TABLE_SCHEMA")):
        names = {row[0] for row in cur.execute(f"SELECT DISTINCT {column} FROM INFORMATION_SCHEMA.{view}")}
        assert names and not {n.upper() for n in names} & {"_AIDEMO", "MAIN", "PG_CATALOG"}, (view, names)
    tables = {row[0] for row in cur.execute("SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES")}
    assert "CHANNELS" not in tables and "PIPES" not in tables
    assert "_AIDEMO" not in guarded.sql(f"SHOW SCHEMAS IN DATABASE {guarded.database}")["name"].tolist()


def test_a_login_in_the_bookkeeping_schema_is_in_an_unknown_schema(guarded, connect):
    cur = connect(database=guarded.database, schema="_AIDEMO").cursor()
    for statement in ("SELECT * FROM CHANNELS", "UPDATE CHANNELS SET LAST_COMMITTED_OFFSET_TOKEN = '999'"):
        message = _refused(cur, statement, 2003)
        assert f"Schema '{guarded.database}._AIDEMO' does not exist or not authorized." in message


def test_the_sql_api_in_the_bookkeeping_schema_is_in_an_unknown_schema(guarded):
    body = {
        "statement": "UPDATE CHANNELS SET LAST_COMMITTED_OFFSET_TOKEN = '999'",
        "database": guarded.database,
        "schema": "_AIDEMO",
    }
    status, reply = post_sql_api(guarded, "/api/v2/statements", json.dumps(body).encode(), _jwt_headers(guarded))
    assert status == 422 and reply["code"] == "002003", reply
    for statement in ("SELECT * FROM IDENTIFIER('_AIDEMO.CHANNELS')", "SELECT * FROM duckdb_tables()"):
        body = {"statement": statement, "database": guarded.database, "schema": "RAW"}
        status, reply = post_sql_api(guarded, "/api/v2/statements", json.dumps(body).encode(), _jwt_headers(guarded))
        assert status == 422 and reply["code"] in ("002003", "002140"), reply


# ---- no 500s ------------------------------------------------------------------------------


def _login(home) -> str:
    login = post_connector(
        home,
        "/session/v1/login-request?databaseName=AUTOMATED_INTELLIGENCE&schemaName=RAW",
        {"data": {"ACCOUNT_NAME": ACCOUNT, "LOGIN_NAME": USER, "AUTHENTICATOR": "SNOWFLAKE_JWT",
                  "TOKEN": _login_jwt(home)}},
    )  # fmt: skip
    return login["data"]["token"]


def _nested(depth: int) -> str:
    return "SELECT " + "(" * depth + "1" + ")" * depth


SHAPES = [
    b"",
    b"[]",
    b'"x"',
    b"1",
    b"null",
    b"{",
    b"\xff\xfe",
    b"[" * 5000 + b"]" * 5000,
    b'{"data": []}',
    b'{"sqlText": 1}',
    b'{"sqlText": "SELECT 1", "parameters": []}',
    b'{"sqlText": "SELECT 1", "parameters": "MULTI_STATEMENT_COUNT"}',
    b'{"sqlText": "SELECT ?", "bindings": ["1"]}',
    b'{"sqlText": "SELECT ?", "bindings": {"1": 1}}',
    b'{"requestType": []}',
    *(json.dumps({"sqlText": _nested(depth)}).encode() for depth in (10, 100, 1000, 5000)),
    *(json.dumps({"statement": _nested(depth)}).encode() for depth in (10, 100, 1000, 5000)),
]
ROUTES = [
    "/session/v1/login-request",
    "/queries/v1/query-request",
    "/session/token-request",
    "/api/v2/statements",
]


def test_every_route_answers_every_body_shape_and_depth_with_a_snowflake_error_not_a_500(local_home, backend):
    token = _login(local_home)
    for route in ROUTES:
        headers = _jwt_headers(backend) if route.startswith("/api/") else {
            "Authorization": f'Snowflake Token="{token}"', "Content-Type": "application/json"}  # fmt: skip
        for body in SHAPES:
            for encoded in (body, gzip.compress(body)):
                extra = {"Content-Encoding": "gzip"} if encoded is not body and not route.startswith("/api/") else {}
                if extra or encoded is body:
                    status, reply = _https(backend, "POST", route, encoded, headers | extra)
                    assert status < 500, (route, body[:60], status, reply[:200])
                    answer = json.loads(reply)
                    if status == 200 and "success" in answer:
                        assert answer["success"] is False or b"SELECT" in body, (route, body[:60], answer)
                        assert answer["success"] is True or answer["code"], (route, body[:60], answer)
                    else:
                        assert answer.get("code") and answer.get("message"), (route, body[:60], answer)
    assert backend.sql("SELECT 1 AS ONE")["ONE"].tolist() == [1]  # the service is still up


def test_deep_nesting_is_a_syntax_error_on_both_routes(backend, connect):
    cur = connect().cursor()
    with pytest.raises(ProgrammingError) as refused:
        cur.execute(_nested(5000))
    assert (refused.value.errno, refused.value.sqlstate) == (1003, "42000")
    assert "nests its expressions too deeply" in refused.value.msg
    body = json.dumps({"statement": _nested(5000)}).encode()
    status, reply = post_sql_api(backend, "/api/v2/statements", body, _jwt_headers(backend))
    assert status == 422 and reply["code"] == "001003" and "too deeply" in reply["message"]


def test_a_query_request_with_parameters_not_an_object_is_refused(local_home):
    token = _login(local_home)
    for parameters in (["MULTI_STATEMENT_COUNT", 2], "MULTI_STATEMENT_COUNT"):
        reply = post_connector(
            local_home, "/queries/v1/query-request", {"sqlText": "SELECT 1", "parameters": parameters}, token
        )
        assert reply["success"] is False and reply["code"] == "000001", reply
        assert '"parameters" must be an object' in reply["message"]


def test_a_gzip_bomb_at_login_is_refused_while_it_inflates(private_service):
    import re
    from pathlib import Path

    from aidemo.local.process import service

    pid = service.status(private_service.home).pid

    def high_water_kb() -> int:
        return int(re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text()).group(1))

    bomb = gzip.compress(b'{"data": {"x": "' + b"0" * (256 << 20) + b'"}}', compresslevel=9)
    before = high_water_kb()
    status, reply = _https(
        private_service,
        "POST",
        "/session/v1/login-request",
        bomb,
        {"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    answer = json.loads(reply)
    assert status == 200 and answer["success"] is False and "inflates past" in answer["message"], answer
    assert high_water_kb() - before < 32 << 10  # well under the 256 MB it would inflate to


def test_a_stage_prefix_is_signed_with_its_expiry_and_checked_after_a_restart(tmp_path):
    """A prefix carries its expiry under the service's HMAC: a restarted service (a new Stage on the
    home's secret) accepts it while it lives and refuses it after; a changed expiry fails the HMAC."""
    import time

    from aidemo.local.errors import ServiceError
    from aidemo.local.storage.stage import BUCKET, Stage

    now_ms = int(time.time() * 1000)
    live = Stage(tmp_path, "secret").new_location(now_ms + 60_000)
    dead = Stage(tmp_path, "secret").new_location(now_ms - 1)
    restarted = Stage(tmp_path, "secret")
    assert restarted.path_of(live + "0.ndjson").name == "0.ndjson"
    with pytest.raises(ServiceError) as expired:
        restarted.path_of(dead + "0.ndjson")
    assert (expired.value.status, expired.value.code) == (403, "ExpiredToken")
    nonce, _, rest = live[len(BUCKET) + 1 :].partition(".")
    expiry, _, mac = rest.rstrip("/").partition(".")
    forged = f"{BUCKET}/{nonce}.{int(expiry) + 10**9}.{mac}/0.ndjson"
    with pytest.raises(ServiceError) as refused:
        restarted.path_of(forged)
    assert (refused.value.status, refused.value.code) == (403, "AccessDenied")
    with pytest.raises(ServiceError):
        Stage(tmp_path, "another secret").path_of(live + "0.ndjson")
