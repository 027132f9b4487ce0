"""How one instance streams (:class:`StreamOptions`): batch size, lag, pacing, limits, channel and pipe names."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from aidemo.knobs import KNOBS, check_fields, knob_environment, knob_field
from aidemo.settings import Settings


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
    ``order_dates``: how a new job dates its orders (:mod:`aidemo.data.dates`: live, year or fixed); a
    resumed job keeps the dates its orders channel's token names.
    ``orders_channel`` / ``items_channel``: channel names (instance i of a parallel job adds
    ``_<i>``); ``orders_pipe`` / ``items_pipe``: the pipes they write through.
    Names, defaults and bounds are those of :data:`aidemo.knobs.KNOBS`, as :class:`Settings`' are;
    :meth:`from_settings` takes the shared ones from ``config.properties``.
    """

    batch_size: int = knob_field("batch_size")
    max_client_lag: float = knob_field("max_client_lag")
    rate: float | None = knob_field("rate")  # orders per second; None streams as fast as possible
    commit_timeout: float = knob_field("commit_timeout")
    max_retries: int = knob_field("max_retries")
    max_error_rows: int = knob_field("max_error_rows")
    max_in_flight: int = knob_field("max_in_flight")
    stall_reopen: float = knob_field("stall_reopen")
    order_dates: str = knob_field("order_dates")
    orders_channel: str = knob_field("orders_channel")
    items_channel: str = knob_field("items_channel")
    orders_pipe: str = knob_field("orders_pipe")
    items_pipe: str = knob_field("items_pipe")

    def __post_init__(self) -> None:
        check_fields(self)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides) -> StreamOptions:
        """The options ``settings`` holds (batch size, max client lag, channel and pipe names); ``overrides`` win."""
        shared = {f.name for f in dataclasses.fields(Settings)} & {f.name for f in dataclasses.fields(cls)}
        return cls(**{name: getattr(settings, name) for name in shared} | overrides)

    def to_arguments(self) -> list[str]:
        """These options as flags of ``aidemo stream`` / ``aidemo parallel`` (every one that is set)."""
        arguments = []
        for f in dataclasses.fields(self):
            if (value := getattr(self, f.name)) is not None:
                arguments += [KNOBS[f.name].flag, str(value)]
        return arguments

    def to_environment(self) -> dict[str, str]:
        """The ``AIDEMO_<KEY>`` variables of the options ``config.properties`` has a key for."""
        return knob_environment(
            **{f.name: getattr(self, f.name) for f in dataclasses.fields(self) if KNOBS[f.name].env}
        )
