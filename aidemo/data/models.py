"""The data model: table columns, customer segments, order status mix and product catalogue.

These constants are the contract between the generator (:mod:`aidemo.data.generator`), the SQL in
``sql/`` and the tests. Money is held in integer cents and discounts in hundredths of a percent
so that the generator's arithmetic is exact; the tables store them as ``NUMBER(p,2)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aidemo.errors import ConfigError

_TYPES = ("NUMBER", "VARCHAR", "DATE", "TIMESTAMP_NTZ")


@dataclass(frozen=True)
class Column:
    """One table column: ``NUMBER(precision, scale)``, ``VARCHAR(length)``, ``DATE`` or
    ``TIMESTAMP_NTZ``. A VARCHAR without a length is unbounded."""

    name: str
    type: str
    precision: int | None = None
    scale: int | None = None
    length: int | None = None

    def __post_init__(self) -> None:
        if self.type not in _TYPES:
            raise ConfigError(f"column {self.name}: type {self.type!r} is not one of {_TYPES}")
        if (self.type == "NUMBER") != (self.precision is not None and self.scale is not None):
            raise ConfigError(f"column {self.name}: precision and scale go with NUMBER only")
        if self.length is not None and self.type != "VARCHAR":
            raise ConfigError(f"column {self.name}: a length goes with VARCHAR only")


@dataclass(frozen=True)
class Table:
    """A table of ``AUTOMATED_INTELLIGENCE.RAW``: its columns in order and its primary key."""

    name: str
    columns: tuple[Column, ...]
    primary_key: str

    @property
    def column_names(self) -> tuple[str, ...]:
        """The column names in table order."""
        return tuple(column.name for column in self.columns)


def _number(name: str, precision: int = 38, scale: int = 0) -> Column:
    return Column(name, "NUMBER", precision, scale)


def _varchar(name: str, length: int | None = None) -> Column:
    return Column(name, "VARCHAR", length=length)


CUSTOMERS = Table(
    "CUSTOMERS",
    (
        _number("CUSTOMER_ID"),
        _varchar("FIRST_NAME"),
        _varchar("LAST_NAME"),
        _varchar("EMAIL"),
        _varchar("PHONE"),
        _varchar("ADDRESS"),
        _varchar("CITY"),
        _varchar("STATE"),
        _varchar("ZIP_CODE"),
        Column("REGISTRATION_DATE", "DATE"),
        _varchar("CUSTOMER_SEGMENT", 20),
    ),
    primary_key="CUSTOMER_ID",
)

ORDERS = Table(
    "ORDERS",
    (
        _number("ORDER_ID"),
        _number("CUSTOMER_ID"),
        Column("ORDER_DATE", "TIMESTAMP_NTZ"),
        _varchar("ORDER_STATUS", 20),
        _number("TOTAL_AMOUNT", 10, 2),
        _number("DISCOUNT_PERCENT", 5, 2),
        _number("SHIPPING_COST", 8, 2),
    ),
    primary_key="ORDER_ID",
)

ORDER_ITEMS = Table(
    "ORDER_ITEMS",
    (
        _number("ORDER_ITEM_ID"),
        _number("ORDER_ID"),
        _number("PRODUCT_ID"),
        _varchar("PRODUCT_NAME", 100),
        _varchar("PRODUCT_CATEGORY", 50),
        _number("QUANTITY"),
        _number("UNIT_PRICE", 10, 2),
        _number("LINE_TOTAL", 12, 2),
    ),
    primary_key="ORDER_ITEM_ID",
)

TABLES = {table.name: table for table in (CUSTOMERS, ORDERS, ORDER_ITEMS)}


@dataclass(frozen=True)
class Segment:
    """A customer segment and the orders its customers place.

    ``share`` is the fraction of customers in the segment. An order's TOTAL_AMOUNT lies in
    ``[min_total_cents, max_total_cents]``; ``discount_rate`` of orders get a discount of
    ``[min_discount_bp, max_discount_bp]`` hundredths of a percent (500 = 5.00 %); an order has
    ``min_items``..``max_items`` items.
    """

    name: str
    share: float
    min_total_cents: int
    max_total_cents: int
    discount_rate: float
    min_discount_bp: int
    max_discount_bp: int
    min_items: int
    max_items: int

    def __post_init__(self) -> None:
        if not 0 < self.share <= 1:
            raise ConfigError(f"segment {self.name}: share {self.share} is not in (0, 1]")
        if not 0 < self.min_total_cents <= self.max_total_cents:
            raise ConfigError(f"segment {self.name}: total range is empty or not positive")
        if not 0 <= self.discount_rate <= 1:
            raise ConfigError(f"segment {self.name}: discount_rate {self.discount_rate} is not in [0, 1]")
        if not 0 < self.min_discount_bp <= self.max_discount_bp < 10_000:
            raise ConfigError(f"segment {self.name}: discount range must lie in (0, 100) percent")
        if not 1 <= self.min_items <= self.max_items:
            raise ConfigError(f"segment {self.name}: item-count range is empty or below 1")


# Customer mix 20 % Premium, 50 % Standard, 30 % Basic. A segment's code is its index here.
SEGMENTS: tuple[Segment, ...] = (
    Segment("Premium", 0.20, 50_000, 300_000, 0.10, 500, 1_000, 3, 8),
    Segment("Standard", 0.50, 10_000, 80_000, 0.40, 500, 2_000, 2, 5),
    Segment("Basic", 0.30, 2_000, 30_000, 0.50, 1_000, 3_000, 1, 3),
)

# Order status mix, as in the upstream demo. A status's code is its index here.
STATUS_MIX: tuple[tuple[str, float], ...] = (
    ("Completed", 0.65),
    ("Shipped", 0.15),
    ("Processing", 0.10),
    ("Pending", 0.07),
    ("Cancelled", 0.03),
)

# Quantity of one order line.
QUANTITY_MIX: tuple[tuple[int, float], ...] = ((1, 0.70), (2, 0.20), (3, 0.10))

SHIPPING_MIN_CENTS = 500
SHIPPING_MAX_CENTS = 5_000

# Fixed order dates (aidemo.data.dates) lie in the ORDER_WINDOW_DAYS days before ORDER_EPOCH; live and
# year dates end at the job's start, which is never before it. Customers registered in the
# REGISTRATION_WINDOW_DAYS days before that window, so before any of their orders.
ORDER_EPOCH = datetime(2025, 1, 1)
ORDER_WINDOW_DAYS = 365
REGISTRATION_WINDOW_DAYS = 4 * 365


@dataclass(frozen=True)
class Product:
    """A catalogue product; ``list_price_cents`` guides, but does not fix, an order line's price."""

    product_id: int
    name: str
    category: str
    list_price_cents: int


CATALOGUE: tuple[Product, ...] = (
    Product(1001, "Alpine Carver 170 Skis", "Skis", 64_999),
    Product(1002, "Powder Hound 184 Skis", "Skis", 79_999),
    Product(1003, "All-Mountain Explorer 176 Skis", "Skis", 54_999),
    Product(1004, "Race Slalom 165 Skis", "Skis", 89_999),
    Product(1005, "Freestyle Park 158 Skis", "Skis", 44_999),
    Product(1006, "Backcountry Tour 180 Skis", "Skis", 74_999),
    Product(1007, "Summit Freeride 158 Snowboard", "Snowboards", 59_999),
    Product(1008, "Park Rider 152 Snowboard", "Snowboards", 42_999),
    Product(1009, "Powder Surfer 162 Snowboard", "Snowboards", 64_999),
    Product(1010, "All-Terrain 156 Snowboard", "Snowboards", 49_999),
    Product(1011, "Splitboard Explorer 160", "Snowboards", 84_999),
    Product(1012, "Beginner Cruiser 150 Snowboard", "Snowboards", 29_999),
    Product(1013, "Pro Alpine Ski Boots", "Boots", 49_999),
    Product(1014, "Comfort Fit Ski Boots", "Boots", 34_999),
    Product(1015, "Touring Ski Boots", "Boots", 57_999),
    Product(1016, "Freestyle Snowboard Boots", "Boots", 27_999),
    Product(1017, "All-Mountain Snowboard Boots", "Boots", 22_999),
    Product(1018, "Junior Ski Boots", "Boots", 14_999),
    Product(1019, "Anti-Fog Ski Goggles", "Accessories", 12_999),
    Product(1020, "MIPS Snow Helmet", "Accessories", 18_999),
    Product(1021, "Insulated Gloves", "Accessories", 5_999),
    Product(1022, "Merino Neck Gaiter", "Accessories", 2_999),
    Product(1023, "Adjustable Ski Poles", "Accessories", 7_999),
    Product(1024, "Snowboard Bindings", "Accessories", 24_999),
    Product(1025, "Wax and Tuning Kit", "Accessories", 3_999),
)


def _check_mix(name: str, mix: tuple[float, ...]) -> None:
    if abs(sum(mix) - 1.0) > 1e-9:
        raise ConfigError(f"{name} shares add up to {sum(mix)}, not 1")


_check_mix("SEGMENTS", tuple(segment.share for segment in SEGMENTS))
_check_mix("STATUS_MIX", tuple(share for _, share in STATUS_MIX))
_check_mix("QUANTITY_MIX", tuple(share for _, share in QUANTITY_MIX))
