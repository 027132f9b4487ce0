"""VARIANT, OBJECT and ARRAY columns streamed through the real SDK (rowset and file mode, the
default pipe and a COPY INTO ... FROM (SELECT $1:k::VARIANT ...) pipe), read back through the
real connector as Snowflake answers them."""

from __future__ import annotations

import itertools
import json

from snowflake.connector.constants import FIELD_ID_TO_NAME

from tests.helpers import BURST, fragments_loaded

_names = itertools.count(1)


def doc(i: int) -> dict:
    return {
        "ID": i,
        "PAYLOAD": {"user": {"name": f"u{i}", "tags": ["a", "b"]}, "n": i, "none": None, "s": str(i)},
        "TAGS": [i, "x", {"k": i}],
        "ATTRS": {"color": "red", "size": i % 3},
        "NOTE": "plain" if i % 2 else None,
    }


def new_table(cur) -> str:
    name = f"VARIANT_STREAM_{next(_names)}"
    cur.execute(f"CREATE TABLE RAW.{name} (ID NUMBER, PAYLOAD VARIANT, TAGS ARRAY, ATTRS OBJECT, NOTE VARIANT)")
    return name


def stream(backend, pipe: str, rows: list[dict]) -> None:
    client = backend.create_client(f"c_{pipe}", pipe)
    try:
        channel, _ = client.open_channel("ch")
        last = str(len(rows))
        channel.append_rows(rows, "1", last)
        channel.wait_for_commit(lambda token: token == last, 120)
        assert channel.get_channel_status().rows_error_count == 0
    finally:
        client.close()


def check(cur, table: str, count: int) -> None:
    cur.execute(
        f"SELECT ID, PAYLOAD, TAGS, ATTRS, NOTE, PAYLOAD:user.name::string AS NAME, PAYLOAD:user.tags[1]::string "
        f"AS TAG, PAYLOAD:n::int AS N, PAYLOAD:none AS NONE_VALUE, PAYLOAD:s AS S, TAGS[2]:k::int AS K, "
        f"ATTRS:size::int AS SIZE FROM RAW.{table} WHERE ID IN (1, 2) ORDER BY ID"
    )
    rows = cur.fetchall()
    assert [FIELD_ID_TO_NAME[d.type_code] for d in cur.description] == [
        "FIXED", "VARIANT", "ARRAY", "OBJECT", "VARIANT", "TEXT",
        "TEXT", "FIXED", "VARIANT", "VARIANT", "FIXED", "FIXED",
    ]  # fmt: skip
    for i, row in zip((1, 2), rows, strict=True):
        expected = doc(i)
        assert row[0] == i
        assert [json.loads(v) for v in row[1:4]] == [expected["PAYLOAD"], expected["TAGS"], expected["ATTRS"]]
        assert row[4] == ('"plain"' if i % 2 else None)  # a JSON null streamed into VARIANT is SQL NULL
        assert row[5:] == (f"u{i}", "b", i, "null", f'"{i}"', i, i % 3)
    assert cur.execute(f"SELECT COUNT(*), SUM(PAYLOAD:n::int) FROM RAW.{table}").fetchone() == (
        count,
        count * (count + 1) // 2,
    )
    flattened = cur.execute(
        f"SELECT COUNT(*) FROM RAW.{table} t, LATERAL FLATTEN(input => t.PAYLOAD:user.tags) f "
        "WHERE f.VALUE::string = 'b'"
    ).fetchone()
    assert flattened == (count,)


def test_variant_columns_stream_through_the_default_pipe(backend, connect):
    cur = connect().cursor()
    table = new_table(cur)
    stream(backend, f"{table}-STREAMING", [doc(i) for i in range(1, 101)])
    check(cur, table, 100)


def test_variant_columns_stream_through_a_copy_into_pipe(backend, connect):
    cur = connect().cursor()
    table = new_table(cur)
    cur.execute(
        f"CREATE PIPE RAW.{table}_PIPE AS COPY INTO RAW.{table} (ID, PAYLOAD, TAGS, ATTRS, NOTE) FROM (SELECT "
        "$1:ID::NUMBER, $1:PAYLOAD::VARIANT, $1:TAGS, $1:ATTRS::OBJECT, $1:NOTE::VARIANT "
        "FROM TABLE(DATA_SOURCE(TYPE => 'STREAMING')))"
    )
    stream(backend, f"{table}_PIPE", [doc(i) for i in range(1, 101)])
    check(cur, table, 100)


def test_variant_columns_stream_in_file_mode(backend, connect, local_home):
    cur = connect().cursor()
    table = new_table(cur)
    pipe = f"{table}-STREAMING"
    count = BURST // 2  # ~12 MB of NDJSON in one tick
    stream(backend, pipe, [doc(i) for i in range(1, count + 1)])
    assert fragments_loaded(local_home, pipe, "ch") >= 1
    check(cur, table, count)


def test_a_value_that_is_not_an_object_is_a_row_error_naming_the_column(backend, connect):
    cur = connect().cursor()
    table = new_table(cur)
    pipe = f"{table}-STREAMING"
    client = backend.create_client(f"c_{pipe}", pipe)
    try:
        channel, _ = client.open_channel("ch")
        channel.append_rows([doc(1), doc(2) | {"ATTRS": [1, 2]}, doc(3)], "1", "3")
        channel.wait_for_commit(lambda token: token == "3", 60)
    finally:
        client.close()
    assert cur.execute(f"SELECT ID FROM RAW.{table} ORDER BY ID").fetchall() == [(1,), (3,)]
    frame = backend.sql(f'SHOW CHANNELS IN PIPE RAW."{pipe}"')
    assert frame["rows_error_count"].tolist() == [1]
    assert "ATTRS" in frame["last_error_message"][0] and "OBJECT" in frame["last_error_message"][0]
