"""Bind variables of the connector protocol as literals (no service needed)."""

from __future__ import annotations

import pytest

from aidemo.local.dialect import translate
from aidemo.local.errors import BindError
from aidemo.local.http.binds import literal, substitute


def test_array_bound_insert_becomes_one_multi_row_insert():
    bindings = {
        "1": {"type": "FIXED", "value": ["1", "-2"]},
        "2": {"type": "TEXT", "value": ["a'b", None]},
    }
    assert substitute("INSERT INTO t (a, b) VALUES (?, UPPER(?));", bindings) == [
        "INSERT INTO t (a, b) VALUES (1, UPPER('a''b')), ((-2), UPPER(NULL));"
    ]


def test_other_array_bound_statements_run_once_per_row():
    bindings = {
        "1": {"type": "TEXT", "value": ["x", "y"]},
        "2": {"type": "FIXED", "value": ["1", "2"]},
    }
    assert substitute("UPDATE t SET b = :1 WHERE a = :2", bindings) == [
        "UPDATE t SET b = 'x' WHERE a = 1",
        "UPDATE t SET b = 'y' WHERE a = 2",
    ]


def test_placeholders_inside_strings_and_casts_are_left_alone():
    bindings = {"1": {"type": "FIXED", "value": "5"}}
    assert substitute("SELECT '?', a::NUMBER, ? FROM t -- ?", bindings) == ["SELECT '?', a::NUMBER, 5 FROM t -- ?"]


@pytest.mark.parametrize(
    "kind, value, sql",
    [
        ("TEXT", "back\\slash 'q'", "'back\\\\slash ''q'''"),
        ("REAL", "0.25", "0.25e0"),
        ("REAL", "-1e+300", "(-1e+300)"),
        ("REAL", "nan", "CAST('nan' AS DOUBLE)"),
        ("BOOLEAN", "true", "TRUE"),
        ("DATE", "1704153600000", "CAST('2024-01-02' AS DATE)"),
        ("TIME", "3723000004000", "CAST('01:02:03.000004' AS TIME)"),
        (
            "TIMESTAMP_NTZ",
            "1704164645123456000",
            "CAST('2024-01-02 03:04:05.123456' AS TIMESTAMP_NTZ)",
        ),
        (
            "TIMESTAMP_TZ",
            "1704164645000000000 1560",
            "CAST('2024-01-02 05:04:05+02:00' AS TIMESTAMP_TZ)",
        ),
        ("BINARY", "00ff", "X'00FF'"),
        ("ANY", None, "NULL"),
    ],
)
def test_literals_of_each_bound_type(kind, value, sql):
    assert literal(kind, value) == sql
    translate.translate(f"SELECT {sql}", database="D", schema="S")  # Snowflake SQL the service reads


@pytest.mark.parametrize(
    "bindings, problem",
    [
        ({}, r"Bind variable \? not set"),
        ({"1": {"type": "FIXED", "value": "12abc"}}, "not a valid FIXED"),
        (
            {
                "1": {"type": "FIXED", "value": ["1"]},
                "2": {"type": "FIXED", "value": ["1", "2"]},
            },
            "same number",
        ),
        ({"1": "5"}, "bindings must map"),
    ],
)
def test_bad_bindings_say_what_is_wrong(bindings, problem):
    with pytest.raises(BindError, match=problem):
        substitute("SELECT ?, ?", bindings)
