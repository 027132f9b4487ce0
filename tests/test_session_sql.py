"""What a connector session says it is: CURRENT_*, ALTER SESSION, SET / $name, USE ROLE /
WAREHOUSE, SHOW PARAMETERS / VARIABLES / WAREHOUSES / USERS / ROLES / VIEWS, SYSTEM$ calls."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from snowflake.connector import ProgrammingError

from aidemo.local.process.home import ACCOUNT, ROLE, USER


def test_current_functions_answer_what_the_session_is(connect):
    conn = connect(warehouse="DEMO_WH")
    cur = conn.cursor()
    row = cur.execute(
        "SELECT CURRENT_ROLE(), CURRENT_USER(), CURRENT_WAREHOUSE(), CURRENT_ACCOUNT(), CURRENT_SESSION(), "
        "CURRENT_DATABASE(), CURRENT_SCHEMA()"
    ).fetchone()
    assert row == (ROLE, USER, "DEMO_WH", ACCOUNT, str(conn.session_id), conn.database, conn.schema)
    assert [d.name for d in cur.description][:2] == ["CURRENT_ROLE()", "CURRENT_USER()"]
    cur.execute("USE ROLE SYSADMIN")
    cur.execute("USE WAREHOUSE OTHER_WH")
    assert cur.execute("SELECT CURRENT_ROLE(), CURRENT_WAREHOUSE()").fetchone() == ("SYSADMIN", "OTHER_WH")


def test_current_version_parses_as_snowflake_s(connection):
    (version,) = connection.cursor().execute("SELECT CURRENT_VERSION()").fetchone()
    major, minor, patch = (int(part) for part in version.split("."))  # snowflake-sqlalchemy does this
    assert major >= 9


def test_variables_substitute_and_unknown_ones_are_refused(connection):
    cur = connection.cursor()
    cur.execute("SET x = 1")
    cur.execute("SET (a, b) = ('two', 1 + 2)")
    assert cur.execute("SELECT $x + 1, $a, $B").fetchone() == (2, "two", 3)
    rows = cur.execute("SHOW VARIABLES").fetchall()
    names = [d.name for d in cur.description]
    assert names == ["session_id", "created_on", "updated_on", "name", "value", "type", "comment"]
    assert {(r[3], r[4]) for r in rows} == {("X", "1"), ("A", "two"), ("B", "3")}
    cur.execute("UNSET x")
    with pytest.raises(ProgrammingError, match=r"Session variable '\$X' does not exist") as failed:
        cur.execute("SELECT $x")
    assert failed.value.errno == 2211


def test_timezone_changes_current_timestamp_s_offset(connection):
    cur = connection.cursor()
    cur.execute("ALTER SESSION SET TIMEZONE = 'Asia/Kolkata'")
    (now,) = cur.execute("SELECT CURRENT_TIMESTAMP()").fetchone()
    assert now.utcoffset() == dt.timedelta(hours=5, minutes=30)
    cur.execute("ALTER SESSION UNSET TIMEZONE")
    (now,) = cur.execute("SELECT CURRENT_TIMESTAMP()").fetchone()
    assert now.utcoffset() == dt.timedelta(0)


def test_alter_session_keeps_parameters_and_refuses_unknown_ones(connection):
    cur = connection.cursor()
    cur.execute("ALTER SESSION SET QUERY_TAG = 'demo', USE_CACHED_RESULT = FALSE")
    rows = {r[0]: r for r in cur.execute("SHOW PARAMETERS").fetchall()}
    assert [d.name for d in cur.description] == ["key", "value", "default", "level", "description", "type"]
    assert rows["QUERY_TAG"][1:4] == ("demo", "", "SESSION")
    assert rows["USE_CACHED_RESULT"][1] == "false"
    with pytest.raises(ProgrammingError, match="invalid parameter 'NO_SUCH_PARAMETER'"):
        cur.execute("ALTER SESSION SET NO_SUCH_PARAMETER = 1")


@pytest.mark.parametrize(
    "parameter, value",
    [("DATE_OUTPUT_FORMAT", "DD/MM/YYYY"), ("TIMESTAMP_NTZ_OUTPUT_FORMAT", "YYYY"), ("ROWS_PER_RESULTSET", "1")],
)
def test_a_parameter_the_service_would_not_apply_is_refused_not_ignored(connection, parameter, value):
    cur = connection.cursor()
    with pytest.raises(ProgrammingError, match=parameter) as refused:
        cur.execute(f"ALTER SESSION SET {parameter} = '{value}'")
    assert refused.value.sqlstate == "0A000"
    assert cur.execute("SELECT TO_VARCHAR('2024-05-04'::DATE)").fetchone() == ("2024-05-04",)
    assert cur.execute("SELECT COUNT(*) FROM (SELECT 1 UNION ALL SELECT 2)").fetchone() == (2,)


def test_show_warehouses_users_roles_and_views(connect):
    cur = connect(warehouse="DEMO_WH").cursor()
    rows = cur.execute("SHOW WAREHOUSES").fetchall()
    assert [d.name for d in cur.description][:3] == ["name", "state", "type"] and rows[0][:2] == ("DEMO_WH", "STARTED")
    assert cur.execute("SHOW USERS").fetchall()[0][0] == USER
    rows = cur.execute("SHOW ROLES").fetchall()
    assert [d.name for d in cur.description][:2] == ["created_on", "name"] and rows[0][1] == ROLE
    cur.execute("CREATE OR REPLACE VIEW RAW.V_SESSION_SQL AS SELECT 1 AS A")
    rows = cur.execute("SHOW VIEWS LIKE 'V_SESSION%' IN SCHEMA RAW").fetchall()
    assert [(r[1], r[4]) for r in rows] == [("V_SESSION_SQL", "RAW")]
    cur.execute("DROP VIEW RAW.V_SESSION_SQL")


def test_snowpark_s_close_cancels_nothing(connection):
    cur = connection.cursor()
    (answer,) = cur.execute(f"SELECT SYSTEM$CANCEL_ALL_QUERIES({connection.session_id})").fetchone()
    assert isinstance(answer, str)


def test_a_temporary_table_is_dropped_when_its_session_ends(connect, connection):
    schema = connection.cursor().execute("SELECT CURRENT_SCHEMA()").fetchone()[0]
    temp = connect(schema=schema)
    temp.cursor().execute("CREATE TEMPORARY TABLE SCRATCH (A NUMBER)")
    temp.cursor().execute("INSERT INTO SCRATCH VALUES (1), (2)")
    assert temp.cursor().execute("SELECT SUM(A) FROM SCRATCH").fetchone() == (3,)
    temp.close()
    with pytest.raises(ProgrammingError) as gone:
        connection.cursor().execute("SELECT * FROM SCRATCH")
    assert gone.value.errno == 2003


def test_current_date_is_the_date_in_the_session_s_timezone(connection):
    cur = connection.cursor()
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):  # UTC+14 and UTC-11: never the same date
        cur.execute(f"ALTER SESSION SET TIMEZONE = '{zone}'")
        (today,) = cur.execute("SELECT CURRENT_DATE()").fetchone()
        assert [d.name for d in cur.description] == ["CURRENT_DATE()"]
        assert today == dt.datetime.now(ZoneInfo(zone)).date()


def test_show_lists_name_second_and_takes_starts_with_and_limit(connection):
    cur = connection.cursor()
    schema = cur.execute("SELECT CURRENT_SCHEMA()").fetchone()[0]
    for name in ("B_ONE", "B_TWO", "A_ONE"):
        cur.execute(f"CREATE TABLE {name} (X NUMBER)")
    rows = cur.execute("SHOW TABLES IN SCHEMA STARTS WITH 'B_' LIMIT 1").fetchall()
    assert [d.name for d in cur.description][:4] == ["created_on", "name", "database_name", "schema_name"]
    assert [(r[1], r[3]) for r in rows] == [("B_ONE", schema)]
    rows = cur.execute("SHOW TABLES IN SCHEMA LIMIT 10 FROM 'B_ONE'").fetchall()
    assert [r[1] for r in rows] == ["B_ONE", "B_TWO"]
    rows = cur.execute(f"SHOW SCHEMAS LIKE '{schema}'").fetchall()
    assert [d.name for d in cur.description][:5] == ["created_on", "name", "is_default", "is_current", "database_name"]
    assert [(r[1], r[3]) for r in rows] == [(schema, "Y")]


def test_describe_table_type_columns_is_describe_table(connection):
    cur = connection.cursor()
    cur.execute("CREATE TABLE DESCRIBED (ID NUMBER(38,0) NOT NULL, NAME VARCHAR(20))")
    rows = cur.execute("DESC TABLE DESCRIBED TYPE = COLUMNS").fetchall()
    assert [(r[0], r[1], r[3]) for r in rows] == [("ID", "NUMBER(38,0)", "N"), ("NAME", "VARCHAR(20)", "Y")]


def test_wall_clock_time_is_the_session_s_timezone(connection):
    cur = connection.cursor()
    cur.execute("ALTER SESSION SET TIMEZONE = 'Asia/Kolkata'")  # UTC+05:30
    local, time_of_day = cur.execute("SELECT CURRENT_TIMESTAMP()::TIMESTAMP_NTZ, CURRENT_TIME()").fetchone()
    expected = dt.datetime.now(ZoneInfo("Asia/Kolkata")).replace(tzinfo=None)
    assert local.tzinfo is None and abs(local - expected) < dt.timedelta(minutes=5)
    apart = (_seconds(time_of_day) - _seconds(expected.time())) % 86400
    assert min(apart, 86400 - apart) < 300  # the same time of day, across midnight too


def _seconds(time: dt.time) -> float:
    return time.hour * 3600 + time.minute * 60 + time.second
