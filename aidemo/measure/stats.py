"""What a stream measured: counts, tokens, timings and rates, and each hand-over to the SDK.

One definition of a rate for everything that shows one (progress bar, live view, tables):
what a run committed over the seconds since its channels were opened.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class StreamStats:
    """Live figures of one instance; read by progress views while the stream runs.

    Rates count what *this run* committed (a rerun that resumes at the end commits nothing
    and has no rate) over the seconds since its channels were open, so the start-up of the
    SDK's clients does not dilute them; progress bars, live views and summaries all read
    :attr:`orders_per_s` and :attr:`rows_per_s`.
    """

    instance: int
    orders_target: int
    orders_sent: int = 0
    items_sent: int = 0
    orders_committed: int = 0
    items_committed: int = 0
    retries: int = 0
    reopens: int = 0
    errors: int = 0  # rows the service rejected since the channels were opened
    flushes: int = 0
    started: float = field(default_factory=time.monotonic)
    opened: float | None = None  # when the channels were open and streaming could begin
    finished: float | None = None
    orders_resumed: int = 0  # orders committed before this run (where it resumed)
    items_resumed: int = 0
    last_order_token: str | None = None
    last_item_token: str | None = None
    stopped: bool = False

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    @property
    def startup_seconds(self) -> float:
        """Seconds from the start until the channels were open."""
        return (self.opened or self.finished or time.monotonic()) - self.started

    @property
    def stream_seconds(self) -> float:
        """Seconds since the channels were open (until the run finished)."""
        return 0.0 if self.opened is None else (self.finished or time.monotonic()) - self.opened

    @property
    def rows_committed(self) -> int:
        return self.orders_committed + self.items_committed

    @property
    def orders_committed_now(self) -> int:
        """Orders this run committed (not those it resumed after)."""
        return max(0, self.orders_committed - self.orders_resumed)

    @property
    def rows_committed_now(self) -> int:
        """Orders and items this run committed."""
        return self.orders_committed_now + max(0, self.items_committed - self.items_resumed)

    @property
    def orders_per_s(self) -> float | None:
        """Orders this run committed per second of streaming; None when it committed none."""
        return _rate(self.orders_committed_now, self.stream_seconds)

    @property
    def rows_per_s(self) -> float | None:
        """Rows (orders and items) this run committed per second of streaming; None when none."""
        return _rate(self.rows_committed_now, self.stream_seconds)

    def summary(self) -> dict:
        orders_rate, rows_rate = self.orders_per_s, self.rows_per_s
        return {
            "instance": self.instance,
            "orders_sent": self.orders_sent,
            "items_sent": self.items_sent,
            "orders_committed": self.orders_committed,
            "items_committed": self.items_committed,
            "resumed_after": self.orders_resumed,
            "startup_s": round(self.startup_seconds, 3),
            "stream_s": round(self.stream_seconds, 3),
            "elapsed_s": round(self.elapsed, 3),
            "orders_per_s": None if orders_rate is None else round(orders_rate, 1),
            "rows_per_s": None if rows_rate is None else round(rows_rate, 1),
            "retries": self.retries,
            "reopens": self.reopens,
            "errors": self.errors,
            "stopped": self.stopped,
            "last_order_token": self.last_order_token,
            "last_item_token": self.last_item_token,
        }


def combined_rates(stats: list[StreamStats]) -> tuple[float | None, float | None]:
    """Orders/s and rows/s that instances streaming together committed in this run: their
    commits over the seconds from the first channel open to the last finish (now, while running)."""
    opened = [s.opened for s in stats if s.opened is not None]
    if not opened:
        return None, None
    now = time.monotonic()
    seconds = max((s.finished or now) for s in stats) - min(opened)
    return (
        _rate(sum(s.orders_committed_now for s in stats), seconds),
        _rate(sum(s.rows_committed_now for s in stats), seconds),
    )


def _rate(count: int, seconds: float) -> float | None:
    return count / seconds if count and seconds > 0 else None


@dataclass(frozen=True)
class FlushRecord:
    """One hand-over of a lane's buffer to the SDK; times are ``time.monotonic()`` seconds.

    ``lane`` is ``"orders"`` or ``"items"`` and ``instance`` the instance whose stream flushed,
    so no reader works them out of the channel's name.
    """

    channel: str
    lane: str
    instance: int
    first_id: int
    last_id: int
    rows: int
    generated_at: float  # when the first of these rows was generated
    handed_at: float  # when append_rows returned
