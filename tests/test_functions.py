"""Snowflake's functions through the unmodified connector: Snowflake's values and the types the
connector reports, or a refusal naming the construct; never the answer of DuckDB's namesake."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from snowflake.connector import DatabaseError
from snowflake.connector.constants import FIELD_ID_TO_NAME

from aidemo.local.dialect.translate import translate

D = dt.date
FOUR = "(SELECT 1 AS X UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4)"  # a column X of 1 to 4
# (expression, Snowflake's value, Snowflake's type, (precision, scale) for FIXED or None)
SWEEP = [
    ("TO_CHAR('2024-03-15'::DATE, 'YYYY-MM')", "2024-03", "TEXT", None),
    (
        "TO_CHAR('2024-03-15 13:04:05.123456'::TIMESTAMP_NTZ, 'YYYY-MM-DD HH24:MI:SS.FF3')",
        "2024-03-15 13:04:05.123",
        "TEXT",
        None,
    ),
    ("TO_VARCHAR('2024-03-15'::DATE, 'DY, MON DD')", "Fri, Mar 15", "TEXT", None),
    ("TO_CHAR('2024-03-15 13:04:05'::TIMESTAMP_NTZ)", "2024-03-15 13:04:05.000", "TEXT", None),
    ("DATEADD(day, 1, '2024-01-31'::DATE)", D(2024, 2, 1), "DATE", None),
    ("DATEADD(month, 1, '2024-01-31'::DATE)", D(2024, 2, 29), "DATE", None),
    ("TIMESTAMPADD(year, 1, '2024-02-29'::DATE)", D(2025, 2, 28), "DATE", None),
    ("DATEADD(day, -7, CURRENT_DATE())", dt.datetime.now(dt.UTC).date() - dt.timedelta(days=7), "DATE", None),
    ("DATEADD(hour, 1, '2024-01-31'::DATE)", dt.datetime(2024, 1, 31, 1), "TIMESTAMP_NTZ", None),
    ("DATE_TRUNC('month', '2024-03-15'::DATE)", D(2024, 3, 1), "DATE", None),
    ("ADD_MONTHS('2024-02-29'::DATE, 1)", D(2024, 3, 31), "DATE", None),
    ("'2024-03-15 13:04:05.123456'::TIMESTAMP_NTZ::VARCHAR", "2024-03-15 13:04:05.123", "TEXT", None),
    ("DATEDIFF(month, '2024-01-31'::DATE, '2024-02-01'::DATE)", 1, "FIXED", (38, 0)),
    ("DATEDIFF(year, '2023-12-31'::DATE, '2024-01-01'::DATE)", 1, "FIXED", (38, 0)),
    ("7 / 2", Decimal("3.500000"), "FIXED", (38, 6)),
    ("1 / 3", Decimal("0.333333"), "FIXED", (38, 6)),
    ("10.25::NUMBER(10,2) / 3", Decimal("3.41666667"), "FIXED", (38, 8)),
    ("DIV0(7, 0)", Decimal("0"), "FIXED", (38, 6)),
    ("DIV0(7, 2)", Decimal("3.500000"), "FIXED", (38, 6)),
    ("DIV0NULL(7, NULL)", Decimal("0"), "FIXED", (38, 6)),
    ("'a' || NULL", None, "TEXT", None),
    ("CONCAT('a', NULL)", None, "TEXT", None),
    ("SUBSTR('hello', 0, 2)", "he", "TEXT", None),
    ("ROUND(2.5)", 3, "FIXED", None),
    ("ROUND(-2.5)", -3, "FIXED", None),
    ("ROUND(2.5::FLOAT)", 3.0, "REAL", None),
    ("TRUNC(-2.7)", -2, "FIXED", None),
    ("LPAD('abc', 2, 'x')", "ab", "TEXT", None),
    ("POSITION('b', 'abc')", 2, "FIXED", (38, 0)),
    ("CHARINDEX('c', 'abc')", 3, "FIXED", (38, 0)),
    ("REGEXP_SUBSTR('abc123', '[0-9]+')", "123", "TEXT", None),
    ("REGEXP_LIKE('abc', 'b')", False, "BOOLEAN", None),
    ("REGEXP_REPLACE('abab', 'b', 'x')", "axax", "TEXT", None),
    ("REGEXP_COUNT('abab', 'a')", 2, "FIXED", (38, 0)),
    ("DAYOFWEEK('2024-03-17'::DATE)", 0, "FIXED", (38, 0)),
    ("WEEK('2024-01-01'::DATE)", 1, "FIXED", (38, 0)),
    ("LAST_DAY('2024-02-10'::DATE)", D(2024, 2, 29), "DATE", None),
    ("IFF(1 > 2, 'x', 'y')", "y", "TEXT", None),
    ("DECODE(NULL, NULL, 'null', 'other')", "null", "TEXT", None),
    ("EQUAL_NULL(NULL, NULL)", True, "BOOLEAN", None),
    ("NVL(NULL, 2)", 2, "FIXED", (38, 0)),
    ("NVL2(1, 2, 3)", 2, "FIXED", (38, 0)),
    ("ZEROIFNULL(NULL)", 0, "FIXED", (38, 0)),
    ("MOD(-7, 3)", -1, "FIXED", (38, 0)),
    ("TO_DATE('15/03/2024', 'DD/MM/YYYY')", D(2024, 3, 15), "DATE", None),
    ("TO_DATE('Mar 15, 2024', 'MON DD, YYYY')", D(2024, 3, 15), "DATE", None),
    ("TRY_TO_DATE('nope', 'DD/MM/YYYY')", None, "DATE", None),
    (
        "TO_TIMESTAMP('15/03/2024 10:11:12', 'DD/MM/YYYY HH24:MI:SS')",
        dt.datetime(2024, 3, 15, 10, 11, 12),
        "TIMESTAMP_NTZ",
        None,
    ),
    (
        "TO_TIMESTAMP_NTZ('2024-03-15 10:11:12.345', 'YYYY-MM-DD HH24:MI:SS.FF3')",
        dt.datetime(2024, 3, 15, 10, 11, 12, 345000),
        "TIMESTAMP_NTZ",
        None,
    ),
    ("TO_TIMESTAMP(1710497472)", dt.datetime(2024, 3, 15, 10, 11, 12), "TIMESTAMP_NTZ", None),
    ("TO_TIMESTAMP('2024-03-15'::DATE)", dt.datetime(2024, 3, 15), "TIMESTAMP_NTZ", None),
    ("TIMESTAMPDIFF(day, '2024-03-15'::DATE, '2024-04-01'::DATE)", 17, "FIXED", (38, 0)),
    ("DAYNAME('2024-03-15'::DATE)", "Fri", "TEXT", None),
    ("MONTHNAME('2024-03-15'::DATE)", "Mar", "TEXT", None),
    ("NEXT_DAY('2024-03-15'::DATE, 'MO')", D(2024, 3, 18), "DATE", None),
    ("DATE_FROM_PARTS(2024, 2, 30)", D(2024, 3, 1), "DATE", None),
    ("TO_NUMBER('12.5', 10, 1)", Decimal("12.5"), "FIXED", (10, 1)),
    ("TRY_TO_NUMBER('x')", None, "FIXED", None),
    ("EDITDISTANCE('kitten', 'sitting')", 3, "FIXED", (38, 0)),
    ("STRTOK('a,b', ',', 2)", "b", "TEXT", None),
    ("TO_CHAR(1234.5, '999,999.00')", "   1,234.50", "TEXT", None),
    ("TO_CHAR(1234.5, '9,999.99')", " 1,234.50", "TEXT", None),
    ("TO_CHAR(-1234.567, 'FM999,999.00')", "-1,234.57", "TEXT", None),
    ("TO_CHAR(1234, '$9,999')", " $1,234", "TEXT", None),
    ("TO_VARCHAR(12, '000000')", " 000012", "TEXT", None),
    ("TO_VARCHAR(-123.45, '999.99MI')", "123.45-", "TEXT", None),
    ("TO_CHAR(2.5::FLOAT, 'FM9,999')", "3", "TEXT", None),
    ("TO_CHAR(0.5, '\"USD \"FM9.00')", "USD 0.50", "TEXT", None),
    (
        f"(SELECT PERCENTILE_CONT(0.25) WITHIN GROUP (ORDER BY X) FROM {FOUR})",
        Decimal("1.750"),
        "FIXED",
        (38, 3),
    ),
    (
        f"(SELECT PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY X::NUMBER(10,2)) FROM {FOUR})",
        Decimal("2.50000"),
        "FIXED",
        (38, 5),
    ),
    (
        f"(SELECT PERCENTILE_DISC(0.25) WITHIN GROUP (ORDER BY X DESC) FROM {FOUR})",
        4,
        "FIXED",
        (38, 0),
    ),
    (
        f"(SELECT MAX(P) FROM (SELECT PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY X) OVER () AS P FROM {FOUR}))",
        Decimal("2.500"),
        "FIXED",
        (38, 3),
    ),
    (
        f"(SELECT MEDIAN(X) FROM {FOUR})",
        Decimal("2.500"),
        "FIXED",
        (38, 3),
    ),
    (
        "CONVERT_TIMEZONE('UTC', 'America/Los_Angeles', '2024-01-15 12:00:00'::TIMESTAMP_NTZ)",
        dt.datetime(2024, 1, 15, 4, 0),
        "TIMESTAMP_NTZ",
        None,
    ),
    (
        "CONVERT_TIMEZONE('America/New_York', 'Europe/Paris', '2024-07-01 08:00:00')",
        dt.datetime(2024, 7, 1, 14, 0),
        "TIMESTAMP_NTZ",
        None,
    ),
    ("SPLIT_PART('a-b-c', '-', -1)", "c", "TEXT", None),
    ("SPLIT_PART('a-b-c', '-', 0)", "a", "TEXT", None),
    ("SPLIT_PART('a-b-c', '-', 5)", "", "TEXT", None),
    # Snowflake functions whose DuckDB namesakes answer otherwise (argument order, 0- or 1-based
    # positions, NULL handling, flags, week starts, rounding), each with Snowflake's answer.
    ("LEFT('abcdef', 3)", "abc", "TEXT", None),
    ("RIGHT('abcdef', 2)", "ef", "TEXT", None),
    ("TRY_CAST('abc' AS INT)", None, "FIXED", None),
    ("TRY_CAST('12' AS INT)", 12, "FIXED", (38, 0)),
    ("REGEXP_SUBSTR('ABC', 'b', 1, 1, 'i')", "B", "TEXT", None),
    ("REGEXP_LIKE('ABC', 'abc', 'i')", True, "BOOLEAN", None),
    ("REGEXP_COUNT('aAa', 'a', 1, 'i')", 3, "FIXED", (38, 0)),
    ("REGEXP_SUBSTR('ab12', '([a-z]+)([0-9]+)', 1, 1, 'e', 2)", "12", "TEXT", None),
    ("ARRAY_SIZE(ARRAY_CONSTRUCT(1, 2, 3))", 3, "FIXED", (38, 0)),
    ("ARRAY_SIZE(PARSE_JSON('{\"a\": 1}'))", None, "FIXED", None),
    ("ARRAY_SLICE(ARRAY_CONSTRUCT(1, 2, 3, 4), 1, 3)", "[\n  2,\n  3\n]", "ARRAY", None),
    ("ARRAY_POSITION(2, ARRAY_CONSTRUCT(1, 2, 3))", 1, "FIXED", (38, 0)),
    ("IFNULL(NULL, 'x')", "x", "TEXT", None),
    ("NVL2(NULL, 2, 3)", 3, "FIXED", (38, 0)),
    ("GREATEST(1, NULL)", None, "FIXED", None),
    ("LEAST(1, NULL)", None, "FIXED", None),
    ("CONCAT_WS(',', 'a', NULL, 'b')", None, "TEXT", None),
    ("REPLACE('abcb', 'b')", "ac", "TEXT", None),
    ("POSITION('b' IN 'abc')", 2, "FIXED", (38, 0)),
    ("POSITION('b', 'abcb', 3)", 4, "FIXED", (38, 0)),
    ("SUBSTR('hello', -3)", "llo", "TEXT", None),
    ("LENGTH('héllo')", 5, "FIXED", (38, 0)),
    ("INITCAP('hello wORLD-foo')", "Hello World-Foo", "TEXT", None),
    ("DATE_TRUNC('week', '2024-03-17'::DATE)", D(2024, 3, 11), "DATE", None),  # a Sunday: its week starts Monday
    ("DATE_TRUNC('quarter', '2024-03-17'::DATE)", D(2024, 1, 1), "DATE", None),
    ("DAYOFWEEKISO('2024-03-17'::DATE)", 7, "FIXED", (38, 0)),
    ("DATE_PART(dayofweek, '2024-03-17'::DATE)", 0, "FIXED", (38, 0)),
    ("DAYOFYEAR('2024-03-17'::DATE)", 77, "FIXED", (38, 0)),
    ("LAST_DAY('2024-03-13'::DATE, 'week')", D(2024, 3, 17), "DATE", None),
    ("LAST_DAY('2024-03-13'::DATE, 'quarter')", D(2024, 3, 31), "DATE", None),
    ("DATEDIFF(day, '2024-01-01 23:59'::TIMESTAMP, '2024-01-02 00:01'::TIMESTAMP)", 1, "FIXED", (38, 0)),
    ("DATEDIFF(hour, '2024-01-01 10:59'::TIMESTAMP, '2024-01-01 11:00'::TIMESTAMP)", 1, "FIXED", (38, 0)),
    ("DATEDIFF(week, '2024-03-16'::DATE, '2024-03-18'::DATE)", 1, "FIXED", (38, 0)),
    ("ROUND(1.005, 2)", Decimal("1.01"), "FIXED", None),
    ("ROUND(15, -1)", 20, "FIXED", None),
    ("ROUND(-0.5)", -1, "FIXED", None),
    ("TRUNC(123.456, 1)", Decimal("123.4"), "FIXED", None),
    ("10 % 3", 1, "FIXED", None),
    # MONTHS_BETWEEN: whole months, and a fraction of 31-day months from the day and time of day
    ("MONTHS_BETWEEN('2020-02-01'::DATE, '2020-01-01'::DATE)", Decimal("1.000000"), "FIXED", (38, 6)),
    ("MONTHS_BETWEEN('2019-03-31'::DATE, '2019-02-28'::DATE)", Decimal("1.000000"), "FIXED", (38, 6)),
    (
        "MONTHS_BETWEEN('2019-03-01 02:00:00'::TIMESTAMP, '2019-02-01 13:00:00'::TIMESTAMP)",
        Decimal("1.000000"),
        "FIXED",
        (38, 6),
    ),
    ("MONTHS_BETWEEN('2015-04-02'::DATE, '2015-03-01'::DATE)", Decimal("1.032258"), "FIXED", (38, 6)),
    (
        "MONTHS_BETWEEN('2020-05-01 13:11:20'::TIMESTAMP, '2020-08-21 01:30:05'::TIMESTAMP)",
        Decimal("-3.629452"),
        "FIXED",
        (38, 6),
    ),
    ("MONTHS_BETWEEN('2020-01-01'::DATE, NULL)", None, "FIXED", (38, 6)),
    ("TO_BOOLEAN('yes')", True, "BOOLEAN", None),
    ("TO_BOOLEAN('Off')", False, "BOOLEAN", None),
    ("TO_BOOLEAN(0)", False, "BOOLEAN", None),
    ("TO_BOOLEAN(2.5)", True, "BOOLEAN", None),
    ("TRY_TO_BOOLEAN('maybe')", None, "BOOLEAN", None),
]
REFUSED = [
    ("TO_CHAR(1234.5, 'FM9,999.99')", "the number format element '9' (in 'FM9,999.99')"),
    ("TO_CHAR(255, 'XXXX')", "the number format element 'X'"),
    ("TO_CHAR(1.5, '9.9EEEE')", "the number format element 'E'"),
    ("CONVERT_TIMEZONE('America/Los_Angeles', CURRENT_TIMESTAMP())", "CONVERT_TIMEZONE with two arguments"),
    ("CONVERT_TIMEZONE('UTC', 'Asia/Tokyo', CURRENT_TIMESTAMP())", "CONVERT_TIMEZONE with three arguments of a"),
    ("TO_CHAR('2024-03-15'::DATE, 'YYYY-Q')", "'Q'"),
    ("TO_TIMESTAMP('2024-Q1', 'YYYY-Q')", "'Q'"),
    ("APPROX_TOP_K(1, 3)", "APPROX_TOP_K"),
]


def _type(description) -> str:
    return FIELD_ID_TO_NAME[description.type_code]


@pytest.mark.parametrize("expression, value, kind, fixed", SWEEP, ids=[s[0] for s in SWEEP])
def test_functions_answer_snowflakes_value_and_type(connection, expression, value, kind, fixed):
    cur = connection.cursor()
    (got,) = cur.execute(f"SELECT {expression} AS V").fetchone()
    assert got == value and type(got) is type(value)
    assert _type(cur.description[0]) == kind
    if fixed:
        assert (cur.description[0].precision, cur.description[0].scale) == fixed


@pytest.mark.parametrize("expression, construct", REFUSED, ids=[s[0] for s in REFUSED])
def test_what_is_not_implemented_is_refused_naming_it(connection, expression, construct):
    with pytest.raises(DatabaseError) as caught:
        connection.cursor().execute(f"SELECT {expression}")
    assert (caught.value.errno, caught.value.sqlstate) == (2076, "0A000")
    assert construct in caught.value.msg


@pytest.mark.parametrize("expression", ["REGEXP_INSTR('abcb', 'b')", "BOOLAND(1, 0)", "YEAROFWEEKISO(CURRENT_DATE())"])
def test_a_snowflake_function_the_service_lacks_is_refused_as_unsupported_naming_it(connection, expression):
    with pytest.raises(DatabaseError) as caught:
        connection.cursor().execute(f"SELECT {expression}")
    assert (caught.value.errno, caught.value.sqlstate) == (2076, "0A000")
    assert f"Unsupported feature '{expression.partition('(')[0]}'" in caught.value.msg


@pytest.mark.parametrize("expression", ["NO_SUCH_FUNCTION(1)", "LIST_VALUE(1, 2)", "STRUCT_PACK(a := 1)"])
def test_a_function_snowflake_does_not_know_is_an_unknown_function(connection, expression):
    with pytest.raises(DatabaseError) as caught:
        connection.cursor().execute(f"SELECT {expression}")
    assert (caught.value.errno, caught.value.sqlstate) == (2140, "42601")
    assert caught.value.msg.endswith(f"Unknown function {expression.partition('(')[0]}")


@pytest.mark.parametrize("expression", ["TO_BOOLEAN('maybe')", "'maybe'::BOOLEAN"])
def test_text_that_is_no_boolean_is_snowflakes_error(connection, expression):
    with pytest.raises(DatabaseError) as caught:
        connection.cursor().execute(f"SELECT {expression}")
    assert (caught.value.errno, caught.value.sqlstate) == (100037, "22018")
    assert "Boolean value 'maybe' is not recognized" in caught.value.msg


@pytest.mark.parametrize("statement", ["SELECT 7 / 0", "SELECT 2.5::FLOAT / 0", "SELECT N / 0 FROM (SELECT 1 AS N)"])
def test_division_by_zero_is_snowflakes_error(connection, statement):
    with pytest.raises(DatabaseError) as caught:
        connection.cursor().execute(statement)
    assert (caught.value.errno, caught.value.sqlstate) == (100051, "22012")
    assert "Division by zero" in caught.value.msg


def test_unaliased_current_date_and_generated_rows(connection):
    cur = connection.cursor()
    (today,) = cur.execute("SELECT CURRENT_DATE()").fetchone()
    assert today == dt.datetime.now(dt.UTC).date() and _type(cur.description[0]) == "DATE"
    assert cur.description[0].name == "CURRENT_DATE()"
    rows = cur.execute("SELECT COUNT(*), MIN(SEQ4()), MAX(SEQ8()) FROM TABLE(GENERATOR(ROWCOUNT => 10))").fetchall()
    assert rows == [(10, 0, 9)]
    uuid, random, hashed = cur.execute("SELECT UUID_STRING(), RANDOM(), HASH('a', 1)").fetchone()
    assert len(uuid) == 36 and uuid.count("-") == 4
    assert type(random) is int and type(hashed) is int and -(2**63) <= hashed < 2**63
    assert [_type(d) for d in cur.description] == ["TEXT", "FIXED", "FIXED"]


def test_aggregates_and_windows_of_an_analysis(connection):
    cur = connection.cursor()
    cur.execute("CREATE TABLE SALES (REGION VARCHAR, AMOUNT NUMBER(10,2), UNITS NUMBER)")
    cur.execute("INSERT INTO SALES VALUES ('N', 10.00, 1), ('N', 30.00, 3), ('S', 20.00, 2), ('S', NULL, 4)")
    row = cur.execute(
        "SELECT COUNT(*), COUNT(AMOUNT), SUM(AMOUNT), AVG(AMOUNT), MIN(AMOUNT), MAX(UNITS), "
        "COUNT_IF(UNITS > 1), APPROX_COUNT_DISTINCT(REGION), LISTAGG(REGION, '|') WITHIN GROUP (ORDER BY REGION) "
        "FROM SALES"
    ).fetchone()
    assert row == (4, 3, Decimal("60.00"), Decimal("20.00000000"), Decimal("10.00"), 4, 3, 2, "N|N|S|S")
    assert [(d.precision, d.scale) for d in cur.description[:4]] == [(38, 0), (38, 0), (38, 2), (38, 8)]
    ranked = cur.execute(
        "SELECT REGION, UNITS, ROW_NUMBER() OVER (PARTITION BY REGION ORDER BY UNITS DESC), "
        "RANK() OVER (ORDER BY REGION), LAG(UNITS) OVER (ORDER BY UNITS), LEAD(UNITS) OVER (ORDER BY UNITS), "
        "RATIO_TO_REPORT(UNITS) OVER (PARTITION BY REGION) "
        "FROM SALES QUALIFY ROW_NUMBER() OVER (PARTITION BY REGION ORDER BY UNITS DESC) = 1 ORDER BY REGION"
    ).fetchall()
    assert ranked == [("N", 3, 1, 1, 2, 4, Decimal("0.750000")), ("S", 4, 1, 3, 3, None, Decimal("0.666667"))]


def test_functions_of_columns_follow_the_columns_declared_types(connection):
    cur = connection.cursor()
    cur.execute("CREATE TABLE EVENTS (D DATE, TS TIMESTAMP_NTZ, AMOUNT NUMBER(10,2), UNITS NUMBER)")
    cur.execute("INSERT INTO EVENTS VALUES ('2024-01-31', '2024-03-15 13:04:05.123456', 10.25, 7)")
    row = cur.execute(
        "SELECT DATEADD(day, 1, D), DATEADD(month, 1, E.D), DATE_TRUNC('month', D), DATEADD(hour, 1, D), "
        "TO_CHAR(TS), TO_CHAR(D, 'MON YYYY'), AMOUNT / 3, UNITS / 2, ADD_MONTHS(D, 1), TS::STRING FROM EVENTS AS E"
    ).fetchone()
    assert row == (
        D(2024, 2, 1),
        D(2024, 2, 29),
        D(2024, 1, 1),
        dt.datetime(2024, 1, 31, 1),
        "2024-03-15 13:04:05.123",
        "Jan 2024",
        Decimal("3.41666667"),
        Decimal("3.500000"),
        D(2024, 2, 29),
        "2024-03-15 13:04:05.123",
    )
    kinds = [_type(d) for d in cur.description]
    assert kinds == ["DATE", "DATE", "DATE", "TIMESTAMP_NTZ", "TEXT", "TEXT", "FIXED", "FIXED", "DATE", "TEXT"]
    assert cur.execute("SELECT AVG(AMOUNT), AVG(UNITS), SUM(AMOUNT) / 3 FROM EVENTS").fetchone() == (
        Decimal("10.25000000"),
        Decimal("7.000000"),
        Decimal("3.41666667"),
    )
    assert [d.scale for d in cur.description] == [8, 6, 8]
    cur.execute("CREATE VIEW EVENT_DAYS AS SELECT D, AMOUNT FROM EVENTS")
    assert cur.execute("SELECT DATEADD(day, 1, D), AVG(AMOUNT) FROM EVENT_DAYS GROUP BY D").fetchone() == (
        D(2024, 2, 1),  # a view's DATE column stays DATE, as a table's does
        Decimal("10.25000000"),
    )
    assert [_type(d) for d in cur.description] == ["DATE", "FIXED"]
    cur.execute("INSERT INTO EVENTS (AMOUNT, UNITS) VALUES (2.00, 2)")
    assert cur.execute("SELECT MEDIAN(AMOUNT), MEDIAN(UNITS) FROM EVENTS").fetchone() == (
        Decimal("6.12500"),  # the midpoint of 2.00 and 10.25, where DuckDB's rounds it to the input's scale
        Decimal("4.500"),
    )
    assert [(d.precision, d.scale) for d in cur.description] == [(38, 5), (38, 3)]
    with pytest.raises(DatabaseError) as caught:
        cur.execute("SELECT UNITS / (UNITS - 7) FROM EVENTS")
    assert caught.value.errno == 100051


@pytest.mark.parametrize(
    "query, row",
    [
        (
            "WITH C AS (SELECT D, AMOUNT FROM SHIPMENTS) SELECT DATEADD(day, 1, D), AVG(AMOUNT), MAX(V) FROM C, "
            "(SELECT V FROM SHIPMENTS) GROUP BY D",
            (D(2024, 2, 1), Decimal("10.25000000"), '{\n  "a": 1\n}'),
        ),
        (
            "SELECT DATEADD(day, 1, S.D), AVG(S.AMOUNT), MIN(S.V) FROM (SELECT * FROM SHIPMENTS) AS S GROUP BY S.D",
            (D(2024, 2, 1), Decimal("10.25000000"), '{\n  "a": 1\n}'),
        ),
        (
            "WITH C AS (SELECT D AS DAY, AMOUNT * 2 AS TWICE, V FROM SHIPMENTS), E AS (SELECT * FROM C) "
            "SELECT DATEADD(month, 1, DAY), AVG(TWICE), MAX(V) FROM E GROUP BY DAY",
            (D(2024, 2, 29), Decimal("20.50000000"), '{\n  "a": 1\n}'),
        ),
    ],
    ids=["cte", "subquery", "nested-ctes"],
)
def test_functions_of_cte_and_subquery_columns_follow_their_types(connection, query, row):
    cur = connection.cursor()
    cur.execute("CREATE OR REPLACE TABLE SHIPMENTS (D DATE, AMOUNT NUMBER(10,2), V VARIANT)")
    cur.execute("INSERT INTO SHIPMENTS SELECT '2024-01-31', 10.25, PARSE_JSON('{\"a\": 1}')")
    assert cur.execute(query).fetchone() == row
    assert [_type(d) for d in cur.description] == ["DATE", "FIXED", "VARIANT"]
    assert (cur.description[1].precision, cur.description[1].scale) == (38, 8)


@pytest.mark.parametrize(
    "query, value, scale",
    [
        ("SELECT AVG(X) FROM (VALUES (1), (2)) AS T(X)", Decimal("1.500000"), 6),
        ("SELECT AVG(X) FROM (VALUES (1), (2.50), (NULL)) AS T(X)", Decimal("1.75000000"), 8),
        ("SELECT AVG(COLUMN2) FROM VALUES ('a', -1.5), ('b', 4)", Decimal("1.2500000"), 7),
        ("SELECT PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY X) FROM (VALUES (1), (2)) AS T(X)", Decimal("1.500"), 3),
        ("SELECT MEDIAN(X) FROM (SELECT * FROM (VALUES (1.25), (2.5)) AS T(X))", Decimal("1.87500"), 5),
    ],
    ids=["integers", "decimals", "from-values", "percentile-cont", "nested"],
)
def test_values_columns_are_typed_from_their_literals(connection, query, value, scale):
    cur = connection.cursor()
    (got,) = cur.execute(query).fetchone()
    assert got == value and type(got) is Decimal and str(got) == str(value)
    assert _type(cur.description[0]) == "FIXED" and cur.description[0].scale == scale


@pytest.mark.parametrize(
    "text, instant",
    [
        ("2024-01-31 10:00:00 +02:00", dt.datetime(2024, 1, 31, 8, tzinfo=dt.UTC)),
        ("2024-01-31 10:00:00.250 -0530", dt.datetime(2024, 1, 31, 15, 30, 0, 250000, tzinfo=dt.UTC)),
        ("2024-01-31 10:00:00+02:00", dt.datetime(2024, 1, 31, 8, tzinfo=dt.UTC)),
    ],
)
def test_timestamp_text_with_a_space_before_its_offset_converts_at_that_offset(connection, text, instant):
    cur = connection.cursor()
    cur.execute("CREATE OR REPLACE TABLE STAMPS (S VARCHAR)")
    cur.execute(f"INSERT INTO STAMPS VALUES ('{text}')")
    row = cur.execute(
        f"SELECT '{text}'::TIMESTAMP_TZ, TO_TIMESTAMP_TZ('{text}'), CAST(S AS TIMESTAMP_TZ), S::TIMESTAMP_LTZ, "
        "S::TIMESTAMP_NTZ FROM STAMPS"
    ).fetchone()
    assert row[:4] == (instant,) * 4 and all(value.utcoffset() is not None for value in row[:4])
    assert row[4] == dt.datetime.fromisoformat(text.replace(" -", "-").replace(" +", "+")).replace(tzinfo=None)


def test_an_unaliased_expression_is_named_by_its_text_in_upper_case(connection):
    cur = connection.cursor()
    cur.execute("SELECT a+1, a + 1, 'abc', CASE WHEN a > 0 THEN 'p' END, a FROM (SELECT 1 AS a)")
    names = [d.name for d in cur.description]
    assert names == ["A+1", "A + 1", "'ABC'", "CASE WHEN A > 0 THEN 'P' END", "A"]
    assert cur.fetchone() == (2, 2, "abc", "p", 1)
    assert cur.execute("SELECT count(*), Max(a)/2 FROM (SELECT 1 AS a)").fetchone() == (1, Decimal("0.500000"))
    assert [d.name for d in cur.description] == ["COUNT(*)", "MAX(A)/2"]


@pytest.mark.parametrize(
    "statement, duck",
    [
        ("SELECT TO_CHAR(D, 'YYYY-MM') FROM T", "STRFTIME(\"D\", '%Y-%m')"),
        ("SELECT DATEADD(day, 2, '2024-01-01'::DATE)", "CAST(CAST('2024-01-01' AS DATE) + TO_DAYS(CAST((2) * 1 AS"),
        ("SELECT 7 / 2", "CAST(7 / 2 AS DECIMAL(38, 6))"),
        ("SELECT HASH(1)", "CAST(CAST(HASH(1) AS INT128) - 9223372036854775808 AS BIGINT)"),
    ],
)
def test_transforms_write_duckdb_sql_for_snowflakes_semantics(statement, duck):
    assert duck in translate(statement, database="D", schema="S").sql


def test_a_split_is_an_array_of_its_parts(connection):
    cur = connection.cursor()
    (parts,) = cur.execute("SELECT SPLIT('a,b', ',')").fetchone()
    assert json.loads(parts) == ["a", "b"] and _type(cur.description[0]) == "ARRAY"
    tokens, size = cur.execute("SELECT STRTOK_TO_ARRAY('a,b  c,', ', ') AS T, ARRAY_SIZE(T)").fetchone()
    assert json.loads(tokens) == ["a", "b", "c"] and size == 3 and _type(cur.description[0]) == "ARRAY"


def test_merge_answers_a_count_per_kind_of_clause(connection):
    cur = connection.cursor()
    cur.execute("CREATE TABLE TARGET (ID NUMBER, V NUMBER)")
    cur.execute("INSERT INTO TARGET VALUES (1, 1), (2, 2), (3, 3)")
    cur.execute("CREATE TABLE SOURCE (ID NUMBER, V NUMBER)")
    cur.execute("INSERT INTO SOURCE VALUES (1, 10), (2, 0), (4, 40), (5, 50)")
    cur.execute(
        "MERGE INTO TARGET T USING SOURCE S ON T.ID = S.ID WHEN MATCHED AND S.V = 0 THEN DELETE "
        "WHEN MATCHED THEN UPDATE SET V = S.V WHEN NOT MATCHED THEN INSERT (ID, V) VALUES (S.ID, S.V)"
    )
    assert [d.name for d in cur.description] == [
        "number of rows inserted",
        "number of rows updated",
        "number of rows deleted",
    ]
    assert cur.fetchall() == [(2, 1, 1)] and cur.rowcount == 4
    cur.execute("MERGE INTO TARGET T USING SOURCE S ON T.ID = S.ID WHEN MATCHED THEN UPDATE SET V = S.V + 1")
    assert [d.name for d in cur.description] == ["number of rows updated"] and cur.fetchall() == [(3,)]
    rows = cur.execute("SELECT ID, V FROM TARGET ORDER BY ID").fetchall()
    assert rows == [(1, 11), (3, 3), (4, 41), (5, 51)]
