"""The semi-structured transforms on their own: Snowflake SQL translated and run in a plain DuckDB."""

from __future__ import annotations

import duckdb
import pytest

from aidemo.local.dialect.translate import translate
from aidemo.local.engine import coltypes, sftypes
from aidemo.local.errors import SqlError
from aidemo.local.storage.catalog import Column


@pytest.fixture
def run():
    con = duckdb.connect()
    con.execute("ATTACH ':memory:' AS DB; CREATE SCHEMA DB.S")

    def execute(sql: str):
        cur = con.execute(translate(sql, database="DB", schema="S").sql)
        return [str(d[1]) for d in cur.description], cur.fetchall()

    execute.con = con
    return execute


def test_columns_take_the_duckdb_type_of_their_snowflake_type(run):
    run("CREATE TABLE T (V VARIANT, O OBJECT, A ARRAY)")
    run("INSERT INTO T SELECT PARSE_JSON('{\"a\": 1}'), OBJECT_CONSTRUCT('a', 1), ARRAY_CONSTRUCT(1)")
    assert run("SELECT V, O, A FROM T") == (["JSON", "MAP(VARCHAR, JSON)", "JSON[]"], [('{"a": 1}', {"a": "1"}, ["1"])])


def test_string_casts_of_plain_columns_stay_duckdb_casts(run):
    run("CREATE TABLE P (S VARCHAR, N INT, V VARIANT)")
    run("INSERT INTO P SELECT '\"quoted\"', 5, PARSE_JSON('\"quoted\"')")
    assert run("SELECT S::string, N::string, V::string FROM P")[1] == [('"quoted"', "5", "quoted")]


class _Catalog:
    """The column types of the tables in a plain DuckDB, as the service's store lists them."""

    def __init__(self, con):
        self.con = con

    def find_table(self, database, schema, table, views=False):
        return table

    def table_columns(self, database, schema, table):
        rows = self.con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = ? AND schema_name = ? "
            "AND table_name = ?",
            [database, schema, table],
        ).fetchall()
        return tuple(Column(name, kind, True, sftypes.of(kind).name) for name, kind in rows)


def test_columns_the_catalog_types_are_used_as_json_without_converting_them(run):
    run("CREATE TABLE C (V VARIANT, S VARCHAR)")
    run('INSERT INTO C SELECT PARSE_JSON(\'{"a": {"b": 2}}\'), \'{"a": 1}\'')
    with coltypes.reading(_Catalog(run.con)):
        typed = translate("SELECT V:a.b::int, V:a::string, S::string FROM C", database="DB", schema="S").sql
    assert 'TO_JSON("V")' not in typed.upper() and 'TYPEOF("V")' not in typed.upper()
    assert run.con.execute(typed).fetchall() == [(2, '{"b":2}', '{"a": 1}')]


def test_flatten_numbers_each_input_row_even_when_rows_are_equal(run):
    run("CREATE TABLE R (V VARIANT)")
    run("INSERT INTO R SELECT PARSE_JSON('[1, 2]') UNION ALL SELECT PARSE_JSON('[1, 2]')")
    rows = run("SELECT f.SEQ, f.INDEX FROM R, LATERAL FLATTEN(input => R.V) f")[1]
    assert len(rows) == 4
    assert len({seq for seq, _ in rows}) == 2
    assert sorted(index for _, index in rows) == [0, 0, 1, 1]


@pytest.mark.parametrize(
    "sql, named",
    [
        ("SELECT * FROM TABLE(FLATTEN(input => PARSE_JSON('[1]'), mode => 'OBJECT'))", "MODE"),
        ("SELECT * FROM TABLE(FLATTEN(input => PARSE_JSON('[1]'), outer => 'yes'))", "OUTER"),
        ("SELECT * FROM TABLE(FLATTEN(input => PARSE_JSON('[1]'), depth => 2))", "DEPTH"),
        ("SELECT ARRAY_COMPACT(ARRAY_CONSTRUCT(1))", "ARRAY_COMPACT"),
        ("SELECT OBJECT_CONSTRUCT(*) FROM (SELECT 1 AS A) a, (SELECT 2 AS B) b", "OBJECT_CONSTRUCT(*)"),
        ("SELECT ARRAY_CAT(ARRAY_CONSTRUCT(1), ARRAY_CONSTRUCT(2), ARRAY_CONSTRUCT(3))", "ARRAY_CAT"),
    ],
)
def test_what_is_not_implemented_is_refused_by_name(sql, named):
    with pytest.raises(SqlError, match="Unsupported feature") as refused:
        translate(sql, database="DB", schema="S")
    assert named in str(refused.value)
