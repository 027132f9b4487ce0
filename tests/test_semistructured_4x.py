"""Semi-structured results read by connector 4.x (4.8.1) and Snowpark, in Arrow and JSON, from a venv
of their own (tests/connector4x.py), in a child process pointed at the session's service."""

from __future__ import annotations

import json
import textwrap

from tests import connector4x

QUERY = (
    "SELECT PARSE_JSON('{\"a\": [1, {\"b\": null}]}') AS V, OBJECT_CONSTRUCT('k', 1) AS O, "
    "ARRAY_CONSTRUCT(1, 'x') AS A, "
    "PARSE_JSON('{\"a\": 5}'):a::int AS I"
)
SCRIPT = textwrap.dedent(
    """
    import base64, json, sys
    import snowflake.connector
    from snowflake.snowpark import Session
    args = json.loads(sys.stdin.read())
    connect = dict(args["connect"], private_key=base64.b64decode(args["connect"]["private_key"]))
    cur = snowflake.connector.connect(**connect).cursor()
    report = {}
    for fmt in ("ARROW", "JSON"):
        cur.execute(f"ALTER SESSION SET PYTHON_CONNECTOR_QUERY_RESULT_FORMAT = '{fmt}'")
        row = cur.execute(args["query"]).fetchone()
        report[fmt] = {"format": cur._query_result_format, "row": list(row),
                       "types": [d.type_code for d in cur.description]}
    session = Session.builder.configs(connect).create()
    report["snowpark"] = list(session.sql(args["query"]).collect()[0])
    session.close()
    print(json.dumps(report))
    """
)


def test_4x_and_snowpark_read_variant_object_and_array(local_home):
    out = connector4x.run(local_home, ["-c", SCRIPT], {"query": QUERY})
    report = json.loads(out.splitlines()[-1])
    for fmt in ("ARROW", "JSON"):
        assert report[fmt]["format"] == fmt.lower()
        v, o, a, i = report[fmt]["row"]
        assert [json.loads(v), json.loads(o), json.loads(a), i] == [{"a": [1, {"b": None}]}, {"k": 1}, [1, "x"], 5]
        assert report[fmt]["types"] == [5, 9, 10, 0]  # VARIANT, OBJECT, ARRAY, FIXED
    v, o, a, i = report["snowpark"]
    assert [json.loads(v), json.loads(o), json.loads(a), i] == [{"a": [1, {"b": None}]}, {"k": 1}, [1, "x"], 5]
