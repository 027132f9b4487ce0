"""The files of sql/ on a backend, checked against what the real SDK streamed.

Tests that own the demo's tables run on ``own_backend``: a database of their own on the local service,
or, with AIDEMO_SNOWFLAKE_PROFILE naming a profile file, the real account of that profile
(``-m snowflake``; those runs drop and recreate the demo's pipes and tables there).
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re

import pandas as pd
import pytest

from aidemo.backends.scripts import SQL_DIR, insert_script, run_file, run_sql, sql_file, sql_literal, sql_text
from aidemo.data.generator import InstanceSpec, order_batch
from aidemo.errors import SqlError
from aidemo.stream.offsets import item_token, order_token
from tests.helpers import stream

SQL_FILES = sorted(str(p.relative_to(SQL_DIR)) for p in SQL_DIR.rglob("*.sql"))
DDL_FILES = ("01_database.sql", "02_tables.sql", "03_pipes.sql")
TABLES = ["CUSTOMERS", "ORDERS", "ORDER_ITEMS"]
PIPES = ["ORDERS_PIPE", "ORDER_ITEMS_PIPE"]
SPEC = InstanceSpec.single(7, 1000)
_names = itertools.count(1)


def names(frame: pd.DataFrame) -> list[str]:
    return sorted(frame["name"]) if len(frame) else []


# ---- every file runs ---------------------------------------------------------------------


@pytest.mark.parametrize("name", SQL_FILES)
def test_every_sql_file_runs_and_leaves_its_objects(own_backend, name):
    if name == "04_grants.sql" and os.environ.get("AIDEMO_SNOWFLAKE_PROFILE"):
        pytest.skip("04_grants.sql names a warehouse and user to edit before it runs on an account")
    for ddl in DDL_FILES:
        run_file(ddl, own_backend)
    result = run_file(name, own_backend)
    tables = names(own_backend.sql(f"SHOW TABLES IN SCHEMA {own_backend.database}.RAW"))
    pipes = names(own_backend.sql(f"SHOW PIPES IN SCHEMA {own_backend.database}.RAW"))
    if name == "reset.sql":
        # The streamed tables and the pipes go; CUSTOMERS is setup's to keep or drop.
        assert set(TABLES) & set(tables) == {"CUSTOMERS"} and not set(PIPES) & set(pipes)
        return
    assert set(TABLES) <= set(tables) and set(PIPES) <= set(pipes)
    if name == "monitoring/row_counts.sql":
        assert result.values.tolist() == [
            [t, int(own_backend.sql(f"SELECT COUNT(*) FROM RAW.{t}").iloc[0, 0])] for t in TABLES
        ]
    if name == "monitoring/show_pipes.sql":
        assert set(PIPES) <= set(result["name"])
    if name == "03_pipes.sql":
        definition = own_backend.sql(f"DESCRIBE PIPE {own_backend.database}.RAW.ORDERS_PIPE")["definition"][0]
        assert "$1:ORDER_ID::NUMBER(38,0)" in definition and "DATA_SOURCE" in definition


def test_columns_of_the_tables_are_those_of_the_design(backend):
    columns = backend.sql(f"DESCRIBE TABLE {backend.database}.RAW.ORDER_ITEMS")
    assert columns.iloc[:, 0].tolist() == [
        "ORDER_ITEM_ID",
        "ORDER_ID",
        "PRODUCT_ID",
        "PRODUCT_NAME",
        "PRODUCT_CATEGORY",
        "QUANTITY",
        "UNIT_PRICE",
        "LINE_TOTAL",
    ]


# ---- monitoring against what the SDK streamed ------------------------------------------


def test_monitoring_matches_what_the_sdk_streamed(own_backend):
    batch = order_batch(SPEC, 1, 120)
    orders = batch.order_rows()
    items = batch.item_rows()
    items[5] = dict(items[5], QUANTITY="many")  # one row that does not fit: counted as an error
    clients = {
        "orders_channel_0": stream(own_backend, "ORDERS_PIPE", "orders_channel_0", orders, order_token),
        "order_items_channel_0": stream(own_backend, "ORDER_ITEMS_PIPE", "order_items_channel_0", items, item_token),
    }

    counts = run_file("monitoring/row_counts.sql", own_backend)
    assert dict(zip(counts["TABLE_NAME"], counts["ROW_COUNT"])) == {
        "CUSTOMERS": int(run_sql("SELECT COUNT(*) FROM CUSTOMERS", own_backend).iloc[0, 0]),
        "ORDERS": len(orders),
        "ORDER_ITEMS": len(items) - 1,
    }
    latest = run_file("monitoring/latest_orders.sql", own_backend)
    pd.testing.assert_frame_equal(
        latest.reset_index(drop=True),
        batch.orders_frame().sort_values("ORDER_ID", ascending=False).head(10).reset_index(drop=True),
        check_dtype=False,
    )

    channels = run_file("monitoring/show_channels.sql", own_backend).set_index("name")
    assert sorted(channels.index) == sorted(clients)
    for name, client in clients.items():
        sdk = client.get_channel_statuses([name])[name]
        row = channels.loc[name]
        assert sdk.rows_error_count == (1 if name == "order_items_channel_0" else 0)
        assert row["offset_token"] == sdk.latest_committed_offset_token
        if own_backend.name == "local":  # Snowflake's SHOW CHANNELS has no status columns
            assert row["last_committed_offset_token"] == sdk.latest_committed_offset_token
            assert (row["rows_inserted"], row["rows_parsed"], row["rows_error_count"]) == (
                sdk.rows_inserted_count,
                sdk.rows_parsed_count,
                sdk.rows_error_count,
            )
            assert row["last_error_offset_upper_bound"] == sdk.last_error_offset_token_upper_bound
            assert row["channel_status_code"] == sdk.status_code
        client.close()
    items_row = channels.loc["order_items_channel_0"]
    assert (items_row["table_name"], items_row["parent_domain"], items_row["parent_name"]) == (
        "ORDER_ITEMS",
        "PIPE",
        "ORDER_ITEMS_PIPE",
    )

    # channel_status.sql lists each pipe's channels; the script's result is the last statement's.
    status = run_file("monitoring/channel_status.sql", own_backend)
    assert status["name"].tolist() == ["order_items_channel_0"]
    assert own_backend.sql(f"SHOW CHANNELS IN TABLE {own_backend.database}.RAW.ORDERS")["name"].tolist() == [
        "orders_channel_0"
    ]
    assert own_backend.sql("SHOW CHANNELS LIKE 'ORDER_ITEMS%' IN SCHEMA RAW")["name"].tolist() == [
        "order_items_channel_0"
    ]


# ---- pipes in the DATA_SOURCE form ---------------------------------------------------------


def test_data_source_pipe_maps_keys_and_casts_values(backend):
    n = next(_names)
    table, pipe = f"T_MAPPED_{n}", f"T_MAPPED_{n}_PIPE"
    backend.sql(
        f"CREATE TABLE RAW.{table} (ID NUMBER(38,0) NOT NULL, AMOUNT NUMBER(10,2), LABEL VARCHAR(20), SEEN DATE)"
    )
    backend.sql(f"""CREATE PIPE RAW.{pipe} AS COPY INTO RAW.{table} (ID, AMOUNT, LABEL, SEEN) FROM (
                    SELECT $1:id::NUMBER, $1:amt::NUMBER(10,2), $1:Name::VARCHAR, $1:when::DATE
                    FROM TABLE(DATA_SOURCE(TYPE => 'STREAMING')))""")
    rows = [
        {"id": "1", "amt": "12.345", "Name": "O'Brien", "when": "2025-02-03", "ignored": 1},
        {"id": 2, "amt": 7, "Name": None, "when": None},
        {"id": 3, "amt": "lots", "Name": "bad", "when": "2025-02-03"},  # cannot cast: an error row
        {"ID": 4, "amt": 1, "Name": "key case matters", "when": None},  # $1:id does not read ID: NULL id
    ]
    client = stream(backend, pipe, "mapped", rows, str)
    status = client.get_channel_statuses(["mapped"])["mapped"]
    client.close()
    assert (status.rows_parsed_count, status.rows_inserted_count, status.rows_error_count) == (4, 2, 2)
    frame = backend.sql(f"SELECT * FROM RAW.{table} ORDER BY ID")
    assert frame["ID"].tolist() == [1, 2]
    assert frame["AMOUNT"].tolist() == [12.35, 7.0]
    assert frame["LABEL"].tolist() == ["O'Brien", None]
    assert [str(d) if d is not None else None for d in frame["SEEN"]] == ["2025-02-03", None]


def test_data_source_pipe_loads_a_clean_batch_as_it_loads_one_with_a_bad_row(backend):
    """A batch whose rows all fit takes the one-pass reader, one with a bad row the row-by-row path:
    both read keys case-sensitively, ignore the others and round numbers from the text as written."""
    n = next(_names)
    table, pipe = f"T_CLEAN_{n}", f"T_CLEAN_{n}_PIPE"
    backend.sql(
        f"CREATE TABLE RAW.{table} (ID NUMBER(38,0) NOT NULL, AMOUNT NUMBER(5,2), LABEL VARCHAR(8), AT TIMESTAMP_NTZ)"
    )
    backend.sql(f"""CREATE PIPE RAW.{pipe} AS COPY INTO RAW.{table} (ID, AMOUNT, LABEL, AT) FROM (
                    SELECT $1:id::NUMBER, $1:Amount::NUMBER(5,2), $1:label::VARCHAR(8), $1:at::TIMESTAMP_NTZ
                    FROM TABLE(DATA_SOURCE(TYPE => 'STREAMING')))""")

    def rows(base: int) -> list[dict]:
        return [
            {"id": base + 1, "Amount": 0.145, "label": "a", "at": "2025-02-03 04:05:06", "extra": [1]},
            {"id": str(base + 2), "Amount": "-0.125", "label": None, "at": None, "AMOUNT": 99},
            {"id": base + 3, "amount": 5, "Label": "b", "label": 42, "at": "2025-02-03"},
        ]

    stream(backend, pipe, "clean", rows(0), str).close()
    client = stream(backend, pipe, "mixed", rows(10) + [{"id": 14, "Amount": "lots"}], str)
    statuses = client.get_channel_statuses(["clean", "mixed"])
    client.close()
    counts = {name: (s.rows_inserted_count, s.rows_error_count) for name, s in statuses.items()}
    assert counts == {"clean": (3, 0), "mixed": (3, 1)}
    frame = backend.sql(f"SELECT ID, AMOUNT::VARCHAR AS A, LABEL, AT::VARCHAR AS AT FROM RAW.{table} ORDER BY ID")
    expected = [
        ("0.15", "a", "2025-02-03 04:05:06.000"),
        ("-0.13", None, None),
        (None, "42", "2025-02-03 00:00:00.000"),
    ]
    assert [tuple(r) for r in frame.itertuples(index=False)] == [
        (1, *expected[0]),
        (2, *expected[1]),
        (3, *expected[2]),
    ] + [
        (11, *expected[0]),
        (12, *expected[1]),
        (13, *expected[2]),
    ]


# The original demo's README creates its pipes in this short form, with RAW in use.
README_PIPES = (
    "CREATE OR REPLACE PIPE ORDERS_PIPE AS COPY INTO ORDERS;\n"
    "CREATE OR REPLACE PIPE ORDER_ITEMS_PIPE AS COPY INTO ORDER_ITEMS;"
)


def test_orders_stream_through_the_pipes_of_the_original_readme(demo_db):
    """The local service also takes the README's short form (Snowflake documents the DATA_SOURCE
    form of 03_pipes.sql): each row's keys are matched to the columns by name."""
    demo_db.sql(README_PIPES)
    assert "DATA_SOURCE" not in demo_db.sql("DESCRIBE PIPE ORDERS_PIPE")["definition"][0]
    batch = order_batch(SPEC, 1, 60)
    stream(demo_db, "ORDERS_PIPE", "orders_channel_0", batch.order_rows(), order_token).close()
    stream(demo_db, "ORDER_ITEMS_PIPE", "order_items_channel_0", batch.item_rows(), item_token).close()
    orders = demo_db.sql("SELECT * FROM ORDERS ORDER BY ORDER_ID").reset_index(drop=True)
    items = demo_db.sql("SELECT * FROM ORDER_ITEMS ORDER BY ORDER_ITEM_ID").reset_index(drop=True)
    pd.testing.assert_frame_equal(orders, batch.orders_frame(), check_dtype=False)
    pd.testing.assert_frame_equal(items, batch.items_frame(), check_dtype=False)


# ---- bad statements --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement, problem",
    [
        ("CREATE TASK RAW.MY_TASK AS SELECT 1", "not supported"),
        ("SELEC * FROM RAW.ORDERS", "Cannot parse"),
        ("SELECT * FROM RAW.NO_SUCH_TABLE", "NO_SUCH_TABLE"),
        ("DESCRIBE PIPE RAW.NO_SUCH_PIPE", "does not exist"),
    ],
)
def test_a_bad_statement_fails_naming_it(backend, statement, problem):
    with pytest.raises(SqlError, match=problem) as caught:
        backend.sql(f"SELECT 1; {statement}")
    assert statement in str(caught.value)


@pytest.mark.parametrize("third", ["CREATE TASK RAW.MY_TASK AS SELECT 1", "INSERT INTO RAW.NO_SUCH_TABLE VALUES (1)"])
def test_a_script_stops_at_the_statement_that_fails(backend, third):
    """As on Snowflake, each statement of a script commits on its own: the error names the
    failing statement, and the statements after it do not run."""
    table = f"T_SCRIPT_{next(_names)}"
    script = (
        f"CREATE TABLE RAW.{table} (I NUMBER); INSERT INTO RAW.{table} VALUES (1); {third}; "
        f"INSERT INTO RAW.{table} VALUES (2)"
    )
    with pytest.raises(SqlError, match=re.escape(third)):
        backend.sql(script)
    assert backend.sql(f"SELECT I FROM RAW.{table}")["I"].tolist() == [1]


def test_files_run_on_the_database_and_schema_of_the_backend():
    class Elsewhere:
        database, schema = "MY_DB", "MY_SCHEMA"

    database = sql_text("01_database.sql", Elsewhere())
    assert "CREATE DATABASE IF NOT EXISTS MY_DB;" in database
    assert "CREATE SCHEMA IF NOT EXISTS MY_DB.MY_SCHEMA;" in database
    grants = sql_text("04_grants.sql", Elsewhere())
    assert "GRANT USAGE ON DATABASE MY_DB TO ROLE AUTOMATED_INTELLIGENCE;" in grants  # the role keeps its name
    assert "ON PIPE MY_DB.MY_SCHEMA.ORDERS_PIPE" in grants
    counts = sql_text("monitoring/row_counts.sql", Elsewhere())
    assert "AUTOMATED_INTELLIGENCE" not in counts and counts.count("FROM MY_DB.MY_SCHEMA.") == 3


def test_a_profile_naming_another_database_gets_the_demo_there(local_home, tmp_path, monkeypatch):
    """``aidemo setup`` and ``aidemo stream`` on a local profile whose database is not the default."""
    from aidemo.backends.backend import open_backend
    from aidemo.cli import main

    database = f"OTHER_{next(_names)}"
    monkeypatch.setenv("AIDEMO_HOME", str(local_home.root))
    monkeypatch.setenv("AIDEMO_DATABASE", database)
    monkeypatch.setenv("AIDEMO_NUM_CUSTOMERS", "50")
    monkeypatch.chdir(tmp_path)
    assert main(["setup"]) == 0
    assert main(["stream", "20"]) == 0
    with open_backend() as backend:
        assert backend.database == database
        counts = run_file("monitoring/row_counts.sql", backend).set_index("TABLE_NAME")["ROW_COUNT"].to_dict()
    assert (counts["CUSTOMERS"], counts["ORDERS"]) == (50, 20) and counts["ORDER_ITEMS"] >= 20


def test_an_unknown_file_is_named_with_the_known_ones():
    with pytest.raises(SqlError, match=r"no SQL file 'nope'.*02_tables\.sql"):
        sql_file("nope")


# ---- literals ----------------------------------------------------------------------------------


def test_literals_survive_the_round_trip(backend):
    table = f"T_LITERALS_{next(_names)}"
    backend.sql(f"CREATE TABLE RAW.{table} (I NUMBER, S VARCHAR, D DATE, F FLOAT, B BOOLEAN)")
    frame = pd.DataFrame(
        {
            "I": [-2, 1, None],
            "S": ["O'Brien", "back\\slash 'n' \"quotes\"\nnewline", "ünïcødé;--"],
            "D": [dt.date(2024, 2, 29), None, dt.date(1999, 12, 31)],
            "F": [1.5, float("nan"), -0.25],
            "B": [True, False, None],
        },
        dtype=object,
    )
    backend.sql(insert_script(f"RAW.{table}", frame, batch_rows=2))
    back = backend.sql(f"SELECT * FROM RAW.{table} ORDER BY I")
    for column in frame.columns:
        assert plain(back[column]) == plain(frame[column]), column


def plain(values: pd.Series) -> list:
    return [None if pd.isna(v) else v for v in values]


def test_values_that_are_not_literals_are_refused():
    with pytest.raises(SqlError, match="as a SQL literal"):
        sql_literal(object())
    with pytest.raises(SqlError, match="as a SQL literal"):
        sql_literal(float("inf"))
