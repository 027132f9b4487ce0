"""How a job dates its orders (the ``order.dates`` setting): live, over the past year, or fixed.

An order's ORDER_DATE is a pure function of (seed, instance, order id) and the job's
:class:`OrderDates`, a mode and an epoch; the epoch is never read from the clock while rows are
generated, so a replay regenerates identical rows.

* ``live`` (the default): in the :data:`LIVE_WINDOW_MINUTES` minutes before the epoch, the moment
  the job started, so a dashboard beside the stream ("last hour", "today", "last 7 days") shows
  the orders as they land.
* ``year``: in the 365 days before the epoch, as the upstream demo's generator spreads them.
* ``fixed``: in the 365 days before :data:`~aidemo.data.models.ORDER_EPOCH` (2025-01-01), whenever
  the rows are generated: the same tables as the docs show.

The epoch is UTC wall time in whole seconds (ORDER_DATE is a TIMESTAMP_NTZ). A job keeps its
dating in its orders channel's committed offset token (:mod:`aidemo.stream.offsets`), so a rerun resumes
with the dates it started with, whatever ``order.dates`` says by then.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aidemo.data.models import ORDER_EPOCH, ORDER_WINDOW_DAYS
from aidemo.errors import ConfigError

#: The ``order.dates`` modes, the default first.
ORDER_DATE_MODES = ("live", "year", "fixed")
DEFAULT_ORDER_DATES = "live"
LIVE_WINDOW_MINUTES = 15
_WINDOWS = {
    "live": timedelta(minutes=LIVE_WINDOW_MINUTES),
    "year": timedelta(days=ORDER_WINDOW_DAYS),
    "fixed": timedelta(days=ORDER_WINDOW_DAYS),
}
_STAMP = "%Y-%m-%dT%H:%M:%SZ"
_LABEL = re.compile(r"(live|year):(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")


def utc_now() -> datetime:
    """Now, as a naive UTC datetime in whole seconds: the epoch of a job that starts now."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


@dataclass(frozen=True)
class OrderDates:
    """A job's dating: ORDER_DATE lies in ``[start, epoch)``, ``window`` long.

    ``epoch`` is a naive UTC datetime in whole seconds, not before ORDER_EPOCH (customers
    registered before ORDER_EPOCH's window, so before every order); ``fixed`` has ORDER_EPOCH.
    """

    mode: str = "fixed"
    epoch: datetime = ORDER_EPOCH

    def __post_init__(self) -> None:
        if self.mode not in ORDER_DATE_MODES:
            raise ConfigError(f"order dates must be one of {', '.join(ORDER_DATE_MODES)}, got {self.mode!r}")
        epoch = self.epoch
        if not isinstance(epoch, datetime) or epoch.tzinfo is not None or epoch.microsecond:
            raise ConfigError(f"the order dates' epoch must be a naive UTC datetime in whole seconds, got {epoch!r}")
        if self.mode == "fixed" and epoch != ORDER_EPOCH:
            raise ConfigError(f"fixed order dates end at {ORDER_EPOCH:%Y-%m-%d}; got the epoch {epoch}")
        if epoch < ORDER_EPOCH:
            raise ConfigError(f"the order dates' epoch {epoch} is before {ORDER_EPOCH:%Y-%m-%d}, where customers end")

    @classmethod
    def for_job(cls, mode: str, epoch: datetime | None = None) -> OrderDates:
        """The dating of a job in ``mode`` started at ``epoch`` (default: now); fixed ignores the epoch."""
        if mode == "fixed":
            return cls()
        return cls(mode, utc_now() if epoch is None else epoch)

    @property
    def window(self) -> timedelta:
        """How long the span of order dates is."""
        return _WINDOWS[self.mode]

    @property
    def start(self) -> datetime:
        """The earliest order date (inclusive)."""
        return self.epoch - self.window

    @property
    def label(self) -> str:
        """``''`` for fixed, else ``<mode>:<epoch as YYYY-MM-DDTHH:MM:SSZ>`` (what a token keeps)."""
        return "" if self.mode == "fixed" else f"{self.mode}:{self.epoch.strftime(_STAMP)}"

    @classmethod
    def from_label(cls, label: str) -> OrderDates:
        """The dating a :attr:`label` names; ConfigError for any other text."""
        if label == "":
            return cls()
        match = _LABEL.fullmatch(label)
        if not match:
            raise ConfigError(f"{label!r} names no order dates: expected 'live:<UTC time>' or 'year:<UTC time>'")
        try:
            epoch = datetime.strptime(match[2], _STAMP)
        except ValueError:
            raise ConfigError(f"{label!r} names no order dates: {match[2]} is not a time") from None
        return cls(match[1], epoch)

    def describe(self) -> str:
        """One line for people: which orders dates, and when they end."""
        if self.mode == "fixed":
            return f"fixed: the {ORDER_WINDOW_DAYS} days before {self.epoch:%Y-%m-%d}"
        span = f"{LIVE_WINDOW_MINUTES} minutes" if self.mode == "live" else f"{ORDER_WINDOW_DAYS} days"
        return f"{self.mode}: the {span} before {self.epoch:%Y-%m-%d %H:%M:%S} UTC"


FIXED = OrderDates()
