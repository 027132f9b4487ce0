"""Synthetic customers, a pure function of (seed, customer_id).

Each customer has a stable segment (models.SEGMENTS: 20 % Premium, 50 % Standard, 30 % Basic)
that its orders follow; names, addresses and phone numbers are plausible fakes.
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

import numpy as np
import pandas as pd

from aidemo.data import draws
from aidemo.data.models import (
    CUSTOMERS,
    ORDER_EPOCH,
    ORDER_WINDOW_DAYS,
    REGISTRATION_WINDOW_DAYS,
    SEGMENTS,
)
from aidemo.errors import ConfigError

CUSTOMER_DOMAIN = 1  # the hash domain of customers (orders and items have their own)

# Field numbers (never renumber: that changes the data).
(
    _F_SEGMENT,
    _F_FIRST_NAME,
    _F_LAST_NAME,
    _F_PHONE,
    _F_STREET_NO,
    _F_STREET,
    _F_CITY,
    _F_ZIP,
    _F_REGISTERED,
) = range(1, 10)


_SEGMENT_NAMES = np.array([segment.name for segment in SEGMENTS], dtype=object)
_SEGMENT_SHARES = tuple(segment.share for segment in SEGMENTS)

_FIRST_NAMES = np.array(
    "Emma Liam Olivia Noah Ava Elijah Sophia Lucas Mia Mason Amelia Ethan Harper Logan Evelyn "
    "James Abigail Aiden Ella Jackson Chloe Sebastian Grace Henry Lily Owen Zoe Wyatt Nora Leo "
    "Hazel Caleb Aria Isaac Riley Nathan Layla Ryan Maya Julian".split(),
    dtype=object,
)
_LAST_NAMES = np.array(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris "
    "Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen "
    "Hill Flores".split(),
    dtype=object,
)
_STREETS = np.array(
    [
        f"{name} {kind}"
        for name, kind in zip(
            "Aspen Birch Cedar Summit Ridge Powder Glacier Alpine Pine Spruce Timberline Crystal "
            "Snowmass Eagle Juniper Maple Willow Canyon Meadow Highland".split(),
            "St Ave Rd Dr Ln Way Ct Blvd Pl Trail".split() * 2,
        )
    ],
    dtype=object,
)
_CITIES = (
    ("Denver", "CO", 802),
    ("Boulder", "CO", 803),
    ("Vail", "CO", 816),
    ("Salt Lake City", "UT", 841),
    ("Park City", "UT", 840),
    ("Jackson", "WY", 830),
    ("Bozeman", "MT", 597),
    ("Boise", "ID", 837),
    ("Ketchum", "ID", 833),
    ("Reno", "NV", 895),
    ("Truckee", "CA", 961),
    ("Mammoth Lakes", "CA", 935),
    ("Bend", "OR", 977),
    ("Portland", "OR", 972),
    ("Seattle", "WA", 981),
    ("Spokane", "WA", 992),
    ("Burlington", "VT", 54),
    ("Stowe", "VT", 56),
    ("North Conway", "NH", 38),
    ("Lake Placid", "NY", 129),
    ("Minneapolis", "MN", 554),
    ("Anchorage", "AK", 995),
    ("Taos", "NM", 875),
    ("Flagstaff", "AZ", 860),
)
_CITY_NAMES = np.array([city for city, _, _ in _CITIES], dtype=object)
_CITY_STATES = np.array([state for _, state, _ in _CITIES], dtype=object)
_CITY_ZIP3 = np.array([zip3 for _, _, zip3 in _CITIES], dtype=np.int64)


def customer_segments(seed: int, ids: np.ndarray | list[int]) -> np.ndarray:
    """Segment codes (indexes into ``models.SEGMENTS``) of the given customer ids, as int8.

    A customer's segment depends on (seed, customer_id) only.
    """
    seed = draws.check_int("seed", seed, 0, draws.MASK)
    ids = np.asarray(ids, dtype=np.int64)
    if ids.size and ids.min() < 1:
        raise ConfigError(f"customer ids must be positive, got {int(ids.min())}")
    return _segment_codes(draws.hash_ids(draws.key(seed, CUSTOMER_DOMAIN), ids))


def _segment_codes(customer_hashes: np.ndarray) -> np.ndarray:
    return draws.pick(customer_hashes, _F_SEGMENT, _SEGMENT_SHARES).astype(np.int8)


_SEGMENT_TABLE_LIMIT = 1 << 24  # customer slices up to this size get a cached lookup table


@lru_cache(maxsize=16)
def _segment_table(seed: int, lo: int, hi: int) -> np.ndarray:
    """Segment codes of customers lo..hi (read-only), for the order generator's lookups."""
    table = customer_segments(seed, np.arange(lo, hi + 1))
    table.flags.writeable = False
    return table


def slice_segments(seed: int, lo: int, hi: int, ids: np.ndarray) -> np.ndarray:
    """Segment codes of customers ``ids``, all within ``lo..hi`` (a cached table for one slice)."""
    if hi - lo < _SEGMENT_TABLE_LIMIT:
        return _segment_table(seed, lo, hi)[ids - lo]
    return customer_segments(seed, ids)


def generate_customers(seed: int, count: int, first_id: int = 1) -> pd.DataFrame:
    """Customers ``first_id .. first_id + count - 1`` as a DataFrame with the CUSTOMERS columns.

    Names, addresses and phone numbers are plausible fakes (555 numbers, example.com mail);
    REGISTRATION_DATE holds ``datetime.date`` values before the orders' date window.
    """
    seed = draws.check_int("seed", seed, 0, draws.MASK)
    count = draws.check_int("count", count, 0)
    first_id = draws.check_int("first_id", first_id, 1, draws.MAX_ID - count)
    ids = np.arange(first_id, first_id + count, dtype=np.int64)
    h = draws.hash_ids(draws.key(seed, CUSTOMER_DOMAIN), ids)
    first = _FIRST_NAMES[draws.below(h, _F_FIRST_NAME, len(_FIRST_NAMES))]
    last = _LAST_NAMES[draws.below(h, _F_LAST_NAME, len(_LAST_NAMES))]
    city = draws.below(h, _F_CITY, len(_CITIES))
    phone = 2_000_000 + draws.below(h, _F_PHONE, 8_000_000)
    street_no = 1 + draws.below(h, _F_STREET_NO, 9_999)
    street = _STREETS[draws.below(h, _F_STREET, len(_STREETS))]
    zip_code = _CITY_ZIP3[city] * 100 + draws.below(h, _F_ZIP, 100)
    window_start = ORDER_EPOCH.date() - timedelta(days=ORDER_WINDOW_DAYS + REGISTRATION_WINDOW_DAYS)
    registered = draws.below(h, _F_REGISTERED, REGISTRATION_WINDOW_DAYS)
    columns = {
        "CUSTOMER_ID": ids,
        "FIRST_NAME": first,
        "LAST_NAME": last,
        "EMAIL": [f"{f.lower()}.{s.lower()}{i}@example.com" for f, s, i in zip(first, last, ids.tolist())],
        "PHONE": [f"555-{p // 10_000:03d}-{p % 10_000:04d}" for p in phone.tolist()],
        "ADDRESS": [f"{n} {s}" for n, s in zip(street_no.tolist(), street)],
        "CITY": _CITY_NAMES[city],
        "STATE": _CITY_STATES[city],
        "ZIP_CODE": [f"{z:05d}" for z in zip_code.tolist()],
        "REGISTRATION_DATE": np.array([window_start + timedelta(days=d) for d in registered.tolist()], dtype=object),
        "CUSTOMER_SEGMENT": _SEGMENT_NAMES[_segment_codes(h)],
    }
    return pd.DataFrame(columns, columns=list(CUSTOMERS.column_names))
