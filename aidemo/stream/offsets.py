"""Offset tokens: ``order_<order_id>`` on the orders channel, ``item_<order_item_id>`` on the items channel.

A channel's committed token names the last row it holds, so a resumed run continues with the
next id. An orders token also keeps the job's order dates (:mod:`aidemo.data.dates`) unless they are
fixed: ``order_<id>@live:2026-12-04T19:47:12Z``, so a resumed run dates its orders as the first
run did. Parsing accepts exactly what the kit writes (a prefix and a positive integer in
canonical form, and for orders the dates) and raises :class:`~aidemo.errors.OffsetTokenError`
for anything else.
"""

from __future__ import annotations

from numbers import Integral

from aidemo.data.dates import FIXED, OrderDates
from aidemo.errors import ConfigError, OffsetTokenError

ORDER_PREFIX = "order_"
ITEM_PREFIX = "item_"
DATES_MARK = "@"


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
        raise _foreign(token, prefix)
    return int(digits)


def _foreign(token, prefix: str = ORDER_PREFIX) -> OffsetTokenError:
    dated = f" or '{prefix}<id>@<live|year>:<UTC time>'" if prefix == ORDER_PREFIX else ""
    return OffsetTokenError(
        f"offset token {token!r} was not written by this kit: "
        f"expected '{prefix}<positive integer>'{dated}, e.g. '{prefix}42'"
    )


def order_token(order_id: int, dates: OrderDates = FIXED) -> str:
    """The offset token ``order_<order_id>`` for the last order sent, with ``@<dates>`` unless fixed."""
    token = _token(ORDER_PREFIX, order_id)
    return f"{token}{DATES_MARK}{dates.label}" if dates.label else token


def item_token(item_id: int) -> str:
    """The offset token ``item_<item_id>`` for the last order item sent."""
    return _token(ITEM_PREFIX, item_id)


def parse_order_token(token: str | None) -> int | None:
    """The order id in an ``order_<id>[@<dates>]`` token; None (nothing committed yet) gives None."""
    return None if token is None else _parse_order(token)[0]


def parse_order_dates(token: str | None) -> OrderDates | None:
    """The order dates an orders token keeps (fixed without ``@``); None for None (nothing committed)."""
    return None if token is None else _parse_order(token)[1]


def _parse_order(token: str) -> tuple[int, OrderDates]:
    head, mark, label = token.partition(DATES_MARK) if isinstance(token, str) else (token, "", "")
    try:
        order_id = _parse(ORDER_PREFIX, head)
        if mark and not label:
            raise ConfigError("the dates are missing")
        return order_id, OrderDates.from_label(label)
    except (ConfigError, OffsetTokenError):
        raise _foreign(token) from None


def parse_item_token(token: str | None) -> int | None:
    """The item id in an ``item_<id>`` token; None (nothing committed yet) gives None."""
    return _parse(ITEM_PREFIX, token)
