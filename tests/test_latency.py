"""Latency measurement: the arithmetic on synthetic timings, the plots, and a short run through the real SDK."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from aidemo.errors import ConfigError
from aidemo.measure import latency, plots
from aidemo.measure.stats import FlushRecord
from tests.helpers import demo_database

START = 100.0


def synthetic_trace() -> latency.Trace:
    """Two order batches and one item batch with known times (seconds after START)."""
    trace = latency.Trace()
    trace.flushes["orders"] += [
        FlushRecord("o", "orders", 0, 1, 10, 10, START + 0.0, START + 1.0),
        FlushRecord("o", "orders", 0, 11, 20, 10, START + 1.0, START + 2.5),
    ]
    trace.flushes["items"] += [FlushRecord("i", "items", 0, 1, 30, 30, START + 0.0, START + 1.0)]
    for value, at in ((5, 1.5), (10, 2.0), (10, 2.2), (20, 4.0)):
        trace.committed["orders"].see(value, START + at)
    trace.committed["items"].see(30, START + 3.0)
    for value, at in ((None, 1.0), (10, 1.8), (20, 3.1)):
        trace.queryable["orders"].see(value, START + at)
    trace.queryable["items"].see(29, START + 2.0)  # the item batch's last id never shows
    return trace


def test_watermark_keeps_the_first_time_each_id_is_reached():
    mark = latency.Watermark()
    for value, at in ((3, 1.0), (3, 2.0), (None, 2.5), (7, 3.0), (5, 4.0), (9, 5.0)):
        mark.see(value, at)
    assert (mark.values, mark.times) == ([3, 7, 9], [1.0, 3.0, 5.0])
    assert [mark.reached(i) for i in (1, 3, 4, 7, 8, 9)] == [1.0, 1.0, 3.0, 3.0, 5.0, 5.0]
    assert math.isnan(mark.reached(10))
    assert mark.last == 9


def test_batch_frame_times_each_batch_by_its_last_id():
    frame = latency.batch_frame(synthetic_trace(), START)
    orders = frame[frame["lane"] == "orders"].reset_index(drop=True)
    assert orders[["first_id", "last_id", "rows"]].values.tolist() == [[1, 10, 10], [11, 20, 10]]
    assert orders[["generated", "handed", "committed", "queryable"]].values.tolist() == [
        pytest.approx([0.0, 1.0, 2.0, 1.8]),
        pytest.approx([1.0, 2.5, 4.0, 3.1]),
    ]
    assert orders[list(latency.LATENCIES)].values.tolist() == [
        pytest.approx([1.0, 2.0, 1.8]),
        pytest.approx([1.5, 3.0, 2.1]),
    ]
    items = frame[frame["lane"] == "items"].iloc[0]
    assert items["committed_s"] == pytest.approx(3.0)
    assert math.isnan(items["queryable_s"])


def test_stage_durations_add_up_to_the_end_to_end_latency():
    frame = latency.batch_frame(synthetic_trace(), START)
    stages = latency.stage_durations(frame)
    assert list(stages.columns) == ["buffered", "committing", "visible"]
    resolved = frame["queryable_s"].notna()
    np.testing.assert_allclose(stages[resolved].sum(axis=1), frame.loc[resolved, "queryable_s"])
    np.testing.assert_allclose(stages["buffered"], frame["handed_s"])
    np.testing.assert_allclose(stages["buffered"] + stages["committing"], frame["committed_s"])
    # A query that sees rows before the SDK reports the commit makes the last stage negative.
    assert stages["visible"][frame["lane"] == "orders"].tolist() == pytest.approx([-0.2, -0.9])


def test_percentiles_interpolate_and_skip_missing_values():
    values = [float(v) for v in range(100, 0, -1)] + [math.nan]
    assert latency.percentile_table(values) == pytest.approx({"p50": 50.5, "p95": 95.05, "p99": 99.01})
    assert latency.percentile_table([4.0]) == {"p50": 4.0, "p95": 4.0, "p99": 4.0}
    assert all(math.isnan(v) for v in latency.percentile_table([math.nan]).values())


def synthetic_batches(lag: float, size: int, latencies: list[float]) -> pd.DataFrame:
    """Order batches of 100 rows flushed every `lag` seconds, committed `latency` after generation."""
    n = len(latencies)
    generated = np.arange(n) * lag
    committed = generated + np.array(latencies)
    return pd.DataFrame(
        {
            "backend": "local",
            "max_client_lag": lag,
            "batch_size": size,
            "rate": 100.0,
            "run": 1,
            "lane": "orders",
            "first_id": np.arange(n) * 100 + 1,
            "last_id": np.arange(1, n + 1) * 100,
            "rows": 100,
            "generated": generated,
            "handed": generated + lag,
            "committed": committed,
            "queryable": committed + 0.1,
            "handed_s": lag,
            "committed_s": latencies,
            "queryable_s": np.array(latencies) + 0.1,
        }
    )


def test_summary_has_one_row_per_setting_with_percentiles_and_throughput():
    batches = pd.concat([synthetic_batches(5.0, 1000, [6.0, 7.0, 8.0]), synthetic_batches(1.0, 100, [2.0] * 4)])
    summary = latency.summarize(batches)
    assert summary[["max_client_lag", "batch_size", "batches", "orders"]].values.tolist() == [
        [1.0, 100, 4, 400],
        [5.0, 1000, 3, 300],
    ]
    slow = summary.iloc[1]
    assert (slow.committed_p50, slow.committed_p99) == pytest.approx((7.0, 7.98))
    assert slow.queryable_p50 == pytest.approx(7.1)
    assert slow.orders_per_s == pytest.approx(300 / (10.0 + 8.0))  # last commit at 18 s
    assert summary["unresolved"].tolist() == [0, 0]


def test_number_lists_name_the_option_when_wrong():
    assert latency.parse_numbers("--lags", "1, 2.5,10", float) == [1.0, 2.5, 10.0]
    assert latency.parse_numbers("--batch-sizes", "100,1000", int) == [100, 1000]
    for text in ("", "1,x", "1.5"):
        with pytest.raises(ConfigError, match="--batch-sizes"):
            latency.parse_numbers("--batch-sizes", text, int)


def test_plots_draw_what_the_frames_hold(tmp_path):
    batches = pd.concat([synthetic_batches(5.0, 1000, [6.0, 8.0, 7.0]), synthetic_batches(1.0, 100, [2.0, 2.5])])
    summary = latency.summarize(batches)
    figure = plots.figure_class()()
    ax = figure.add_subplot()

    lines = plots.latency_distribution(ax, batches)
    assert [line.get_label() for line in lines] == ["lag 1 s, batch 100", "lag 5 s, batch 1,000"]
    assert list(lines[1].get_xdata()) == [6.0, 7.0, 8.0] and lines[1].get_ydata()[-1] == 1.0

    bars = plots.stage_breakdown(figure.add_subplot(), summary)
    assert len(bars) == len(latency.LATENCIES)
    assert [b.get_height() for b in bars[1]] == pytest.approx(summary["committed_p50"].tolist())

    artists = plots.lag_vs_latency(figure.add_subplot(), summary)
    assert list(artists[-1].get_xdata()) == list(artists[-1].get_ydata()) == [0, 5.0]
    assert len(artists) == 2 * summary["batch_size"].nunique() + 1

    fast, slow = plots.throughput_over_time(figure.add_subplot(), batches)
    assert sum(fast.get_ydata()) == sum(slow.get_ydata()) / 1.5 == 200  # every order counted once, 1 s bins
    with pytest.raises(ConfigError, match="stage"):
        plots.latency_distribution(ax, batches, stage="nope")

    paths = plots.write_figures(batches, summary, tmp_path)
    assert [p.name for p in paths] == [
        "latency_distribution.png",
        "latency_stages.png",
        "throughput.png",
        "lag_vs_latency.png",
    ]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in paths)


@pytest.fixture(scope="module")
def latency_db(local_home):
    """The demo's objects in a database of their own: latency runs must not share pipes or flush ticks
    with other streams."""
    with demo_database(local_home, "AI_LATENCY") as backend:
        yield backend


@pytest.mark.slow
def test_measured_latency_follows_the_max_client_lag(latency_db):
    # 200 orders/s never fill a batch of 10,000 orders: only the lag flushes. A 5-s flush of
    # items stays under ~1 MB, so the SDK keeps rowset mode (file mode needs the process's
    # first local CA, and another module may have started a service first).
    rate, duration = 200, 10
    runs = {
        lag: latency.measure(latency_db, max_client_lag=lag, batch_size=10_000, duration=duration, rate=rate)
        for lag in (1.0, 5.0)
    }
    fast, slow = runs[1.0], runs[5.0]
    for frame in runs.values():
        assert frame[list(latency.LATENCIES)].notna().all().all(), frame
        for lane, total in (("orders", rate * duration), ("items", None)):
            ids = frame[frame["lane"] == lane].sort_values("first_id")
            assert (ids["first_id"].iloc[1:].to_numpy() == ids["last_id"].iloc[:-1].to_numpy() + 1).all()
            assert total is None or ids["rows"].sum() == total
    # Each run streamed ids of its own, after the previous run's, on channels it dropped afterwards.
    assert slow["first_id"][slow["lane"] == "orders"].min() == fast["last_id"][fast["lane"] == "orders"].max() + 1
    channels = latency_db.sql(f"SHOW CHANNELS IN SCHEMA {latency_db.database}.RAW")
    assert not [name for name in channels.get("name", []) if "latency" in name]

    summary = latency.summarize(pd.concat([fast, slow])).set_index("max_client_lag")
    # Nothing is committed or queryable before its lag is spent; how long after is bench/latency.py's figure.
    for lag in (1.0, 5.0):
        assert lag <= summary.loc[lag, "queryable_p99"] and lag <= summary.loc[lag, "committed_p99"], summary.T
    assert summary.loc[5.0, "committed_p50"] > summary.loc[1.0, "committed_p50"], summary.T
    assert (summary["orders"] == rate * duration).all(), summary.T


def test_each_batch_is_timed_on_either_backend(own_backend):
    """A short run on each backend: every batch of both lanes resolved, ids contiguous, every order counted."""
    rate, duration = 200, 3
    frame = latency.measure(own_backend, max_client_lag=1.0, batch_size=10_000, duration=duration, rate=rate)
    assert frame[list(latency.LATENCIES)].notna().all().all(), frame
    for lane in ("orders", "items"):
        ids = frame[frame["lane"] == lane].sort_values("first_id")
        assert len(ids) and (ids["first_id"].iloc[1:].to_numpy() == ids["last_id"].iloc[:-1].to_numpy() + 1).all()
    assert frame[frame["lane"] == "orders"]["rows"].sum() == rate * duration
