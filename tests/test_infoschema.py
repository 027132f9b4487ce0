"""INFORMATION_SCHEMA is Snowflake's, per database, through the unmodified connector."""

from __future__ import annotations

import pytest
from snowflake.connector.errors import ProgrammingError


def _rows(connection, sql: str) -> tuple[list[str], list[tuple]]:
    cur = connection.cursor()
    cur.execute(sql)
    return [d[0] for d in cur.description], cur.fetchall()


def test_columns_of_orders_have_snowflakes_types(demo_db, connect):
    con = connect(database=demo_db.database, schema="RAW")
    names, rows = _rows(
        con,
        "SELECT COLUMN_NAME, ORDINAL_POSITION, DATA_TYPE, NUMERIC_PRECISION, NUMERIC_SCALE, "
        "CHARACTER_MAXIMUM_LENGTH, IS_NULLABLE, DATETIME_PRECISION FROM INFORMATION_SCHEMA.COLUMNS "
        "WHERE TABLE_SCHEMA = 'RAW' AND TABLE_NAME = 'ORDERS' ORDER BY ORDINAL_POSITION",
    )
    assert names == [
        "COLUMN_NAME", "ORDINAL_POSITION", "DATA_TYPE", "NUMERIC_PRECISION", "NUMERIC_SCALE",
        "CHARACTER_MAXIMUM_LENGTH", "IS_NULLABLE", "DATETIME_PRECISION",
    ]  # fmt: skip
    assert rows == [
        ("ORDER_ID", 1, "NUMBER", 38, 0, None, "NO", None),
        ("CUSTOMER_ID", 2, "NUMBER", 38, 0, None, "YES", None),
        ("ORDER_DATE", 3, "TIMESTAMP_NTZ", None, None, None, "YES", 9),
        ("ORDER_STATUS", 4, "TEXT", None, None, 20, "YES", None),
        ("TOTAL_AMOUNT", 5, "NUMBER", 10, 2, None, "YES", None),
        ("DISCOUNT_PERCENT", 6, "NUMBER", 5, 2, None, "YES", None),
        ("SHIPPING_COST", 7, "NUMBER", 8, 2, None, "YES", None),
    ]


def test_tables_lists_the_databases_tables_with_row_counts_and_never_the_bookkeeping(demo_db, connect):
    con = connect(database=demo_db.database, schema="RAW")
    con.cursor().execute(
        "INSERT INTO ORDERS (ORDER_ID, CUSTOMER_ID, ORDER_STATUS) VALUES (1, 1, 'NEW'), (2, 1, 'NEW'), (3, 2, 'NEW')"
    )
    _, rows = _rows(
        con,
        "SELECT TABLE_CATALOG, TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, ROW_COUNT "
        "FROM INFORMATION_SCHEMA.TABLES ORDER BY TABLE_NAME",
    )
    assert rows == [
        (demo_db.database, "RAW", "CUSTOMERS", "BASE TABLE", 0),
        (demo_db.database, "RAW", "ORDERS", "BASE TABLE", 3),
        (demo_db.database, "RAW", "ORDER_ITEMS", "BASE TABLE", 0),
    ]
    con.cursor().execute("DELETE FROM ORDERS WHERE ORDER_ID = 2")  # DuckDB's estimate would still say 3
    _, counted = _rows(con, "SELECT ROW_COUNT FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_NAME = 'ORDERS'")
    assert counted == [(2,)]
    shown = {row[1]: row[7] for row in con.cursor().execute("SHOW TABLES IN SCHEMA RAW").fetchall()}
    assert shown == {"CUSTOMERS": 0, "ORDERS": 2, "ORDER_ITEMS": 0}
    _, schemata = _rows(con, f"SELECT SCHEMA_NAME FROM {demo_db.database}.INFORMATION_SCHEMA.SCHEMATA ORDER BY 1")
    assert schemata == [("INFORMATION_SCHEMA",), ("PUBLIC",), ("RAW",)]
    _, columns = _rows(con, "SELECT DISTINCT TABLE_SCHEMA FROM INFORMATION_SCHEMA.COLUMNS")
    assert columns == [("RAW",)]


def test_another_databases_information_schema_is_its_own(demo_db, connect):
    con = connect(database=demo_db.database, schema="RAW")
    _, rows = _rows(con, "SELECT DISTINCT TABLE_CATALOG FROM AUTOMATED_INTELLIGENCE.INFORMATION_SCHEMA.TABLES")
    assert rows == [("AUTOMATED_INTELLIGENCE",)]
    _, databases = _rows(con, "SELECT DATABASE_NAME FROM INFORMATION_SCHEMA.DATABASES")
    assert (demo_db.database,) in databases and ("AUTOMATED_INTELLIGENCE",) in databases
    assert all(name not in ("memory", "system", "temp") for (name,) in databases)


def test_views_a_dashboard_probes_answer_with_their_columns_and_no_rows(demo_db, connect):
    con = connect(database=demo_db.database, schema="RAW")
    names, rows = _rows(con, "SELECT * FROM INFORMATION_SCHEMA.MODEL_VERSIONS")
    assert rows == [] and names[:4] == ["DATABASE_NAME", "SCHEMA_NAME", "MODEL_NAME", "MODEL_VERSION_NAME"]
    names, rows = _rows(con, "SELECT * FROM INFORMATION_SCHEMA.TABLE_CONSTRAINTS")
    assert rows == [] and "CONSTRAINT_TYPE" in names
    _, pipes = _rows(con, "SELECT PIPE_SCHEMA, PIPE_NAME FROM INFORMATION_SCHEMA.PIPES ORDER BY PIPE_NAME")
    assert pipes == [("RAW", "ORDERS_PIPE"), ("RAW", "ORDER_ITEMS_PIPE")]
    with pytest.raises(ProgrammingError) as info:
        con.cursor().execute("SELECT * FROM INFORMATION_SCHEMA.NO_SUCH_VIEW")
    assert info.value.errno == 2003 and "INFORMATION_SCHEMA.NO_SUCH_VIEW' does not exist" in info.value.msg
