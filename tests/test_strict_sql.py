"""What the local service cannot answer as Snowflake does is refused with Snowflake's code, naming
the construct; DuckDB's own error text never reaches a client (the unmodified connector)."""

from __future__ import annotations

import pytest
from snowflake.connector import DatabaseError

DUCKDB_WORDS = ("Binder Error", "Catalog Error", "Parser Error", "Conversion Error", "Constraint Error", "DuckDB")


def failure(cur, statement: str) -> DatabaseError:
    with pytest.raises(DatabaseError) as caught:
        cur.execute(statement)
    error = caught.value
    assert not any(word in str(error) for word in DUCKDB_WORDS), error
    return error


@pytest.mark.parametrize(
    "statement, construct",
    [
        ("SELECT APPROX_TOP_K(N, 3) FROM T", "APPROX_TOP_K(N, 3)"),
        ("ALTER TABLE T ADD COLUMN ID NUMBER AUTOINCREMENT", "AUTOINCREMENT"),  # (CREATE TABLE has identity columns)
        ("SELECT * FROM T AT(OFFSET => -60)", "time travel"),
        ("CREATE TABLE PROPS (N NUMBER) ENABLE_SOMETHING_NEW = 1", "ENABLE_SOMETHING_NEW=1"),
    ],
)
def test_what_duckdb_cannot_express_is_refused_naming_it(connection, statement, construct):
    cur = connection.cursor()
    cur.execute("CREATE TABLE T (N NUMBER, S VARCHAR)")
    error = failure(cur, statement)
    assert (error.errno, error.sqlstate) == (2076, "0A000")
    assert "Unsupported feature" in error.msg and construct in error.msg


@pytest.mark.parametrize(
    "statement, construct",
    [
        (
            "CREATE OR REPLACE DYNAMIC TABLE SNAP TARGET_LAG = '1 minute' WAREHOUSE = W AS SELECT N FROM T",
            "CREATE DYNAMIC TABLE",
        ),
        ("CREATE INTERACTIVE TABLE SNAP CLUSTER BY (N) AS SELECT N FROM T", "CREATE INTERACTIVE TABLE"),
    ],
)
def test_dynamic_and_interactive_tables_are_refused_not_snapshotted(connection, statement, construct):
    cur = connection.cursor()
    cur.execute("CREATE TABLE T (N NUMBER)")
    error = failure(cur, statement)
    assert (error.errno, error.sqlstate) == (2076, "0A000") and construct in error.msg
    assert cur.execute("SHOW TABLES LIKE 'SNAP'").fetchall() == []


def test_properties_that_do_not_change_results_are_accepted(connection):
    cur = connection.cursor()
    cur.execute(
        "CREATE TRANSIENT TABLE KEPT (N NUMBER COMMENT 'a count') COMMENT = 'kept' "
        "DATA_RETENTION_TIME_IN_DAYS = 1 CHANGE_TRACKING = TRUE CLUSTER BY (N)"
    )
    cur.execute("INSERT INTO KEPT VALUES (1), (2)")
    cur.execute("CREATE SECURE VIEW KEPT_VIEW AS SELECT N FROM KEPT")
    assert cur.execute("SELECT SUM(N) FROM KEPT_VIEW").fetchall() == [(3,)]


@pytest.mark.parametrize(
    "statement, code, state, words",
    [
        ("SELECT NOPE FROM T", 904, "42000", "invalid identifier 'NOPE'"),
        ("SELECT T.NOPE FROM T", 904, "42000", "invalid identifier 'T.NOPE'"),
        ("SELECT * FROM NO_SUCH_TABLE", 2003, "42S02", "Object 'NO_SUCH_TABLE' does not exist or not authorized."),
        ("SELECT NO_SUCH_FUNCTION(1)", 2140, "42601", "Unknown function NO_SUCH_FUNCTION"),
        ("SELECT N, COUNT(*) FROM T", 2065, "42601", "'N' in select clause is neither an aggregate"),
        ("SELECT 'abc'::NUMBER", 100038, "22018", "Numeric value 'abc' is not recognized"),
        ("SELECT 'abc'::DATE", 100040, "22007", "Date 'abc' is not recognized"),
        ("INSERT INTO T (S) VALUES ('no number')", 100072, "22000", "NULL result in a non-nullable column"),
        ("CREATE TABLE T (N NUMBER)", 2002, "42710", "already exists"),
        ("SELECT S FROM T, T AS U", 2028, "42601", "ambiguous column name 'S'"),
    ],
)
def test_duckdb_errors_come_back_in_snowflakes_codes_and_words(connection, statement, code, state, words):
    cur = connection.cursor()
    cur.execute("CREATE TABLE T (N NUMBER NOT NULL, S VARCHAR)")
    error = failure(cur, statement)
    assert (error.errno, error.sqlstate) == (code, state)
    assert words in error.msg
    assert cur.execute("SELECT COUNT(*) FROM T").fetchone() == (0,)  # the session is still usable
