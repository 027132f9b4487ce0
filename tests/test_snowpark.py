"""Snowpark 1.56 DataFrames against the local service: create_dataframe (lists, Rows, pandas),
write_pandas, save_as_table, range, update / delete / merge, cache_result, group_by, joins, to_pandas
over Arrow, print(session) and close().

Snowpark pins connector 4.x, so it runs in the venv of tests/connector4x.py, in a child process
pointed at the session's service (tests/snowpark_client.py does the operations and reports).
"""

from __future__ import annotations

import json

import pytest

from tests import connector4x, snowpark_client

SCHEMA = "SNOWPARK"


@pytest.fixture(scope="module")
def report(local_home) -> dict:
    """What Snowpark answered, as tests/snowpark_client.py reports it."""
    return json.loads(connector4x.run(local_home, [snowpark_client.__file__], {"schema": SCHEMA}))


def _int(*values):
    return [["int", str(v)] for v in values]


def test_print_session_names_its_context(report):
    assert report["session"] == (
        '<snowflake.snowpark.session.Session: account="AIDEMO_LOCAL", role="AUTOMATED_INTELLIGENCE", '
        f'database="AUTOMATED_INTELLIGENCE", schema="{SCHEMA}", warehouse="LOCAL_WH">'
    )


def test_create_dataframe_from_lists_keeps_values_and_types(report):
    lists = report["lists"]
    assert lists["schema"] == [
        ["A", "LongType"],
        ["B", "StringType"],
        ["C", "DoubleType"],
        ["D", "BooleanType"],
        ["E", "DateType"],
        ["F", "DecimalType"],
    ]
    assert lists["rows"] == [
        [["int", "1"], ["str", "a"], ["float", "2.5"], ["bool", "True"], ["date", "2024-05-06"],
         ["Decimal", "12.340000000000000000"]],  # Snowpark types a Decimal as NUMBER(38,18)
        [["int", "2"], ["NoneType", "None"], ["float", "-1.0"], ["bool", "False"], ["NoneType", "None"],
         ["NoneType", "None"]],
    ]  # fmt: skip


def test_create_dataframe_from_rows(report):
    assert report["rows"] == {
        "rows": [[["int", "7"], ["str", "x"]], [["int", "8"], ["str", "y"]]],
        "schema": [["ID", "LongType"], ["NAME", "StringType"]],
    }


_FRAME_SCHEMA = [
    ["ID", "LongType"],
    ["NAME", "StringType"],
    ["AMOUNT", "DoubleType"],
    ["OK", "BooleanType"],
    ["AT", "TimestampType"],
]
_FRAME_ROWS = [
    [["int", "1"], ["str", "x"], ["float", "1.5"], ["bool", "True"], ["datetime", "2024-05-06T07:08:09"]],
    [["int", "2"], ["NoneType", "None"], ["float", "-2.25"], ["bool", "False"], ["datetime", "2024-12-31T23:59:59"]],
]


def test_create_dataframe_from_pandas_keeps_values_and_types(report):
    assert report["from_pandas"] == {"rows": _FRAME_ROWS, "schema": _FRAME_SCHEMA}


def test_create_dataframe_from_a_large_pandas_frame_goes_through_a_stage(report):
    assert report["from_large_pandas"] == [20_000, 20_000 * 19_999 // 2]
    assert report["large_pandas_sent"] == ["CREATE TEMP STAGE", "COPY INTO"]


def test_write_pandas_creates_and_overwrites_a_table(report):
    assert report["write_pandas"] == {"rows": _FRAME_ROWS, "schema": _FRAME_SCHEMA}
    assert report["write_pandas_overwrite"] == {"rows": _FRAME_ROWS[:1], "schema": _FRAME_SCHEMA}


def test_save_as_table_appends_and_overwrites(report):
    schema = [["ID", "LongType"], ["NAME", "StringType"]]
    assert report["appended"] == {
        "rows": [[["int", "1"], ["str", "a"]], [["int", "2"], ["str", "b"]], [["int", "3"], ["str", "c"]]],
        "schema": schema,
    }
    assert report["overwritten"] == {"rows": [[["int", "9"], ["str", "z"]]], "schema": schema}


def test_save_as_table_temporary_lasts_as_long_as_the_session(report):
    assert report["temporary"]["rows"] == [[["int", "5"], ["str", "t"]]]
    assert report["tables_after_close"] == ["SAVED"]  # SAVED_TEMP went with the session


def test_range_numbers_rows_from_start_by_step(report):
    assert report["range"] == {"rows": [[v] for v in _int(0, 1, 2, 3, 4)], "schema": [["ID", "LongType"]]}
    assert report["range_step"]["rows"] == [[v] for v in _int(1, 4, 7)]


def test_update_delete_and_merge_count_their_rows(report):
    assert report["update"] == [1, 0]  # rows updated, multi-joined rows updated
    assert report["delete"] == 1
    assert report["merge"] == [1, 1, 0]  # inserted, updated, deleted
    assert report["changed"]["rows"] == [
        [["int", "1"], ["str", "A"], ["int", "10"]],
        [["int", "2"], ["str", "B"], ["int", "21"]],
        [["int", "3"], ["str", "c"], ["int", "30"]],
        [["int", "5"], ["str", "E"], ["int", "0"]],
    ]


def test_cache_result_reads_a_temporary_table_of_the_rows_then(report):
    temporary = f'"AUTOMATED_INTELLIGENCE"."{SCHEMA}"."SNOWPARK_TEMP_TABLE_'
    assert report["cached_from"].startswith(f"SELECT  *  FROM {temporary}")
    assert [row[0] for row in report["cached"]["rows"]] == _int(1, 2, 3)  # not the row inserted after


def test_group_by_agg_and_join(report):
    assert report["by_segment"] == {
        "rows": [[["str", "EU"], ["float", "12.0"], ["int", "2"]], [["str", "US"], ["float", "104.0"], ["int", "2"]]],
        "schema": [["SEGMENT", "StringType"], ["REVENUE", "DoubleType"], ["ORDERS", "LongType"]],
    }
    assert report["joined"]["rows"] == [
        [["int", "1"], ["str", "Europe"]],
        [["int", "2"], ["str", "United States"]],
        [["int", "3"], ["str", "Europe"]],
        [["int", "4"], ["str", "United States"]],
    ]


def test_to_pandas_reads_arrow(report):
    assert report["pandas"] == {
        "dtypes": {"ID": "int64", "SEGMENT": "object", "AMOUNT": "float64"},
        "ids": [1, 2, 3, 4],
        "amounts": [10.5, 4.0, 1.5, 100.0],
        "json_fallback": [],  # Snowpark logs "result format is set to JSON" when it is not Arrow
    }


def test_close_cancels_the_sessions_queries(report):
    # close() raises when the cancel fails; the client closed without error.
    (cancel,) = report["close"]
    assert cancel.startswith("select system$cancel_all_queries(")
