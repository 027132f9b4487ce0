"""Row sources as Snowflake names them, through the unmodified connector: VALUES' columns COLUMN1, ...
and $1, ...; GENERATOR in a subquery numbered by SEQ8; CREATE TABLE with columns AS SELECT, and
IF NOT EXISTS after the table's name (the SQL Snowpark writes)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from snowflake.connector import DatabaseError


def test_values_columns_are_column1_column2(connection):
    cur = connection.cursor().execute("SELECT * FROM VALUES (1, 'a'), (2, 'b') ORDER BY COLUMN1 DESC")
    assert [d.name for d in cur.description] == ["COLUMN1", "COLUMN2"]
    assert cur.fetchall() == [(2, "b"), (1, "a")]
    cur.execute("SELECT V.COLUMN2 FROM VALUES (1, 'x') AS V")
    assert cur.fetchall() == [("x",)]


def test_positional_columns_of_values_with_casts(connection):
    cur = connection.cursor().execute(
        "SELECT $1 AS \"A\", $2 AS \"B\", $3 FROM VALUES (1 :: BIGINT, 'a' :: STRING, '2024-05-06' :: DATE), "
        "(2 :: BIGINT, NULL :: STRING, NULL :: DATE)"
    )
    assert [d.name for d in cur.description] == ["A", "B", "$3"]
    assert cur.fetchall() == [(1, "a", dt.date(2024, 5, 6)), (2, None, None)]
    cur.execute("SELECT $2 FROM VALUES (1, 2.50) AS T (X, Y)")  # $n is the nth column whatever its name
    assert cur.fetchall() == [(Decimal("2.50"),)]


@pytest.mark.parametrize(
    "statement, code, words",
    [
        ("SELECT $3 FROM VALUES (1, 2)", 904, "invalid identifier '$3'"),
        ("SELECT $1 FROM VALUES (1) AS A, VALUES (2) AS B", 2076, "$1 of a source other than VALUES"),
    ],
)
def test_positional_columns_elsewhere_are_refused(connection, statement, code, words):
    with pytest.raises(DatabaseError) as caught:
        connection.cursor().execute(statement)
    assert caught.value.errno == code and words in str(caught.value)


def test_a_generator_in_a_subquery_numbers_its_rows(connection):
    cur = connection.cursor().execute(
        "SELECT (ROW_NUMBER() OVER (ORDER BY SEQ8()) - 1) * (3) + (1) AS id "
        "FROM (TABLE (GENERATOR(ROWCOUNT => 4))) ORDER BY ID"
    )
    assert [d.name for d in cur.description] == ["ID"]
    assert cur.fetchall() == [(1,), (4,), (7,), (10,)]


def test_create_table_with_columns_as_select_types_the_rows(connection):
    cur = connection.cursor()
    statement = 'CREATE OR REPLACE TABLE TYPED ("A" BIGINT, "B" VARCHAR(3), C DOUBLE) AS SELECT * FROM '
    cur.execute(statement + "(SELECT 1, 'ab', 2)")
    cur.execute("DESCRIBE TABLE TYPED")
    assert [(row[0], row[1]) for row in cur.fetchall()] == [("A", "NUMBER(38,0)"), ("B", "VARCHAR(3)"), ("C", "FLOAT")]
    assert cur.execute("SELECT * FROM TYPED").fetchall() == [(1, "ab", 2.0)]
    with pytest.raises(DatabaseError) as caught:  # the declared length holds, as Snowflake's does
        cur.execute("CREATE OR REPLACE TABLE TYPED (B VARCHAR(1)) AS SELECT 'long'")
    assert caught.value.errno == 100074
    assert cur.execute("SELECT * FROM TYPED").fetchall() == [(1, "ab", 2.0)]  # nothing replaced


def test_if_not_exists_after_the_table_name(connection):
    cur = connection.cursor()
    cur.execute('CREATE TABLE LATE IF NOT EXISTS ("A" BIGINT, "B" STRING(16777216))')
    cur.execute("INSERT INTO LATE VALUES (1, 'kept')")
    cur.execute('CREATE TABLE LATE IF NOT EXISTS ("A" BIGINT)')
    assert cur.execute("SELECT * FROM LATE").fetchall() == [(1, "kept")]
