"""How one instance streams (:class:`StreamOptions`): batch size, lag, pacing, limits, channel and pipe names."""

from __future__ import annotations

from dataclasses import dataclass

from aidemo.errors import ConfigError
from aidemo.settings import (
    BATCH_SIZE_RANGE,
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_CLIENT_LAG,
    MAX_CLIENT_LAG_RANGE,
    ORDER_ITEMS_CHANNEL,
    ORDER_ITEMS_PIPE,
    ORDERS_CHANNEL,
    ORDERS_PIPE,
    Settings,
)


@dataclass(frozen=True)
class StreamOptions:
    """How one instance streams: batch size (orders per append_rows), max client lag, pacing.

    ``max_error_rows``: rows the service may reject (its ``rows_error_count``, counted from
    this run's open) before the stream stops producing and fails, as the SDK's examples do.
    ``commit_timeout``: seconds to wait for the last commit; also how long appends the SDK
    refuses as saturated are retried while nothing commits (they are retried without limit
    while commits keep draining the SDK's in-flight rows).
    ``max_in_flight``: rows per channel handed to the SDK but not yet committed; beyond it the
    stream waits for commits before it generates more, so memory stays flat however long the job.
    Above the SDK's own limit (1,048,576 rows per channel) the SDK's saturation paces the stream.
    ``stall_reopen``: seconds the committed tokens may stand still while the stream waits for
    its last rows before the lagging channels are reopened and replayed from their committed
    tokens (rows the service accepted but lost are then sent again; nothing is doubled).
    ``orders_channel`` / ``items_channel``: channel names (instance i of a parallel job adds
    ``_<i>``); ``orders_pipe`` / ``items_pipe``: the pipes they write through.
    :meth:`from_settings` takes all of these from ``config.properties``.
    """

    batch_size: int = DEFAULT_BATCH_SIZE
    max_client_lag: float = DEFAULT_MAX_CLIENT_LAG
    rate: float | None = None  # orders per second; None streams as fast as possible
    commit_timeout: float = 300.0
    max_retries: int = 8
    max_error_rows: int = 0
    max_in_flight: int = 300_000
    stall_reopen: float = 30.0
    orders_channel: str = ORDERS_CHANNEL
    items_channel: str = ORDER_ITEMS_CHANNEL
    orders_pipe: str = ORDERS_PIPE
    items_pipe: str = ORDER_ITEMS_PIPE

    def __post_init__(self) -> None:
        low, high = BATCH_SIZE_RANGE
        if not isinstance(self.batch_size, int) or not low <= self.batch_size <= high:
            raise ConfigError(f"batch_size must be an integer between {low} and {high}, got {self.batch_size!r}")
        low, high = MAX_CLIENT_LAG_RANGE
        if not low <= float(self.max_client_lag) <= high:
            raise ConfigError(
                f"max_client_lag must be between {low:g} and {high:g} seconds, got {self.max_client_lag!r}"
            )
        if self.rate is not None and not self.rate > 0:
            raise ConfigError(f"rate must be a positive number of orders per second, got {self.rate!r}")
        if not self.stall_reopen > 0:
            raise ConfigError(f"stall_reopen must be a positive number of seconds, got {self.stall_reopen!r}")
        if not isinstance(self.max_error_rows, int) or self.max_error_rows < 0:
            raise ConfigError(f"max_error_rows must be an integer >= 0, got {self.max_error_rows!r}")
        if not isinstance(self.max_in_flight, int) or not 1_000 <= self.max_in_flight <= 10_000_000:
            raise ConfigError(
                f"max_in_flight must be an integer between 1000 and 10000000 rows, got {self.max_in_flight!r}"
            )

    @classmethod
    def from_settings(cls, settings: Settings, **overrides) -> StreamOptions:
        """Batch size, max client lag, channel and pipe names from ``settings``; ``overrides`` win."""
        return cls(
            **{
                "batch_size": settings.orders_batch_size,
                "max_client_lag": settings.max_client_lag,
                "orders_channel": settings.channel_prefix_orders,
                "items_channel": settings.channel_prefix_order_items,
                "orders_pipe": settings.orders_pipe,
                "items_pipe": settings.order_items_pipe,
            }
            | overrides
        )
