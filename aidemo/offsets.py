"""Offset tokens: ``order_<order_id>`` on the orders channel, ``item_<order_item_id>`` on the items channel.

A channel's committed token names the last row it holds, so a resumed run continues with the
next id. Parsing accepts exactly what the kit writes (a prefix and a positive integer in
canonical form) and raises :class:`~aidemo.errors.OffsetTokenError` for anything else.
"""

from __future__ import annotations

from numbers import Integral

from aidemo.errors import OffsetTokenError

ORDER_PREFIX = "order_"
ITEM_PREFIX = "item_"


def _token(prefix: str, row_id: int) -> str:
    if isinstance(row_id, bool) or not isinstance(row_id, Integral) or row_id < 1:
        raise OffsetTokenError(f"cannot make a '{prefix}<id>' offset token from {row_id!r}: ids are positive integers")
    return f"{prefix}{int(row_id)}"


def _parse(prefix: str, token: str | None) -> int | None:
    if token is None:
        return None
    digits = token[len(prefix) :] if isinstance(token, str) and token.startswith(prefix) else ""
    # int() alone would also take signs, spaces, underscores and non-ASCII digits.
    if not (digits.isascii() and digits.isdigit() and not digits.startswith("0")):
        raise OffsetTokenError(
            f"offset token {token!r} was not written by this kit: "
            f"expected '{prefix}<positive integer>', e.g. '{prefix}42'"
        )
    return int(digits)


def order_token(order_id: int) -> str:
    """The offset token ``order_<order_id>`` for the last order sent."""
    return _token(ORDER_PREFIX, order_id)


def item_token(item_id: int) -> str:
    """The offset token ``item_<item_id>`` for the last order item sent."""
    return _token(ITEM_PREFIX, item_id)


def parse_order_token(token: str | None) -> int | None:
    """The order id in an ``order_<id>`` token; None (nothing committed yet) gives None."""
    return _parse(ORDER_PREFIX, token)


def parse_item_token(token: str | None) -> int | None:
    """The item id in an ``item_<id>`` token; None (nothing committed yet) gives None."""
    return _parse(ITEM_PREFIX, token)
