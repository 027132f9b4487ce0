"""Parallel streaming: the split, a multi-instance run with exact tables, and a crash midway."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import warnings

import pandas as pd
import pytest

from aidemo.errors import ConfigError
from aidemo.stream.options import StreamOptions
from aidemo.stream.parallel import plan, run_parallel
from tests.helpers import expected_tables, job_dates

SEED, CUSTOMERS = 7, 20_000
FAST = StreamOptions(batch_size=100, max_client_lag=0.2, commit_timeout=60)


@pytest.mark.parametrize("total, n", [(1_000_000, 5), (10_000_000, 10), (17, 5), (1_001, 7)])
def test_plan_is_disjoint_complete_and_balanced(total, n):
    slices = plan(total, n, seed=SEED, num_customers=CUSTOMERS)
    counts = [count for _, count in slices]
    assert sum(counts) == total and max(counts) - min(counts) <= 1
    order_ranges = [(spec.order_base, spec.order_base + count - 1) for spec, count in slices]
    assert order_ranges[0][0] == 1 and order_ranges[-1][1] == total
    assert all(a[1] + 1 == b[0] for a, b in zip(order_ranges, order_ranges[1:]))
    customers = [(spec.customer_lo, spec.customer_hi) for spec, _ in slices]
    assert customers[0][0] == 1 and customers[-1][1] == CUSTOMERS
    assert all(a[1] + 1 == b[0] for a, b in zip(customers, customers[1:]))
    assert [spec.instance for spec, _ in slices] == list(range(n))
    assert plan(total, n, seed=SEED, num_customers=CUSTOMERS) == slices  # a pure function


def test_plan_minds_the_channels_per_pipe_limit():
    with pytest.raises(ConfigError, match="2000 per pipe"):
        plan(10_000, 2001, seed=SEED, num_customers=CUSTOMERS)
    with pytest.warns(UserWarning, match="close to Snowflake's limit"):
        plan(10_000, 1900, seed=SEED, num_customers=CUSTOMERS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plan(10_000, 100, seed=SEED, num_customers=CUSTOMERS)


def assert_exact(backend, total: int, n: int) -> None:
    orders, items = expected_tables(backend, plan(total, n, seed=SEED, num_customers=CUSTOMERS))
    got_orders = backend.sql("SELECT * FROM RAW.ORDERS ORDER BY ORDER_ID")
    got_items = backend.sql("SELECT * FROM RAW.ORDER_ITEMS ORDER BY ORDER_ITEM_ID")
    pd.testing.assert_frame_equal(got_orders, orders, check_dtype=False)
    pd.testing.assert_frame_equal(got_items, items, check_dtype=False)


@pytest.mark.parametrize("processes", [False, True], ids=["threads", "processes"])
def test_five_instances_stream_the_job_exactly_once(own_backend, processes):
    result = run_parallel(
        2_000, 5, backend=own_backend, seed=SEED, num_customers=CUSTOMERS, options=FAST, processes=processes
    )
    assert result.errors == {}
    assert [s.orders_committed for s in result.stats] == [400] * 5
    assert_exact(own_backend, 2_000, 5)
    # One job, one start: every instance dates its orders from the same epoch.
    dates = {job_dates(own_backend, f"orders_channel_{i}") for i in range(5)}
    assert len(dates) == 1 and dates.pop().mode == "live"
    channels = own_backend.sql(f"SHOW CHANNELS IN SCHEMA {own_backend.database}.RAW")
    assert sorted(channels["name"]) == sorted(
        [f"orders_channel_{i}" for i in range(5)] + [f"order_items_channel_{i}" for i in range(5)]
    )


def test_one_slice_at_a_time_finishes_the_same_job(demo_db):
    for k in (3, 0, 4, 1, 2):  # as N machines would, in any order
        result = run_parallel(1_000, 5, backend=demo_db, seed=SEED, num_customers=CUSTOMERS, options=FAST, only=[k])
        assert [s.instance for s in result.stats] == [k] and not result.errors
    assert_exact(demo_db, 1_000, 5)


def test_another_job_on_the_same_channels_is_refused(demo_db):
    run_parallel(1_000, 2, backend=demo_db, seed=SEED, num_customers=CUSTOMERS, options=FAST)
    result = run_parallel(600, 2, backend=demo_db, seed=SEED, num_customers=CUSTOMERS, options=FAST)
    assert "different job" in result.errors[0]
    assert_exact(demo_db, 1_000, 2)  # nothing was written by the refused job


@pytest.mark.slow
def test_killed_midway_then_rerun_is_exact(demo_db, tmp_path):
    total, n = 6_000, 5
    env = dict(os.environ, **demo_db.child_environment())
    cmd = [
        sys.executable,
        "-m",
        "aidemo.cli",
        "parallel",
        str(total),
        str(n),
        "--batch-size",
        "100",
        "--max-client-lag",
        "0.2",
        "--rate",
        "300",
        "--seed",
        str(SEED),
        "--no-progress",
    ]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            count = demo_db.sql("SELECT COUNT(*) AS N FROM RAW.ORDERS")["N"][0]
            if count >= total // 3:
                break
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert total // 3 <= count < total
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert_exact(demo_db, total, n)
