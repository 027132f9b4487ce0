"""snowflake-sqlalchemy engines on the local service, as an app opens them against Snowflake: the
dialect's own URL, the key and the service's address in ``connect_args``; pandas' read_sql and
to_sql, transactions of ``engine.begin()``, the inspector and table reflection."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pandas as pd
import pytest
import snowflake.connector
import sqlalchemy as sa
from snowflake.connector import IntegrityError, ProgrammingError
from snowflake.sqlalchemy import TIMESTAMP_NTZ

from aidemo.local.process.home import ACCOUNT, DATABASE, USER
from tests.helpers import connector_arguments

_schemas = itertools.count(1)
# What the engine passes to the connector besides the URL's account, user, database and schema.
_CONNECT = ("private_key", "host", "port", "protocol", "role", "custom_root_store_path")


def _engine(home, schema: str, **options) -> sa.Engine:
    arguments = connector_arguments(home)
    return sa.create_engine(
        f"snowflake://{USER}@{ACCOUNT}/{DATABASE}/{schema}?warehouse=LOCAL_WH",
        connect_args={name: arguments[name] for name in _CONNECT},
        **options,
    )


@pytest.fixture
def engine(local_home, connect):
    """An engine on a schema of its own in the service's database."""
    schema = f"SQLA_{next(_schemas)}"
    connect().cursor().execute(f"CREATE SCHEMA {schema}")
    engine = _engine(local_home, schema)
    yield engine
    engine.dispose()


def _run(engine, *statements: str) -> None:
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(sa.text(statement))


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [1, 2, 3],
            "amount": [1.5, None, -2.25],
            "name": ["a", None, "ç"],
            "at": pd.to_datetime(["2024-01-01 10:00:00.123456", None, "2024-03-01 00:00:00.000000"]),
        }
    )


def test_read_sql_gives_snowflake_values_and_dtypes(engine):
    frame = pd.read_sql(
        "SELECT 7 AS i, 2.5::FLOAT AS f, 'x' AS s, '2024-05-06 07:08:09'::TIMESTAMP_NTZ AS t, "
        "NULL::VARCHAR AS n, 12.34::NUMBER(10,2) AS d",
        engine,
    )
    assert list(frame.columns) == ["i", "f", "s", "t", "n", "d"]  # the dialect lower-cases Snowflake's names
    row = frame.iloc[0]
    assert (row["i"], row["f"], row["s"], row["d"]) == (7, 2.5, "x", 12.34)  # read_sql makes decimals floats
    assert row["t"] == pd.Timestamp("2024-05-06 07:08:09") and pd.isna(row["n"])
    assert frame.dtypes["i"] == "int64" and frame.dtypes["f"] == "float64"
    assert pd.api.types.is_string_dtype(frame.dtypes["s"])
    assert pd.api.types.is_datetime64_dtype(frame.dtypes["t"])


def test_to_sql_replace_and_append_round_trip(engine):
    frame = _frame()
    assert frame.to_sql("orders_df", engine, if_exists="replace", index=False) == 3
    assert frame.to_sql("orders_df", engine, if_exists="replace", index=False) == 3  # replaced, not added to
    back = pd.read_sql("SELECT * FROM orders_df ORDER BY id", engine)
    assert back["id"].tolist() == [1, 2, 3] and back.dtypes["id"] == "int64"
    assert back["amount"].iloc[[0, 2]].tolist() == [1.5, -2.25] and pd.isna(back["amount"].iloc[1])
    assert back.dtypes["amount"] == "float64"
    assert back["name"].iloc[[0, 2]].tolist() == ["a", "ç"] and pd.isna(back["name"].iloc[1])
    assert back["at"].iloc[0] == pd.Timestamp("2024-01-01 10:00:00.123456") and pd.isna(back["at"].iloc[1])
    assert pd.api.types.is_datetime64_dtype(back.dtypes["at"])

    assert frame.to_sql("orders_df", engine, if_exists="append", index=False) == 3
    counts = pd.read_sql("SELECT id, COUNT(*) AS n FROM orders_df GROUP BY id ORDER BY id", engine)
    assert counts["n"].tolist() == [2, 2, 2]


def test_to_sql_with_qmark_binds_and_multi_row_inserts(local_home, engine, monkeypatch):
    """The connector's server-side binds (qmark), and pandas' multi-row INSERTs in chunks."""
    monkeypatch.setattr(snowflake.connector, "paramstyle", "qmark")
    qmark = _engine(local_home, engine.url.database.split("/")[1], paramstyle="qmark")
    try:
        frame = _frame()
        assert frame.to_sql("binds", qmark, index=False) == 3
        assert frame.to_sql("binds", qmark, if_exists="append", index=False, method="multi", chunksize=2) == 3
        back = pd.read_sql(sa.text("SELECT * FROM binds WHERE id > :low ORDER BY id"), qmark, params={"low": 1})
    finally:
        qmark.dispose()
    assert back["id"].tolist() == [2, 2, 3, 3] and back["name"].iloc[2:].tolist() == ["ç", "ç"]
    assert pd.isna(back["amount"].iloc[0]) and back["at"].iloc[2] == pd.Timestamp("2024-03-01")


def test_to_sql_writes_the_index_into_a_table_that_has_its_column(engine):
    frame = _frame().set_index("id")
    # Creating the table with the index fails in the dialect itself (an index needs a hybrid
    # table), before any SQL is sent: the same as against Snowflake.
    with pytest.raises(NotImplementedError, match="Hybrid Tables"):
        frame.to_sql("indexed", engine, index=True)
    _run(engine, 'CREATE TABLE indexed (id NUMBER(38,0), amount FLOAT, name VARCHAR, "at" TIMESTAMP_NTZ)')
    assert frame.to_sql("indexed", engine, if_exists="append", index=True) == 3
    back = pd.read_sql("SELECT * FROM indexed ORDER BY id", engine, index_col="id")
    assert back.index.tolist() == [1, 2, 3] and back["name"].iloc[0] == "a"


def test_engine_begin_commits_and_rolls_back(engine):
    _run(engine, "CREATE TABLE t (id NUMBER(38,0), name VARCHAR(10))")
    with engine.begin() as connection:
        rows = [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]
        connection.execute(sa.text("INSERT INTO t VALUES (:id, :name)"), rows)  # executemany
    with pytest.raises(RuntimeError), engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO t VALUES (3, 'c')"))
        assert connection.execute(sa.text("SELECT COUNT(*) FROM t")).scalar() == 3  # its own row, before the end
        raise RuntimeError("rolled back")
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT id, name FROM t ORDER BY id")).fetchall()
    assert [tuple(r) for r in rows] == [(1, "a"), (2, "b")]


def _orders_schema(engine) -> None:
    _run(
        engine,
        "CREATE TABLE customers (customer_id NUMBER(38,0) PRIMARY KEY, email VARCHAR(100) UNIQUE)",
        "CREATE TABLE orders (order_id NUMBER(38,0), line NUMBER(38,0), customer_id NUMBER(38,0), "
        "amount NUMBER(10,2) NOT NULL, ratio FLOAT, note VARCHAR(20), placed_at TIMESTAMP_NTZ, paid BOOLEAN, "
        "day DATE, CONSTRAINT orders_pk PRIMARY KEY (order_id, line), "
        "CONSTRAINT orders_customer FOREIGN KEY (customer_id) REFERENCES customers (customer_id))",
        "CREATE VIEW big_orders AS SELECT * FROM orders WHERE amount > 100",
    )


def test_inspector_lists_tables_views_schemas_and_columns(engine):
    _orders_schema(engine)
    inspector = sa.inspect(engine)
    assert sorted(inspector.get_table_names()) == ["customers", "orders"]
    assert inspector.get_view_names() == ["big_orders"]
    assert {"public", "raw", engine.url.database.split("/")[1].lower()} <= set(inspector.get_schema_names())
    assert inspector.has_table("orders") and not inspector.has_table("returns")
    columns = {c["name"]: c for c in inspector.get_columns("orders")}
    assert list(columns) == ["order_id", "line", "customer_id", "amount", "ratio", "note", "placed_at", "paid", "day"]
    types = {name: c["type"] for name, c in columns.items()}
    assert isinstance(types["amount"], sa.DECIMAL) and (types["amount"].precision, types["amount"].scale) == (10, 2)
    assert isinstance(types["order_id"], sa.DECIMAL) and types["order_id"].scale == 0
    assert isinstance(types["note"], sa.VARCHAR) and types["note"].length == 20
    assert isinstance(types["ratio"], sa.FLOAT)
    assert isinstance(types["placed_at"], TIMESTAMP_NTZ)
    assert isinstance(types["paid"], sa.BOOLEAN) and isinstance(types["day"], sa.DATE)
    # NOT NULL as declared, and on primary-key columns as Snowflake makes them
    assert [name for name, c in columns.items() if not c["nullable"]] == ["order_id", "line", "amount"]
    # a view's columns through DESC TABLE, as Snowflake's; no sequences (SHOW SEQUENCES lists none)
    assert [c["name"] for c in inspector.get_columns("big_orders")] == list(columns)
    assert inspector.has_table("big_orders") and inspector.get_sequence_names() == []
    # a view's definition is its CREATE VIEW as written, not the service's rewriting of it
    assert (
        inspector.get_view_definition("big_orders")
        == "CREATE VIEW big_orders AS SELECT * FROM orders WHERE amount > 100"
    )


def test_inspector_reports_primary_unique_and_foreign_keys(engine):
    _orders_schema(engine)
    inspector = sa.inspect(engine)
    assert inspector.get_pk_constraint("orders") == {"constrained_columns": ["order_id", "line"], "name": "orders_pk"}
    assert inspector.get_pk_constraint("customers")["constrained_columns"] == ["customer_id"]
    assert [u["column_names"] for u in inspector.get_unique_constraints("customers")] == [["email"]]
    (foreign,) = inspector.get_foreign_keys("orders")
    assert (foreign["name"], foreign["constrained_columns"]) == ("orders_customer", ["customer_id"])
    assert (foreign["referred_table"], foreign["referred_columns"]) == ("customers", ["customer_id"])
    assert foreign["referred_schema"] is None  # the engine's own schema


def test_table_autoload_reflects_columns_types_and_keys(engine):
    _orders_schema(engine)
    metadata = sa.MetaData()
    orders = sa.Table("orders", metadata, autoload_with=engine)
    assert [c.name for c in orders.columns][:4] == ["order_id", "line", "customer_id", "amount"]
    assert [c.name for c in orders.primary_key.columns] == ["order_id", "line"]
    assert isinstance(orders.c.note.type, sa.VARCHAR) and orders.c.note.type.length == 20
    assert "customers" in metadata.tables  # followed the foreign key
    _run(engine, "INSERT INTO orders (order_id, line, amount, placed_at) VALUES (1, 1, 250.5, '2024-01-02 03:04:05')")
    with engine.connect() as connection:
        row = connection.execute(sa.select(orders.c.amount, orders.c.placed_at).where(orders.c.order_id == 1)).one()
    assert row == (Decimal("250.50"), dt.datetime(2024, 1, 2, 3, 4, 5))
    big = sa.Table("big_orders", sa.MetaData(), autoload_with=engine)
    assert [c.name for c in big.columns][:2] == ["order_id", "line"]


def test_show_keys_have_snowflakes_columns_and_follow_the_table(connection):
    """What the dialect reads, through the connector: SHOW ... KEYS rows, a renamed table's keys,
    a dropped table's keys and the foreign keys that referenced it gone."""
    cur = connection.cursor()
    cur.execute("CREATE TABLE p (a INT, b INT, CONSTRAINT p_pk PRIMARY KEY (a, b))")
    cur.execute("CREATE TABLE c (x INT, y INT, CONSTRAINT c_p FOREIGN KEY (x, y) REFERENCES p)")
    schema = cur.execute("SELECT CURRENT_SCHEMA()").fetchone()[0]
    cur.execute("SHOW PRIMARY KEYS IN TABLE p")
    assert [d.name for d in cur.description] == [
        "created_on", "database_name", "schema_name", "table_name", "column_name", "key_sequence",
        "constraint_name", "rely", "comment",
    ]  # fmt: skip
    assert [r[1:8] for r in cur.fetchall()] == [
        (DATABASE, schema, "P", "A", 1, "P_PK", "false"),
        (DATABASE, schema, "P", "B", 2, "P_PK", "false"),
    ]
    cur.execute("ALTER TABLE p RENAME TO q")
    rows = cur.execute(f"SHOW IMPORTED KEYS IN SCHEMA {schema}").fetchall()
    assert [d.name for d in cur.description][1:10] == [
        "pk_database_name", "pk_schema_name", "pk_table_name", "pk_column_name", "fk_database_name",
        "fk_schema_name", "fk_table_name", "fk_column_name", "key_sequence",
    ]  # fmt: skip
    # a foreign key that names no columns references the primary key's, in order
    assert [(r[3], r[4], r[7], r[8], r[9], r[12], r[13]) for r in rows] == [
        ("Q", "A", "C", "X", 1, "C_P", "P_PK"),
        ("Q", "B", "C", "Y", 2, "C_P", "P_PK"),
    ]
    cur.execute("DROP TABLE q")
    assert cur.execute("SHOW PRIMARY KEYS IN SCHEMA").fetchall() == []
    assert cur.execute("SHOW IMPORTED KEYS IN TABLE c").fetchall() == []
    with pytest.raises(ProgrammingError, match="does not exist"):
        cur.execute("SHOW UNIQUE KEYS IN TABLE q")


def test_core_table_with_an_integer_primary_key_numbers_its_rows(engine):
    """``Column(Integer, primary_key=True)`` is an AUTOINCREMENT column in the dialect's DDL."""
    metadata = sa.MetaData()
    items = sa.Table("items", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(20)))
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(items.insert(), [{"name": "a"}, {"name": "b"}])
        connection.execute(items.insert().values(id=100, name="c"))  # an explicit value is kept
        connection.execute(items.insert().values(name="d"))
        rows = connection.execute(sa.select(items).order_by(items.c.name).limit(3).offset(1)).fetchall()
    assert [tuple(r) for r in rows] == [(2, "b"), (100, "c"), (3, "d")]
    (column, _) = sa.inspect(engine).get_columns("items")
    assert column["autoincrement"] and column["primary_key"] and not column["nullable"]
    assert (column["identity"]["start"], column["identity"]["increment"], column["identity"]["order"]) == (1, 1, True)
    reflected = sa.Table("items", sa.MetaData(), autoload_with=engine)
    assert reflected.c.id.autoincrement is True and reflected.c.id.primary_key
    metadata.drop_all(engine)
    assert not sa.inspect(engine).has_table("items")


def test_identity_columns_read_as_snowflakes(connection):
    cur = connection.cursor()
    cur.execute("CREATE TABLE t (a INT AUTOINCREMENT, b INT IDENTITY (10, -5) NOORDER, c INT AUTOINCREMENT START 7)")
    cur.execute("INSERT INTO t (c) VALUES (NULL), (NULL)")
    assert cur.execute("SELECT a, b, c FROM t ORDER BY a").fetchall() == [(1, 10, None), (2, 5, None)]
    defaults = [r[4] for r in cur.execute("DESC TABLE t").fetchall()]
    assert defaults == [
        "IDENTITY START 1 INCREMENT 1 ORDER",
        "IDENTITY START 10 INCREMENT -5 NOORDER",
        "IDENTITY START 7 INCREMENT 1 ORDER",
    ]
    shown = [(r[5], r[10]) for r in cur.execute("SHOW COLUMNS IN TABLE t").fetchall()]
    assert shown == [("", d) for d in defaults]
    cur.execute(
        "SELECT column_default, is_identity, identity_generation, identity_start, identity_increment, "
        "identity_cycle, identity_ordered FROM information_schema.columns WHERE table_name = 'T' "
        "AND table_schema = CURRENT_SCHEMA() ORDER BY ordinal_position"
    )
    assert cur.fetchall() == [
        (None, "YES", "BY DEFAULT", "1", "1", "NO", "YES"),
        (None, "YES", "BY DEFAULT", "10", "-5", "NO", "NO"),
        (None, "YES", "BY DEFAULT", "7", "1", "NO", "YES"),
    ]


def test_alter_table_adds_and_drops_keys_without_enforcing_them(connection):
    cur = connection.cursor()
    cur.execute("CREATE TABLE p (x INT PRIMARY KEY)")
    cur.execute("CREATE TABLE t (a INT, b INT)")
    cur.execute("ALTER TABLE t ADD PRIMARY KEY (a)")
    cur.execute("ALTER TABLE t ADD CONSTRAINT t_b UNIQUE (b)")
    cur.execute("ALTER TABLE t ADD CONSTRAINT t_p FOREIGN KEY (b) REFERENCES p (x)")
    cur.execute("INSERT INTO t VALUES (1, 1), (1, 1)")  # not enforced, as in Snowflake
    assert cur.execute("SELECT COUNT(*) FROM t").fetchone() == (2,)
    with pytest.raises(IntegrityError, match="NULL"):
        cur.execute("INSERT INTO t VALUES (NULL, 2)")  # a primary key's columns are NOT NULL
    assert [(r[0], r[3], r[5], r[6]) for r in cur.execute("DESC TABLE t").fetchall()] == [
        ("A", "N", "Y", "N"),
        ("B", "Y", "N", "Y"),
    ]
    assert [r[6] for r in cur.execute("SHOW UNIQUE KEYS IN TABLE t").fetchall()] == ["T_B"]
    assert [(r[3], r[4], r[12]) for r in cur.execute("SHOW IMPORTED KEYS IN TABLE t").fetchall()] == [("P", "X", "T_P")]
    cur.execute("ALTER TABLE t DROP CONSTRAINT t_b")
    assert cur.execute("SHOW UNIQUE KEYS IN TABLE t").fetchall() == []
    assert [r[4] for r in cur.execute("SHOW PRIMARY KEYS IN TABLE t").fetchall()] == ["A"]
