"""Internal stages through the unmodified connector: CREATE / DROP STAGE, PUT, GET, LIST, REMOVE,
COPY INTO and write_pandas, on the pinned 5.x and on 4.x (tests/connector4x.py's venv)."""

from __future__ import annotations

import gzip
import hashlib
import json

import pytest
from snowflake.connector import ProgrammingError

from tests import connector4x

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


_4X = """
import base64, json, sys, tempfile
from pathlib import Path
import snowflake.connector
args = json.loads(sys.stdin.read())
con = snowflake.connector.connect(**dict(args["connect"], private_key=base64.b64decode(args["connect"]["private_key"])))
cur = con.cursor()
cur.execute("CREATE SCHEMA IF NOT EXISTS STAGES_4X")
cur.execute("USE SCHEMA STAGES_4X")
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


def test_4x_puts_and_gets_through_its_own_file_transfer(local_home):
    report = json.loads(connector4x.run(local_home, ["-c", _4X], {"csv": CSV}))
    assert [r[:3] + r[4:7] for r in report["put"]] == [["a.csv", "a.csv.gz", len(CSV), "NONE", "GZIP", "UPLOADED"]]
    assert report["again"][0][6] == "SKIPPED"
    assert report["list"] == ["s/p/a.csv.gz"]
    assert [r[0] for r in report["get"]] == ["a.csv.gz"] and report["get"][0][2] == "DOWNLOADED"
    assert gzip.decompress(bytes.fromhex(report["bytes"])).decode() == CSV
