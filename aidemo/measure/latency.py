"""End-to-end latency of a steady stream, per flushed batch, on either backend.

Every batch the kit hands to the SDK (one ``append_rows`` call on the orders or the items
channel) is followed through four moments, all on the ``time.monotonic()`` clock and kept
as seconds since the stream started:

* ``generated``: its first (oldest) row was generated;
* ``handed``: ``append_rows`` returned (the rows left the kit's buffer, see ``max_client_lag``
  and ``batch_size``);
* ``committed``: the channel status, as the SDK reports it, shows a committed offset token at
  or past the batch's last id (polled every 50 ms; the SDK refreshes its status cache about
  once a second, so this can trail the commit itself by up to ~1 s);
* ``queryable``: a SQL query sees the batch's last id (polled every 100 ms; the time is taken
  when the query returns, so on a real account it includes the query's round trip).

The latencies ``handed_s``, ``committed_s`` and ``queryable_s`` are measured from
``generated``: the batch's oldest row is its slowest one, so they bound every row's latency.
``committed`` and ``queryable`` are observed independently, so a query can see rows before
the SDK's status cache reports them committed (locally, where the service commits on
arrival, it usually does).

Each measurement streams a new range of ids (after the largest in ORDERS / ORDER_ITEMS) on
channels of its own (``orders_channel_latency_<first id>``, dropped afterwards), so runs
never resume each other. Use a service or account where nothing else streams meanwhile: the
rows land in the real ORDERS / ORDER_ITEMS tables.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from aidemo.backends.sdk import sdk_errors
from aidemo.data.generator import InstanceSpec
from aidemo.errors import AidemoError, ConfigError, StreamingError
from aidemo.knobs import DEFAULT_CUSTOMERS, DEFAULT_SEED
from aidemo.measure.stats import FlushRecord
from aidemo.stream.offsets import parse_item_token, parse_order_token
from aidemo.stream.options import StreamOptions
from aidemo.stream.streaming import Streamer

if TYPE_CHECKING:
    from aidemo.backends.backend import StreamingBackend

LATENCIES = ("handed_s", "committed_s", "queryable_s")
STAGE_NAMES = {
    "handed_s": "generated → handed to the SDK",
    "committed_s": "generated → committed",
    "queryable_s": "generated → queryable",
}
PERCENTILES = (50, 95, 99)
SETTINGS = ("backend", "max_client_lag", "batch_size", "rate")
LANES = ("orders", "items")
COMMIT_POLL_S = 0.05
QUERY_POLL_S = 0.1

_WATERMARKS_SQL = (
    "SELECT (SELECT MAX(ORDER_ID) FROM ORDERS WHERE ORDER_ID BETWEEN {0} AND {1}) AS ORDERS, "
    "(SELECT MAX(ORDER_ITEM_ID) FROM ORDER_ITEMS WHERE ORDER_ITEM_ID BETWEEN {2} AND {3}) AS ITEMS"
)
_LAST_IDS_SQL = (
    "SELECT (SELECT COALESCE(MAX(ORDER_ID), 0) FROM ORDERS) AS ORDERS, "
    "(SELECT COALESCE(MAX(ORDER_ITEM_ID), 0) FROM ORDER_ITEMS) AS ITEMS"
)


class Watermark:
    """When a polled, never-decreasing id (a committed token, a table's MAX) first reached each value."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.values: list[int] = []
        self._lock = threading.Lock()

    def see(self, value: int | None, at: float) -> None:
        """Record that ``value`` was observed at ``at``; only increases are kept."""
        with self._lock:
            if value is not None and (not self.values or value > self.values[-1]):
                self.times.append(at)
                self.values.append(int(value))

    def reached(self, row_id: int) -> float:
        """The first time the watermark was at or past ``row_id``; NaN if it never was."""
        with self._lock:
            i = bisect.bisect_left(self.values, row_id)
            return self.times[i] if i < len(self.times) else math.nan

    @property
    def last(self) -> int:
        with self._lock:
            return self.values[-1] if self.values else 0


@dataclass
class Trace:
    """What one run observed: the flushes per lane and the committed / queryable watermarks."""

    flushes: dict[str, list[FlushRecord]] = field(default_factory=lambda: {lane: [] for lane in LANES})
    committed: dict[str, Watermark] = field(default_factory=lambda: {lane: Watermark() for lane in LANES})
    queryable: dict[str, Watermark] = field(default_factory=lambda: {lane: Watermark() for lane in LANES})
    errors: list[Exception] = field(default_factory=list)  # why the table poller stopped, if it did


def batch_frame(trace: Trace, start: float) -> pd.DataFrame:
    """One row per flushed batch: lane, ids, rows, stage times (s since ``start``) and latencies."""
    rows = []
    for lane in LANES:
        for f in trace.flushes[lane]:
            committed = trace.committed[lane].reached(f.last_id)
            queryable = trace.queryable[lane].reached(f.last_id)
            rows.append(
                {
                    "lane": lane,
                    "first_id": f.first_id,
                    "last_id": f.last_id,
                    "rows": f.rows,
                    "generated": f.generated_at - start,
                    "handed": f.handed_at - start,
                    "committed": committed - start,
                    "queryable": queryable - start,
                    "handed_s": f.handed_at - f.generated_at,
                    "committed_s": committed - f.generated_at,
                    "queryable_s": queryable - f.generated_at,
                }
            )
    columns = ["lane", "first_id", "last_id", "rows", "generated", "handed", "committed", "queryable", *LATENCIES]
    return pd.DataFrame(rows, columns=columns).sort_values(["generated", "lane"], ignore_index=True)


def stage_durations(batches: pd.DataFrame) -> pd.DataFrame:
    """Time spent in each stage per batch; the three add up to ``queryable_s``.

    ``visible`` (committed → queryable) is negative when a query saw the rows before the
    SDK's status cache reported them committed.
    """
    return pd.DataFrame(
        {
            "buffered": batches["handed"] - batches["generated"],
            "committing": batches["committed"] - batches["handed"],
            "visible": batches["queryable"] - batches["committed"],
        }
    )


def percentile_table(values: Iterable[float]) -> dict[str, float]:
    """``{"p50": .., "p95": .., "p99": ..}`` of the finite values (linear interpolation); NaN if none."""
    data = np.asarray([v for v in values if math.isfinite(v)], dtype=float)
    return {f"p{p}": float(np.percentile(data, p)) if data.size else math.nan for p in PERCENTILES}


def percentile_column(stage: str, p: int) -> str:
    """The summary column of a stage's percentile: ``("committed_s", 99)`` -> ``"committed_p99"``."""
    return f"{stage.removesuffix('_s')}_p{p}"


def summarize(batches: pd.DataFrame) -> pd.DataFrame:
    """One row per setting (backend, lag, batch size, rate): p50/p95/p99 per stage and throughput.

    Throughput counts the orders committed over the time from the first row generated to the
    last batch committed.
    """
    rows = []
    for settings, group in batches.groupby(list(SETTINGS), sort=True):
        orders = int(group.loc[group["lane"] == "orders", "rows"].sum())
        span = group["committed"].max() - group["generated"].min()
        row = dict(zip(SETTINGS, settings))
        row.update(
            batches=len(group),
            orders=orders,
            items=int(group["rows"].sum()) - orders,
            orders_per_s=orders / span if span > 0 else math.nan,
            unresolved=int(group[list(LATENCIES)].isna().any(axis=1).sum()),
        )
        for stage in LATENCIES:
            for p, value in zip(PERCENTILES, percentile_table(group[stage]).values()):
                row[percentile_column(stage, p)] = value
        rows.append(row)
    return pd.DataFrame(rows)


def measure(
    backend: StreamingBackend,
    *,
    max_client_lag: float,
    batch_size: int,
    duration: float,
    rate: float,
    seed: int = DEFAULT_SEED,
    num_customers: int = DEFAULT_CUSTOMERS,
    settle_timeout: float = 120.0,
    base: StreamOptions | None = None,
) -> pd.DataFrame:
    """Stream ``rate`` orders/s for ``duration`` s and time every batch; one row per batch.

    Columns: see :func:`batch_frame`, plus the settings (``backend``, ``max_client_lag``,
    ``batch_size``, ``rate``) and ``run`` (the run's first order id); ``attrs["stats"]`` is the
    stream's :class:`~aidemo.measure.stats.StreamStats`. The local service's
    flush tick is set to min(lag, 1 s) by the streamer, exactly as in a normal stream. ``base``
    gives the other stream options, channel and pipe names among them (default: the defaults).
    """
    options = dataclasses.replace(
        base or StreamOptions(), batch_size=batch_size, max_client_lag=max_client_lag, rate=rate
    )
    if not duration > 0:
        raise ConfigError(f"duration must be a positive number of seconds, got {duration!r}")
    if not settle_timeout > 0:
        raise ConfigError(f"settle_timeout must be a positive number of seconds, got {settle_timeout!r}")
    num_orders = max(1, round(rate * duration))
    last_order, last_item = _last_ids(backend)
    spec = InstanceSpec(seed, 0, last_order + 1, last_item + 1, 1, num_customers)
    suffix = f"_latency_{spec.order_base}"
    trace = Trace()

    def flushed(record: FlushRecord) -> None:
        trace.flushes[record.lane].append(record)

    def progressed(stats) -> None:  # the streamer's own final commit check, so no commit goes unseen
        now = time.monotonic()
        trace.committed["orders"].see(parse_order_token(stats.last_order_token), now)
        trace.committed["items"].see(parse_item_token(stats.last_item_token), now)

    streamer = Streamer(
        backend,
        spec,
        num_orders,
        options,
        channel_suffix=suffix,
        client_name=f"aidemo_latency{suffix}",
        on_flush=flushed,
    )
    streamed, settled = threading.Event(), threading.Event()
    pollers = [
        threading.Thread(target=_poll_commits, args=(streamer, trace, streamed), daemon=True),
        threading.Thread(target=_poll_tables, args=(backend, spec, streamer, trace, settled), daemon=True),
    ]
    start = time.monotonic()
    for thread in pollers:
        thread.start()
    try:
        streamer.run(progressed)
        streamed.set()
        deadline = time.monotonic() + settle_timeout
        targets = {"orders": streamer.last_order, "items": streamer.last_item}
        while any(trace.queryable[lane].last < target for lane, target in targets.items()):
            if trace.errors:
                raise trace.errors[0]
            if time.monotonic() > deadline:
                raise StreamingError(
                    f"committed rows were not queryable within {settle_timeout:g} s "
                    f"(orders up to {trace.queryable['orders'].last}, items up to {trace.queryable['items'].last})"
                )
            time.sleep(QUERY_POLL_S)
    finally:
        streamed.set()
        settled.set()
        for thread in pollers:
            thread.join()
    _drop_channels(backend, suffix, streamer)
    frame = batch_frame(trace, start)
    labels = {
        "backend": backend.name,
        "max_client_lag": float(max_client_lag),
        "batch_size": batch_size,
        "rate": float(rate),
        "run": spec.order_base,
    }
    frame = frame.assign(**labels)[[*labels, *frame.columns]]
    frame.attrs["stats"] = streamer.stats  # retries and rejected rows (aidemo.notebook.figures)
    return frame


def measure_grid(
    backend: StreamingBackend,
    *,
    lags: Iterable[float],
    batch_sizes: Iterable[int],
    duration: float,
    rate: float,
    on_result: Callable[[pd.DataFrame], None] | None = None,
    **kwargs,
) -> pd.DataFrame:
    """:func:`measure` for every (lag, batch size); all batches in one frame. ``on_result`` sees each run."""
    frames = []
    for lag in lags:
        for size in batch_sizes:
            frame = measure(backend, max_client_lag=lag, batch_size=size, duration=duration, rate=rate, **kwargs)
            if on_result:
                on_result(frame)
            frames.append(frame)
    if not frames:
        raise ConfigError("give at least one max client lag and one batch size to measure")
    return pd.concat(frames, ignore_index=True)


def parse_numbers(option: str, text: str, kind: type) -> list:
    """``"1,5,10"`` as a list of ``kind``; a clear error naming ``option`` otherwise."""
    try:
        values = [kind(part) for part in str(text).split(",") if part.strip()]
    except ValueError:
        values = []
    if not values:
        raise ConfigError(f"{option} takes comma-separated {kind.__name__} values such as 1,5,10, got {text!r}")
    return values


# ---- internals ---------------------------------------------------------------------------


def _last_ids(backend: StreamingBackend) -> tuple[int, int]:
    row = backend.sql(_LAST_IDS_SQL).iloc[0]
    return int(row["ORDERS"]), int(row["ITEMS"])


def _poll_commits(streamer: Streamer, trace: Trace, done: threading.Event) -> None:
    """Every 50 ms: each channel's committed token as the SDK reports it."""
    while not done.wait(COMMIT_POLL_S):
        for lane, channel in (("orders", streamer.orders), ("items", streamer.items)):
            try:
                value = channel.committed()
            except StreamingError:
                continue  # a channel being reopened (or closed at the end): the next poll catches up
            trace.committed[lane].see(value, time.monotonic())


def _poll_tables(
    backend: StreamingBackend, spec: InstanceSpec, streamer: Streamer, trace: Trace, done: threading.Event
) -> None:
    """Every 100 ms: the largest order and item id of this run that a query sees."""
    statement = _WATERMARKS_SQL.format(spec.order_base, streamer.last_order, spec.item_base, streamer.last_item)
    while not done.wait(QUERY_POLL_S):
        try:
            row = backend.sql(statement).iloc[0]
        except AidemoError as exc:
            trace.errors.append(exc)
            return
        now = time.monotonic()
        for lane, column in (("orders", "ORDERS"), ("items", "ITEMS")):
            value = row[column]
            trace.queryable[lane].see(None if pd.isna(value) else int(value), now)


def _drop_channels(backend: StreamingBackend, suffix: str, streamer: Streamer) -> None:
    """Drop the run's two channels, so repeated runs do not pile up channels on the pipes."""
    options = streamer.options
    for pipe, lane in ((options.orders_pipe, streamer.orders), (options.items_pipe, streamer.items)):
        client = backend.create_client(f"aidemo_latency_drop{suffix}_{pipe.lower()}", pipe)
        try:
            with sdk_errors(f"dropping channel {lane.name}"):
                client.drop_channel(lane.name)
        finally:
            client.close()
