"""Check the other connector major (4.x) against a fresh local service.

The kit pins snowflake-connector-python 5.x; apps in the wild also run 4.x, which speaks the
same protocol through different code (requests, gzipped bodies, its own JSON converters).
Give this script a Python that has 4.x installed (a throw-away venv will do)::

    python3 -m venv /tmp/c4 && /tmp/c4/bin/pip install snowflake-connector-python==4.8.1
    python bench/connector_4x.py --python /tmp/c4/bin/python

It starts a local service (with 2-second session tokens, so renewal is exercised), runs the checks
below in that Python (``--client``, which needs nothing but the connector), prints each result
and exits non-zero on the first mismatch.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys


def client(args: dict) -> None:
    """The checks, run inside the Python that has connector 4.x (no aidemo imports here)."""
    import datetime as dt
    import logging
    import time
    from decimal import Decimal

    import snowflake.connector
    from snowflake.connector import DatabaseError, ProgrammingError

    logging.basicConfig(level=logging.WARNING)  # the connector's own complaints, if any
    print("connector", snowflake.connector.__version__)
    utc = dt.timezone.utc  # noqa: UP017 - 4.x runs on Python 3.10 too, which has no dt.UTC
    connect = dict(args, private_key=base64.b64decode(args["private_key"]))
    connection = snowflake.connector.connect(**connect, paramstyle="qmark")
    cur = connection.cursor()

    def check(what, got, expected):
        print(f"{what}: {got!r}")
        if got != expected:
            sys.exit(f"MISMATCH in {what}: expected {expected!r}")

    cur.execute("CREATE SCHEMA C4")
    cur.execute("USE SCHEMA C4")
    cur.execute(
        "CREATE TABLE T (N NUMBER(10,2), I NUMBER(38,0), F FLOAT, S VARCHAR, B BOOLEAN, D DATE, "
        "T TIME, NTZ TIMESTAMP_NTZ, LTZ TIMESTAMP_LTZ)"
    )
    cur.execute(
        "INSERT INTO T VALUES (-1234.5, 12345678901234567, 2.5, 'x', TRUE, '2024-01-02', '03:04:05.123456', "
        "'2024-01-02 03:04:05.123456', '2024-01-02 03:04:05+02:00'), (NULL, NULL, NULL, NULL, FALSE, NULL, "
        "NULL, NULL, NULL)"
    )
    check("insert rowcount", cur.rowcount, 2)
    rows = cur.execute("SELECT * FROM T ORDER BY I NULLS LAST").fetchall()
    check(
        "types",
        rows[0][:8],
        (
            Decimal("-1234.50"),
            12345678901234567,
            2.5,
            "x",
            True,
            dt.date(2024, 1, 2),
            dt.time(3, 4, 5, 123456),
            dt.datetime(2024, 1, 2, 3, 4, 5, 123456),
        ),
    )
    check(
        "timestamp_ltz",
        rows[0][8].astimezone(utc),
        dt.datetime(2024, 1, 2, 1, 4, 5, tzinfo=utc),
    )
    check(
        "nulls and false",
        rows[1],
        (None, None, None, None, False, None, None, None, None),
    )
    variant = cur.execute("SELECT PARSE_JSON('{\"a\": [1, 2]}') AS V, ARRAY_CONSTRUCT(1) AS A").fetchone()
    check("variant, array", [json.loads(v) for v in variant], [{"a": [1, 2]}, [1]])
    cur.execute("UPDATE T SET S = ? WHERE I = ?", ("y'z", 12345678901234567))
    check("update rowcount (qmark binds)", cur.rowcount, 1)
    check(
        "bound read",
        cur.execute("SELECT S FROM T WHERE S = ?", ("y'z",)).fetchall(),
        [("y'z",)],
    )
    cur.executemany("INSERT INTO T (I) VALUES (?)", [(1,), (2,), (3,)])
    check("executemany rowcount", cur.rowcount, 3)
    check("delete rowcount", cur.execute("DELETE FROM T WHERE I < 10").rowcount, 3)
    results = [c.fetchall() for c in connection.execute_string("USE SCHEMA RAW; SELECT COUNT(*) FROM C4.T")]
    check("execute_string", results[-1], [(2,)])
    try:
        cur.execute("SELECT * FROM NO_SUCH_TABLE")
        sys.exit("MISMATCH: an unknown table did not fail")
    except ProgrammingError as exc:
        check("unknown table errno, sqlstate", (exc.errno, exc.sqlstate), (2003, "42S02"))
    try:
        cur.execute("SELEC 1")
        sys.exit("MISMATCH: a syntax error did not fail")
    except ProgrammingError as exc:
        check("syntax error errno", exc.errno, 1003)
    time.sleep(2.5)  # the service runs with 2-second session tokens: the connector must renew its own
    check(
        "query after the session token expired",
        cur.execute("SELECT 1").fetchall(),
        [(1,)],
    )
    connection.close()
    check("closed", connection.is_closed(), True)
    try:
        snowflake.connector.connect(**dict(connect, user="NOBODY"))
        sys.exit("MISMATCH: an unknown user logged in")
    except DatabaseError as exc:
        check("unknown user errno", exc.errno, 390144)
    print("connector 4.x: all checks passed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", help="a Python interpreter that has snowflake-connector-python 4.x")
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.client:
        client(json.loads(sys.stdin.read()))
        return
    if not options.python:
        parser.error("--python is required (see the module docstring for a throw-away venv)")

    from cryptography.hazmat.primitives import serialization

    from aidemo.local.process.home import ACCOUNT, DATABASE, ROLE, SCHEMA, USER
    from bench.service import fresh_backend

    os.environ["AIDEMO_LOCAL_SESSION_TTL_S"] = "2"  # read by the service at start
    with fresh_backend() as backend:
        home = backend.home
        key = serialization.load_pem_private_key(home.user_key.read_bytes(), password=None)
        der = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        args = {
            "account": ACCOUNT,
            "user": USER,
            "host": "127.0.0.1",
            "port": int(home.port_file.read_text()),
            "protocol": "https",
            "private_key": base64.b64encode(der).decode(),
            "database": DATABASE,
            "schema": SCHEMA,
            "role": ROLE,
            "warehouse": "LOCAL_WH",
        }
        # 4.x trusts REQUESTS_CA_BUNDLE only (not SSL_CERT_FILE).
        env = dict(os.environ, REQUESTS_CA_BUNDLE=str(home.trust_bundle))
        done = subprocess.run(
            [options.python, os.path.abspath(__file__), "--client"],
            input=json.dumps(args),
            text=True,
            env=env,
            check=False,
        )
    sys.exit(done.returncode)


if __name__ == "__main__":
    main()
