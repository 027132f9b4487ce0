"""Exactly-once streaming of orders and items through the real SDK and the local service
(exactly-once and resuming also on the Snowflake backend: ``own_backend``)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from aidemo.data.dates import FIXED, OrderDates
from aidemo.data.generator import InstanceSpec, first_item_id, order_batch, order_of_item
from aidemo.data.models import SEGMENTS
from aidemo.errors import ConfigError
from aidemo.stream.offsets import item_token, order_token, parse_item_token, parse_order_dates, parse_order_token
from aidemo.stream.options import StreamOptions
from aidemo.stream.streaming import Streamer
from tests.helpers import committed_tokens, job_dates

SEED, CUSTOMERS = 42, 20_000
SPEC = InstanceSpec.single(SEED, CUSTOMERS)
FAST = StreamOptions(batch_size=100, max_client_lag=0.2, commit_timeout=60)


def table(backend, name: str, key: str) -> pd.DataFrame:
    return backend.sql(f"SELECT * FROM RAW.{name} ORDER BY {key}").reset_index(drop=True)


def assert_exact(backend, num_orders: int, dates: OrderDates | None = None) -> None:
    """ORDERS holds exactly orders 1..N once and ORDER_ITEMS exactly their items, equal to the generator's
    (dated by ``dates``, by default as the orders channel's committed token says)."""
    batch = order_batch(SPEC, 1, num_orders, dates or job_dates(backend))
    orders, items = table(backend, "ORDERS", "ORDER_ID"), table(backend, "ORDER_ITEMS", "ORDER_ITEM_ID")
    expected_orders, expected_items = batch.orders_frame(), batch.items_frame()
    assert orders["ORDER_ID"].tolist() == list(range(1, num_orders + 1))
    assert items["ORDER_ITEM_ID"].tolist() == list(range(1, batch.last_item_id + 1))
    pd.testing.assert_frame_equal(orders, expected_orders, check_dtype=False)
    pd.testing.assert_frame_equal(items, expected_items, check_dtype=False)


def commit_by_hand(backend, orders_upto: int, items_upto: int) -> None:
    """Leave the channels as a crashed run would: orders and items committed up to different ids."""
    batch = order_batch(SPEC, 1, max(orders_upto, order_of_item(SPEC, items_upto)[0]))
    for pipe, channel, rows, upto, token in (
        ("ORDERS_PIPE", "orders_channel", batch.order_rows()[:orders_upto], orders_upto, order_token),
        ("ORDER_ITEMS_PIPE", "order_items_channel", batch.item_rows()[:items_upto], items_upto, item_token),
    ):
        client = backend.create_client(f"byhand_{channel}", pipe)
        ch, _ = client.open_channel(channel)
        ch.append_rows(rows, token(1), token(upto))
        want = token(upto)
        ch.wait_for_commit(lambda t, want=want: t == want, 30)
        client.close()


def test_stream_commits_every_order_and_item_once(own_backend):
    streamer = Streamer(own_backend, SPEC, 500, FAST)
    stats = streamer.run()
    assert (stats.orders_committed, stats.orders_sent) == (500, 500)
    assert stats.items_committed == stats.items_sent == first_item_id(SPEC, 501) - 1
    assert streamer.dates.mode == "live"  # the default: dated in the minutes before the job started
    assert stats.last_order_token == order_token(500, streamer.dates)
    assert_exact(own_backend, 500, streamer.dates)

    # The same job again is complete: nothing is sent twice.
    again = Streamer(own_backend, SPEC, 500, FAST).run()
    assert (again.orders_sent, again.items_sent) == (0, 0)
    # A bigger job continues after the committed tokens.
    more = Streamer(own_backend, SPEC, 800, FAST).run()
    assert more.orders_sent == 300
    assert_exact(own_backend, 800)


@pytest.mark.parametrize("orders_upto, items_upto", [(300, 100), (40, 400)])
def test_each_channel_resumes_from_its_own_token(own_backend, orders_upto, items_upto):
    commit_by_hand(own_backend, orders_upto, items_upto)
    streamer = Streamer(own_backend, SPEC, 500, FAST)
    stats = streamer.run()
    assert stats.orders_sent == 500 - orders_upto
    assert stats.items_sent == first_item_id(SPEC, 501) - 1 - items_upto
    assert streamer.dates == FIXED  # the orders committed by hand carry no dates: fixed, as they were made
    assert_exact(own_backend, 500, FIXED)


@pytest.mark.parametrize("mode", ["live", "year"])
def test_a_resumed_job_dates_its_orders_as_it_started(demo_db, mode):
    """Stopped midway, then rerun later: the rerun reads the job's epoch from the committed token."""
    started, rerun = dt.datetime(2026, 12, 4, 19, 47, 12), dt.datetime(2026, 12, 5, 8, 0, 0)
    options = StreamOptions(batch_size=100, max_client_lag=0.2, rate=1_000, order_dates=mode)
    first = Streamer(demo_db, SPEC, 2_000, options, epoch=started)
    stats = first.run(lambda st: first.stop() if st.orders_committed >= 300 else None)
    assert stats.stopped and 300 <= stats.orders_committed < 2_000
    assert parse_order_dates(committed_tokens(demo_db)["orders_channel"]) == OrderDates(mode, started)

    again = Streamer(demo_db, SPEC, 2_000, StreamOptions(batch_size=500, order_dates="fixed"), epoch=rerun)
    assert again.dates == OrderDates(mode, started)  # neither the rerun's start nor its setting
    resumed = again.run()
    assert resumed.orders_resumed == stats.orders_committed and resumed.orders_committed == 2_000
    assert_exact(demo_db, 2_000, OrderDates(mode, started))
    window = demo_db.sql("SELECT MIN(ORDER_DATE) AS FIRST, MAX(ORDER_DATE) AS LAST FROM RAW.ORDERS")
    span = dt.timedelta(minutes=15) if mode == "live" else dt.timedelta(days=365)
    assert window["FIRST"][0] >= started - span and window["LAST"][0] < started


def test_max_client_lag_decides_when_rows_leave_the_kit(demo_db):
    # 120 orders at 20/s take at least 6 s; a batch never fills, so only the 2 s lag flushes them
    # (and the end of the job): each flush before the last holds rows that waited out the lag.
    records = []
    streamer = Streamer(
        demo_db,
        SPEC,
        120,
        StreamOptions(batch_size=10_000, max_client_lag=2, rate=20),
        on_flush=lambda record: records.append(record) if record.lane == "orders" else None,
    )
    stats = streamer.run()
    assert stats.orders_committed == 120
    assert [r.first_id for r in records[1:]] == [r.last_id + 1 for r in records[:-1]] and records[-1].last_id == 120
    by_lag = records[:-1]
    assert len(by_lag) >= 2, records
    assert all(r.handed_at - r.generated_at >= 1.9 for r in by_lag), records  # none left before the lag


def test_bad_options_are_refused():
    with pytest.raises(ConfigError, match="batch_size"):
        StreamOptions(batch_size=0)
    with pytest.raises(ConfigError, match="max_client_lag"):
        StreamOptions(max_client_lag=0)
    with pytest.raises(ConfigError, match="rate"):
        StreamOptions(rate=-1)


def committed(backend) -> tuple[int, int]:
    tokens = committed_tokens(backend)
    return (
        parse_order_token(tokens.get("orders_channel")) or 0,
        parse_item_token(tokens.get("order_items_channel")) or 0,
    )


@pytest.mark.slow
def test_sigkill_at_any_point_then_rerun_is_exact(demo_db, tmp_path):
    """`aidemo stream` killed with SIGKILL in several phases, rerun until done: exactly once."""
    n = 3000
    env = dict(os.environ, **demo_db.child_environment())
    cmd = [
        sys.executable,
        "-m",
        "aidemo.cli",
        "stream",
        str(n),
        "--batch-size",
        "50",
        "--max-client-lag",
        "0.2",
        "--rate",
        "600",
        "--seed",
        str(SEED),
        "--no-progress",
    ]
    items_total = first_item_id(SPEC, n + 1) - 1

    def items_lag(o, i):  # items committed belong to orders before the last committed order
        return 0 < i < first_item_id(SPEC, o + 1) - 1

    phases = [
        ("starting", lambda o, i, t: t > 0.3),
        ("first commit", lambda o, i, t: o > 0),
        ("items behind orders", lambda o, i, t: items_lag(o, i)),
        ("midway", lambda o, i, t: o >= n // 2),
        ("items behind orders again", lambda o, i, t: o > n // 2 and items_lag(o, i)),
        ("near the end", lambda o, i, t: o >= n - 200),
    ]
    seen = []
    for phase, due in phases:
        proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        started = time.monotonic()
        try:
            while proc.poll() is None and time.monotonic() - started < 60:
                o, i = committed(demo_db)
                if due(o, i, time.monotonic() - started):
                    break
                time.sleep(0.02)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        seen.append((phase, o, i))  # what was committed when the kill was decided
        counts = demo_db.sql(
            "SELECT (SELECT COUNT(*) - COUNT(DISTINCT ORDER_ID) FROM RAW.ORDERS) AS DUP_ORDERS, "
            "(SELECT COUNT(*) - COUNT(DISTINCT ORDER_ITEM_ID) FROM RAW.ORDER_ITEMS) AS DUP_ITEMS"
        )
        assert counts.values.tolist() == [[0, 0]], seen

    assert any(items_lag(o, i) for _, o, i in seen), f"never caught items behind orders: {seen}"
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert committed(demo_db) == (n, items_total)
    assert_exact(demo_db, n)


def test_a_fenced_channel_is_reopened_and_replayed(demo_db):
    """Another writer opens the items channel mid-stream: the stream reopens it and replays exactly."""
    streamer = Streamer(demo_db, SPEC, 3000, StreamOptions(batch_size=100, max_client_lag=0.2, rate=1500))
    intruder = demo_db.create_client("intruder", "ORDER_ITEMS_PIPE")
    fenced = []

    def fence(stats):
        if not fenced and stats.items_committed > 500:
            fenced.append(intruder.open_channel("order_items_channel"))

    stats = streamer.run(fence)
    intruder.close()
    assert fenced and stats.reopens >= 1
    assert_exact(demo_db, 3000)


def test_rows_in_flight_stay_within_max_in_flight(demo_db):
    """With commits a second late, the stream waits for them rather than piling rows up in the SDK."""
    demo_db.fault_control().set("delay_commits", seconds=60, delay=1.0)
    options = StreamOptions(batch_size=100, max_client_lag=0.2, max_in_flight=1_000)
    handed = []  # rows a lane has handed over beyond what the stream has seen committed
    streamer = Streamer(
        demo_db,
        SPEC,
        2_000,
        options,
        on_flush=lambda record: handed.append(
            record.last_id - (stats.orders_committed if record.lane == "orders" else stats.items_committed)
        ),
    )
    stats = streamer.stats
    streamer.run()
    assert_exact(demo_db, 2_000)
    # Without the bound all ~6,800 items are in flight at once.
    assert max(handed) <= options.max_in_flight + options.batch_size * max(s.max_items for s in SEGMENTS), handed
