"""Synthetic orders and order items, as a pure function of (seed, instance, id) and the job's order dates.

Every value is drawn from a counter-based hash (the splitmix64 finaliser in numpy ``uint64``
arithmetic) of the seed, the instance, the row's id and a field number; there is no stateful
random generator. The same id therefore always yields the same row, whatever the batch it is
generated in, so a replay after a crash regenerates identical rows. ORDER_DATE lies in the
window of the job's :class:`~aidemo.data.dates.OrderDates` (its mode and epoch, fixed when the job
started); the same draw places an order at the same second of any window of the same length, so
another epoch shifts every date by the difference.

Customers (:mod:`aidemo.data.customers`) depend on (seed, customer_id) only; draws come from
:mod:`aidemo.data.draws`. An instance's orders draw their customer uniformly from the instance's
customer slice, and follow that customer's segment.

Order arithmetic, exact in integer cents:

* TOTAL_AMOUNT is drawn uniformly in the segment's range.
* DISCOUNT_PERCENT is 0, or (for the segment's discount rate of orders) drawn in the segment's
  range with two decimals.
* The subtotal is the sum of the order's LINE_TOTALs, and
  ``TOTAL_AMOUNT = ROUND(subtotal * (1 - DISCOUNT_PERCENT / 100), 2)`` (half up); the
  generator picks the smallest subtotal for which this holds.
* SHIPPING_COST ($5-$50) is charged on top and is not part of TOTAL_AMOUNT.
* ``LINE_TOTAL = QUANTITY * UNIT_PRICE``. The subtotal is spread over the lines in
  proportion to quantity times list price, so unit prices are scaled list prices and deviate
  from the catalogue; the last line takes the remainder in cents (its quantity becomes 1
  when the remainder is not a multiple of the drawn quantity). Every unit price is positive.

IDs: order ids of an instance run from ``order_base``; its item ids run from ``item_base``,
sequential in order-id order. An order's item count is a pure function, so the first item
id of any order is ``item_base`` plus the item counts of the orders before it
(:func:`first_item_id`), and :func:`order_of_item` inverts that. Both keep a cache of
cumulative counts per :class:`InstanceSpec`, so repeated calls are cheap.
"""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from aidemo.data import draws
from aidemo.data.customers import slice_segments
from aidemo.data.dates import FIXED, OrderDates
from aidemo.data.models import (
    CATALOGUE,
    ORDER_ITEMS,
    ORDERS,
    QUANTITY_MIX,
    SEGMENTS,
    SHIPPING_MAX_CENTS,
    SHIPPING_MIN_CENTS,
    STATUS_MIX,
)

# Hash domains keep customers, orders and items apart (customers: aidemo.data.customers).
_ORDER_DOMAIN, _ITEM_DOMAIN = 2, 3

# Field numbers (never renumber: that changes the data).
(
    _F_CUSTOMER,
    _F_STATUS,
    _F_SHIPPING,
    _F_DISCOUNTED,
    _F_DISCOUNT,
    _F_ITEMS,
    _F_TOTAL,
    _F_DATE,
) = range(11, 19)
_F_PRODUCT, _F_QUANTITY = 21, 22


# ----------------------------------------------------------------------------- instances


@dataclass(frozen=True)
class InstanceSpec:
    """What one streaming instance generates.

    Orders ``order_base, order_base + 1, ...`` with items numbered from ``item_base``; each
    order's customer is drawn from ``customer_lo .. customer_hi``. The data depends on
    ``seed``, ``instance`` and the customer slice; the bases only number it.
    """

    seed: int
    instance: int
    order_base: int
    item_base: int
    customer_lo: int
    customer_hi: int

    def __post_init__(self) -> None:
        draws.check_int("seed", self.seed, 0, draws.MASK)
        draws.check_int("instance", self.instance, 0, draws.MASK)
        draws.check_int("order_base", self.order_base, 1)
        draws.check_int("item_base", self.item_base, 1)
        draws.check_int("customer_lo", self.customer_lo, 1)
        draws.check_int("customer_hi", self.customer_hi, self.customer_lo)

    @classmethod
    def single(cls, seed: int, num_customers: int) -> InstanceSpec:
        """The spec of a lone instance: instance 0, ids from 1, customers 1..num_customers."""
        return cls(seed, 0, 1, 1, 1, draws.check_int("num_customers", num_customers, 1))


def split_instances(seed: int, total_orders: int, instances: int, num_customers: int) -> list[tuple[InstanceSpec, int]]:
    """Split ``total_orders`` orders over ``instances`` instances: ``[(spec, order_count)]``.

    Order ids 1..total_orders and customers 1..num_customers are cut into contiguous slices
    as even as possible; item ids are contiguous too (instance i's items start right after
    instance i-1's), so the whole run numbers items 1..N without gaps.
    """
    total_orders = draws.check_int("total_orders", total_orders, 1)
    instances = draws.check_int("instances", instances, 1, total_orders)
    num_customers = draws.check_int("num_customers", num_customers, instances)
    plan = []
    order_base = item_base = 1
    for i in range(instances):
        orders = total_orders // instances + (i < total_orders % instances)
        lo = 1 + i * num_customers // instances
        hi = (i + 1) * num_customers // instances
        spec = InstanceSpec(seed, i, order_base, item_base, lo, hi)
        plan.append((spec, orders))
        order_base += orders
        item_base += _item_index(spec).items_before(orders)
    return plan


def _order_key(spec: InstanceSpec) -> int:
    return draws.key(spec.seed, _ORDER_DOMAIN, spec.instance)


_MIN_ITEMS = np.array([s.min_items for s in SEGMENTS], dtype=np.int64)
_ITEM_SPAN = np.array([s.max_items - s.min_items + 1 for s in SEGMENTS], dtype=np.int64)


def _order_basics(spec: InstanceSpec, order_ids: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per order: its hash, customer id, segment code and item count."""
    hashes = draws.hash_ids(_order_key(spec), order_ids)
    customer = spec.customer_lo + draws.below(hashes, _F_CUSTOMER, spec.customer_hi - spec.customer_lo + 1)
    segment = slice_segments(spec.seed, spec.customer_lo, spec.customer_hi, customer)
    items = _MIN_ITEMS[segment] + draws.below(hashes, _F_ITEMS, _ITEM_SPAN[segment])
    return hashes, customer, segment, items


# ----------------------------------------------------------------------------- item ids

_BLOCK = 4096  # orders per cached prefix-sum entry
_CHUNK_BLOCKS = 256  # blocks counted per vectorised pass when the cache grows


class _ItemIndex:
    """Item counts of a spec's orders, summed per block of _BLOCK orders, cumulatively."""

    def __init__(self, spec: InstanceSpec) -> None:
        self._spec = spec
        self._cumulative = [0]  # items of the orders before block j
        self._lock = threading.Lock()

    def _grow(self, blocks: int) -> None:
        """Make sure the cumulative counts reach block ``blocks``."""
        with self._lock:
            while len(self._cumulative) <= blocks:
                known = len(self._cumulative) - 1
                n = min(blocks - known, _CHUNK_BLOCKS)
                sums = _item_counts(self._spec, known * _BLOCK, n * _BLOCK).reshape(n, _BLOCK).sum(axis=1)
                self._cumulative.extend((self._cumulative[-1] + np.cumsum(sums)).tolist())

    def items_before(self, order_offset: int) -> int:
        """How many items the first ``order_offset`` orders of the instance have."""
        block, rest = divmod(order_offset, _BLOCK)
        self._grow(block)
        return self._cumulative[block] + (int(_block_through(self._spec, block)[rest - 1]) if rest else 0)

    def locate(self, item_offset: int) -> tuple[int, int]:
        """(order offset, index within that order) of the instance's item ``item_offset``."""
        while self._cumulative[-1] <= item_offset:
            self._grow(len(self._cumulative) - 1 + _CHUNK_BLOCKS)
        block = bisect.bisect_right(self._cumulative, item_offset) - 1
        through = _block_through(self._spec, block)
        rest = item_offset - self._cumulative[block]
        order = int(np.searchsorted(through, rest, side="right"))
        before = int(through[order - 1]) if order else 0
        return block * _BLOCK + order, rest - before


# A stream asks for the block of its next order twice per batch (which order the items lane needs
# next, and the batch's first item id): keep the recent blocks' counts rather than count them again.
@lru_cache(maxsize=64)
def _block_through(spec: InstanceSpec, block: int) -> np.ndarray:
    """Items of the orders of block ``block`` of ``spec``, cumulatively (through each order)."""
    through = np.cumsum(_item_counts(spec, block * _BLOCK, _BLOCK))
    through.flags.writeable = False  # shared by every caller
    return through


def _item_counts(spec: InstanceSpec, first_offset: int, n: int) -> np.ndarray:
    """Item counts of the ``n`` orders of ``spec`` from order offset ``first_offset``."""
    order_ids = np.arange(first_offset, first_offset + n, dtype=np.int64) + spec.order_base
    return _order_basics(spec, order_ids)[3]


_INDEXES: dict[InstanceSpec, _ItemIndex] = {}
_INDEXES_LOCK = threading.Lock()


def _item_index(spec: InstanceSpec) -> _ItemIndex:
    with _INDEXES_LOCK:
        return _INDEXES.setdefault(spec, _ItemIndex(spec))


def first_item_id(spec: InstanceSpec, order_id: int) -> int:
    """The id of the first item of order ``order_id`` (>= spec.order_base)."""
    order_id = draws.check_int("order_id", order_id, spec.order_base)
    return spec.item_base + _item_index(spec).items_before(order_id - spec.order_base)


def order_of_item(spec: InstanceSpec, item_id: int) -> tuple[int, int]:
    """``(order_id, index)``: the order holding item ``item_id`` and the item's 0-based index in it.

    To resume the items channel after committed item ``c``: ``order_of_item(spec, c + 1)``
    gives the order to regenerate and how many of its items were already sent.
    """
    item_id = draws.check_int("item_id", item_id, spec.item_base)
    offset, index = _item_index(spec).locate(item_id - spec.item_base)
    return spec.order_base + offset, index


# ----------------------------------------------------------------------------- orders

_STATUS_NAMES = np.array([status for status, _ in STATUS_MIX], dtype=object)
_STATUS_SHARES = tuple(share for _, share in STATUS_MIX)
_QUANTITIES = np.array([q for q, _ in QUANTITY_MIX], dtype=np.int64)
_QUANTITY_SHARES = tuple(share for _, share in QUANTITY_MIX)
_PRODUCT_IDS = np.array([p.product_id for p in CATALOGUE], dtype=np.int64)
_PRODUCT_NAMES = np.array([p.name for p in CATALOGUE], dtype=object)
_PRODUCT_CATEGORIES = np.array([p.category for p in CATALOGUE], dtype=object)
_LIST_PRICES = np.array([p.list_price_cents for p in CATALOGUE], dtype=np.float64)
_MIN_TOTAL = np.array([s.min_total_cents for s in SEGMENTS], dtype=np.int64)
_TOTAL_SPAN = np.array([s.max_total_cents - s.min_total_cents + 1 for s in SEGMENTS], dtype=np.int64)
_DISCOUNT_RATE = np.array([s.discount_rate for s in SEGMENTS], dtype=np.float64)
_MIN_BP = np.array([s.min_discount_bp for s in SEGMENTS], dtype=np.int64)
_BP_SPAN = np.array([s.max_discount_bp - s.min_discount_bp + 1 for s in SEGMENTS], dtype=np.int64)
_DAY = 86_400


@lru_cache(maxsize=1)
def _second_strings() -> np.ndarray:
    """'HH:MM:SS' of each second of a day."""
    two = [f"{n:02d}" for n in range(60)]
    return np.array([f"{h}:{m}:{s}" for h in two[:24] for m in two for s in two], dtype=object)


@lru_cache(maxsize=8)
def _day_strings(dates: OrderDates) -> tuple[np.ndarray, int]:
    """'YYYY-MM-DD ' of each day the window touches, and the window's start in seconds after its first midnight."""
    start = np.datetime64(dates.start, "s")
    first_day = start.astype("datetime64[D]")
    offset = int((start - first_day) // np.timedelta64(1, "s"))
    count = -(-(offset + int(dates.window.total_seconds())) // _DAY)
    days = np.array([str(first_day + np.timedelta64(d, "D")) + " " for d in range(count)], dtype=object)
    return days, offset


def _money(cents: np.ndarray) -> np.ndarray:
    return cents / 100


@dataclass(frozen=True, eq=False)
class OrderBatch:
    """Orders ``first_order_id .. last_order_id`` and their items, as numpy columns.

    Money is in integer cents (``*_cents``), discounts in hundredths of a percent
    (``discount_bp``), order dates in seconds since ``dates.start``; the ``*_rows`` and
    ``*_frame`` methods render them as the table columns.
    """

    order_id: np.ndarray
    customer_id: np.ndarray
    date_seconds: np.ndarray
    status: np.ndarray
    total_cents: np.ndarray
    discount_bp: np.ndarray
    shipping_cents: np.ndarray
    item_id: np.ndarray
    item_order_id: np.ndarray
    product: np.ndarray
    quantity: np.ndarray
    unit_cents: np.ndarray
    line_cents: np.ndarray
    dates: OrderDates = FIXED

    @property
    def first_order_id(self) -> int:
        return int(self.order_id[0])

    @property
    def last_order_id(self) -> int:
        return int(self.order_id[-1])

    @property
    def first_item_id(self) -> int:
        return int(self.item_id[0])

    @property
    def last_item_id(self) -> int:
        return int(self.item_id[-1])

    def _order_columns(self) -> dict[str, np.ndarray]:
        return {
            "ORDER_ID": self.order_id,
            "CUSTOMER_ID": self.customer_id,
            "ORDER_DATE": np.datetime64(self.dates.start, "s") + self.date_seconds.astype("timedelta64[s]"),
            "ORDER_STATUS": _STATUS_NAMES[self.status],
            "TOTAL_AMOUNT": _money(self.total_cents),
            "DISCOUNT_PERCENT": _money(self.discount_bp),
            "SHIPPING_COST": _money(self.shipping_cents),
        }

    def _item_columns(self) -> dict[str, np.ndarray]:
        return {
            "ORDER_ITEM_ID": self.item_id,
            "ORDER_ID": self.item_order_id,
            "PRODUCT_ID": _PRODUCT_IDS[self.product],
            "PRODUCT_NAME": _PRODUCT_NAMES[self.product],
            "PRODUCT_CATEGORY": _PRODUCT_CATEGORIES[self.product],
            "QUANTITY": self.quantity,
            "UNIT_PRICE": _money(self.unit_cents),
            "LINE_TOTAL": _money(self.line_cents),
        }

    def orders_frame(self) -> pd.DataFrame:
        """The orders with the ORDERS columns; money as float, ORDER_DATE as datetime64."""
        return pd.DataFrame(self._order_columns(), columns=list(ORDERS.column_names))

    def items_frame(self) -> pd.DataFrame:
        """The items with the ORDER_ITEMS columns; money as float."""
        return pd.DataFrame(self._item_columns(), columns=list(ORDER_ITEMS.column_names))

    # Dict displays over the zipped column lists: the fastest way Python builds the rows (about
    # 1.8x dict(zip(names, row))); the columns' order is the tables', as in the frames.
    def order_rows(self) -> list[dict]:
        """The orders as SDK rows: ints, floats (money) and strings ('YYYY-MM-DD HH:MM:SS')."""
        days, offset = _day_strings(self.dates)
        since_midnight = self.date_seconds + offset
        dates = days[since_midnight // _DAY] + _second_strings()[since_midnight % _DAY]
        columns = self._order_columns() | {"ORDER_DATE": dates}
        return [
            {
                "ORDER_ID": order_id,
                "CUSTOMER_ID": customer_id,
                "ORDER_DATE": date,
                "ORDER_STATUS": status,
                "TOTAL_AMOUNT": total,
                "DISCOUNT_PERCENT": discount,
                "SHIPPING_COST": shipping,
            }
            for order_id, customer_id, date, status, total, discount, shipping in _lists(columns)
        ]

    def item_rows(self) -> list[dict]:
        """The items as SDK rows: ints, floats (money) and strings."""
        return [
            {
                "ORDER_ITEM_ID": item_id,
                "ORDER_ID": order_id,
                "PRODUCT_ID": product_id,
                "PRODUCT_NAME": name,
                "PRODUCT_CATEGORY": category,
                "QUANTITY": quantity,
                "UNIT_PRICE": unit,
                "LINE_TOTAL": line,
            }
            for item_id, order_id, product_id, name, category, quantity, unit, line in _lists(self._item_columns())
        ]


def _lists(columns: dict[str, np.ndarray]):
    """The rows of ``columns`` as tuples of Python values."""
    return zip(*(values.tolist() for values in columns.values()))


def order_batch(spec: InstanceSpec, first_order_id: int, count: int, dates: OrderDates = FIXED) -> OrderBatch:
    """Orders ``first_order_id .. first_order_id + count - 1`` of ``spec`` with their items, dated by ``dates``."""
    first_order_id = draws.check_int("first_order_id", first_order_id, spec.order_base)
    count = draws.check_int("count", count, 1, draws.MAX_ID - first_order_id)
    order_ids = np.arange(first_order_id, first_order_id + count, dtype=np.int64)
    h, customer, segment, n_items = _order_basics(spec, order_ids)

    total = _MIN_TOTAL[segment] + draws.below(h, _F_TOTAL, _TOTAL_SPAN[segment])
    discounted = draws.uniform(h, _F_DISCOUNTED) < _DISCOUNT_RATE[segment]
    discount_bp = np.where(discounted, _MIN_BP[segment] + draws.below(h, _F_DISCOUNT, _BP_SPAN[segment]), 0)
    # Smallest subtotal s with round_half_up(s * (10000 - bp) / 10000) == total.
    kept = 10_000 - discount_bp
    subtotal = -((5_000 - total * 10_000) // kept)

    # Items: the k-th item of an order hashes (order hash, k), independent of item ids.
    starts = np.cumsum(n_items) - n_items
    owner = np.repeat(np.arange(count), n_items)
    position = np.arange(len(owner)) - starts[owner]
    ih = draws.hash_ids(draws.key(_ITEM_DOMAIN), position) ^ h[owner]
    product = draws.below(ih, _F_PRODUCT, len(CATALOGUE))
    quantity = _QUANTITIES[draws.pick(ih, _F_QUANTITY, _QUANTITY_SHARES)]

    # Every unit costs at least a cent; the rest of the subtotal goes by quantity x list price.
    weight = quantity * _LIST_PRICES[product]
    share = weight / np.add.reduceat(weight, starts)[owner]
    spare = subtotal - np.add.reduceat(quantity, starts)
    unit = 1 + np.floor(spare[owner] * share / quantity).astype(np.int64)
    line = quantity * unit
    last = starts + n_items - 1
    line[last] = 0
    rest = subtotal - np.add.reduceat(line, starts)
    quantity[last] = np.where(rest % quantity[last] == 0, quantity[last], 1)
    unit[last] = rest // quantity[last]
    line[last] = rest

    item_base = first_item_id(spec, first_order_id)
    return OrderBatch(
        order_id=order_ids,
        customer_id=customer,
        date_seconds=draws.below(h, _F_DATE, int(dates.window.total_seconds())),
        status=draws.pick(h, _F_STATUS, _STATUS_SHARES),
        total_cents=total,
        discount_bp=discount_bp,
        shipping_cents=SHIPPING_MIN_CENTS + draws.below(h, _F_SHIPPING, SHIPPING_MAX_CENTS - SHIPPING_MIN_CENTS + 1),
        item_id=item_base + np.arange(len(owner), dtype=np.int64),
        item_order_id=order_ids[owner],
        product=product,
        quantity=quantity,
        unit_cents=unit,
        line_cents=line,
        dates=dates,
    )
