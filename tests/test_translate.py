"""Tests for aidemo.local.dialect.translate (and insertsql): the sql/ files, pipes, USE, SHOW, DuckDB translation."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from aidemo.local.dialect.insertsql import bulk_insert
from aidemo.local.dialect.translate import split_statements, translate, translate_script
from aidemo.local.engine.sqlcommands import (
    CREATE,
    CreateDatabase,
    CreatePipe,
    CreateSchema,
    DescribePipe,
    DropPipe,
    DropSchema,
    DuckSql,
    NoOp,
    PipeColumn,
    ShowChannels,
    ShowDatabases,
    ShowPage,
    ShowPipes,
    ShowSchemas,
    ShowTables,
    UseContext,
    UseRole,
    UseWarehouse,
)
from aidemo.local.errors import SqlError

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"
SQL_FILES = sorted(SQL_DIR.rglob("*.sql"))
DB, SCHEMA = "AUTOMATED_INTELLIGENCE", "RAW"
STREAMING = "TABLE(DATA_SOURCE(TYPE => 'STREAMING'))"


def tr(statement: str, database: str | None = DB, schema: str | None = SCHEMA):
    return translate(statement, database=database, schema=schema)


def run_script(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Run one sql/ file the way the service would for databases, schemas and DuckDB SQL."""
    for statement in split_statements((SQL_DIR / name).read_text()):
        result = translate(statement, database=None, schema=None)
        if isinstance(result, CreateSchema):
            con.execute(f'CREATE SCHEMA IF NOT EXISTS "{result.database}"."{result.name}"')
        elif isinstance(result, DuckSql):
            con.execute(result.sql)
        else:
            assert isinstance(result, CreateDatabase)


@pytest.fixture()
def con():
    connection = duckdb.connect()
    connection.execute(f"ATTACH ':memory:' AS {DB}")
    run_script(connection, "01_database.sql")
    run_script(connection, "02_tables.sql")
    yield connection
    connection.close()


# --- the sql/ files ---------------------------------------------------------------------


def test_sql_files_exist():
    names = {p.relative_to(SQL_DIR).as_posix() for p in SQL_FILES}
    assert {
        "01_database.sql",
        "02_tables.sql",
        "03_pipes.sql",
        "04_grants.sql",
        "monitoring/row_counts.sql",
        "monitoring/latest_orders.sql",
        "monitoring/channel_status.sql",
        "monitoring/show_pipes.sql",
        "monitoring/show_channels.sql",
    } <= names


@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: p.relative_to(SQL_DIR).as_posix())
def test_every_sql_file_splits_and_translates(path):
    text = path.read_text()
    assert text.startswith("--"), f"{path.name} needs a header comment"
    statements = split_statements(text)
    assert statements
    for statement in statements:
        translate(statement, database=None, schema=None)


def test_database_file_gives_database_and_schema():
    statements = split_statements((SQL_DIR / "01_database.sql").read_text())
    assert [tr(s, None, None) for s in statements] == [
        CreateDatabase(DB, if_not_exists=True, or_replace=False),
        CreateSchema(DB, SCHEMA, if_not_exists=True, or_replace=False),
    ]


def test_tables_have_the_design_columns_and_types(con):
    rows = con.execute(
        "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns "
        f"WHERE table_catalog = '{DB}' AND table_schema = '{SCHEMA}' "
        "ORDER BY table_name, ordinal_position"
    ).fetchall()
    columns = {}
    for table, column, data_type, nullable in rows:
        columns.setdefault(table, []).append((column, data_type, nullable))
    assert columns["ORDERS"] == [
        ("ORDER_ID", "BIGINT", "NO"),
        ("CUSTOMER_ID", "BIGINT", "YES"),
        ("ORDER_DATE", "TIMESTAMP", "YES"),
        ("ORDER_STATUS", "VARCHAR", "YES"),
        ("TOTAL_AMOUNT", "DECIMAL(10,2)", "YES"),
        ("DISCOUNT_PERCENT", "DECIMAL(5,2)", "YES"),
        ("SHIPPING_COST", "DECIMAL(8,2)", "YES"),
    ]
    assert [c for c, _, _ in columns["ORDER_ITEMS"]] == [
        "ORDER_ITEM_ID",
        "ORDER_ID",
        "PRODUCT_ID",
        "PRODUCT_NAME",
        "PRODUCT_CATEGORY",
        "QUANTITY",
        "UNIT_PRICE",
        "LINE_TOTAL",
    ]
    assert columns["ORDER_ITEMS"][0] == ("ORDER_ITEM_ID", "BIGINT", "NO")
    assert columns["ORDER_ITEMS"][7] == ("LINE_TOTAL", "DECIMAL(12,2)", "YES")
    assert columns["CUSTOMERS"][0] == ("CUSTOMER_ID", "BIGINT", "NO")
    assert ("REGISTRATION_DATE", "DATE", "YES") in columns["CUSTOMERS"]
    assert len(columns["CUSTOMERS"]) == 11


def test_primary_key_allows_duplicates_but_not_null(con):
    insert = f"INSERT INTO {DB}.{SCHEMA}.ORDERS (ORDER_ID, ORDER_STATUS) VALUES (?, 'Completed')"
    con.execute(insert, [7])
    con.execute(insert, [7])
    count = f"SELECT COUNT(*) FROM {DB}.{SCHEMA}.ORDERS WHERE ORDER_ID = 7"
    assert con.execute(count).fetchone() == (2,)
    with pytest.raises(duckdb.ConstraintException):
        con.execute(insert, [None])


def test_monitoring_queries_run_on_duckdb(con):
    con.execute(f"INSERT INTO {DB}.{SCHEMA}.ORDERS (ORDER_ID) SELECT range FROM range(1, 16)")
    con.execute(f"INSERT INTO {DB}.{SCHEMA}.ORDER_ITEMS (ORDER_ITEM_ID) VALUES (1), (2)")
    counts = tr((SQL_DIR / "monitoring/row_counts.sql").read_text())
    assert counts.returns_rows
    cur = con.execute(counts.sql)
    assert [d[0] for d in cur.description] == ["TABLE_NAME", "ROW_COUNT"]
    assert cur.fetchall() == [("CUSTOMERS", 0), ("ORDERS", 15), ("ORDER_ITEMS", 2)]
    latest = tr((SQL_DIR / "monitoring/latest_orders.sql").read_text())
    assert [r[0] for r in con.execute(latest.sql).fetchall()] == list(range(15, 5, -1))


def test_snowflake_functions_translate_and_run(con):
    con.execute(
        f"INSERT INTO {DB}.{SCHEMA}.ORDERS (ORDER_ID, ORDER_DATE, ORDER_STATUS, TOTAL_AMOUNT) VALUES "
        "(1, now()::TIMESTAMP - INTERVAL 10 MINUTE, 'Completed', 100.50), "
        "(2, now()::TIMESTAMP - INTERVAL 3 HOUR, 'Pending', 20), "
        "(3, now()::TIMESTAMP - INTERVAL 1 MINUTE, 'Completed', 9.50)"
    )
    query = tr(
        "select order_status, count(*) as orders, sum(total_amount)::number(12,2) as revenue, "
        "iff(count(*) > 1, 'busy', 'quiet') as load, "
        "datediff('minute', min(order_date), current_timestamp()::timestamp_ntz) >= 9 as old_enough "
        "from orders where order_date >= dateadd(hour, -1, current_timestamp())::timestamp_ntz "
        "group by order_status order by orders desc"
    )
    cur = con.execute(query.sql)
    assert [d[0] for d in cur.description] == ["ORDER_STATUS", "ORDERS", "REVENUE", "LOAD", "OLD_ENOUGH"]
    rows = cur.fetchall()
    assert [(r[0], r[1], float(r[2]), r[3], r[4]) for r in rows] == [("Completed", 2, 110.0, "busy", True)]


# --- type mapping and constraints -------------------------------------------------------


@pytest.mark.parametrize(
    ("snowflake", "duck"),
    [
        ("NUMBER", "BIGINT"),
        ("NUMBER(38,0)", "BIGINT"),
        ("INT", "BIGINT"),
        ("NUMBER(10,2)", "DECIMAL(10, 2)"),
        ("NUMBER(10)", "DECIMAL(10, 0)"),
        ("DECIMAL(38,2)", "DECIMAL(38, 2)"),
        ("TIMESTAMP_NTZ", "TIMESTAMP"),
    ],
)
def test_types(snowflake, duck):
    result = tr(f"CREATE TABLE T (C {snowflake})")
    assert result.sql == f'CREATE TABLE "{DB}"."{SCHEMA}"."T" ("C" {duck})'


def test_table_level_keys_are_dropped_and_key_columns_made_not_null():
    result = tr(
        "CREATE OR REPLACE TABLE T (A INT, B VARCHAR UNIQUE, C INT REFERENCES O (X), "
        "CONSTRAINT PK PRIMARY KEY (A), UNIQUE (B), FOREIGN KEY (C) REFERENCES O (X))"
    )
    assert replace(result, keys="") == DuckSql(
        f'CREATE OR REPLACE TABLE "{DB}"."{SCHEMA}"."T" ("A" BIGINT NOT NULL, "B" TEXT, "C" BIGINT)',
        returns_rows=False,
        kind=CREATE,
        database=DB,
        schemas=frozenset({(DB, SCHEMA)}),
    )
    # ... and recorded for SHOW PRIMARY | UNIQUE | IMPORTED KEYS, in place of the replaced table's
    assert result.keys.startswith(f"DELETE FROM \"{DB}\"._AIDEMO.TABLE_KEYS WHERE SCHEMA_NAME = 'RAW'")
    assert "'PK', 'PRIMARY KEY', 'A', NULL" in result.keys
    assert result.keys.count("'FOREIGN KEY', 'C', 'AUTOMATED_INTELLIGENCE', 'RAW', 'O', 'X'") == 2


# --- names ------------------------------------------------------------------------------


def test_unqualified_names_get_the_session_context():
    assert tr("select * from orders o join raw.order_items i using (order_id)").sql == (
        f'SELECT * FROM "{DB}"."{SCHEMA}"."ORDERS" AS "O" '
        f'JOIN "{DB}"."{SCHEMA}"."ORDER_ITEMS" AS "I" USING ("ORDER_ID")'
    )
    assert tr("INSERT INTO other.t (a) VALUES (1)", "D", "S").sql == ('INSERT INTO "D"."OTHER"."T" ("A") VALUES (1)')
    assert tr('DROP TABLE IF EXISTS "Mixed"', "D", "S").sql == 'DROP TABLE IF EXISTS "D"."S"."Mixed"'
    assert tr("DROP SCHEMA x", "D", "S") == DropSchema("D", "X", if_exists=False)


def test_cte_names_stay_unqualified():
    assert tr("WITH x AS (SELECT 1 AS a) SELECT a FROM x").sql == ('WITH "X" AS (SELECT 1 AS "A") SELECT "A" FROM "X"')


def test_qualified_names_run_whatever_the_duckdb_search_path(con):
    con.execute(f"INSERT INTO {DB}.{SCHEMA}.ORDERS (ORDER_ID) VALUES (1)")
    assert con.execute("SELECT current_database()").fetchone() == ("memory",)
    assert con.execute(tr("SELECT orders.order_id FROM orders").sql).fetchall() == [(1,)]


def test_unqualified_name_without_session_context_is_an_error():
    with pytest.raises(SqlError, match="no current schema.*USE SCHEMA"):
        tr("SELECT * FROM ORDERS", DB, None)
    with pytest.raises(SqlError, match="no current database.*USE DATABASE"):
        tr("DROP PIPE RAW.P", None, None)


# --- USE --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("USE DATABASE other", UseContext("OTHER", "PUBLIC")),
        ("use other", UseContext("OTHER", "PUBLIC")),
        ("USE SCHEMA staging", UseContext(DB, "STAGING")),
        ('USE SCHEMA "Db"."my schema"', UseContext("Db", "my schema")),
        ("USE d.s;", UseContext("D", "S")),
    ],
)
def test_use(statement, expected):
    assert tr(statement) == expected


def test_use_schema_without_database_is_an_error():
    with pytest.raises(SqlError, match="USE DATABASE"):
        tr("USE SCHEMA RAW", None, None)


def test_use_role_and_warehouse_change_the_names_the_session_reports():
    assert tr("USE ROLE ACCOUNTADMIN") == UseRole("ACCOUNTADMIN")
    assert tr('USE WAREHOUSE "compute_wh"') == UseWarehouse("compute_wh")


@pytest.mark.parametrize(
    "statement",
    [
        "USE SECONDARY ROLES ALL",
        "GRANT USAGE ON DATABASE D TO ROLE R",
        "REVOKE INSERT ON TABLE T FROM ROLE R",
        "CREATE ROLE IF NOT EXISTS R",
        "CREATE OR REPLACE ROLE R",
    ],
)
def test_roles_warehouses_and_grants_are_no_ops(statement):
    assert isinstance(tr(statement), NoOp)


# --- pipes ------------------------------------------------------------------------------


def test_plain_pipe():
    assert tr("create pipe if not exists p as copy into orders") == CreatePipe(
        DB,
        SCHEMA,
        "P",
        DB,
        SCHEMA,
        "ORDERS",
        or_replace=False,
        if_not_exists=True,
        columns=None,
        definition="copy into orders",
    )


# The original demo's README creates its pipes in the short form, with the schema in use.
README_PIPES = (
    "CREATE OR REPLACE PIPE ORDERS_PIPE AS COPY INTO ORDERS;\n"
    "CREATE OR REPLACE PIPE ORDER_ITEMS_PIPE AS COPY INTO ORDER_ITEMS;"
)


def test_pipe_file_in_the_data_source_form_and_the_readmes_short_form():
    short = [tr(s) for s in split_statements(README_PIPES)]
    explicit = [tr(s) for s in split_statements((SQL_DIR / "03_pipes.sql").read_text())]
    for a, b in zip(short, explicit, strict=True):
        assert a == replace(b, columns=None, definition=a.definition)
    assert [p.name for p in short] == ["ORDERS_PIPE", "ORDER_ITEMS_PIPE"]
    assert [p.table for p in short] == ["ORDERS", "ORDER_ITEMS"]
    assert short[0].columns is None
    orders = explicit[0]
    assert orders.columns[0] == PipeColumn("ORDER_ID", "ORDER_ID", "BIGINT")
    assert orders.columns[2] == PipeColumn("ORDER_DATE", "ORDER_DATE", "TIMESTAMP")
    assert orders.columns[4] == PipeColumn("TOTAL_AMOUNT", "TOTAL_AMOUNT", "DECIMAL(10, 2)")
    assert len(orders.columns) == 7 and len(explicit[1].columns) == 8
    assert orders.definition.startswith("COPY INTO AUTOMATED_INTELLIGENCE.RAW.ORDERS (")
    assert orders.definition.endswith("FROM TABLE(DATA_SOURCE(TYPE => 'STREAMING'))\n    )")


def test_data_source_pipe_with_quoted_names_and_properties():
    result = tr(
        'CREATE OR REPLACE PIPE "My Db".raw."orders-pipe" COMMENT = \'a; b\' AUTO_INGEST = FALSE '
        'AS COPY INTO "Orders" ("Id", amount, note) FROM (SELECT $1:"id"::INT, $1:Amount::NUMBER(10,2), '
        "$1:note AS n FROM TABLE(DATA_SOURCE(TYPE => 'STREAMING')))"
    )
    assert (result.database, result.schema, result.name) == ("My Db", "RAW", "orders-pipe")
    assert (result.table_database, result.table_schema, result.table) == (DB, SCHEMA, "Orders")
    assert result.columns == (
        PipeColumn("Id", "id", "BIGINT"),
        PipeColumn("AMOUNT", "Amount", "DECIMAL(10, 2)"),
        PipeColumn("NOTE", "note", None),
    )


def test_data_source_pipe_without_column_list_maps_by_position():
    result = tr(
        "CREATE PIPE P AS COPY INTO T FROM (SELECT $1:A, $1:B::TIMESTAMP_NTZ "
        "FROM TABLE(DATA_SOURCE(TYPE => 'STREAMING')))"
    )
    assert result.columns == (PipeColumn(None, "A", None), PipeColumn(None, "B", "TIMESTAMP"))


def test_match_by_column_name_pipe_maps_by_name():
    result = tr(
        "CREATE PIPE P AS COPY INTO T FROM TABLE(DATA_SOURCE(TYPE => 'STREAMING')) "
        "MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE"
    )
    assert result.columns is None
    assert result.definition.endswith("MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE")


@pytest.mark.parametrize(
    ("statement", "problem"),
    [
        ("CREATE PIPE P AS COPY INTO T FROM @stage", "staged files"),
        (
            f"CREATE PIPE P AS COPY INTO T (A, B) FROM (SELECT $1:A FROM {STREAMING})",
            "lists 2 columns but the SELECT has 1",
        ),
        (f"CREATE PIPE P AS COPY INTO T FROM (SELECT UPPER($1:A) FROM {STREAMING})", r"\$1:KEY or \$1:KEY::TYPE"),
        (f"CREATE PIPE P AS COPY INTO T FROM (SELECT $1:A FROM {STREAMING} WHERE $1:A > 0)", "remove WHERE"),
        ("CREATE OR REPLACE PIPE IF NOT EXISTS P AS COPY INTO T", "cannot be used together"),
        ("CREATE PIPE P COPY INTO T", "expected AS"),
    ],
)
def test_bad_pipes(statement, problem):
    with pytest.raises(SqlError, match=problem) as info:
        tr(statement)
    assert "CREATE" in str(info.value)


def test_drop_and_describe_pipe():
    assert tr("DROP PIPE IF EXISTS orders_pipe") == DropPipe(DB, SCHEMA, "ORDERS_PIPE", if_exists=True)
    assert tr('DROP PIPE d.s."p"') == DropPipe("D", "S", "p", if_exists=False)
    assert tr("DESC PIPE raw.orders_pipe") == DescribePipe(DB, SCHEMA, "ORDERS_PIPE")
    assert tr('DESCRIBE PIPE "ORDERS-STREAMING"') == DescribePipe(DB, SCHEMA, "ORDERS-STREAMING")


# --- SHOW -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("SHOW PIPES", ShowPipes(DB, None, None)),
        ("SHOW PIPES LIKE '%ORDERS%' IN ACCOUNT", ShowPipes(None, None, "%ORDERS%")),
        ("show pipes in schema automated_intelligence.raw", ShowPipes(DB, SCHEMA, None)),
        ("SHOW PIPES IN SCHEMA", ShowPipes(DB, SCHEMA, None)),
        ("SHOW PIPES IN staging", ShowPipes(DB, "STAGING", None)),
        ("SHOW CHANNELS IN SCHEMA AUTOMATED_INTELLIGENCE.RAW", ShowChannels(DB, SCHEMA, None, None, None)),
        ("SHOW CHANNELS LIKE 'orders%' IN PIPE ORDERS_PIPE", ShowChannels(DB, SCHEMA, "ORDERS_PIPE", None, "orders%")),
        ("SHOW CHANNELS IN TABLE d.s.t", ShowChannels("D", "S", None, "T", None)),
        ("SHOW CHANNELS IN DATABASE other", ShowChannels("OTHER", None, None, None, None)),
        ("SHOW TABLES LIKE 'ORD%' IN SCHEMA RAW", ShowTables(DB, SCHEMA, "ORD%")),
        ("SHOW SCHEMAS IN DATABASE", ShowSchemas(DB, None)),
        ("SHOW SCHEMAS", ShowSchemas(DB, None)),
        ("SHOW DATABASES LIKE 'AUTO%'", ShowDatabases("AUTO%")),
    ],
)
def test_show(statement, expected):
    assert tr(statement) == expected


def test_show_channels_file_uses_pipes():
    statements = split_statements((SQL_DIR / "monitoring/channel_status.sql").read_text())
    assert [tr(s, None, None) for s in statements] == [
        ShowChannels(DB, SCHEMA, "ORDERS_PIPE", None, None),
        ShowChannels(DB, SCHEMA, "ORDER_ITEMS_PIPE", None, None),
    ]


@pytest.mark.parametrize("statement", ["SHOW STAGES", "SHOW PIPES IN SCHEMA RAW LIMIT x", "SHOW SCHEMAS IN SCHEMA RAW"])
def test_unsupported_show(statement):
    with pytest.raises(SqlError, match="SHOW|LIMIT"):
        tr(statement)


def test_show_takes_starts_with_and_limit():
    assert tr("SHOW PIPES IN SCHEMA RAW STARTS WITH 'O' LIMIT 5 FROM 'ORDERS'") == ShowPage(
        ShowPipes(DB, "RAW", None), "O", 5, "ORDERS"
    )


# --- errors and splitting ---------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "ALTER WAREHOUSE COMPUTE_WH SUSPEND",
        "ALTER USER ME SET RSA_PUBLIC_KEY = 'MIIB'",
        "CREATE WAREHOUSE W",
    ],
)
def test_unsupported_statements_name_the_statement(statement):
    with pytest.raises(SqlError, match="not supported by the local service") as info:
        tr(statement)
    assert statement.split()[0] in str(info.value)
    assert statement.split()[1] in str(info.value)


def test_long_statements_are_shortened_in_messages():
    statement = "CREATE WAREHOUSE " + "x" * 200
    with pytest.raises(SqlError) as info:
        tr(statement)
    assert "CREATE WAREHOUSE xxx" in str(info.value) and "x" * 100 not in str(info.value)


def test_unparseable_statement_names_statement_and_position():
    with pytest.raises(SqlError, match=r"Cannot parse 'SELECT \* FROM WHERE'.*line 1, column \d+"):
        tr("SELECT * FROM WHERE")
    with pytest.raises(SqlError, match="SELECT 'oops"):
        tr("SELECT 'oops")


def test_translate_takes_one_statement():
    with pytest.raises(SqlError, match="more than one statement"):
        tr("SELECT 1; SELECT 2")
    with pytest.raises(SqlError, match="Empty"):
        tr("  -- nothing\n")


def test_split_respects_quotes_and_comments():
    script = """
    -- header; with a semicolon
    SELECT 'a;b' AS "x;y";  /* block; comment */
    ;
    SELECT $$ dollar; quoted $$ -- trailing; comment
    ;
    -- only a comment;
    """
    assert split_statements(script) == ["SELECT 'a;b' AS \"x;y\"", "SELECT $$ dollar; quoted $$"]


def test_split_reports_unclosed_quotes():
    with pytest.raises(SqlError, match="unclosed"):
        split_statements("SELECT 'abc; SELECT 1")


def test_pipe_columns_are_the_tables_columns_with_their_types():
    tables = {
        name: re.findall(r"^\s+(\w+) ([A-Z_]+(?:\(\d+(?:,\d+)?\))?)", body, re.M)
        for name, body in re.findall(
            r"CREATE TABLE IF NOT EXISTS \S+\.(\w+) \((.*?)\n\);", (SQL_DIR / "02_tables.sql").read_text(), re.S
        )
    }
    pipes = dict(
        re.findall(r"COPY INTO \S+\.(\w+) \(.*?SELECT(.*?)FROM TABLE", (SQL_DIR / "03_pipes.sql").read_text(), re.S)
    )
    assert set(pipes) == {"ORDERS", "ORDER_ITEMS"}
    for table, select in pipes.items():
        assert re.findall(r"\$1:(\w+)::([A-Z_]+(?:\(\d+(?:,\d+)?\))?)", select) == tables[table], table


@pytest.mark.parametrize(
    "statement, fast",
    [
        ("insert into raw.t (a, \"b c\") values (1, 'it''s;'),\n (-2.5e3, NULL) ;", True),
        ("INSERT INTO T VALUES (1., TRUE, 'x'), (2, false, '--')", True),
        ("INSERT INTO T VALUES ('back\\\\slash')", False),  # Snowflake's escapes: the tokenizer's turn
        ("INSERT INTO T VALUES (1, CURRENT_DATE())", False),
        ("INSERT INTO T SELECT 1", False),
        ("INSERT INTO T VALUES (1); INSERT INTO T VALUES (2)", False),
    ],
)
def test_a_bulk_insert_of_plain_literals_skips_the_tokenizer_with_the_same_result(statement, fast):
    plan = translate_script(statement, database=DB, schema=SCHEMA)
    assert (bulk_insert(statement, DB, SCHEMA) is not None) == fast
    if fast:
        ((text, command),) = plan
        assert text == split_statements(statement)[0]
        con = duckdb.connect()
        con.execute('ATTACH \':memory:\' AS "AUTOMATED_INTELLIGENCE"; CREATE SCHEMA "AUTOMATED_INTELLIGENCE"."RAW"')
        con.execute(
            'CREATE TABLE "AUTOMATED_INTELLIGENCE"."RAW"."T" ("A" DOUBLE, "b c" VARCHAR, "C" VARCHAR)'
            if '"b c"' in statement
            else 'CREATE TABLE "AUTOMATED_INTELLIGENCE"."RAW"."T" (A DOUBLE, B BOOLEAN, C VARCHAR)'
        )
        con.execute(command.sql)
        rows = con.execute('SELECT * FROM "AUTOMATED_INTELLIGENCE"."RAW"."T"').fetchall()
        assert rows == (
            [(1.0, "it's;", None), (-2500.0, None, None)]
            if '"b c"' in statement
            else [(1.0, True, "x"), (2.0, False, "--")]
        )
