"""Internal stages through the unmodified connector: CREATE / DROP STAGE, PUT, GET, LIST, REMOVE,
COPY INTO and write_pandas, on the pinned 5.x and on 4.x (tests/connector4x.py's venv)."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import ssl
import time
import urllib.error
import urllib.request
from decimal import Decimal

import pytest
import snowflake.connector
from snowflake.connector import ProgrammingError

from aidemo.local.http.filetransfer import BUCKET
from aidemo.local.process import service
from aidemo.local.storage.stage import Stage
from aidemo.local.storage.stages import NAMED_STAGE, StageRef, Stages
from tests import connector4x
from tests.helpers import connector_arguments, own_service, share_ca

CSV = "1,alpha\n2,beta\n"


@pytest.fixture
def cur(connection):
    return connection.cursor()


def _put(cur, path, location, *options):
    return cur.execute(f"PUT 'file://{path}' {location} {' '.join(options)}").fetchall()


def test_put_answers_one_row_per_file_and_skips_what_the_stage_has(cur, tmp_path):
    (tmp_path / "a.csv").write_text(CSV)
    (tmp_path / "b.csv").write_text(CSV * 2)
    assert cur.execute("CREATE STAGE S1").fetchall() == [("Stage area S1 successfully created.",)]
    rows = _put(cur, tmp_path / "*.csv", "@S1/in")
    # source, target, source_size, target_size, source_compression, target_compression, status, message
    assert sorted((r[0], r[1], r[2], r[4], r[5], r[6]) for r in rows) == [
        ("a.csv", "a.csv.gz", len(CSV), "NONE", "GZIP", "UPLOADED"),
        ("b.csv", "b.csv.gz", 2 * len(CSV), "NONE", "GZIP", "UPLOADED"),
    ]
    assert [r[6] for r in _put(cur, tmp_path / "a.csv", "@S1/in")] == ["SKIPPED"]
    assert [r[6] for r in _put(cur, tmp_path / "a.csv", "@S1/in", "OVERWRITE=TRUE")] == ["UPLOADED"]
    rows = _put(cur, tmp_path / "a.csv", "@S1/raw", "AUTO_COMPRESS=FALSE")
    assert [(r[1], r[3], r[5], r[6]) for r in rows] == [("a.csv", len(CSV), "NONE", "UPLOADED")]


def test_get_downloads_the_bytes_put_uploaded(cur, tmp_path):
    (tmp_path / "a.csv").write_text(CSV)
    cur.execute("CREATE TEMPORARY STAGE S2")
    _put(cur, tmp_path / "a.csv", "@S2/x")
    out = tmp_path / "out"
    out.mkdir()
    rows = cur.execute(f"GET @S2/x 'file://{out}/'").fetchall()
    assert [(r[0], r[2]) for r in rows] == [("a.csv.gz", "DOWNLOADED")]
    assert gzip.decompress((out / "a.csv.gz").read_bytes()).decode() == CSV
    (tmp_path / "b.csv").write_text(CSV * 3)
    _put(cur, tmp_path / "b.csv", "@S2/x")
    one = tmp_path / "one"
    one.mkdir()
    rows = cur.execute(f"GET @S2/x/b.csv.gz 'file://{one}/'").fetchall()  # one file, by its path
    assert [(r[0], r[2]) for r in rows] == [("b.csv.gz", "DOWNLOADED")]
    assert gzip.decompress((one / "b.csv.gz").read_bytes()).decode() == CSV * 3
    rows = cur.execute(f"GET @S2 'file://{one}/' PATTERN = '.*a[.]csv.*'").fetchall()
    assert [r[0] for r in rows] == ["a.csv.gz"]


def test_list_and_remove_answer_with_snowflakes_columns(cur, tmp_path):
    (tmp_path / "a.csv").write_text(CSV)
    cur.execute("CREATE STAGE S3")
    _put(cur, tmp_path / "a.csv", "@S3/one", "AUTO_COMPRESS=FALSE")
    _put(cur, tmp_path / "a.csv", "@S3/two", "AUTO_COMPRESS=FALSE")
    rows = cur.execute("LIST @S3").fetchall()
    assert [d.name for d in cur.description] == ["name", "size", "md5", "last_modified"]
    assert [(r[0], r[1]) for r in rows] == [("s3/one/a.csv", len(CSV)), ("s3/two/a.csv", len(CSV))]
    assert rows[0][2] == hashlib.md5(CSV.encode()).hexdigest()
    assert rows[0][3].endswith(" GMT")
    assert [r[0] for r in cur.execute("LIST @S3 PATTERN='.*two.*'").fetchall()] == ["s3/two/a.csv"]
    assert cur.execute("REMOVE @S3/one").fetchall() == [("s3/one/a.csv", "removed")]
    assert [r[0] for r in cur.execute("LS @S3").fetchall()] == ["s3/two/a.csv"]


def test_the_user_stage_and_a_tables_stage(cur, tmp_path):
    (tmp_path / "u.csv").write_text(CSV)
    cur.execute("CREATE TABLE T1 (ID NUMBER, NAME VARCHAR)")
    _put(cur, tmp_path / "u.csv", "@%T1")
    assert [r[0] for r in cur.execute("LIST @%T1").fetchall()] == ["u.csv.gz"]
    _put(cur, tmp_path / "u.csv", "@~/stages_test")
    assert "stages_test/u.csv.gz" in [r[0] for r in cur.execute("LIST @~/stages_test").fetchall()]
    cur.execute("REMOVE @~/stages_test")
    assert cur.execute("LIST @~/stages_test").fetchall() == []


def test_a_temporary_stage_ends_with_its_session(connect, tmp_path):
    first = connect().cursor()
    first.execute("CREATE SCHEMA IF NOT EXISTS STAGES_TEMP")
    first.execute("CREATE TEMPORARY STAGE STAGES_TEMP.GONE")
    assert first.execute("LIST @STAGES_TEMP.GONE").fetchall() == []
    first.connection.close()
    with pytest.raises(ProgrammingError) as failed:
        connect().cursor().execute("LIST @STAGES_TEMP.GONE")
    assert failed.value.errno == 2003


def test_unknown_stages_and_paths_leaving_the_stage_are_refused(cur, tmp_path):
    (tmp_path / "a.csv").write_text(CSV)
    with pytest.raises(ProgrammingError) as failed:
        cur.execute("LIST @NO_SUCH_STAGE")
    assert failed.value.errno == 2003 and "Stage" in failed.value.msg and "does not exist" in failed.value.msg
    with pytest.raises(ProgrammingError) as failed:
        _put(cur, tmp_path / "a.csv", "@NO_SUCH_STAGE")
    assert failed.value.errno == 2003
    cur.execute("CREATE STAGE S4")
    with pytest.raises(ProgrammingError) as failed:
        _put(cur, tmp_path / "a.csv", "@S4/../../escape")
    assert "inside the stage" in failed.value.msg
    cur.execute("DROP STAGE S4")
    with pytest.raises(ProgrammingError) as failed:
        cur.execute("DROP STAGE S4")
    assert failed.value.errno == 2003
    assert cur.execute("DROP STAGE IF EXISTS S4").fetchall() == [("S4 successfully dropped.",)]


# What each 4.x script starts with: its connection, in a schema of its own (args["schema"]).
_4X_CONNECT = """
import base64, json, sys, tempfile
from pathlib import Path
import pandas as pd
import snowflake.connector
from snowflake.connector.pandas_tools import write_pandas
args = json.loads(sys.stdin.read())
con = snowflake.connector.connect(**dict(args["connect"], private_key=base64.b64decode(args["connect"]["private_key"])))
cur = con.cursor()
cur.execute(f"CREATE SCHEMA IF NOT EXISTS {args['schema']}")
cur.execute(f"USE SCHEMA {args['schema']}")
"""
_4X = (
    _4X_CONNECT
    + """
cur.execute("CREATE OR REPLACE STAGE S")
d = Path(tempfile.mkdtemp())
(d / "a.csv").write_text(args["csv"])
out = {"put": [list(r) for r in cur.execute(f"PUT 'file://{d}/a.csv' @S/p").fetchall()]}
out["again"] = [list(r) for r in cur.execute(f"PUT 'file://{d}/a.csv' @S/p").fetchall()]
out["list"] = [r[0] for r in cur.execute("LIST @S").fetchall()]
(d / "get").mkdir()
out["get"] = [list(r) for r in cur.execute(f"GET @S/p 'file://{d}/get/'").fetchall()]
out["bytes"] = (d / "get" / "a.csv.gz").read_bytes().hex()
print(json.dumps(out))
"""
)


def test_4x_puts_and_gets_through_its_own_file_transfer(local_home):
    report = json.loads(connector4x.run(local_home, ["-c", _4X], {"csv": CSV, "schema": "STAGES_4X"}))
    assert [r[:3] + r[4:7] for r in report["put"]] == [["a.csv", "a.csv.gz", len(CSV), "NONE", "GZIP", "UPLOADED"]]
    assert report["again"][0][6] == "SKIPPED"
    assert report["list"] == ["s/p/a.csv.gz"]
    assert [r[0] for r in report["get"]] == ["a.csv.gz"] and report["get"][0][2] == "DOWNLOADED"
    assert gzip.decompress(bytes.fromhex(report["bytes"])).decode() == CSV


def _parquet(path, **columns):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table(columns), path)
    return path


def test_copy_into_loads_parquet_by_column_name_and_through_a_transformation(cur, tmp_path):
    _parquet(tmp_path / "p.parquet", id=[1, 2, 3], Name=["a", None, "c"], amount=[1.25, 2.5, None])
    cur.execute("CREATE TABLE PQ (ID NUMBER(38,0), NAME VARCHAR, AMOUNT NUMBER(10,2), EXTRA VARCHAR)")
    cur.execute("CREATE STAGE SP FILE_FORMAT = (TYPE = PARQUET)")
    _put(cur, tmp_path / "p.parquet", "@SP")
    rows = cur.execute("COPY INTO PQ FROM @SP MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE").fetchall()
    assert [d.name for d in cur.description][:6] == [
        "file", "status", "rows_parsed", "rows_loaded", "error_limit", "errors_seen"
    ]  # fmt: skip
    assert [r[:6] for r in rows] == [("sp/p.parquet", "LOADED", 3, 3, 1, 0)]
    got = cur.execute("SELECT ID, NAME, AMOUNT, EXTRA FROM PQ ORDER BY ID").fetchall()
    assert got == [(1, "a", Decimal("1.25"), None), (2, None, Decimal("2.50"), None), (3, "c", None, None)]
    assert (
        cur.execute("COPY INTO PQ FROM @SP MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE").fetchall()[0][1] == "LOAD_SKIPPED"
    )
    rows = cur.execute(
        'COPY INTO PQ (NAME, ID) FROM (SELECT $1:"Name"::VARCHAR, $1:"id" + 10 FROM @SP) FORCE = TRUE PURGE = TRUE'
    ).fetchall()
    assert [r[1:4] for r in rows] == [("LOADED", 3, 3)]
    assert cur.execute("SELECT ID, NAME FROM PQ WHERE ID > 10 ORDER BY ID").fetchall() == [
        (11, "a"), (12, None), (13, "c")
    ]  # fmt: skip
    assert cur.execute("LIST @SP").fetchall() == []  # PURGE removed the loaded file
    assert cur.execute("COPY INTO PQ FROM @SP").fetchall() == [("Copy executed with 0 files processed.",)]


def test_copy_into_loads_csv_with_the_file_format_options(cur, tmp_path):
    (tmp_path / "c.csv").write_text('id|name|day|ok\n1|"x|y"|2024-01-02|true\n2|\\N||false\n3|""|2024-03-04|\n')
    cur.execute("CREATE TABLE CS (ID NUMBER, NAME VARCHAR, DAY DATE, OK BOOLEAN)")
    _put(cur, tmp_path / "c.csv", "@%CS")
    rows = cur.execute(
        "COPY INTO CS FROM @%CS FILE_FORMAT = (TYPE = CSV SKIP_HEADER = 1 FIELD_DELIMITER = '|' "
        "FIELD_OPTIONALLY_ENCLOSED_BY = '\"' NULL_IF = ('\\\\N') COMPRESSION = AUTO)"
    ).fetchall()
    assert [r[:4] for r in rows] == [("c.csv.gz", "LOADED", 3, 3)]
    assert cur.execute("SELECT * FROM CS ORDER BY ID").fetchall() == [
        (1, "x|y", dt.date(2024, 1, 2), True), (2, None, None, False), (3, "", dt.date(2024, 3, 4), None)
    ]  # fmt: skip


def test_copy_on_error_aborts_the_statement_skips_the_file_or_the_row(cur, tmp_path):
    (tmp_path / "good.csv").write_text("1,a\n2,b\n")
    (tmp_path / "bad.csv").write_text("3,c\nnot a number,d\n")
    cur.execute("CREATE TABLE OE (ID NUMBER, NAME VARCHAR)")
    cur.execute("CREATE STAGE SE")
    _put(cur, tmp_path / "*.csv", "@SE")
    with pytest.raises(ProgrammingError) as failed:
        cur.execute("COPY INTO OE FROM @SE")
    assert failed.value.errno == 100038 and "bad.csv" in failed.value.msg
    assert cur.execute("SELECT COUNT(*) FROM OE").fetchall() == [(0,)]  # nothing of the good file either
    rows = cur.execute("COPY INTO OE FROM @SE ON_ERROR = SKIP_FILE").fetchall()
    assert [r[:4] for r in rows] == [("se/bad.csv.gz", "LOAD_FAILED", 0, 0), ("se/good.csv.gz", "LOADED", 2, 2)]
    assert "cannot be converted" in rows[0][6]
    assert cur.execute("SELECT ID, NAME FROM OE ORDER BY ID").fetchall() == [(1, "a"), (2, "b")]
    rows = cur.execute("COPY INTO OE FROM @SE ON_ERROR = CONTINUE").fetchall()  # the good file: loaded before
    assert rows == [
        ("se/bad.csv.gz", "PARTIALLY_LOADED", 2, 1, 2, 1, "Numeric value 'not a number' is not recognized", 2, None,
         '"OE"["ID":1]'),
        ("se/good.csv.gz", "LOAD_SKIPPED", 0, 0, 1, 1, "File was loaded before.", None, None, None),
    ]  # fmt: skip
    assert cur.execute("SELECT ID, NAME FROM OE ORDER BY ID").fetchall() == [(1, "a"), (2, "b"), (3, "c")]


def test_infer_schema_reports_the_columns_of_staged_parquet(cur, tmp_path):
    _parquet(tmp_path / "i.parquet", n=[1], x=[0.5], s=["a"], t=[dt.datetime(2024, 1, 2, 3, 4, 5)], b=[True])
    cur.execute("CREATE STAGE SI")
    cur.execute("CREATE FILE FORMAT FI TYPE = PARQUET")
    _put(cur, tmp_path / "i.parquet", "@SI")
    rows = cur.execute(
        "SELECT COLUMN_NAME, TYPE, EXPRESSION FROM TABLE(INFER_SCHEMA(LOCATION => '@SI', FILE_FORMAT => 'FI'))"
    ).fetchall()
    assert rows == [
        ("n", "NUMBER(38, 0)", '$1:"n"::NUMBER(38, 0)'),
        ("x", "REAL", '$1:"x"::REAL'),
        ("s", "TEXT", '$1:"s"::TEXT'),
        ("t", "TIMESTAMP_NTZ(6)", '$1:"t"::TIMESTAMP_NTZ(6)'),
        ("b", "BOOLEAN", '$1:"b"::BOOLEAN'),
    ]


def _frame():
    import pandas as pd

    return pd.DataFrame(
        {
            "ID": [1, 2, 3],
            "AMOUNT": [1.5, None, -2.25],
            "NAME": ["a", None, "ç"],
            "AT": pd.to_datetime(["2024-01-02 03:04:05.123456", None, "2025-06-07 08:09:10.5"]),
            "OK": [True, False, None],
        }
    )


_ROWS = [
    (1, 1.5, "a", dt.datetime(2024, 1, 2, 3, 4, 5, 123456), True),
    (2, None, None, None, False),
    (3, -2.25, "ç", dt.datetime(2025, 6, 7, 8, 9, 10, 500000), None),
]


def test_write_pandas_creates_overwrites_and_appends(connection):
    from snowflake.connector.pandas_tools import write_pandas

    cur = connection.cursor()
    done = write_pandas(connection, _frame(), "WP", auto_create_table=True, use_logical_type=True)
    assert (done[0], done[1], done[2]) == (True, 1, 3) and done[3][0][1:4] == ("LOADED", 3, 3)
    assert cur.execute("SELECT * FROM WP ORDER BY ID").fetchall() == _ROWS
    types = {row[0]: row[1] for row in cur.execute("DESCRIBE TABLE WP").fetchall()}
    assert types == {
        "ID": "NUMBER(38,0)", "AMOUNT": "FLOAT", "NAME": "VARCHAR(16777216)", "AT": "TIMESTAMP_NTZ(9)", "OK": "BOOLEAN"
    }  # fmt: skip
    write_pandas(connection, _frame(), "WP", use_logical_type=True)
    assert cur.execute("SELECT COUNT(*) FROM WP").fetchall() == [(6,)]
    write_pandas(connection, _frame().head(1), "WP", auto_create_table=True, overwrite=True, use_logical_type=True)
    assert cur.execute("SELECT * FROM WP").fetchall() == _ROWS[:1]
    lower = _frame().rename(columns=str.lower)
    write_pandas(connection, lower, "wp_lower", auto_create_table=True, quote_identifiers=False)
    assert cur.execute("SELECT ID, NAME FROM WP_LOWER ORDER BY ID").fetchall() == [(r[0], r[2]) for r in _ROWS]


_4X_WRITE_PANDAS = (
    _4X_CONNECT
    + """
frame = pd.read_json(args["frame"], orient="split", convert_dates=["AT"], dtype={"OK": object})
out = {"first": write_pandas(con, frame, "WP", auto_create_table=True, use_logical_type=True)[:3]}
out["replaced"] = write_pandas(con, frame, "WP", auto_create_table=True, overwrite=True)[:3]
rows = cur.execute("SELECT * FROM WP ORDER BY ID").fetchall()
out["rows"] = [[None if v is None else str(v) for v in row] for row in rows]
out["lower"] = write_pandas(con, frame.rename(columns=str.lower), "wp_lower", auto_create_table=True,
                            quote_identifiers=False)[:3]
out["lower_rows"] = cur.execute("SELECT COUNT(*) FROM WP_LOWER").fetchall()[0][0]
print(json.dumps(out))
"""
)


def test_4x_write_pandas_round_trips_a_frame(local_home):
    frame = _frame().to_json(orient="split", date_format="iso", date_unit="us")
    report = json.loads(connector4x.run(local_home, ["-c", _4X_WRITE_PANDAS], {"frame": frame, "schema": "STAGES_WP4"}))
    assert report["first"] == [True, 1, 3] and report["replaced"] == [True, 1, 3]
    assert report["rows"] == [[None if v is None else str(v) for v in row] for row in _ROWS]
    assert report["lower"] == [True, 1, 3] and report["lower_rows"] == 3


def test_user_sql_cannot_read_staged_files(cur, tmp_path):
    _parquet(tmp_path / "secret.parquet", x=[1])
    cur.execute("CREATE STAGE SX")
    _put(cur, tmp_path / "secret.parquet", "@SX")
    refusals = {
        f"SELECT * FROM read_parquet('{tmp_path / 'secret.parquet'}')": 2140,  # Unknown function
        "SELECT * FROM temp.main._aidemo_staged_file": 2003,  # COPY's reader is no table of the user's
        "SELECT $1 FROM @SX": 2076,  # querying staged files: not implemented, refused
    }
    for query, errno in refusals.items():
        with pytest.raises(ProgrammingError) as failed:
            cur.execute(query)
        assert failed.value.errno == errno, query


def _object(home, path: str, token: str | None, method: str = "GET") -> tuple[int, bytes]:
    """An object route of the service's stages, as a storage client would call it."""
    context = ssl.create_default_context(cafile=str(home.ca_cert))
    request = urllib.request.Request(service.status(home).url + path, method=method)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


def test_the_object_routes_serve_a_stage_only_with_its_token(local_home, cur, tmp_path):
    (tmp_path / "a.csv").write_text(CSV)
    cur.execute("CREATE STAGE SA")
    cur.execute("CREATE STAGE SB")
    _put(cur, tmp_path / "a.csv", "@SA", "AUTO_COMPRESS=FALSE")
    database, schema = cur.execute("SELECT CURRENT_DATABASE(), CURRENT_SCHEMA()").fetchone()
    stages = Stages(local_home.stages, Stage(local_home.stage, local_home.token_secret.read_text()).sign)
    a, b = (StageRef(NAMED_STAGE, database, schema, name) for name in ("SA", "SB"))
    token = stages.token(a, int(time.time() * 1000) + 60_000)
    path_a, path_b = f"/{BUCKET}/{stages.stage_id(a)}", f"/{BUCKET}/{stages.stage_id(b)}"
    assert _object(local_home, f"{path_a}/a.csv", token) == (200, CSV.encode())
    assert _object(local_home, f"{path_a}/a.csv", None)[0] == 403
    forged = token[:-1] + ("1" if token[-1] == "0" else "0")  # another last hex digit of the signature
    assert _object(local_home, f"{path_a}/a.csv", forged)[0] == 403  # not signed by the service
    assert _object(local_home, f"{path_b}/a.csv", token)[0] == 403  # another stage's token
    expired = stages.token(a, int(time.time() * 1000) - 1)
    assert _object(local_home, f"{path_a}/a.csv", expired)[0] == 401  # the client asks for a new one
    assert _object(local_home, f"{path_a}/%2E%2E/%2E%2E/secret", token)[0] == 400
    assert _object(local_home, f"{path_a}/missing.csv", token)[0] == 404
    assert _object(local_home, f"{path_a}/missing.csv", token, "HEAD")[0] == 404


def test_dropping_a_table_or_schema_drops_their_stages(connect, tmp_path):
    (tmp_path / "a.csv").write_text(CSV)
    cur = connect().cursor()
    cur.execute("CREATE SCHEMA STAGES_DROPPED")
    cur.execute("USE SCHEMA STAGES_DROPPED")
    cur.execute("CREATE TABLE T (ID NUMBER, NAME VARCHAR)")
    cur.execute("CREATE STAGE S")
    _put(cur, tmp_path / "a.csv", "@%T")
    _put(cur, tmp_path / "a.csv", "@S")
    cur.execute("DROP TABLE T")
    cur.execute("CREATE TABLE T (ID NUMBER, NAME VARCHAR)")
    assert cur.execute("LIST @%T").fetchall() == []  # a new table, a new stage
    cur.execute("DROP SCHEMA STAGES_DROPPED")
    cur.execute("CREATE SCHEMA STAGES_DROPPED")
    with pytest.raises(ProgrammingError) as failed:
        cur.execute("LIST @STAGES_DROPPED.S")
    assert failed.value.errno == 2003


def test_a_temporary_stage_outlives_a_service_restart_with_its_session(local_home, tmp_path):
    (tmp_path / "a.csv").write_text(CSV)
    home = share_ca(local_home, tmp_path / "home")
    with own_service(home):
        connection = snowflake.connector.connect(**connector_arguments(home))
        try:
            cur = connection.cursor()
            cur.execute("CREATE TEMPORARY STAGE KEPT")
            _put(cur, tmp_path / "a.csv", "@KEPT")
            service.stop(home)
            service.start(home)
            assert [r[0] for r in cur.execute("LIST @KEPT").fetchall()] == ["kept/a.csv.gz"]
        finally:
            connection.close()
        with pytest.raises(ProgrammingError) as failed:  # the session ended: its stage with it
            other = snowflake.connector.connect(**connector_arguments(home))
            try:
                other.cursor().execute("LIST @KEPT")
            finally:
                other.close()
        assert failed.value.errno == 2003


def test_put_keeps_a_compressed_file_as_it_is_and_copy_matches_names_case_sensitively(cur, tmp_path):
    (tmp_path / "z.csv.gz").write_bytes(gzip.compress(CSV.encode()))
    cur.execute("CREATE STAGE SZ")
    rows = _put(cur, tmp_path / "z.csv.gz", "@SZ", "SOURCE_COMPRESSION=GZIP")
    assert [(r[1], r[4], r[5], r[6]) for r in rows] == [("z.csv.gz", "GZIP", "GZIP", "UPLOADED")]
    rows = _put(cur, tmp_path / "z.csv.gz", "@SZ/auto")  # AUTO_DETECT: gzip, not compressed again
    assert [(r[1], r[4], r[5]) for r in rows] == [("z.csv.gz", "GZIP", "GZIP")]
    cur.execute("CREATE TABLE Z (ID NUMBER, NAME VARCHAR)")
    cur.execute("COPY INTO Z FROM @SZ/auto FILE_FORMAT = (TYPE = CSV COMPRESSION = GZIP)")
    assert cur.execute("SELECT * FROM Z ORDER BY ID").fetchall() == [(1, "alpha"), (2, "beta")]
    _parquet(tmp_path / "m.parquet", ID=[7], name=["lower"], NAME=["upper"])
    _put(cur, tmp_path / "m.parquet", "@SZ/pq")
    cur.execute("CREATE STAGE SZP FILE_FORMAT = (TYPE = PARQUET)")
    _put(cur, tmp_path / "m.parquet", "@SZP")
    cur.execute("COPY INTO Z FROM @SZP MATCH_BY_COLUMN_NAME = CASE_SENSITIVE")
    assert cur.execute("SELECT * FROM Z WHERE ID = 7").fetchall() == [(7, "upper")]


def test_copy_into_a_stage_unloads_parquet_that_loads_back(cur):
    cur.execute("CREATE TABLE SRC (ID NUMBER(38,0), AMOUNT NUMBER(10,2), NAME VARCHAR, AT TIMESTAMP_NTZ)")
    cur.execute(
        "INSERT INTO SRC VALUES (1, 1.25, 'a', '2024-01-02 03:04:05.123456'), (2, NULL, NULL, NULL), (3, -2, '', NULL)"
    )
    cur.execute("CREATE STAGE SU")
    rows = cur.execute("COPY INTO @SU/out/ FROM SRC FILE_FORMAT = (TYPE = PARQUET)").fetchall()
    assert [d.name for d in cur.description] == ["rows_unloaded", "input_bytes", "output_bytes"]
    assert rows[0][0] == 3 and rows[0][1] > 0 and rows[0][2] > 0
    assert [r[0] for r in cur.execute("LIST @SU").fetchall()] == ["su/out/data_0_0_0.snappy.parquet"]
    with pytest.raises(ProgrammingError) as failed:
        cur.execute("COPY INTO @SU/out/ FROM SRC FILE_FORMAT = (TYPE = PARQUET)")
    assert "already existing" in failed.value.msg
    query = "COPY INTO @SU/part FROM (SELECT ID, NAME FROM SRC WHERE ID > 1) FILE_FORMAT = (TYPE = PARQUET)"
    assert cur.execute(query).fetchall()[0][0] == 2
    assert "su/part_0_0_0.snappy.parquet" in [r[0] for r in cur.execute("LIST @SU").fetchall()]
    cur.execute("CREATE TABLE BACK LIKE SRC")
    cur.execute("COPY INTO BACK FROM @SU/out/ FILE_FORMAT = (TYPE = PARQUET) MATCH_BY_COLUMN_NAME = CASE_SENSITIVE")
    assert (
        cur.execute("SELECT * FROM BACK ORDER BY ID").fetchall()
        == cur.execute("SELECT * FROM SRC ORDER BY ID").fetchall()
    )
    with pytest.raises(ProgrammingError) as failed:
        cur.execute("COPY INTO @SU/csv/ FROM SRC")  # CSV, the default: refused, not written differently
    assert failed.value.sqlstate == "0A000" and "TYPE = CSV" in failed.value.msg
