"""Order dates: live, over the past year, or fixed; a pure function of (seed, instance, id, epoch)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from aidemo.data.dates import FIXED, LIVE_WINDOW_MINUTES, OrderDates, utc_now
from aidemo.data.generator import InstanceSpec, order_batch, split_instances
from aidemo.data.models import ORDER_EPOCH
from aidemo.errors import ConfigError, OffsetTokenError
from aidemo.settings import Settings
from aidemo.stream.offsets import order_token, parse_order_dates, parse_order_token
from aidemo.stream.options import StreamOptions

SPEC = InstanceSpec.single(42, 20_000)
EPOCH = dt.datetime(2026, 12, 4, 19, 47, 12)


def dates_of(dates: OrderDates, count: int = 5_000, spec: InstanceSpec = SPEC) -> pd.Series:
    return order_batch(spec, spec.order_base, count, dates).orders_frame()["ORDER_DATE"]


@pytest.mark.parametrize("mode", ["live", "year", "fixed"])
def test_same_seed_and_epoch_give_identical_rows(mode):
    dates = OrderDates.for_job(mode, EPOCH)
    whole = order_batch(SPEC, 1, 3_000, dates)
    again = OrderDates.for_job(mode, dt.datetime(2026, 12, 4, 19, 47, 12))  # the same epoch, read back
    parts = [order_batch(SPEC, first, 1_000, again) for first in (1, 1_001, 2_001)]
    assert sum((p.order_rows() for p in parts), []) == whole.order_rows()
    pd.testing.assert_frame_equal(pd.concat([p.orders_frame() for p in parts], ignore_index=True), whole.orders_frame())


def test_fixed_is_the_default_and_ends_at_the_order_epoch():
    assert order_batch(SPEC, 1, 500).order_rows() == order_batch(SPEC, 1, 500, FIXED).order_rows()
    fixed = dates_of(FIXED)
    assert fixed.max() < pd.Timestamp(ORDER_EPOCH) and fixed.min() >= pd.Timestamp(ORDER_EPOCH - dt.timedelta(365))


@pytest.mark.parametrize("mode", ["live", "year"])
def test_another_epoch_shifts_every_date_by_the_difference(mode):
    later = EPOCH + dt.timedelta(hours=5, seconds=7)
    before, after = dates_of(OrderDates(mode, EPOCH)), dates_of(OrderDates(mode, later))
    assert ((after - before) == pd.Timedelta(hours=5, seconds=7)).all()
    # The rest of each order is the same.
    rows = order_batch(SPEC, 1, 200, OrderDates(mode, EPOCH)).orders_frame().drop(columns="ORDER_DATE")
    moved = order_batch(SPEC, 1, 200, OrderDates(mode, later)).orders_frame().drop(columns="ORDER_DATE")
    pd.testing.assert_frame_equal(rows, moved)


def test_live_dates_lie_in_the_minutes_before_the_epoch():
    for spec, count in split_instances(7, 9_000, 3, 20_000):
        live = dates_of(OrderDates("live", EPOCH), count, spec)
        assert live.min() >= pd.Timestamp(EPOCH - dt.timedelta(minutes=LIVE_WINDOW_MINUTES))
        assert live.max() < pd.Timestamp(EPOCH)
        # Every minute the window touches (19:32:12 to 19:47:12: 16 of them) has orders.
        assert live.dt.floor("min").nunique() == LIVE_WINDOW_MINUTES + 1
    rows = order_batch(SPEC, 1, 2_000, OrderDates("live", EPOCH)).order_rows()
    assert {r["ORDER_DATE"][:13] for r in rows} == {"2026-12-04 19"}  # rendered as the frame is
    assert [r["ORDER_DATE"] for r in rows[:3]] == [str(d) for d in dates_of(OrderDates("live", EPOCH), 3)]


def test_year_dates_span_the_year_before_the_epoch_and_render_across_midnights():
    year = dates_of(OrderDates("year", EPOCH), 20_000)
    assert year.min() >= pd.Timestamp(EPOCH - dt.timedelta(days=365)) and year.max() < pd.Timestamp(EPOCH)
    assert (year.max() - year.min()).days >= 360
    rows = order_batch(SPEC, 1, 2_000, OrderDates("year", EPOCH)).order_rows()
    assert [r["ORDER_DATE"] for r in rows] == [str(d) for d in dates_of(OrderDates("year", EPOCH), 2_000)]


def test_a_new_job_dates_from_now_in_utc_whole_seconds():
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    dates = OrderDates.for_job("live")
    after = utc_now()
    assert before <= dates.epoch <= after and dates.epoch.microsecond == 0
    assert OrderDates.for_job("fixed", EPOCH) == FIXED  # fixed ignores the job's start


@pytest.mark.parametrize("mode", ["live", "year"])
def test_tokens_keep_the_dates(mode):
    dates = OrderDates(mode, EPOCH)
    token = order_token(500, dates)
    assert token == f"order_500@{mode}:2026-12-04T19:47:12Z"
    assert parse_order_token(token) == 500 and parse_order_dates(token) == dates
    assert order_token(500, FIXED) == "order_500" and parse_order_dates("order_500") == FIXED
    assert parse_order_dates(None) is None


@pytest.mark.parametrize(
    "token",
    [
        "order_5@",
        "order_5@live",
        "order_5@live:",
        "order_5@fixed:2026-12-04T19:47:12Z",
        "order_5@live:2026-13-04T19:47:12Z",
        "order_5@live:2026-12-04 19:47:12",
        "order_5@live:2026-12-04T19:47:12.5Z",
        "order_5@live:2020-01-01T00:00:00Z",  # before the customers end
        "order_0@live:2026-12-04T19:47:12Z",
        "order_5@year:2026-12-04T19:47:12Z@",
    ],
)
def test_tokens_with_bad_dates_are_not_the_kits(token):
    with pytest.raises(OffsetTokenError) as info:
        parse_order_dates(token)
    assert repr(token) in str(info.value) and "order_<id>@<live|year>:<UTC time>" in str(info.value)


@pytest.mark.parametrize(
    ("arguments", "fix"),
    [
        (("today", EPOCH), "must be one of live, year, fixed"),
        (("live", EPOCH.replace(tzinfo=dt.UTC)), "naive UTC datetime in whole seconds"),
        (("live", EPOCH.replace(microsecond=5)), "naive UTC datetime in whole seconds"),
        (("live", "2026-12-04"), "naive UTC datetime"),
        (("fixed", EPOCH), "fixed order dates end at 2025-01-01"),
        (("year", dt.datetime(2024, 6, 1)), "is before 2025-01-01, where customers end"),
    ],
)
def test_bad_dates_say_what_to_fix(arguments, fix):
    with pytest.raises(ConfigError, match=fix):
        OrderDates(*arguments)


def test_the_setting_reaches_the_stream_options():
    assert StreamOptions().order_dates == "live"
    assert StreamOptions.from_settings(Settings(order_dates="year")).order_dates == "year"
    with pytest.raises(ConfigError, match=r"^order_dates must be one of live, year, fixed \(live: the 15 minutes"):
        StreamOptions(order_dates="yearly")


def test_descriptions_name_the_window():
    assert OrderDates("live", EPOCH).describe() == "live: the 15 minutes before 2026-12-04 19:47:12 UTC"
    assert OrderDates("year", EPOCH).describe() == "year: the 365 days before 2026-12-04 19:47:12 UTC"
    assert FIXED.describe() == "fixed: the 365 days before 2025-01-01"
