"""The synthetic data: business rules, exact arithmetic, determinism, id arithmetic, table types."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pytest

from aidemo.data import customers as customer_module
from aidemo.data.customers import customer_segments, generate_customers
from aidemo.data.generator import (
    InstanceSpec,
    first_item_id,
    order_batch,
    order_of_item,
    split_instances,
)
from aidemo.data.models import (
    CATALOGUE,
    CUSTOMERS,
    ORDER_EPOCH,
    ORDER_ITEMS,
    ORDER_WINDOW_DAYS,
    ORDERS,
    QUANTITY_MIX,
    SEGMENTS,
    SHIPPING_MAX_CENTS,
    SHIPPING_MIN_CENTS,
    STATUS_MIX,
)
from aidemo.errors import ConfigError

SEED = 20240601
N_ORDERS = 200_000
N_CUSTOMERS = 20_000
SIGMAS = 4.5


def within_binomial(hits: int, n: int, p: float) -> bool:
    return abs(hits / n - p) <= SIGMAS * np.sqrt(p * (1 - p) / n)


def cents(values) -> np.ndarray:
    return np.rint(np.asarray(values, dtype=np.float64) * 100).astype(np.int64)


@pytest.fixture(scope="module")
def spec():
    return InstanceSpec.single(SEED, N_CUSTOMERS)


@pytest.fixture(scope="module")
def batch(spec):
    return order_batch(spec, 1, N_ORDERS)


@pytest.fixture(scope="module")
def orders(batch):
    return batch.orders_frame()


@pytest.fixture(scope="module")
def items(batch):
    return batch.items_frame()


@pytest.fixture(scope="module")
def order_segment(orders):
    """Each order's segment, recomputed from its customer."""
    return customer_segments(SEED, orders["CUSTOMER_ID"].to_numpy())


@pytest.fixture(scope="module")
def item_counts(orders, items):
    counts = items.groupby("ORDER_ID").size()
    return counts.reindex(orders["ORDER_ID"], fill_value=0).to_numpy()


@pytest.fixture(scope="module")
def subtotal_cents(orders, items):
    sums = items.assign(C=cents(items["LINE_TOTAL"])).groupby("ORDER_ID")["C"].sum()
    return sums.reindex(orders["ORDER_ID"], fill_value=0).to_numpy()


# ----------------------------------------------------------------------------- business rules


def test_customer_segment_mix():
    codes = customer_segments(SEED, np.arange(1, N_CUSTOMERS + 1))
    for code, segment in enumerate(SEGMENTS):
        assert within_binomial(int((codes == code).sum()), N_CUSTOMERS, segment.share), segment.name


@pytest.mark.parametrize("code", range(len(SEGMENTS)))
def test_totals_within_segment_range(orders, order_segment, code):
    segment = SEGMENTS[code]
    totals = cents(orders["TOTAL_AMOUNT"])[order_segment == code]
    assert totals.size > 10_000
    assert totals.min() >= segment.min_total_cents
    assert totals.max() <= segment.max_total_cents
    span = segment.max_total_cents - segment.min_total_cents
    # The range is used, not just respected.
    assert totals.min() < segment.min_total_cents + span * 0.01
    assert totals.max() > segment.max_total_cents - span * 0.01


@pytest.mark.parametrize("code", range(len(SEGMENTS)))
def test_discounts_by_segment(orders, order_segment, code):
    segment = SEGMENTS[code]
    bp = cents(orders["DISCOUNT_PERCENT"])[order_segment == code]
    discounted = bp[bp > 0]
    assert within_binomial(discounted.size, bp.size, segment.discount_rate)
    assert discounted.min() >= segment.min_discount_bp
    assert discounted.max() <= segment.max_discount_bp
    assert np.unique(discounted).size > (segment.max_discount_bp - segment.min_discount_bp) // 2


@pytest.mark.parametrize("code", range(len(SEGMENTS)))
def test_item_counts_by_segment(order_segment, item_counts, code):
    segment = SEGMENTS[code]
    counts = item_counts[order_segment == code]
    assert set(np.unique(counts)) == set(range(segment.min_items, segment.max_items + 1))


def test_status_mix(orders):
    assert set(orders["ORDER_STATUS"]) == {status for status, _ in STATUS_MIX}
    for status, share in STATUS_MIX:
        assert within_binomial(int((orders["ORDER_STATUS"] == status).sum()), N_ORDERS, share), status


def test_shipping_range(orders):
    shipping = cents(orders["SHIPPING_COST"])
    assert shipping.min() >= SHIPPING_MIN_CENTS
    assert shipping.max() <= SHIPPING_MAX_CENTS
    assert shipping.min() < SHIPPING_MIN_CENTS + 10
    assert shipping.max() > SHIPPING_MAX_CENTS - 10


def test_quantities_and_products(items):
    assert items["QUANTITY"].min() >= 1
    assert set(items["QUANTITY"]) == {q for q, _ in QUANTITY_MIX}
    catalogue = {(p.product_id, p.name, p.category) for p in CATALOGUE}
    seen = set(items[["PRODUCT_ID", "PRODUCT_NAME", "PRODUCT_CATEGORY"]].itertuples(index=False, name=None))
    assert seen == catalogue


def test_order_dates_within_window(batch, orders):
    dates = orders["ORDER_DATE"]
    start = ORDER_EPOCH - dt.timedelta(days=ORDER_WINDOW_DAYS)
    assert dates.min() >= pd.Timestamp(start)
    assert dates.max() < pd.Timestamp(ORDER_EPOCH)
    assert (dates.max() - dates.min()).days >= ORDER_WINDOW_DAYS - 2


# ----------------------------------------------------------------------------- exact arithmetic


def test_line_total_is_quantity_times_unit_price(items):
    unit = cents(items["UNIT_PRICE"])
    assert unit.min() >= 1
    np.testing.assert_array_equal(cents(items["LINE_TOTAL"]), items["QUANTITY"].to_numpy() * unit)


def test_total_is_discounted_subtotal(orders, subtotal_cents):
    bp = cents(orders["DISCOUNT_PERCENT"])
    expected = (subtotal_cents * (10_000 - bp) + 5_000) // 10_000
    np.testing.assert_array_equal(cents(orders["TOTAL_AMOUNT"]), expected)
    assert (subtotal_cents[bp == 0] == cents(orders["TOTAL_AMOUNT"])[bp == 0]).all()


def test_total_formula_in_decimal(spec):
    """The SQL form: TOTAL_AMOUNT = ROUND(SUM(LINE_TOTAL) * (1 - DISCOUNT_PERCENT / 100), 2)."""
    part = order_batch(spec, 1, 3_000)
    subtotals: dict[int, Decimal] = {}
    for row in part.item_rows():
        order_id = row["ORDER_ID"]
        subtotals[order_id] = subtotals.get(order_id, Decimal(0)) + Decimal(str(row["LINE_TOTAL"]))
    discounted = 0
    for row in part.order_rows():
        factor = 1 - Decimal(str(row["DISCOUNT_PERCENT"])) / 100
        expected = (subtotals[row["ORDER_ID"]] * factor).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert Decimal(str(row["TOTAL_AMOUNT"])) == expected, row
        discounted += row["DISCOUNT_PERCENT"] > 0
    assert discounted > 300


def test_money_has_two_decimals(batch):
    for row in batch.order_rows()[:20_000]:
        for name in ("TOTAL_AMOUNT", "DISCOUNT_PERCENT", "SHIPPING_COST"):
            assert float(f"{row[name]:.2f}") == row[name]
    for row in batch.item_rows()[:20_000]:
        assert float(f"{row['UNIT_PRICE']:.2f}") == row["UNIT_PRICE"]
        assert float(f"{row['LINE_TOTAL']:.2f}") == row["LINE_TOTAL"]


# ----------------------------------------------------------------------------- determinism


def test_same_call_twice(spec, orders, items):
    again = order_batch(spec, 1, N_ORDERS)
    pd.testing.assert_frame_equal(again.orders_frame(), orders)
    pd.testing.assert_frame_equal(again.items_frame(), items)


@pytest.mark.parametrize("bounds", [[1, 1001], list(range(1, 1002, 100)), [1, 2, 138, 139, 500, 977, 1001]])
def test_batch_boundaries_do_not_matter(spec, orders, items, bounds):
    parts = [order_batch(spec, lo, hi - lo) for lo, hi in zip(bounds, bounds[1:])]
    pd.testing.assert_frame_equal(pd.concat([p.orders_frame() for p in parts], ignore_index=True), orders.iloc[:1000])
    expected_items = items[items["ORDER_ID"] <= 1000]
    pd.testing.assert_frame_equal(pd.concat([p.items_frame() for p in parts], ignore_index=True), expected_items)
    assert [r for p in parts for r in p.order_rows()] == order_batch(spec, 1, 1000).order_rows()
    for before, after in zip(parts, parts[1:]):
        assert after.first_item_id == before.last_item_id + 1


def test_a_late_batch_alone_matches(spec, orders, items):
    late = order_batch(spec, 150_001, 25)
    pd.testing.assert_frame_equal(late.orders_frame(), orders.iloc[150_000:150_025].reset_index(drop=True))
    expected = items[items["ORDER_ID"].between(150_001, 150_025)].reset_index(drop=True)
    pd.testing.assert_frame_equal(late.items_frame(), expected)


def mismatch(a: pd.DataFrame, b: pd.DataFrame, column: str) -> float:
    return float((a[column].to_numpy() != b[column].to_numpy()).mean())


def test_seed_and_instance_change_the_data(orders):
    other_seed = order_batch(InstanceSpec.single(SEED + 1, N_CUSTOMERS), 1, 10_000).orders_frame()
    other_instance = order_batch(InstanceSpec(SEED, 1, 1, 1, 1, N_CUSTOMERS), 1, 10_000).orders_frame()
    for other in (other_seed, other_instance):
        assert (other["ORDER_ID"].to_numpy() == orders["ORDER_ID"].to_numpy()[:10_000]).all()
        for column in ("CUSTOMER_ID", "ORDER_DATE", "TOTAL_AMOUNT", "SHIPPING_COST"):
            assert mismatch(other, orders.iloc[:10_000], column) > 0.95, column


def test_bases_number_the_data_but_do_not_change_it(orders, items):
    moved = order_batch(InstanceSpec(SEED, 0, 1, 5_000, 1, N_CUSTOMERS), 1, 100)
    pd.testing.assert_frame_equal(moved.orders_frame(), orders.iloc[:100])
    moved_items = moved.items_frame()
    expected = items[items["ORDER_ID"] <= 100].reset_index(drop=True)
    assert (moved_items["ORDER_ITEM_ID"] == expected["ORDER_ITEM_ID"] + 4_999).all()
    pd.testing.assert_frame_equal(moved_items.drop(columns="ORDER_ITEM_ID"), expected.drop(columns="ORDER_ITEM_ID"))


# ----------------------------------------------------------------------------- item ids


def test_item_ids_are_sequential_in_order_order(orders, items):
    np.testing.assert_array_equal(items["ORDER_ITEM_ID"].to_numpy(), np.arange(1, len(items) + 1))
    assert items["ORDER_ID"].is_monotonic_increasing
    assert set(items["ORDER_ID"]) == set(orders["ORDER_ID"])


def test_first_item_id_and_order_of_item(spec, items):
    first = items.groupby("ORDER_ID")["ORDER_ITEM_ID"].min()
    rng = np.random.default_rng(0)
    # Around the index's block edges (4096 orders) and at random.
    picks = [1, 2, 4095, 4096, 4097, 8192, 8193, N_ORDERS] + rng.integers(1, N_ORDERS + 1, 40).tolist()
    for order_id in picks:
        assert first_item_id(spec, order_id) == first[order_id]
    index_in_order = items.groupby("ORDER_ID").cumcount().to_numpy()
    for row in rng.integers(0, len(items), 60).tolist() + [0, len(items) - 1]:
        item_id = int(items["ORDER_ITEM_ID"].iat[row])
        assert order_of_item(spec, item_id) == (int(items["ORDER_ID"].iat[row]), int(index_in_order[row]))


def test_id_arithmetic_with_other_bases():
    spec = InstanceSpec(SEED, 3, 1_000_001, 7_000_001, 100, 199)
    part = order_batch(spec, 1_000_001 + 9_000, 500)
    assert part.first_item_id == first_item_id(spec, part.first_order_id)
    assert first_item_id(spec, 1_000_001) == 7_000_001
    for item_id, order_id in zip(part.item_id[::37].tolist(), part.item_order_id[::37].tolist()):
        found, index = order_of_item(spec, item_id)
        assert found == order_id
        assert first_item_id(spec, found) + index == item_id
    assert part.customer_id.min() >= 100 and part.customer_id.max() <= 199


def test_resume_items_from_a_committed_item(spec, items):
    """After committed item c, regenerating from order_of_item(c + 1) sends exactly the rest."""
    committed = int(items["ORDER_ITEM_ID"].iat[12_345])
    order_id, skip = order_of_item(spec, committed + 1)
    resumed = order_batch(spec, order_id, 1_000).item_rows()[skip:]
    assert resumed[0]["ORDER_ITEM_ID"] == committed + 1
    expected = items[items["ORDER_ITEM_ID"] > committed].head(len(resumed))
    assert resumed == expected.to_dict("records")


def test_split_instances_is_contiguous():
    plan = split_instances(SEED, 10_003, 3, 1_000)
    assert [count for _, count in plan] == [3_335, 3_334, 3_334]
    next_order = next_item = 1
    customers = []
    for i, (spec, count) in enumerate(plan):
        assert (spec.seed, spec.instance, spec.order_base, spec.item_base) == (SEED, i, next_order, next_item)
        part = order_batch(spec, spec.order_base, count)
        assert part.first_item_id == next_item
        assert spec.customer_lo <= part.customer_id.min() and part.customer_id.max() <= spec.customer_hi
        customers.extend(range(spec.customer_lo, spec.customer_hi + 1))
        next_order, next_item = part.last_order_id + 1, part.last_item_id + 1
    assert customers == list(range(1, 1_001))


# ----------------------------------------------------------------------------- table contract


def check_frame_types(frame: pd.DataFrame, table) -> None:
    assert tuple(frame.columns) == table.column_names
    for column in table.columns:
        values = frame[column.name]
        if column.type == "NUMBER":
            assert values.dtype.kind == ("i" if column.scale == 0 else "f"), column.name
            limit = 10 ** (column.precision - column.scale)
            assert values.abs().max() < limit, column.name
            assert (np.rint(values * 10**column.scale) / 10**column.scale == values).all(), column.name
        elif column.type == "VARCHAR":
            assert all(isinstance(v, str) and v for v in values), column.name
            if column.length is not None:
                assert values.str.len().max() <= column.length, column.name
        elif column.type == "DATE":
            assert all(type(v) is dt.date for v in values), column.name
        else:
            assert values.dtype.kind == "M", column.name
        assert values.notna().all(), column.name


def test_order_and_item_frames_fit_the_tables(orders, items):
    check_frame_types(orders, ORDERS)
    check_frame_types(items, ORDER_ITEMS)


def test_rows_are_the_frames_as_sdk_values(batch, orders, items):
    order_rows, item_rows = batch.order_rows(), batch.item_rows()
    assert len(order_rows) == len(orders) and len(item_rows) == len(items)
    for rows, table in ((order_rows, ORDERS), (item_rows, ORDER_ITEMS)):
        for row in (rows[0], rows[len(rows) // 2], rows[-1]):
            assert tuple(row) == table.column_names
            for column in table.columns:
                expected = {"NUMBER": int if column.scale == 0 else float}.get(column.type, str)
                assert type(row[column.name]) is expected, column.name
    frame = pd.DataFrame(order_rows)
    assert frame["ORDER_DATE"].str.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}").all()
    formatted = orders["ORDER_DATE"].dt.strftime("%Y-%m-%d %H:%M:%S")
    pd.testing.assert_series_equal(frame["ORDER_DATE"], formatted, check_dtype=False)
    pd.testing.assert_frame_equal(
        frame.drop(columns="ORDER_DATE"), orders.drop(columns="ORDER_DATE"), check_dtype=False
    )
    pd.testing.assert_frame_equal(pd.DataFrame(item_rows), items, check_dtype=False)


# ----------------------------------------------------------------------------- customers


def test_customers_fit_the_table_and_follow_their_segment():
    customers = generate_customers(SEED, 2_000)
    check_frame_types(customers, CUSTOMERS)
    assert customers["CUSTOMER_ID"].tolist() == list(range(1, 2_001))
    codes = customer_segments(SEED, customers["CUSTOMER_ID"].to_numpy())
    assert customers["CUSTOMER_SEGMENT"].tolist() == [SEGMENTS[c].name for c in codes]
    assert customers["EMAIL"].is_unique
    assert customers["EMAIL"].str.fullmatch(r"[a-z]+\.[a-z]+\d+@example\.com").all()
    assert customers["PHONE"].str.fullmatch(r"555-\d{3}-\d{4}").all()
    assert customers["ZIP_CODE"].str.fullmatch(r"\d{5}").all()
    first_order_day = (ORDER_EPOCH - dt.timedelta(days=ORDER_WINDOW_DAYS)).date()
    assert customers["REGISTRATION_DATE"].max() < first_order_day
    assert customers["FIRST_NAME"].nunique() > 20 and customers["CITY"].nunique() > 10


def test_customers_are_a_pure_function_of_seed_and_id():
    whole = generate_customers(SEED, 300)
    tail = generate_customers(SEED, 100, first_id=201)
    pd.testing.assert_frame_equal(tail, whole.iloc[200:].reset_index(drop=True))
    pd.testing.assert_frame_equal(generate_customers(SEED, 300), whole)
    other = generate_customers(SEED + 1, 300)
    assert mismatch(other, whole, "EMAIL") > 0.9


def test_instance_does_not_change_customer_segments(orders, order_segment):
    other = order_batch(InstanceSpec(SEED, 5, 1, 1, 1, N_CUSTOMERS), 1, 5_000)
    codes = customer_segments(SEED, other.customer_id)
    lookup = dict(zip(orders["CUSTOMER_ID"].tolist(), order_segment.tolist()))
    shared = [(c, s) for c, s in zip(other.customer_id.tolist(), codes.tolist()) if c in lookup]
    assert len(shared) > 1_000
    assert all(lookup[c] == s for c, s in shared)


def test_segment_lookup_table_is_only_a_shortcut(spec, monkeypatch):
    cached = order_batch(spec, 1, 2_000)
    monkeypatch.setattr(customer_module, "_SEGMENT_TABLE_LIMIT", 0)
    direct = order_batch(spec, 1, 2_000)
    pd.testing.assert_frame_equal(direct.orders_frame(), cached.orders_frame())
    pd.testing.assert_frame_equal(direct.items_frame(), cached.items_frame())


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "fields, name",
    [
        ((-1, 0, 1, 1, 1, 10), "seed"),
        ((1, -1, 1, 1, 1, 10), "instance"),
        ((1, 0, 0, 1, 1, 10), "order_base"),
        ((1, 0, 1, 0, 1, 10), "item_base"),
        ((1, 0, 1, 1, 0, 10), "customer_lo"),
        ((1, 0, 1, 1, 11, 10), "customer_hi"),
        ((1.5, 0, 1, 1, 1, 10), "seed"),
        ((1, True, 1, 1, 1, 10), "instance"),
    ],
)
def test_bad_spec_names_the_field(fields, name):
    with pytest.raises(ConfigError, match=name):
        InstanceSpec(*fields)


def test_bad_batch_arguments(spec):
    later = InstanceSpec(SEED, 0, 100, 1, 1, 10)
    with pytest.raises(ConfigError, match="first_order_id"):
        order_batch(later, 99, 10)
    with pytest.raises(ConfigError, match="count"):
        order_batch(spec, 1, 0)
    with pytest.raises(ConfigError, match="order_id"):
        first_item_id(later, 5)
    with pytest.raises(ConfigError, match="item_id"):
        order_of_item(spec, 0)
    with pytest.raises(ConfigError, match="customer ids"):
        customer_segments(SEED, [3, 0])
    with pytest.raises(ConfigError, match="instances"):
        split_instances(SEED, 3, 5, 100)
