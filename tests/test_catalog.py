"""Many databases and schemas, Snowflake's column rules and names, through the real SDK and SQL API.

The SDK streams into the default pipe ``<TABLE>-STREAMING`` of tables in databases the tests
create, in rowset mode and (a burst of more than ~1 MB in one flush tick) in file mode.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import ssl
import urllib.request

import duckdb
import pytest
from snowflake.ingest.streaming import StreamingIngestClient

from aidemo.backends.backend import LocalBackend
from aidemo.errors import SqlError
from aidemo.local.storage.store import Store

BURST = 70_000  # rows of ~200 bytes in one flush tick: far above the SDK's 1 MB rowset limit
_names = itertools.count(1)


@pytest.fixture
def db(local_home):
    """A backend on the shared service with a SQL session of its own: the USE and CREATE DATABASE
    statements of these tests change only its context."""
    backend = LocalBackend(local_home)
    yield backend
    backend.close()


def unique(prefix: str) -> str:
    return f"{prefix}_{next(_names)}"


def stream(
    backend,
    database: str,
    schema: str,
    table: str,
    rows: list[dict],
    channel: str = "ch",
) -> dict:
    """Append ``rows`` through the table's default pipe, wait for the last token; the channel's status."""
    client = StreamingIngestClient(
        unique("catalog"),
        database,
        schema,
        f"{table}-STREAMING",
        properties=backend.client_properties(),
    )
    try:
        ch, _ = client.open_channel(channel)
        ch.append_rows(rows, "1", str(len(rows)))
        ch.wait_for_commit(lambda token: token == str(len(rows)), 120)
        status = ch.get_channel_status()
        return {
            "inserted": status.rows_inserted_count,
            "errors": status.rows_error_count,
            "message": status.last_error_message,
        }
    finally:
        client.close()


def fragments_loaded(backend, name: str) -> int:
    """File-mode fragments the service loaded for "DB.SCHEMA.PIPE/channel"."""
    context = ssl.create_default_context(cafile=str(backend.home.ca_cert))
    with urllib.request.urlopen(backend.info.url + "/aidemo/v1/health", context=context, timeout=10) as resp:
        return json.loads(resp.read())["file_fragments_loaded"].get(name, 0)


def events_table(backend, database: str) -> None:
    """MY_SCHEMA.EVENTS in ``database``, as Snowflake's SDK example declares its table."""
    backend.sql(
        f"CREATE DATABASE IF NOT EXISTS {database}; CREATE SCHEMA IF NOT EXISTS MY_SCHEMA; "
        "CREATE OR REPLACE TABLE EVENTS (ID NUMBER NOT NULL, CODE VARCHAR(10), AMOUNT NUMBER(5,2), "
        "INGESTION_TIME TIMESTAMP_NTZ DEFAULT CURRENT_TIMESTAMP(), SOURCE VARCHAR DEFAULT 'sdk')"
    )


def event_rows(backend, database: str) -> list[tuple]:
    frame = backend.sql(f"SELECT ID, CODE, AMOUNT::VARCHAR, SOURCE FROM {database}.MY_SCHEMA.EVENTS ORDER BY ID")
    return [tuple(row) for row in frame.itertuples(index=False)]


def ingestion_times(backend, database: str) -> list:
    return backend.sql(f"SELECT INGESTION_TIME FROM {database}.MY_SCHEMA.EVENTS")["INGESTION_TIME"].tolist()


@pytest.mark.parametrize("mode", ["rowset", "file"])
def test_default_pipe_applies_defaults_and_rejects_too_long_strings(db, mode):
    database = unique(f"MY_DATABASE_{mode.upper()}")
    events_table(db, database)
    count = 5 if mode == "rowset" else BURST
    rows = [{"ID": i, "CODE": f"C{i}", "AMOUNT": 1.5} for i in range(1, count + 1)]
    rows[2] = {
        "ID": 3,
        "CODE": "x" * 11,
        "AMOUNT": 1.5,
    }  # one character over VARCHAR(10)
    rows[3] = {"ID": 4, "CODE": None, "SOURCE": "explicit"}
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=5)

    status = stream(db, database, "MY_SCHEMA", "EVENTS", rows)

    assert status["inserted"] == count - 1 and status["errors"] == 1
    assert (fragments_loaded(db, f"{database}.MY_SCHEMA.EVENTS-STREAMING/ch") > 0) == (mode == "file")
    assert "CODE" in status["message"] and "VARCHAR(10)" in status["message"]
    loaded = event_rows(db, database)
    expected = [(i, f"C{i}", "1.50", "sdk") for i in range(1, count + 1) if i not in (3, 4)]
    expected.insert(2, (4, None, None, "explicit"))
    assert loaded == expected
    times = ingestion_times(db, database)
    after = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(seconds=5)
    assert len(times) == count - 1 and all(before <= t.to_pydatetime() <= after for t in times)
    db.sql(f"DROP DATABASE {database}")


def test_number_ties_round_half_away_from_zero_on_fast_and_validating_paths(db):
    database = unique("ROUNDING")
    db.sql(f"CREATE DATABASE {database}; CREATE TABLE PUBLIC.T (ID NUMBER, V NUMBER(5,2))")
    values = [0.145, -0.125, 1.005, 2.675, 0.125, 0.144, 999.99, -7.319, 0.1, 12.5]  # ties, then other numbers
    expected = ["0.15", "-0.13", "1.01", "2.68", "0.13", "0.14", "999.99", "-7.32", "0.10", "12.50"]
    fast = [{"ID": i, "V": v} for i, v in enumerate(values)]
    validating = [{"ID": 100 + i, "V": v} for i, v in enumerate(values)] + [{"ID": 999, "V": "not a number"}]

    assert stream(db, database, "PUBLIC", "T", fast, "fast")["errors"] == 0
    assert stream(db, database, "PUBLIC", "T", validating, "validating")["errors"] == 1

    got = db.sql(f"SELECT V::VARCHAR AS V FROM {database}.PUBLIC.T ORDER BY ID")
    assert got["V"].tolist() == expected + expected
    db.sql(f"DROP DATABASE {database}")


def test_two_databases_keep_same_named_tables_apart(db):
    first, second = unique("DB_A"), unique("DB_B")
    for database in (first, second):
        db.sql(f"CREATE DATABASE {database}; CREATE SCHEMA S; CREATE TABLE T (ID NUMBER, NAME VARCHAR)")
    stream(db, first, "S", "T", [{"ID": 1, "NAME": "first"}])
    stream(
        db,
        second,
        "S",
        "T",
        [{"ID": 2, "NAME": "second"}, {"ID": 3, "NAME": "second"}],
    )
    db.sql(f"INSERT INTO {first}.S.T VALUES (10, 'sql')")

    assert db.sql(f"SELECT ID FROM {first}.S.T ORDER BY ID")["ID"].tolist() == [
        1,
        10,
    ]
    assert db.sql(f"SELECT ID FROM {second}.S.T ORDER BY ID")["ID"].tolist() == [
        2,
        3,
    ]
    channels = db.sql(f"SHOW CHANNELS IN DATABASE {second}")
    assert channels[["database_name", "rows_inserted"]].values.tolist() == [[second, 2]]
    db.sql(f"DROP DATABASE {first}")
    assert db.sql(f"SELECT COUNT(*) AS N FROM {second}.S.T")["N"].tolist() == [2]
    databases = db.sql("SHOW DATABASES")["name"].tolist()
    assert first not in databases and second in databases and "AUTOMATED_INTELLIGENCE" in databases
    db.sql(f"DROP DATABASE {second}")


def test_create_use_show_and_drop_databases_and_schemas(db):
    database = unique("MY_DATABASE")
    db.sql(f"CREATE DATABASE {database}")
    with pytest.raises(SqlError, match="already exists"):
        db.sql(f"CREATE DATABASE {database}")
    db.sql(f"CREATE DATABASE IF NOT EXISTS {database}")
    db.sql(
        f"USE DATABASE {database}; CREATE SCHEMA MY_SCHEMA; CREATE TABLE T1 (A NUMBER); "
        "USE SCHEMA PUBLIC; CREATE TABLE T2 (A NUMBER)"
    )
    schemas = db.sql(f"SHOW SCHEMAS IN DATABASE {database}")
    assert schemas[["name", "database_name"]].values.tolist() == [
        ["MY_SCHEMA", database],
        ["PUBLIC", database],
    ]
    tables = db.sql(f"SHOW TABLES IN DATABASE {database}")
    assert tables[["name", "schema_name"]].values.tolist() == [
        ["T1", "MY_SCHEMA"],
        ["T2", "PUBLIC"],
    ]

    db.sql(f"CREATE OR REPLACE SCHEMA {database}.MY_SCHEMA")
    assert db.sql(f"SHOW TABLES IN SCHEMA {database}.MY_SCHEMA").empty
    db.sql(f"DROP SCHEMA {database}.MY_SCHEMA")
    with pytest.raises(SqlError, match="does not exist"):
        db.sql(f"DROP SCHEMA {database}.MY_SCHEMA")
    db.sql(f"DROP SCHEMA IF EXISTS {database}.MY_SCHEMA")
    db.sql(f"CREATE OR REPLACE DATABASE {database}")
    assert db.sql(f"SHOW TABLES IN DATABASE {database}").empty
    db.sql(f"DROP DATABASE {database}")
    with pytest.raises(SqlError, match="does not exist"):
        db.sql(f"USE DATABASE {database}")
    db.sql(f"DROP DATABASE IF EXISTS {database}")
    assert database not in db.sql("SHOW DATABASES")["name"].tolist()
    assert "RAW" in db.sql("SHOW SCHEMAS IN DATABASE AUTOMATED_INTELLIGENCE")["name"].tolist()


def test_show_pipes_lists_a_default_pipe_once_used_and_drop_table_drops_it(db):
    database = unique("PIPES")
    db.sql(f"CREATE DATABASE {database}; CREATE TABLE PUBLIC.T (ID NUMBER)")
    assert db.sql(f"SHOW PIPES IN DATABASE {database}").empty
    stream(db, database, "PUBLIC", "T", [{"ID": 1}])
    pipes = db.sql(f"SHOW PIPES IN SCHEMA {database}.PUBLIC")
    assert pipes[["name", "database_name", "schema_name"]].values.tolist() == [["T-STREAMING", database, "PUBLIC"]]
    assert len(db.sql(f"SHOW CHANNELS IN DATABASE {database}")) == 1

    db.sql(f"DROP TABLE {database}.PUBLIC.T")
    assert db.sql(f"SHOW PIPES IN DATABASE {database}").empty
    assert db.sql(f"SHOW CHANNELS IN DATABASE {database}").empty
    db.sql(f"DROP DATABASE {database}")


def test_describe_and_show_columns_give_snowflake_types(db):
    database = unique("TYPES")
    db.sql(
        f"CREATE DATABASE {database}; CREATE TABLE PUBLIC.T (ID NUMBER NOT NULL, N NUMBER(5,2), C VARCHAR(10), "
        "S STRING, TS TIMESTAMP_NTZ DEFAULT CURRENT_TIMESTAMP(), F FLOAT, B BOOLEAN, D DATE, I INT)"
    )
    described = db.sql(f"DESCRIBE TABLE {database}.PUBLIC.T")
    assert described[["name", "type", "null?", "default"]].values.tolist() == [
        ["ID", "NUMBER(38,0)", "N", None],
        ["N", "NUMBER(5,2)", "Y", None],
        ["C", "VARCHAR(10)", "Y", None],
        ["S", "VARCHAR(16777216)", "Y", None],
        ["TS", "TIMESTAMP_NTZ(9)", "Y", "CURRENT_TIMESTAMP()"],
        ["F", "FLOAT", "Y", None],
        ["B", "BOOLEAN", "Y", None],
        ["D", "DATE", "Y", None],
        ["I", "NUMBER(38,0)", "Y", None],
    ]
    columns = db.sql(f"SHOW COLUMNS IN TABLE {database}.PUBLIC.T")
    assert columns["column_name"].tolist() == described["name"].tolist()
    assert '"VARCHAR"' in columns["data_type"][2]
    with pytest.raises(SqlError, match="does not exist"):
        db.sql(f"DESCRIBE TABLE {database}.PUBLIC.NOPE")
    db.sql(f"DROP DATABASE {database}")


def test_sql_inserts_keep_varchar_lengths_and_errors_name_snowflake_types(db):
    database = unique("SQLRULES")
    db.sql(f"CREATE DATABASE {database}; CREATE TABLE PUBLIC.T (ID NUMBER, CODE VARCHAR(3))")
    db.sql(f"INSERT INTO {database}.PUBLIC.T VALUES (1, 'abc')")
    with pytest.raises(SqlError, match="too long.*column CODE of T is VARCHAR\\(3\\)"):
        db.sql(f"INSERT INTO {database}.PUBLIC.T VALUES (2, 'abcd')")
    with pytest.raises(SqlError, match="100038 .*Numeric value 'x' is not recognized"):
        db.sql(f"INSERT INTO {database}.PUBLIC.T (ID) VALUES ('x')")
    assert db.sql(f"SELECT ID, CODE FROM {database}.PUBLIC.T").values.tolist() == [[1, "abc"]]
    db.sql(f"DROP DATABASE {database}")


def test_result_columns_are_named_as_snowflake_names_them(backend, fresh_table):
    result = backend.sql(
        f"SELECT COUNT(*), order_id AS x, order_id, MAX(order_id) m FROM RAW.{fresh_table} GROUP BY 2, 3"
    )
    assert list(result.columns) == ["COUNT(*)", "X", "ORDER_ID", "M"]
    assert list(backend.sql(f"SELECT COUNT(*) FROM RAW.{fresh_table}").columns) == ["COUNT(*)"]


def test_a_home_from_before_databases_keeps_its_database(tmp_path):
    """A home whose one database lived in warehouse.duckdb opens with that database in databases/."""
    old = tmp_path / "warehouse.duckdb"
    con = duckdb.connect()
    con.execute(f"ATTACH '{old}' AS AUTOMATED_INTELLIGENCE")
    con.execute("CREATE SCHEMA AUTOMATED_INTELLIGENCE.RAW; CREATE TABLE AUTOMATED_INTELLIGENCE.RAW.T (ID BIGINT)")
    con.execute("INSERT INTO AUTOMATED_INTELLIGENCE.RAW.T VALUES (7)")
    con.close()
    (tmp_path / "spool").mkdir()

    store = Store(old, "AUTOMATED_INTELLIGENCE", tmp_path / "spool")
    try:
        assert store.databases() == ["AUTOMATED_INTELLIGENCE"] and not old.exists()
        assert store.cursor().execute("SELECT ID FROM AUTOMATED_INTELLIGENCE.RAW.T").fetchall() == [(7,)]
        assert store.pipe("AUTOMATED_INTELLIGENCE", "RAW", "T-STREAMING").table == "T"
    finally:
        store.close()
    assert (tmp_path / "databases" / "AUTOMATED_INTELLIGENCE.duckdb").exists()
