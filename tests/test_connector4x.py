"""Connector 4.x (4.8.1) and Snowpark read the local service's Arrow results, JSON when asked, and chunks.

They run in a venv of their own (tests/connector4x.py makes it once, in .venv-c4/), in a child
process pointed at the session's service as an app would be: 4.x trusts REQUESTS_CA_BUNDLE only.
"""

from __future__ import annotations

import json

import pytest

from tests import connector4x
from tests.test_arrow_results import ARROW_TYPES, JSON, LARGE, ROW, ROWS, TYPES, VALUES

# cursor.description type codes: FIXED, REAL, TEXT, BOOLEAN, DATE, TIME, TIMESTAMP_NTZ, TIMESTAMP_LTZ, BINARY
_CODES = [0, 0, 0, 1, 2, 13, 3, 12, 8, 6, 11]


@pytest.fixture(scope="module")
def report(local_home) -> dict:
    """What 4.x and Snowpark read from the service, as tests/connector4x.py reports it."""
    args = {"schema": "C4X", "types": TYPES, "values": VALUES, "large": LARGE, "json": JSON}
    return json.loads(connector4x.run(local_home, [connector4x.__file__], args))


def test_4x_reads_every_type_from_arrow(report):
    assert report["version"] == "4.8.1" and report["format"] == "arrow"
    assert report["rows"] == [[connector4x.plain(v) for v in ROW], [["NoneType", "None"]] * len(ROW)]
    assert [d[0] for d in report["description"]] == _CODES
    assert report["description"][:3] == [[0, 10, 2], [0, 38, 0], [0, 38, 2]]


def test_4x_fetch_arrow_all_and_pandas_keep_the_types(report):
    assert report["arrow"] == ARROW_TYPES
    pandas = report["pandas"]
    assert (pandas["N"], pandas["I"], pandas["NTZ"], pandas["LTZ"]) == (
        "float64",
        "float64",  # the column holds a NULL
        "datetime64[ns]",
        "datetime64[ns, UTC]",
    )


def test_4x_reads_json_when_asked(report):
    assert report["json"]["format"] == "json" and report["json"]["rows"] == report["rows"]


def test_4x_fetches_a_chunked_result_whole(report):
    last = [["int", str(ROWS - 1)], ["str", f"row {ROWS - 1}"], ["Decimal", f"{(ROWS - 1) / 100:.2f}"]]
    assert report["large"] == {"rows": ROWS, "ids": ROWS * (ROWS - 1) // 2, "last": last}
    assert report["large_json"] == {"format": "json", "rows": ROWS, "ids": ROWS * (ROWS - 1) // 2}
    assert report["large_pandas"] == {
        "rows": ROWS,
        "ids": ROWS * (ROWS - 1) // 2,
        "dtypes": ["int64", "object", "float64"],
    }


def test_snowpark_to_pandas_reads_arrow(report):
    snowpark = report["snowpark"]
    assert snowpark["json_fallback"] == []  # Snowpark logs it when the result is JSON:
    assert snowpark["json_fallback_when_asked"]
    assert snowpark["dtypes"]["S"] in ("object", "str")  # text, as the venv's pandas holds it
    assert snowpark["dtypes"] | {"S": "text"} == {
        "N": "float64",
        "I": "float64",
        "BIG": "float64",
        "F": "float64",
        "S": "text",
        "B": "object",
        "D": "object",
        "T": "object",
        "NTZ": "datetime64[ns]",
        "LTZ": "datetime64[ns, UTC]",
        "BI": "object",
    }
    assert snowpark["first"][:2] == [["float64", "-1234.5"], ["float64", "1.2345678901234568e+16"]]
