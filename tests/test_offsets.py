"""Offset tokens: round trips, and every token the kit did not write."""

from __future__ import annotations

import numpy as np
import pytest

from aidemo.errors import OffsetTokenError
from aidemo.stream.offsets import item_token, order_token, parse_item_token, parse_order_token


@pytest.mark.parametrize("row_id", [1, 7, 10, 123_456_789, 2**63 - 1, 10**30])
def test_round_trip(row_id):
    assert order_token(row_id) == f"order_{row_id}"
    assert item_token(row_id) == f"item_{row_id}"
    assert parse_order_token(order_token(row_id)) == row_id
    assert parse_item_token(item_token(row_id)) == row_id


def test_numpy_ids_make_plain_tokens():
    assert order_token(np.int64(42)) == "order_42"
    assert item_token(np.uint64(7)) == "item_7"


def test_none_means_nothing_committed():
    assert parse_order_token(None) is None
    assert parse_item_token(None) is None


BAD_ORDER_TOKENS = [
    "order_abc",
    "foo",
    "item_5",
    "",
    "order_",
    "order_-5",
    "order_+5",
    "order_0",
    "order_007",
    "order_ 5",
    "order_5 ",
    "order_1_000",
    "order_5.0",
    "order_١٢",  # non-ASCII digits
    "ORDER_5",
    " order_5",
    "order_5x",
    5,
    b"order_5",
]


@pytest.mark.parametrize("token", BAD_ORDER_TOKENS)
def test_bad_order_token(token):
    with pytest.raises(OffsetTokenError) as info:
        parse_order_token(token)
    assert repr(token) in str(info.value)
    assert "order_<positive integer>" in str(info.value)


@pytest.mark.parametrize(
    "token",
    [t.replace("order_", "item_") if isinstance(t, str) else t for t in BAD_ORDER_TOKENS[3:]]
    + ["order_5", "item_abc", "items_5"],
)
def test_bad_item_token(token):
    with pytest.raises(OffsetTokenError) as info:
        parse_item_token(token)
    assert repr(token) in str(info.value)
    assert "item_<positive integer>" in str(info.value)


@pytest.mark.parametrize("row_id", [0, -1, True, 1.0, "5", None])
def test_bad_ids_cannot_make_tokens(row_id):
    with pytest.raises(OffsetTokenError, match="positive integers"):
        order_token(row_id)
    with pytest.raises(OffsetTokenError, match="positive integers"):
        item_token(row_id)
