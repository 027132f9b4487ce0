"""06's data tools against the local service: a background stream watched while it lands, the
orders through the connector's fetch_pandas_all, and the revenue through Snowpark (connector 4.x,
in the venv of tests/connector4x.py)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd
import pytest

from aidemo import run_file
from aidemo.backends.provision import setup
from aidemo.data.customers import generate_customers
from aidemo.data.generator import InstanceSpec, order_batch
from aidemo.notebook import background_stream, orders_frame, watch_orders
from aidemo.stream.options import StreamOptions
from tests import connector4x

SEED, CUSTOMERS, ORDERS = 5, 500, 1_200
CHECKOUT = Path(__file__).resolve().parents[1]


@pytest.fixture
def streamed(demo_db):
    """demo_db with its customers and a job of ORDERS orders streamed while a watch refreshed."""
    setup(demo_db, num_customers=CUSTOMERS, seed=SEED)
    options = StreamOptions(batch_size=100, max_client_lag=0.2, rate=400)
    stream = background_stream(demo_db, ORDERS, options=options, seed=SEED, num_customers=CUSTOMERS)
    watch = watch_orders(demo_db, stream, every=0.5, live=False)
    return demo_db, stream, watch


def expected_orders() -> pd.DataFrame:
    """What the generator made, with each order's customer segment (the job's dates are live)."""
    orders = order_batch(InstanceSpec.single(SEED, CUSTOMERS), 1, ORDERS).orders_frame()
    segments = generate_customers(SEED, CUSTOMERS)[["CUSTOMER_ID", "CUSTOMER_SEGMENT"]]
    return orders.merge(segments, on="CUSTOMER_ID")


def test_the_watch_refreshes_while_the_background_stream_lands(streamed):
    backend, stream, watch = streamed
    assert stream.wait().orders_committed == ORDERS and not stream.running
    history = watch.refreshes
    assert len(history) >= 3 and any(0 < r["orders"] < ORDERS for r in history)  # seen mid-stream
    assert all(r["orders"] >= r["committed"] for r in history)  # what was committed is in the table
    assert [r["orders"] for r in history] == sorted(r["orders"] for r in history) and history[-1]["orders"] == ORDERS
    want = expected_orders().groupby("CUSTOMER_SEGMENT")["TOTAL_AMOUNT"].agg(["count", "sum"])
    got = watch.segments.set_index("CUSTOMER_SEGMENT")
    assert got["ORDERS"].to_dict() == want["count"].to_dict()
    assert got["REVENUE"].to_dict() == pytest.approx(want["sum"].to_dict(), abs=0.005)
    assert int(watch.minutes["ORDERS"].sum()) == ORDERS and len(watch.minutes) <= 16  # a quarter hour of minutes
    assert watch.minutes["MINUTE"].dt.second.eq(0).all()


def test_the_orders_come_to_pandas_through_arrow_with_their_segments(streamed):
    backend, stream, _ = streamed
    stream.wait()
    got = orders_frame(backend)
    assert len(got) == ORDERS and got["ORDER_ID"].tolist() == list(range(1, ORDERS + 1))
    assert str(got["ORDER_ID"].dtype) == "int64" and str(got["ORDER_DATE"].dtype) == "datetime64[ns]"
    assert str(got["TOTAL_AMOUNT"].dtype) == "float64"
    want = expected_orders()
    dates = stream.streamer.dates
    want["ORDER_DATE"] = order_batch(InstanceSpec.single(SEED, CUSTOMERS), 1, ORDERS, dates).orders_frame()[
        "ORDER_DATE"
    ]
    columns = list(got.columns)
    pd.testing.assert_frame_equal(got, want[columns], check_dtype=False)


def test_snowpark_dataframes_give_the_same_revenue(streamed, local_home, monkeypatch):
    """snowpark_revenue in the 4.x venv (Snowpark 1.56), at the same database: the SQL file's figures."""
    backend, stream, _ = streamed
    stream.wait()
    script = (
        "import json, sys\n"
        "from aidemo.backends.sqlclient import Endpoint\n"
        "from aidemo.notebook.analytics import snowpark_revenue\n"
        "args = json.load(sys.stdin)\n"
        "class Backend:  # what snowpark_revenue reads of a backend\n"
        "    database, schema = args['database'], args['schema']\n"
        "    def endpoint(self):\n"
        "        return Endpoint(**args['endpoint'])\n"
        "print(snowpark_revenue(Backend()).to_json(orient='records'))\n"
    )
    monkeypatch.setenv("PYTHONPATH", str(CHECKOUT))  # the kit's code, beside the venv's Snowpark and connector
    endpoint = dataclasses.asdict(backend.endpoint())
    out = connector4x.run(
        local_home, ["-c", script], {"endpoint": endpoint, "database": backend.database, "schema": backend.schema}
    )
    rows = json.loads(out.strip().splitlines()[-1])
    sql = run_file("analytics/revenue_by_segment.sql", backend)
    assert [r["CUSTOMER_SEGMENT"] for r in rows] == sql["CUSTOMER_SEGMENT"].tolist()  # by revenue, highest first
    assert [r["ORDERS"] for r in rows] == sql["ORDERS"].tolist()
    assert [r["REVENUE"] for r in rows] == pytest.approx(sql["REVENUE"].tolist(), abs=0.005)
