"""Connector 4.x, and Snowpark (which pins it), against the local service from a venv of their own.

The suite's venv has connector 5.x. :func:`python` makes, once, a venv of the kit installed with
its ``snowpark`` extra (``pip install -e ".[snowpark]"``: connector 4.8.1 and Snowpark 1.56.0) and
pytest (``.venv-c4/`` in the checkout, kept for later runs), where tests/test_connector_majors.py runs
the kit's own connector tests. This file run by that venv's Python reads connect() arguments as JSON
on stdin, runs the queries below and prints what the connector read, as JSON, for the tests to check;
that client side imports nothing of the kit.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv-c4"
# What the kit's tests need besides the kit (the versions of the dev extra's).
TEST_TOOLS = ("pytest==9.2.0", "pytest-timeout==2.4.0", "pytest-xdist==3.8.0")


def python() -> Path:
    """The Python of the 4.x venv, made first if it is missing or was made for other requirements."""
    marker, interpreter = VENV / "aidemo-requirements.txt", VENV / "bin" / "python"
    wanted = "\n".join([*_requirements(), *TEST_TOOLS])
    with open(ROOT / ".venv-c4.lock", "w") as lock:  # pytest-xdist workers make it once
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists() or marker.read_text() != wanted:
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
            install = [str(interpreter), "-m", "pip", "install", "-q", "-e", f"{ROOT}[snowpark]", *TEST_TOOLS]
            subprocess.run(install, check=True)
            marker.write_text(wanted)
    return interpreter


def _requirements() -> list[str]:
    """What ``pip install -e ".[snowpark]"`` installs, as pyproject.toml says."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [*project["dependencies"], *project["optional-dependencies"]["snowpark"]]


def run(home, command: list[str], args: dict) -> str:
    """The stdout of this venv's Python running ``command`` (this file, or ``-c`` and a script) for the
    service of ``home``: ``args`` and its connect() arguments go as JSON on stdin, 4.x trusts
    REQUESTS_CA_BUNDLE only."""
    from tests.helpers import connector_arguments  # the suite's side: the 4.x venv runs this file too

    connect = connector_arguments(home)
    for only_5x in ("custom_root_store_path", "enable_server_session_keep_alive_auto_detection"):
        del connect[only_5x]
    connect["private_key"] = base64.b64encode(connect["private_key"]).decode()
    done = subprocess.run(
        [str(python()), *command],
        input=json.dumps({"connect": connect, **args}),
        capture_output=True,
        text=True,
        env=dict(os.environ, REQUESTS_CA_BUNDLE=str(home.trust_bundle)),
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def plain(value) -> list:
    """A value as JSON can carry it: its type's name and its text."""
    if isinstance(value, (bytes, bytearray)):
        return ["bytes", bytes(value).hex()]
    if hasattr(value, "isoformat"):
        return [type(value).__name__, value.isoformat()]
    return [type(value).__name__, str(value)]


def _report(args: dict) -> dict:
    import snowflake.connector

    connect = dict(args["connect"], private_key=base64.b64decode(args["connect"]["private_key"]))
    connection = snowflake.connector.connect(**connect)
    cur = connection.cursor()
    cur.execute(f"CREATE SCHEMA {args['schema']}")
    cur.execute(f"USE SCHEMA {args['schema']}")
    cur.execute(f"CREATE TABLE TYPES ({args['types']})")
    cur.execute(f"INSERT INTO TYPES VALUES {args['values']}")
    select = "SELECT * FROM TYPES ORDER BY I NULLS LAST"
    report = {"version": snowflake.connector.__version__}
    report["rows"] = [[plain(v) for v in row] for row in cur.execute(select).fetchall()]
    report["format"] = cur._query_result_format
    report["description"] = [[d.type_code, d.precision, d.scale] for d in cur.description]
    report["arrow"] = [str(f.type) for f in cur.execute(select).fetch_arrow_all().schema]
    frame = cur.execute(select).fetch_pandas_all()
    report["pandas"] = {name: str(dtype) for name, dtype in frame.dtypes.items()}
    json_rows = cur.execute(select, _statement_params=args["json"]).fetchall()
    report["json"] = {"format": cur._query_result_format, "rows": [[plain(v) for v in row] for row in json_rows]}
    large = cur.execute(args["large"]).fetchall()
    report["large"] = {"rows": len(large), "ids": sum(r[0] for r in large), "last": [plain(v) for v in large[-1]]}
    large = cur.execute(args["large"], _statement_params=args["json"]).fetchall()
    report["large_json"] = {"format": cur._query_result_format, "rows": len(large), "ids": sum(r[0] for r in large)}
    frame = cur.execute(args["large"]).fetch_pandas_all()
    report["large_pandas"] = {
        "rows": len(frame),
        "ids": int(frame["ID"].sum()),
        "dtypes": [str(t) for t in frame.dtypes],
    }
    connection.close()
    report["snowpark"] = _snowpark(connect, args)
    return report


def _snowpark(connect: dict, args: dict) -> dict:
    from snowflake.snowpark import Session

    logs = []
    handler = logging.Handler()
    handler.emit = lambda record: logs.append(record.getMessage())
    logging.getLogger("snowflake").addHandler(handler)
    logging.getLogger("snowflake").setLevel(logging.INFO)
    session = Session.builder.configs(connect).create()
    select = f"SELECT * FROM {args['schema']}.TYPES ORDER BY I NULLS LAST"
    try:
        frame = session.sql(select).to_pandas()
        report = {
            "dtypes": {name: str(dtype) for name, dtype in frame.dtypes.items()},
            "first": [plain(v) for v in frame.iloc[0].tolist()],
            "json_fallback": [line for line in logs if "result format is set to JSON" in line],
        }
        # What a client without pyarrow asks for: then Snowpark says it falls back.
        session.sql("ALTER SESSION SET PYTHON_CONNECTOR_QUERY_RESULT_FORMAT = 'JSON'").collect()
        session.sql(select).to_pandas()
        report["json_fallback_when_asked"] = [line for line in logs if "result format is set to JSON" in line]
        return report
    finally:
        with contextlib.suppress(Exception):
            session.close()


if __name__ == "__main__":
    print(json.dumps(_report(json.loads(sys.stdin.read()))))
