"""Semi-structured data through the real connector: VARIANT, OBJECT and ARRAY columns, PARSE_JSON,
paths, casts, constructors, aggregates and predicates, with Snowflake's values and types."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from snowflake.connector.constants import FIELD_ID_TO_NAME
from snowflake.connector.errors import ProgrammingError

DOC = '{"a": {"b": [10, "x"]}, "Quoted Key": "q", "n": null, "s": "str", "f": 1.5, "t": "2024-05-04 03:46:49"}'


def types(cur) -> list[str]:
    return [FIELD_ID_TO_NAME[d.type_code] for d in cur.description]


@pytest.fixture
def cur(connection):
    cur = connection.cursor()
    cur.execute("CREATE TABLE DOCS (ID INT, V VARIANT, O OBJECT, A ARRAY)")
    cur.execute(
        f"INSERT INTO DOCS SELECT 1, PARSE_JSON('{DOC}'), OBJECT_CONSTRUCT('k', 1, 'z', NULL), "
        "ARRAY_CONSTRUCT(1, 'two', PARSE_JSON('null'))"
    )
    return cur


def test_columns_are_created_typed_and_read_back_as_json_text(cur):
    described = {row[0]: row[1] for row in cur.execute("DESCRIBE TABLE DOCS").fetchall()}
    assert described == {"ID": "NUMBER(38,0)", "V": "VARIANT", "O": "OBJECT", "A": "ARRAY"}
    v, o, a = cur.execute("SELECT V, O, A FROM DOCS").fetchone()
    assert types(cur) == ["VARIANT", "OBJECT", "ARRAY"]
    assert json.loads(v) == json.loads(DOC)
    assert v.startswith('{\n  "a": {')  # Snowflake's JSON text, indented by two
    assert json.loads(o) == {"k": 1}  # OBJECT_CONSTRUCT leaves out a NULL value
    assert json.loads(a) == [1, "two", None]


@pytest.mark.parametrize("result_format", ["ARROW", "JSON"])
def test_both_result_formats_give_the_same_json_text(cur, result_format):
    cur.execute(f"ALTER SESSION SET PYTHON_CONNECTOR_QUERY_RESULT_FORMAT = '{result_format}'")
    row = cur.execute("SELECT V, O, A, V:a.b[0] AS E, V:missing AS M, OBJECT_CONSTRUCT() AS EMPTY FROM DOCS").fetchone()
    assert types(cur) == ["VARIANT", "OBJECT", "ARRAY", "VARIANT", "VARIANT", "OBJECT"]
    assert json.loads(row[0]) == json.loads(DOC)
    assert row[1:] == ('{\n  "k": 1\n}', '[\n  1,\n  "two",\n  null\n]', "10", None, "{}")


def test_paths_and_casts(cur):
    row = cur.execute(
        "SELECT V:a.b[0]::int AS I, V:a.b[1]::string AS S, V:\"Quoted Key\"::string AS Q, V['s'] AS BR, "
        "V:f::number(10,2) AS N, V:t::timestamp AS TS, V:a.b AS ARR, GET(V, 's') AS G, "
        "GET_PATH(V, 'a.b[1]') AS GP, A[1] AS AI, O['k']::int AS OK, V:f::variant AS FV FROM DOCS"
    ).fetchone()
    assert row == (
        10,
        "x",
        "q",
        '"str"',
        Decimal("1.50"),
        dt.datetime(2024, 5, 4, 3, 46, 49),
        '[\n  10,\n  "x"\n]',
        '"str"',
        '"x"',
        '"two"',
        1,
        "1.5",
    )
    assert types(cur) == [
        "FIXED", "TEXT", "TEXT", "VARIANT", "FIXED", "TIMESTAMP_NTZ",
        "VARIANT", "VARIANT", "VARIANT", "VARIANT", "FIXED", "VARIANT",
    ]  # fmt: skip
    assert cur.description[4].scale == 2


def test_string_casts_drop_the_json_quotes(cur):
    row = cur.execute(
        "SELECT V:s::string, V:s::varchar, V:f::string, V:a::string, A::string, 'plain'::string, 7::string FROM DOCS"
    ).fetchone()
    assert row == ("str", "str", "1.5", '{"b":[10,"x"]}', '[1,"two",null]', "plain", "7")


def test_integer_casts_round_half_away_from_zero(cur):
    row = cur.execute(
        "SELECT V:f::int, PARSE_JSON('2.5')::int, PARSE_JSON('-2.5')::number, PARSE_JSON('2.45')::integer, "
        "PARSE_JSON('\"7\"')::int, PARSE_JSON('0.145')::number(10,2) FROM DOCS"
    ).fetchone()
    assert row == (2, 3, -3, 2, 7, Decimal("0.15"))


def test_json_null_and_sql_null_are_kept_apart(cur):
    row = cur.execute(
        "SELECT V:n AS JN, V:missing AS MISSING, V:n::string AS JN_TEXT, V:n IS NULL AS JN_IS_NULL, "
        "V:missing IS NULL AS MISSING_IS_NULL, IS_NULL_VALUE(V:n), IS_NULL_VALUE(V:missing), "
        "PARSE_JSON(NULL) AS SQL_NULL, PARSE_JSON('null') AS JSON_NULL, PARSE_JSON('') AS EMPTY, "
        "PARSE_JSON(' ') AS BLANK FROM DOCS"
    ).fetchone()
    assert row == ("null", None, None, False, True, True, None, None, "null", None, None)


@pytest.mark.parametrize(
    "sql, code, words",
    [
        ("SELECT PARSE_JSON('{\"a\": nope}')", (100069, "22P02"), "Error parsing JSON:"),
        ("SELECT PARSE_JSON('[1]')::object", (100071, "22000"), "Failed to cast variant value [1] to OBJECT"),
        ("SELECT PARSE_JSON('\"abc\"')::int", (100038, "22018"), "Numeric value 'abc' is not recognized"),
        ("SELECT PARSE_JSON('{\"a\": 1}')::int", (100071, "22000"), 'Failed to cast variant value {"a":1} to FIXED'),
    ],
)
def test_bad_values_fail_in_snowflake_words(connection, sql, code, words):
    with pytest.raises(ProgrammingError) as failed:
        connection.cursor().execute(sql)
    assert (failed.value.errno, failed.value.sqlstate) == code
    assert words in str(failed.value) and "Malformed" not in str(failed.value)


def test_variants_compare_with_text_and_order_by_value(connection):
    cur = connection.cursor()
    cur.execute("CREATE TABLE CMP (ID INT, V VARIANT, NAME VARCHAR)")
    cur.execute(
        """INSERT INTO CMP SELECT 1, PARSE_JSON('{"s": "str", "n": 10}'), 'str'
        UNION ALL SELECT 2, PARSE_JSON('{"s": "x", "n": 9}'), 'q'
        UNION ALL SELECT 3, PARSE_JSON('{"s": "y", "n": -1.5}'), 'y'"""
    )

    def ids(where: str) -> list[int]:
        return [i for (i,) in cur.execute(f"SELECT ID FROM CMP WHERE {where} ORDER BY ID").fetchall()]

    assert ids("V:s = 'str'") == [1]
    assert ids("'x' = V:s") == [2]
    assert ids("V:s <> 'str'") == [2, 3]
    assert ids("V:s = NAME") == [1, 3]
    assert ids("V:s LIKE 's%'") == [1]
    assert ids("V:s IN ('x', 'y')") == [2, 3]
    assert ids("V:n > 9") == [1]
    assert ids("V:n = -1.5") == [3]
    assert ids("V:n = 10") == [1]
    assert cur.execute("SELECT PARSE_JSON('1.4') = 1, 3 = PARSE_JSON('3')").fetchone() == (False, True)
    by_n = cur.execute("SELECT ID, ROW_NUMBER() OVER (ORDER BY V:n DESC) FROM CMP ORDER BY V:n").fetchall()
    assert by_n == [(3, 3), (2, 2), (1, 1)]  # numbers by value: -1.5, 9, 10 (their text would put 10 first)


def test_typeof_and_predicates(cur):
    row = cur.execute(
        "SELECT TYPEOF(V), TYPEOF(V:a.b[0]), TYPEOF(V:f), TYPEOF(PARSE_JSON('1e3')), TYPEOF(V:s), TYPEOF(V:n), "
        "TYPEOF(A), TYPEOF(PARSE_JSON('true')), TYPEOF(V:missing) FROM DOCS"
    ).fetchone()
    assert row == ("OBJECT", "INTEGER", "DECIMAL", "DOUBLE", "VARCHAR", "NULL_VALUE", "ARRAY", "BOOLEAN", None)
    row = cur.execute(
        "SELECT IS_OBJECT(V), IS_OBJECT(A), IS_ARRAY(A), IS_ARRAY(V:a.b), IS_INTEGER(V:a.b[0]), IS_INTEGER(V:f), "
        "IS_DECIMAL(V:a.b[0]), IS_DOUBLE(V:f), IS_VARCHAR(V:s), IS_VARCHAR(V:f), IS_BOOLEAN(PARSE_JSON('false')) "
        "FROM DOCS"
    ).fetchone()
    assert row == (True, False, True, True, True, False, True, True, True, False, True)
    assert types(cur) == ["BOOLEAN"] * 11


def test_constructors(cur):
    row = cur.execute(
        "SELECT OBJECT_CONSTRUCT('a', 1, 'b', NULL, 'c', PARSE_JSON('null')) AS O1, "
        "OBJECT_CONSTRUCT_KEEP_NULL('a', 1, 'b', NULL) AS O2, OBJECT_CONSTRUCT() AS O3, "
        "ARRAY_CONSTRUCT(1, 'x', OBJECT_CONSTRUCT('k', ARRAY_CONSTRUCT(2))) AS A1, ARRAY_CONSTRUCT() AS A2, "
        "TO_VARIANT(3) AS V1, 'x'::variant AS V2, TRY_PARSE_JSON('not json') AS V3, TRY_PARSE_JSON('[1]') AS V4"
    ).fetchone()
    assert [json.loads(value) if value is not None else None for value in row] == [
        {"a": 1, "c": None},
        {"a": 1, "b": None},
        {},
        [1, "x", {"k": [2]}],
        [],
        3,
        "x",
        None,
        [1],
    ]
    assert types(cur) == ["OBJECT"] * 3 + ["ARRAY"] * 2 + ["VARIANT"] * 4


def test_array_and_object_functions(cur):
    row = cur.execute(
        "SELECT ARRAY_SIZE(A), ARRAY_SIZE(V:a.b), ARRAY_SIZE(V), ARRAY_CONTAINS('two'::variant, A), "
        "ARRAY_CONTAINS(3::variant, A), OBJECT_KEYS(V:a), V:a::object AS VO, PARSE_JSON('[1]')::array AS PA FROM DOCS"
    ).fetchone()
    assert row[:5] == (3, 2, None, True, False)
    assert [json.loads(value) for value in row[5:]] == [["b"], {"b": [10, "x"]}, [1]]
    assert types(cur) == ["FIXED", "FIXED", "FIXED", "BOOLEAN", "BOOLEAN", "ARRAY", "OBJECT", "ARRAY"]


def test_aggregates(connection):
    cur = connection.cursor()
    cur.execute("CREATE TABLE KV (K VARCHAR, X INT)")
    cur.execute("INSERT INTO KV VALUES ('a', 1), ('b', 3), ('c', NULL), ('d', 2)")
    row = cur.execute(
        "SELECT ARRAY_AGG(X) WITHIN GROUP (ORDER BY X DESC) AS D, ARRAY_AGG(DISTINCT X) WITHIN GROUP (ORDER BY X) "
        "AS U, OBJECT_AGG(K, X::variant) AS O FROM KV"
    ).fetchone()
    assert [json.loads(value) for value in row] == [[3, 2, 1], [1, 2, 3], {"a": 1, "b": 3, "d": 2}]
    assert types(cur) == ["ARRAY", "ARRAY", "OBJECT"]
    assert cur.execute("SELECT ARRAY_AGG(X) FROM KV WHERE X > 10").fetchone() == ("[]",)
    rows = cur.execute("SELECT OBJECT_CONSTRUCT(*) AS R FROM KV WHERE K IN ('a', 'c') ORDER BY K").fetchall()
    assert [json.loads(r) for (r,) in rows] == [{"K": "a", "X": 1}, {"K": "c"}]  # a NULL column is left out
    assert types(cur) == ["OBJECT"]


def test_array_functions(connection):
    cur = connection.cursor()
    row = cur.execute(
        "SELECT ARRAY_APPEND(ARRAY_CONSTRUCT(1, 2), 3), ARRAY_PREPEND(ARRAY_CONSTRUCT(1, 2), 0), "
        "ARRAY_CAT(ARRAY_CONSTRUCT(1, 2), ARRAY_CONSTRUCT('x')), "
        "ARRAY_SLICE(ARRAY_CONSTRUCT(0, 1, 2, 3, 4, 5, 6), 0, 2), "
        "ARRAY_SLICE(ARRAY_CONSTRUCT(0, 1, 2, 3, 4, 5, 6), -4, -2), TO_ARRAY(1), TO_ARRAY(ARRAY_CONSTRUCT(1))"
    ).fetchone()
    assert [json.loads(value) for value in row] == [[1, 2, 3], [0, 1, 2], [1, 2, "x"], [0, 1], [3, 4], [1], [1]]
    assert types(cur) == ["ARRAY"] * 7
    row = cur.execute(
        "SELECT ARRAY_TO_STRING(ARRAY_CONSTRUCT('a', 'b', 3, NULL, OBJECT_CONSTRUCT('k', 1)), '-'), "
        "ARRAY_POSITION('b'::variant, ARRAY_CONSTRUCT('a', 'b')), ARRAY_POSITION('z'::variant, ARRAY_CONSTRUCT('a')), "
        "ARRAYS_OVERLAP(ARRAY_CONSTRUCT(1, 2), ARRAY_CONSTRUCT(2, 3)), ARRAYS_OVERLAP(ARRAY_CONSTRUCT(1), "
        "ARRAY_CONSTRUCT(2)), ARRAY_CAT(ARRAY_CONSTRUCT(1), NULL)"
    ).fetchone()
    assert row == ('a-b-3--{"k":1}', 1, None, True, False, None)


def test_object_and_conversion_functions(connection):
    cur = connection.cursor()
    row = cur.execute(
        "SELECT OBJECT_DELETE(OBJECT_CONSTRUCT('a', 1, 'b', 2), 'a'), OBJECT_PICK(OBJECT_CONSTRUCT('a', 1, 'b', 2), "
        "'a'), TO_JSON(PARSE_JSON('{ \"a\" : [1, 2] }')), STRIP_NULL_VALUE(PARSE_JSON('null')), "
        'JSON_EXTRACT_PATH_TEXT(\'{"a": {"b": "q"}}\', \'a.b\'), AS_VARCHAR(PARSE_JSON(\'"x"\')), '
        "AS_VARCHAR(PARSE_JSON('1')), AS_INTEGER(PARSE_JSON('7')), AS_DOUBLE(PARSE_JSON('2.5'))"
    ).fetchone()
    assert [json.loads(value) for value in row[:2]] == [{"b": 2}, {"a": 1}]
    assert row[2:] == ('{"a":[1,2]}', None, "q", "x", None, 7, 2.5)
    assert types(cur) == ["OBJECT", "OBJECT", "TEXT", "VARIANT", "TEXT", "TEXT", "TEXT", "FIXED", "REAL"]


def test_computed_keys_and_indexes(cur):
    cur.execute("CREATE TABLE KEYS_ (K VARCHAR, I INT)")
    cur.execute("INSERT INTO KEYS_ VALUES ('s', 1), ('f', 0)")
    rows = cur.execute(
        "SELECT KEYS_.K, V[KEYS_.K], GET(A, KEYS_.I), V:a.b[KEYS_.I]::string FROM DOCS, KEYS_ ORDER BY KEYS_.K"
    ).fetchall()
    assert rows == [("f", "1.5", "1", "10"), ("s", '"str"', '"two"', "x")]


def test_unimplemented_functions_are_refused_by_name(cur):
    with pytest.raises(ProgrammingError) as refused:
        cur.execute("SELECT ARRAY_DISTINCT(A) FROM DOCS")
    assert refused.value.sqlstate == "0A000" and "ARRAY_DISTINCT" in str(refused.value)


@pytest.fixture
def orders(connection):
    cur = connection.cursor()
    cur.execute("CREATE TABLE ORDERS_V (ID INT, V VARIANT)")
    cur.execute(
        """INSERT INTO ORDERS_V SELECT 1, PARSE_JSON('{"items": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 1}]}')
        UNION ALL SELECT 2, PARSE_JSON('{"items": []}')"""
    )
    return cur


def test_lateral_flatten(orders):
    rows = orders.execute(
        "SELECT o.ID, f.SEQ, f.KEY, f.PATH, f.INDEX, f.VALUE:sku::string AS SKU, f.VALUE:qty::int AS QTY, f.THIS "
        "FROM ORDERS_V o, LATERAL FLATTEN(input => o.V:items) f ORDER BY o.ID, f.INDEX"
    ).fetchall()
    assert types(orders) == ["FIXED", "FIXED", "TEXT", "TEXT", "FIXED", "TEXT", "FIXED", "VARIANT"]
    this = [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 1}]
    assert [row[:7] for row in rows] == [
        (1, rows[0][1], None, "[0]", 0, "a", 2),
        (1, rows[0][1], None, "[1]", 1, "b", 1),
    ]
    assert [json.loads(row[7]) for row in rows] == [this, this]
    outer = orders.execute(
        "SELECT o.ID, f.INDEX, f.VALUE, f.THIS FROM ORDERS_V o, LATERAL FLATTEN(input => o.V:items, outer => TRUE) f "
        "ORDER BY o.ID, f.INDEX"
    ).fetchall()
    assert [(row[0], row[1], row[2] is None) for row in outer] == [(1, 0, False), (1, 1, False), (2, None, True)]
    assert outer[2][3] == "[]"
    seqs = orders.execute(
        "SELECT o.ID, COUNT(DISTINCT f.SEQ) FROM ORDERS_V o, LATERAL FLATTEN(input => o.V:items, outer => TRUE) f "
        "GROUP BY o.ID ORDER BY o.ID"
    ).fetchall()
    assert seqs == [(1, 1), (2, 1)]
    (distinct_seq,) = orders.execute(
        "SELECT COUNT(DISTINCT f.SEQ) FROM ORDERS_V o, LATERAL FLATTEN(input => o.V:items, outer => TRUE) f"
    ).fetchone()
    assert distinct_seq == 2  # one sequence number per input row


def test_table_flatten_with_path_outer_and_recursive(connection):
    cur = connection.cursor()
    doc = """PARSE_JSON('{"a": 1, "b": [77, 88], "c": {"d": "X"}}')"""
    rows = cur.execute(f"SELECT * FROM TABLE(FLATTEN(input => {doc}, recursive => TRUE)) f ORDER BY PATH").fetchall()
    assert [d.name for d in cur.description] == ["SEQ", "KEY", "PATH", "INDEX", "VALUE", "THIS"]
    assert types(cur) == ["FIXED", "TEXT", "TEXT", "FIXED", "VARIANT", "VARIANT"]
    assert [(seq, key, path, index, json.loads(value)) for seq, key, path, index, value, _ in rows] == [
        (1, "a", "a", None, 1),
        (1, "b", "b", None, [77, 88]),
        (1, None, "b[0]", 0, 77),
        (1, None, "b[1]", 1, 88),
        (1, "c", "c", None, {"d": "X"}),
        (1, "d", "c.d", None, "X"),
    ]
    assert json.loads(rows[5][5]) == {"d": "X"} and json.loads(rows[2][5]) == [77, 88]
    rows = cur.execute(f"SELECT PATH, INDEX, VALUE FROM TABLE(FLATTEN(input => {doc}, path => 'b'))").fetchall()
    assert sorted(rows) == [("b[0]", 0, "77"), ("b[1]", 1, "88")]
    top = cur.execute(f"SELECT KEY FROM TABLE(FLATTEN(input => {doc})) ORDER BY KEY").fetchall()
    assert top == [("a",), ("b",), ("c",)]
    empty = "SELECT SEQ, KEY, PATH, INDEX, VALUE, THIS FROM TABLE(FLATTEN(input => PARSE_JSON('[]')"
    assert cur.execute(empty + "))").fetchall() == []
    assert cur.execute(empty + ", outer => TRUE))").fetchall() == [(1, None, None, None, None, "[]")]
    assert cur.execute("SELECT * FROM TABLE(FLATTEN(input => PARSE_JSON('5')))").fetchall() == []


def test_flatten_refuses_what_it_does_not_implement(orders):
    with pytest.raises(ProgrammingError) as mode:
        orders.execute("SELECT * FROM TABLE(FLATTEN(input => PARSE_JSON('[1]'), mode => 'ARRAY'))")
    assert mode.value.sqlstate == "0A000" and "MODE" in str(mode.value)
    with pytest.raises(ProgrammingError) as seq:
        orders.execute("WITH c AS (SELECT * FROM ORDERS_V) SELECT f.SEQ FROM c, LATERAL FLATTEN(input => c.V:items) f")
    assert seq.value.sqlstate == "0A000" and "SEQ" in str(seq.value)
    rows = orders.execute(
        "WITH c AS (SELECT * FROM ORDERS_V) SELECT f.VALUE:sku::string FROM c, LATERAL FLATTEN(input => c.V:items) f"
    ).fetchall()
    assert sorted(rows) == [("a",), ("b",)]
