"""Query results in Arrow (the connector's default) and in JSON when asked, inline and in chunks."""

from __future__ import annotations

import base64
import datetime as dt
import json
import ssl
import urllib.error
import urllib.request
from decimal import Decimal

import pyarrow as pa
import pytest
from snowflake.connector import ProgrammingError
from snowflake.connector.constants import FIELD_ID_TO_NAME

from aidemo.local.engine import results
from aidemo.local.engine.chunks import KEY_HEADER, ChunkSpool
from aidemo.local.errors import ConnectorError
from aidemo.local.process import service
from aidemo.local.process.home import ACCOUNT, USER
from tests.helpers import own_service, share_ca
from tests.test_connector import _login_jwt, _post

UTC = dt.UTC
JSON = {"PYTHON_CONNECTOR_QUERY_RESULT_FORMAT": "JSON"}

TYPES = (
    "N NUMBER(10,2), I NUMBER(38,0), BIG NUMBER(38,2), F FLOAT, S VARCHAR, B BOOLEAN, D DATE, T TIME, "
    "NTZ TIMESTAMP_NTZ, LTZ TIMESTAMP_LTZ, BI BINARY"
)
VALUES = (
    "(-1234.5, 12345678901234567, 123456789012345678901234.25, 2.5, 'héllo', TRUE, '2024-01-02', "
    "'03:04:05.123456', '1850-01-02 03:04:05.123456', '2024-01-02 03:04:05+02:00', X'ABCD'), "
    "(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)"
)
ROW = (
    Decimal("-1234.50"),
    12345678901234567,
    Decimal("123456789012345678901234.25"),
    2.5,
    "héllo",
    True,
    dt.date(2024, 1, 2),
    dt.time(3, 4, 5, 123456),
    dt.datetime(1850, 1, 2, 3, 4, 5, 123456),
    dt.datetime(2024, 1, 2, 1, 4, 5, tzinfo=UTC),
    b"\xab\xcd",
)
# What fetch_arrow_all makes of the TYPES columns (NUMBER(p,s) is float64 unless arrow_number_to_decimal,
# as from Snowflake; NUMBER(38,2) values beyond 64 bits stay decimals).
ARROW_TYPES = ["double", "int64", "decimal128(38, 2)", "double", "string", "bool", "date32[day]", "time64[us]",
               "timestamp[ns]", "timestamp[ns, tz=UTC]", "binary"]  # fmt: skip
TYPE_NAMES = ["FIXED", "FIXED", "FIXED", "REAL", "TEXT", "BOOLEAN", "DATE", "TIME", "TIMESTAMP_NTZ", "TIMESTAMP_LTZ"]


@pytest.fixture
def types(connection):
    cur = connection.cursor()
    cur.execute(f"CREATE TABLE TYPES ({TYPES})")
    cur.execute(f"INSERT INTO TYPES VALUES {VALUES}")
    return cur


def _values(rows):
    return [tuple(bytes(v) if isinstance(v, bytearray) else v for v in row) for row in rows]


@pytest.mark.parametrize("parameters", [None, JSON], ids=["arrow", "json"])
def test_every_type_reads_back_with_its_type(types, parameters):
    cur = types
    rows = cur.execute("SELECT * FROM TYPES ORDER BY I NULLS LAST", _statement_params=parameters).fetchall()
    assert cur._query_result_format == ("json" if parameters else "arrow")
    assert _values(rows) == [ROW, (None,) * len(ROW)]
    assert rows[0][9].utcoffset() == dt.timedelta(0) and rows[0][8].tzinfo is None
    assert [FIELD_ID_TO_NAME[d.type_code] for d in cur.description] == TYPE_NAMES + ["BINARY"]
    assert [(d.precision, d.scale) for d in cur.description[:3]] == [(10, 2), (38, 0), (38, 2)]


def test_the_session_parameter_asks_for_json(types):
    cur = types
    cur.execute("ALTER SESSION SET PYTHON_CONNECTOR_QUERY_RESULT_FORMAT = 'JSON'")
    assert _values(cur.execute("SELECT * FROM TYPES ORDER BY I NULLS LAST").fetchall())[0] == ROW
    assert cur._query_result_format == "json"
    frame = cur.execute("SELECT N, I, NTZ FROM TYPES WHERE I IS NOT NULL").fetch_pandas_all()  # 5.x converts JSON
    assert frame.iloc[0].tolist() == [-1234.5, 12345678901234567, ROW[8]]
    cur.execute("ALTER SESSION UNSET PYTHON_CONNECTOR_QUERY_RESULT_FORMAT")
    cur.execute("SELECT 1 AS X")
    assert cur._query_result_format == "arrow"


def test_fetch_arrow_all_and_pandas_keep_snowflake_types(types):
    cur = types
    table = cur.execute("SELECT * FROM TYPES ORDER BY I NULLS LAST").fetch_arrow_all()
    assert [str(f.type) for f in table.schema] == ARROW_TYPES
    assert table.column("I").to_pylist() == [12345678901234567, None]
    assert table.column("BIG").to_pylist() == [ROW[2], None]
    frame = cur.execute("SELECT N, I, F, S, NTZ, LTZ FROM TYPES WHERE I IS NOT NULL").fetch_pandas_all()
    assert {k: str(v) for k, v in frame.dtypes.items()} == {
        "N": "float64",
        "I": "int64",
        "F": "float64",
        "S": "str",
        "NTZ": "datetime64[ns]",
        "LTZ": "datetime64[ns, UTC]",
    }
    assert frame.iloc[0].tolist()[:4] == [-1234.5, 12345678901234567, 2.5, "héllo"]


def test_semi_structured_values_are_text_with_their_logical_types(connection):
    cur = connection.cursor()
    cur.execute(
        "SELECT PARSE_JSON('{\"a\": [1, null]}') AS V, ARRAY_CONSTRUCT(1, 2) AS A, OBJECT_CONSTRUCT('k', 'v') AS O"
    )
    row = cur.fetchone()
    assert [json.loads(v) for v in row] == [{"a": [1, None]}, [1, 2], {"k": "v"}]
    assert [FIELD_ID_TO_NAME[d.type_code] for d in cur.description] == ["VARIANT", "ARRAY", "OBJECT"]


def _login(home) -> str:
    body = {"data": {"ACCOUNT_NAME": ACCOUNT, "LOGIN_NAME": USER, "AUTHENTICATOR": "SNOWFLAKE_JWT"}}
    body["data"]["TOKEN"] = _login_jwt(home)
    return _post(home, "/session/v1/login-request?databaseName=AUTOMATED_INTELLIGENCE&schemaName=RAW", body)["data"][
        "token"
    ]


def _get(home, url: str, headers: dict) -> tuple[int, bytes]:
    context = ssl.create_default_context(cafile=str(home.ca_cert))
    assert url.startswith(f"https://127.0.0.1:{service.status(home).port}/")
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), context=context) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


ROWS = 300_000
LARGE = (
    "SELECT SEQ8() AS ID, 'row ' || SEQ8() AS NAME, (SEQ8() / 100)::NUMBER(12,2) AS AMOUNT "
    f"FROM TABLE(GENERATOR(ROWCOUNT => {ROWS}))"
)


def _query(home, token, sql, parameters=None) -> dict:
    body = {"sqlText": sql, "parameters": parameters or {}}
    reply = _post(home, "/queries/v1/query-request", body, token)
    assert reply["success"], reply
    return reply["data"]


def test_the_arrow_reply_carries_snowflake_field_metadata(local_home):
    data = _query(local_home, _login(local_home), "SELECT 1.25::NUMBER(10,2) AS N, CURRENT_DATE() AS D, 'x' AS S")
    assert data["queryResultFormat"] == "arrow" and "chunks" not in data and data["total"] == 1
    table = pa.ipc.open_stream(base64.b64decode(data["rowsetBase64"])).read_all()
    n, d, s = table.schema
    assert (n.type, n.metadata[b"logicalType"], n.metadata[b"scale"], n.metadata[b"precision"]) == (
        pa.int64(),
        b"FIXED",
        b"2",
        b"10",
    )
    assert table.column("N").to_pylist() == [125]  # the unscaled integer, as Snowflake sends it
    assert (d.type, d.metadata[b"logicalType"]) == (pa.date32(), b"DATE")
    assert (s.type, s.metadata[b"logicalType"], s.metadata[b"charLength"]) == (pa.string(), b"TEXT", b"16777216")
    assert [c["type"] for c in data["rowtype"]] == ["fixed", "date", "text"]
    empty = _query(local_home, _login(local_home), "SELECT 1 AS X WHERE FALSE")
    assert (empty["rowsetBase64"], empty["total"]) == ("", 0)


@pytest.mark.parametrize("parameters", [None, JSON], ids=["arrow", "json"])
def test_a_large_result_is_fetched_whole_from_its_chunks(connect, parameters):
    cur = connect().cursor()
    rows = cur.execute(LARGE, _statement_params=parameters).fetchall()
    assert rows == [(i, f"row {i}", Decimal(i) / 100) for i in range(ROWS)]
    frame = cur.execute(LARGE + " ORDER BY ID", _statement_params=parameters).fetch_pandas_all()
    assert frame["ID"].tolist() == list(range(ROWS)) and frame["NAME"].iloc[-1] == f"row {ROWS - 1}"


@pytest.mark.parametrize("parameters", [None, JSON], ids=["arrow", "json"])
def test_chunks_on_the_wire(local_home, parameters):
    token = _login(local_home)
    data = _query(local_home, token, LARGE, parameters)
    chunks = data["chunks"]
    assert len(chunks) >= 2 and data["total"] == ROWS
    headers = data["chunkHeaders"]
    assert headers[KEY_HEADER] == data["qrmk"]
    status, body = _get(local_home, chunks[0]["url"], {})
    assert status == 403 and b"AccessDenied" in body  # the URL alone is not enough
    status, _ = _get(local_home, chunks[0]["url"], {KEY_HEADER: "forged"})
    assert status == 403
    status, body = _get(local_home, chunks[0]["url"], headers)
    assert status == 200 and len(body) == chunks[0]["uncompressedSize"]
    if parameters:
        assert len(json.loads(b"[" + body + b"]")) == chunks[0]["rowCount"]
    else:
        assert pa.ipc.open_stream(body).read_all().num_rows == chunks[0]["rowCount"]
    if parameters:
        first, inline = len(data["rowset"]), len(json.dumps(data["rowset"]))
    else:
        inline = len(base64.b64decode(data["rowsetBase64"]))
        first = pa.ipc.open_stream(base64.b64decode(data["rowsetBase64"])).read_all().num_rows
    assert first + sum(c["rowCount"] for c in chunks) == ROWS and inline <= 1.1 * results.INLINE_BYTES
    assert _get(local_home, chunks[0]["url"], headers)[0] == 403  # sent once, then gone
    assert _post(local_home, "/session?delete=true", {}, token)["success"]
    assert _get(local_home, chunks[1]["url"], headers)[0] == 403  # the session's chunks went with it


def test_a_chunk_expires(local_home, tmp_path, monkeypatch):
    monkeypatch.setenv("AIDEMO_LOCAL_CHUNK_TTL_S", "0")
    home = share_ca(local_home, tmp_path / "home")
    with own_service(home):
        data = _query(home, _login(home), LARGE)
        assert data["chunks"]
        assert _get(home, data["chunks"][0]["url"], data["chunkHeaders"])[0] == 403
        assert not any((home.spool / "results").iterdir())  # expired chunks are deleted


def test_an_error_while_the_rows_stream_is_snowflake_s_and_leaves_no_chunk(connection, local_home):
    spool = local_home.spool / "results"
    before = set(spool.iterdir())
    cur = connection.cursor()
    with pytest.raises(ProgrammingError) as failed:  # the error comes after chunks were written
        cur.execute(
            "SELECT SEQ8() + IFF(SEQ8() = 290000, 'x'::INT, 0) AS X, 'padding' AS P "
            f"FROM TABLE(GENERATOR(ROWCOUNT => {ROWS}))"
        )
    assert (failed.value.errno, failed.value.sqlstate) == (100038, "22018")
    assert "Numeric value 'x' is not recognized" in str(failed.value) and "Conversion" not in str(failed.value)
    assert set(spool.iterdir()) == before


def test_the_chunk_spool_is_bounded_keyed_and_per_session(tmp_path):
    spool = ChunkSpool(tmp_path / "results", limit_bytes=100)
    mine, other = spool.result(1, "https://host:1/"), spool.result(2, "https://host:1")
    mine.add(b"x" * 60, 3)
    with pytest.raises(ConnectorError) as full:
        other.add(b"y" * 60, 3)
    assert full.value.code == "000603" and "100 bytes" in full.value.message
    other.add(b"y" * 40, 2)
    (entry,) = mine.reply()["chunks"]
    assert entry == {"url": entry["url"], "rowCount": 3, "uncompressedSize": 60, "compressedSize": 60}
    chunk_id = entry["url"].rsplit("/", 1)[1]
    assert entry["url"] == f"https://host:1/aidemo/v1/result-chunks/{chunk_id}"
    key = mine.reply()["chunkHeaders"][KEY_HEADER]
    assert spool.find(chunk_id, key).read_bytes() == b"x" * 60
    assert spool.find(chunk_id, other.reply()["qrmk"]) is None and spool.find(chunk_id, "") is None
    spool.close_session(1)
    assert spool.find(chunk_id, key) is None and len(list((tmp_path / "results").iterdir())) == 1
    other.discard()
    assert not list((tmp_path / "results").iterdir())
    assert ChunkSpool(tmp_path / "results").result(3, "https://h").reply() == {}  # no chunk, no keys


@pytest.mark.parametrize("order", ["ASC", "DESC"])
def test_wide_numbers_keep_one_arrow_type_across_chunks(connect, order):
    # DECIMAL(38,1) values that fit 64 bits, and ones that do not, batches and chunks apart.
    cur = connect().cursor()
    query = (
        "SELECT SEQ8() AS ID, IFF(SEQ8() < 200000, SEQ8()::NUMBER(38,1), 123456789012345678901234.5::NUMBER(38,1)) "
        f"AS X FROM TABLE(GENERATOR(ROWCOUNT => {ROWS})) ORDER BY ID {order}"
    )
    expected = [Decimal(i) if i < 200_000 else Decimal("123456789012345678901234.5") for i in range(ROWS)]
    expected = expected if order == "ASC" else expected[::-1]
    assert [x for _, x in cur.execute(query).fetchall()] == expected
    table = cur.execute(query).fetch_arrow_all()
    assert str(table.schema.field("X").type) == "decimal128(38, 1)" and table.column("X").to_pylist() == expected
