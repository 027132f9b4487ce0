"""SQL cannot touch the host or the service's own state, whoever sends it.

Every attempt goes through the SQL API of a service the tests start (the kit's ``backend.sql``),
and is refused with a message that says why; the engine underneath refuses the same even if
a statement got past the translator.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request

import duckdb
import pytest

from aidemo.backends.keys import keypair_jwt
from aidemo.errors import SqlError
from aidemo.local.process.home import ACCOUNT, ROLE, USER
from aidemo.local.storage.store import Store

READS = [
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM read_csv('{home}/token.secret')",
    "SELECT content FROM read_blob('{home}/user.p8')",
    "CREATE TABLE RAW.STOLEN AS SELECT * FROM read_json('{home}/profile.json')",
    "SELECT * FROM query('SELECT * FROM AUTOMATED_INTELLIGENCE._AIDEMO.CHANNELS')",
]
ENGINE = [
    "COPY (SELECT 1) TO '/tmp/aidemo-out.csv'",
    "ATTACH '/tmp/aidemo-other.duckdb' AS OTHER",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET GLOBAL memory_limit = '8GB'",
    "PRAGMA enable_profiling",
]
OWN_STATE = [
    "SELECT * FROM _AIDEMO.CHANNELS",
    "SELECT * FROM AUTOMATED_INTELLIGENCE._AIDEMO.PIPES",
    "UPDATE AUTOMATED_INTELLIGENCE._AIDEMO.CHANNELS SET LAST_COMMITTED_OFFSET_TOKEN = '999'",
    "INSERT INTO _AIDEMO.PIPES VALUES ('A', 'B', 'C', 'D', NULL, NULL, 0, 0)",
    "DELETE FROM RAW.ORDERS WHERE ORDER_ID IN (SELECT 1 FROM _aidemo.channels)",
    "DROP SCHEMA _AIDEMO",
    "DROP TABLE AUTOMATED_INTELLIGENCE._AIDEMO.CHANNELS",
    "CREATE SCHEMA _AIDEMO",
    "CREATE DATABASE _AIDEMO",
    "USE SCHEMA _AIDEMO",
    'SELECT * FROM "_AIDEMO"."USERS"',
]


@pytest.mark.parametrize("statement", READS)
def test_sql_cannot_read_files(backend, statement):
    refused = r"002140 \(42601\): SQL compilation error:\s+Unknown function (READ_(TEXT|CSV|BLOB|JSON)|QUERY) "
    with pytest.raises(SqlError, match=refused):
        backend.sql(statement.format(home=backend.home.root))


@pytest.mark.parametrize("path", ["{home}/profile.json", "{home}/databases/AUTOMATED_INTELLIGENCE.duckdb"])
def test_a_file_named_as_a_table_is_refused(backend, path):
    with pytest.raises(SqlError, match="is not a table name"):
        backend.sql(f"SELECT * FROM '{path.format(home=backend.home.root)}'")


@pytest.mark.parametrize("statement", ENGINE)
def test_sql_cannot_write_files_attach_load_extensions_or_change_settings(backend, statement):
    with pytest.raises(SqlError, match="not supported by the local service|Unsupported feature|Cannot parse"):
        backend.sql(statement)


def test_set_assigns_a_session_variable_not_an_engine_setting(connection):
    cur = connection.cursor()
    cur.execute("SET memory_limit = '8GB'")
    assert cur.execute("SELECT $memory_limit").fetchone() == ("8GB",)


@pytest.mark.parametrize("statement", OWN_STATE)
def test_sql_cannot_name_the_services_own_schema(backend, statement):
    with pytest.raises(SqlError, match="_AIDEMO' does not exist or not authorized|names _AIDEMO, which holds"):
        backend.sql(statement)
    assert "_AIDEMO" not in backend.sql("SHOW SCHEMAS IN DATABASE AUTOMATED_INTELLIGENCE")["name"].tolist()


def test_the_engine_itself_refuses_files_extensions_and_settings(tmp_path):
    """Defence in depth: what the translator never lets through, DuckDB refuses too."""
    (tmp_path / "spool").mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cret")
    store = Store(tmp_path / "warehouse.duckdb", "DB", tmp_path / "spool")
    try:
        cur = store.cursor()
        for sql in (
            f"SELECT * FROM read_text('{secret}')",
            "SELECT * FROM read_text('/etc/passwd')",
            f"COPY (SELECT 1) TO '{tmp_path}/out.csv'",
            f"ATTACH '{tmp_path}/x.duckdb' AS X",
            "LOAD httpfs",
        ):
            with pytest.raises(duckdb.PermissionException):
                cur.execute(sql)
        for sql in (
            "SET enable_external_access = true",
            "SET allowed_directories = ['/']",
            "SET autoload_known_extensions = true",
            "RESET lock_configuration",
        ):
            with pytest.raises(duckdb.Error, match="locked|Cannot change"):
                cur.execute(sql)
        (tmp_path / "spool" / "batch.ndjson").write_text('{"A": 1}\n')  # the loader's own files still read
        assert cur.execute(f"SELECT A FROM read_json('{tmp_path}/spool/batch.ndjson')").fetchall() == [(1,)]
    finally:
        store.close()


def _post(backend, path: str, body: bytes, headers: dict) -> tuple[int, dict | str]:
    context = ssl.create_default_context(cafile=str(backend.home.ca_cert))
    request = urllib.request.Request(backend.info.url + path, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, context=context, timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_an_ingest_scoped_token_cannot_run_sql(backend):
    jwt = keypair_jwt(ACCOUNT, USER, backend.home.user_key.read_text(), role=ROLE)
    status, scoped = _post(
        backend,
        "/oauth/token",
        b"grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&scope=x",
        {
            "Authorization": f"Bearer {jwt}",
            "X-Snowflake-Authorization-Token-Type": "KEYPAIR_JWT",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert status == 200
    body = json.dumps({"statement": "SELECT 1"}).encode()
    for headers in ({"X-Snowflake-Authorization-Token-Type": "OAUTH"}, {}):
        status, reply = _post(
            backend,
            "/api/v2/statements",
            body,
            {
                "Authorization": f"Bearer {scoped}",
                "Content-Type": "application/json",
                **headers,
            },
        )
        assert status == 401 and "OAUTH is not accepted here" in reply["message"]
    status, reply = _post(
        backend,
        "/api/v2/statements",
        body,
        {
            "Authorization": f"Bearer {jwt}",
            "X-Snowflake-Authorization-Token-Type": "KEYPAIR_JWT",
            "Content-Type": "application/json",
        },
    )
    assert status == 200


def test_the_sql_api_refuses_the_same_with_a_clear_4xx(backend):
    """The SQL API route (not only the connector's) goes through the same checks."""
    jwt = keypair_jwt(ACCOUNT, USER, backend.home.user_key.read_text(), role=ROLE)
    headers = {
        "Authorization": f"Bearer {jwt}",
        "X-Snowflake-Authorization-Token-Type": "KEYPAIR_JWT",
        "Content-Type": "application/json",
    }
    for statement, message in [
        ("SELECT * FROM read_text('/etc/passwd')", "Unknown function READ_TEXT"),
        ("UPDATE _AIDEMO.CHANNELS SET ROW_SEQ = 0", "Schema 'AUTOMATED_INTELLIGENCE._AIDEMO' does not exist"),
        ("SET GLOBAL memory_limit = '8GB'", "not supported by the local service"),
    ]:
        body = json.dumps({"statement": statement}).encode()
        status, reply = _post(backend, "/api/v2/statements", body, headers)
        assert status == 422 and message in reply["message"], (statement, status, reply)
