"""Streaming orders and items exactly once through the SDK, on either backend.

One instance owns two channels, ``orders_channel[_<i>]`` on ORDERS_PIPE and
``order_items_channel[_<i>]`` on ORDER_ITEMS_PIPE by default (one SDK client per pipe; the
names come from :class:`~aidemo.stream.options.StreamOptions`, i.e. ``config.properties``). Channels are
opened **without** an offset token; each resumes right after its own committed token, so
after a crash where items lag orders the missing items are regenerated (generation is a
pure function of the ids) and nothing is lost or doubled. The job's order dates
(:mod:`aidemo.data.dates`) are fixed when it first streams and kept in the orders channel's tokens;
a resumed run reads them back from the committed token, so it regenerates identical rows.

The kit's own buffer makes max client lag real (SDK 1.9.1 ignores the client property):
buffered rows go to the SDK when the lag since the first buffered row has elapsed, when a
batch of ``batch_size`` orders is full, at ~16 MB, or at close.
"""

from __future__ import annotations

import contextlib
import functools
import json
import random
import threading
import time
from collections.abc import Callable
from datetime import datetime

from aidemo.backends.backend import StreamingBackend
from aidemo.backends.sdk import sdk_errors
from aidemo.data.dates import OrderDates
from aidemo.data.generator import InstanceSpec, first_item_id, order_batch, order_of_item
from aidemo.errors import (
    BackendError,
    BackpressureError,
    ChannelInvalidatedError,
    ConfigError,
    StreamingError,
    TransientStreamingError,
)
from aidemo.measure.stats import FlushRecord, StreamStats
from aidemo.stream.offsets import item_token, order_token, parse_item_token, parse_order_dates, parse_order_token
from aidemo.stream.options import StreamOptions

MAX_BUFFER_BYTES = 16 * 1024 * 1024
REACHABLE_CHECK_S = 5.0  # commits standing still this long (rows in flight): is the server still there?


class _Lane:
    """One channel: its rows buffer, what was handed to the SDK, and what is committed."""

    def __init__(self, client, name: str, make_token, parse_token, first_id: int, *, lane: str, instance: int):
        self.client, self.name, self.lane, self.instance = client, name, lane, instance
        self.make_token, self.parse_token = make_token, parse_token
        self.first_id = first_id
        self.rows: list[dict] = []
        self.bytes = 0
        self.channel = None
        self.token: str | None = None  # the committed token when the channel was opened
        self.opened_status = None  # the channel's status as open_channel answered it
        self.next_id = first_id  # the next id to hand to the SDK
        self.generated_at = 0.0  # when the first buffered row was generated
        self.on_flush: Callable[[FlushRecord], None] | None = None
        self.errors_before: int | None = None
        self.open()

    def open(self) -> None:
        with sdk_errors(f"opening channel {self.name}"):
            self.channel, status = self.client.open_channel(self.name)  # no token: resume
        self.opened_status = status
        self.token = status.latest_committed_offset_token
        committed = self.parse_token(self.token)
        if committed is not None and committed < self.first_id - 1:
            raise ConfigError(
                f"channel {self.name} has committed {status.latest_committed_offset_token}, before this job's "
                f"first id {self.first_id}: it belongs to a different job (another total, instance count or "
                "seed). Rerun that job with the same arguments, or reset with `aidemo setup --reset`."
            )
        self.next_id = max(self.first_id, (committed or 0) + 1)
        self.rows, self.bytes = [], 0
        if self.errors_before is None:  # rows rejected before this run are not its concern
            self.errors_before = status.rows_error_count

    def reopen(self) -> None:
        """Close the SDK's (invalid) channel and open it again from its committed token."""
        if not self.channel.is_closed():
            with contextlib.suppress(Exception):  # an invalid channel may refuse to flush on close
                self.channel.close(drop=False, wait_for_flush=False)
        self.open()

    def committed(self) -> int | None:
        with sdk_errors(f"reading the committed token of {self.name}"):
            return self.parse_token(self.channel.get_latest_committed_offset_token())

    def status(self):
        with sdk_errors(f"reading the status of {self.name}"):
            return self.channel.get_channel_status()

    def add(self, rows: list[dict], first_id: int) -> None:
        """Buffer the rows whose ids this lane has not handed over yet."""
        rows = rows[max(0, self.next_id + len(self.rows) - first_id) :]
        if rows:
            if not self.rows:
                self.generated_at = time.monotonic()
            self.rows.extend(rows)
            self.bytes += len(rows) * len(json.dumps(rows[0]))

    def flush(self, options: StreamOptions, stats: StreamStats) -> int:
        """Hand the buffer to the SDK (retrying while the SDK pushes back); rows handed over."""
        if not self.rows:
            return 0
        first = self.next_id
        last = first + len(self.rows) - 1
        attempt, drained = 0, None  # under backpressure: the last commit seen, and when it was seen
        while True:
            try:
                with sdk_errors(f"appending to {self.name}"):
                    self.channel.append_rows(self.rows, self.make_token(first), self.make_token(last))
                break
            except BackpressureError as exc:
                # Pure backpressure: waited out for as long as commits keep draining the SDK.
                committed, now = self.committed(), time.monotonic()
                if drained is None or committed != drained[0]:
                    drained, attempt = (committed, now), 0
                elif now - drained[1] > options.commit_timeout:
                    raise StreamingError(
                        f"{exc} (refused for {options.commit_timeout:.0f} s while nothing was "
                        "committed: check the service, then rerun to resume)"
                    ) from exc
            except TransientStreamingError as exc:
                if attempt == options.max_retries:
                    raise StreamingError(
                        f"{exc} (still refused after {attempt} retries: lower the rate, or raise max_retries)"
                    ) from exc
            stats.retries += 1
            time.sleep(_backoff(attempt))
            attempt += 1
        count = len(self.rows)
        if self.on_flush:
            self.on_flush(
                FlushRecord(
                    self.name, self.lane, self.instance, first, last, count, self.generated_at, time.monotonic()
                )
            )
        self.next_id = last + 1
        self.rows, self.bytes = [], 0
        return count


class Streamer:
    """Streams orders ``spec.order_base .. + num_orders - 1`` and their items, exactly once.

    ``epoch``: when the job started (naive UTC, whole seconds; default now), the end of a new
    job's order dates in ``options.order_dates``; :attr:`dates` is what the stream uses.
    """

    def __init__(
        self,
        backend: StreamingBackend,
        spec: InstanceSpec,
        num_orders: int,
        options: StreamOptions = StreamOptions(),
        *,
        channel_suffix: str = "",
        client_name: str | None = None,
        stop_event: threading.Event | None = None,
        on_flush: Callable[[FlushRecord], None] | None = None,
        epoch: datetime | None = None,
    ):
        if not isinstance(num_orders, int) or num_orders < 1:
            raise ConfigError(f"number of orders must be a positive integer, got {num_orders!r}")
        self.backend, self.spec, self.options = backend, spec, options
        self.last_order = spec.order_base + num_orders - 1
        self.last_item = first_item_id(spec, self.last_order + 1) - 1
        self.stats = StreamStats(spec.instance, num_orders)
        self.stop_event = stop_event or threading.Event()  # shared by the instances of one job
        tick = int(min(options.max_client_lag, 1.0) * 1000)
        name = client_name or f"aidemo_{spec.instance}"
        self._clients = []
        for pipe in (options.orders_pipe, options.items_pipe):
            self._clients.append(backend.create_client(f"{name}_{pipe.lower()}", pipe, flush_tick_ms=tick))
        self.orders = _Lane(
            self._clients[0],
            options.orders_channel + channel_suffix,
            order_token,
            parse_order_token,
            spec.order_base,
            lane="orders",
            instance=spec.instance,
        )
        self.items = _Lane(
            self._clients[1],
            options.items_channel + channel_suffix,
            item_token,
            parse_item_token,
            spec.item_base,
            lane="items",
            instance=spec.instance,
        )
        self.orders.on_flush = self.items.on_flush = on_flush  # called after each append_rows
        # A resumed job dates as it started (its committed token says how); a new one from epoch.
        self.dates = parse_order_dates(self.orders.token) or OrderDates.for_job(options.order_dates, epoch)
        self.orders.make_token = functools.partial(order_token, dates=self.dates)
        self._rejected: str | None = None  # why the stream stops: rows rejected past max_error_rows
        self._gone: BackendError | None = None  # the backend's server is gone (the SDK would retry it forever)
        self._stalled: list[_Lane] = []  # lanes whose commits stood still: reopened like invalid ones
        # From what open_channel answered: the SDK's first status read blocks for about a second.
        self._sync_committed([self.orders.opened_status, self.items.opened_status])
        self.stats.orders_resumed, self.stats.items_resumed = self.stats.orders_committed, self.stats.items_committed
        self.stats.opened = time.monotonic()

    def stop(self) -> None:
        """Ask the stream to stop: it stops generating, flushes, waits for the commit and closes."""
        self.stop_event.set()

    def run(self, on_progress: Callable[[StreamStats], None] | None = None) -> StreamStats:
        """Stream until every order and item is committed (or :meth:`stop`); returns the stats."""
        # The SDK's first status read blocks for about a second: poll it off the hot path.
        done = threading.Event()
        watcher = threading.Thread(target=self._watch_commits, args=(done,), daemon=True)
        watcher.start()
        stuck, committed = 0, None  # reopens in a row without a new commit
        reopen = False
        try:
            while True:
                try:
                    if reopen:  # inside the loop: a channel may be invalidated again while reopening
                        self._reopen()
                    self._produce(on_progress)
                    self._flush()
                    self._wait_for_commit(on_progress)
                    break
                except ChannelInvalidatedError as exc:
                    now = (self.stats.orders_committed, self.stats.items_committed)
                    stuck, committed = (stuck + 1 if now == committed else 1), now
                    if stuck > self.options.max_retries:
                        raise StreamingError(
                            f"{exc}; reopened {stuck} times in a row without a new commit, "
                            "giving up: check the service, then rerun to resume"
                        ) from exc
                    reopen = True
        finally:
            done.set()
            watcher.join()
            self.stats.finished = time.monotonic()
            self.close()
        self.stats.stopped = self.stop_event.is_set() and self.stats.orders_committed < self.stats.orders_target
        return self.stats

    def close(self) -> None:
        for client in self._clients:
            if not client.is_closed():
                with sdk_errors("closing a client"):
                    client.close(wait_for_flush=False)

    # ---- internals ---------------------------------------------------------------------

    def _produce(self, on_progress) -> None:
        opts = self.options
        chunk = opts.batch_size if opts.rate is None else max(1, min(opts.batch_size, int(opts.rate / 20) or 1))
        paced_start, paced_count = time.monotonic(), 0
        first_buffered: float | None = None
        pending = 0  # orders generated since the last flush
        while not self.stop_event.is_set():
            self._check_rejected()
            start = self._next_order()
            if start > self.last_order:
                return
            if self._in_flight() > opts.max_in_flight:
                self._await_commits(lambda lane: lane.next_id - 1 - opts.max_in_flight, on_progress)
            count = min(chunk, self.last_order - start + 1)
            if opts.rate is not None:
                delay = paced_start + (paced_count + count) / opts.rate - time.monotonic()
                if delay > 0 and self.stop_event.wait(delay):
                    return
                paced_count += count
            batch = order_batch(self.spec, start, count, self.dates)
            self.orders.add(batch.order_rows(), batch.first_order_id)
            self.items.add(batch.item_rows(), batch.first_item_id)
            first_buffered = first_buffered or time.monotonic()
            pending += count
            lag_elapsed = time.monotonic() - first_buffered >= opts.max_client_lag
            if pending >= opts.batch_size or self.orders.bytes + self.items.bytes >= MAX_BUFFER_BYTES or lag_elapsed:
                self._flush()
                if lag_elapsed:  # the lag is spent: have the SDK send now rather than at its next tick
                    with sdk_errors("flushing"):
                        for lane in (self.orders, self.items):
                            lane.channel.initiate_flush()
                first_buffered, pending = None, 0
                if on_progress:
                    on_progress(self.stats)

    def _next_order(self) -> int:
        """The first order either lane still needs (items may lag behind orders)."""
        next_item = self.items.next_id + len(self.items.rows)
        item_order = order_of_item(self.spec, next_item)[0] if next_item <= self.last_item else self.last_order + 1
        return min(self.orders.next_id + len(self.orders.rows), item_order)

    def _flush(self) -> None:
        self.stats.orders_sent += self.orders.flush(self.options, self.stats)
        self.stats.items_sent += self.items.flush(self.options, self.stats)
        self.stats.flushes += 1

    def _in_flight(self) -> int:
        """The most rows one lane has handed to the SDK that are not committed yet."""
        return max(
            self.orders.next_id - self.spec.order_base - self.stats.orders_committed,
            self.items.next_id - self.spec.item_base - self.stats.items_committed,
        )

    def _wait_for_commit(self, on_progress) -> None:
        with sdk_errors("flushing"):
            for lane in (self.orders, self.items):
                lane.channel.initiate_flush()
        self._await_commits(lambda lane: lane.next_id - 1, on_progress)

    def _await_commits(self, target_of: Callable[[_Lane], int], on_progress) -> None:
        """Wait until each lane has committed up to ``target_of(lane)``; lanes whose commits stand
        still for ``stall_reopen`` are reopened (by raising), and ``commit_timeout`` ends the wait."""
        deadline = time.monotonic() + self.options.commit_timeout
        seen, moved = None, time.monotonic()
        while True:
            committed, behind = [], []
            for lane in (self.orders, self.items):
                target = target_of(lane)
                committed.append(lane.committed())
                if _channel_invalid(lane):
                    raise ChannelInvalidatedError(f"channel {lane.name} was invalidated")
                if not (target < lane.first_id or (committed[-1] or 0) >= target):
                    behind.append(lane)
            done = not behind
            if committed != seen:
                seen, moved = committed, time.monotonic()
            elif not done and time.monotonic() - moved > self.options.stall_reopen:
                self._stalled = behind
                raise ChannelInvalidatedError(
                    f"{' and '.join(lane.name for lane in behind)} committed nothing for "
                    f"{self.options.stall_reopen:g} s: reopening to replay from the committed token"
                )
            self._sync_committed()
            self._check_rejected()
            if on_progress:
                on_progress(self.stats)
            if done:
                return
            if time.monotonic() > deadline:
                raise StreamingError(
                    f"rows handed to the SDK were not committed within {self.options.commit_timeout:.0f} s "
                    f"(orders committed up to {self.stats.last_order_token}, "
                    f"items up to {self.stats.last_item_token}); "
                    "rerun the same command to resume"
                )
            time.sleep(0.1)

    def _watch_commits(self, done: threading.Event) -> None:
        seen, moved = None, time.monotonic()
        while not done.wait(0.25):
            try:
                self._sync_committed()
            except StreamingError:
                pass  # an invalidated channel is handled by the streaming loop
            committed = (self.stats.orders_committed, self.stats.items_committed)
            if committed != seen or self._in_flight() <= 0:
                seen, moved = committed, time.monotonic()
            elif time.monotonic() - moved > REACHABLE_CHECK_S and self._gone is None:
                try:
                    self.backend.check_reachable()
                except BackendError as exc:
                    self._gone = exc
                moved = time.monotonic()

    def _check_rejected(self) -> None:
        if self._gone:
            raise self._gone
        if self._rejected:
            raise StreamingError(self._rejected)

    def _reopen(self) -> None:
        """Reopen invalidated channels; each resumes after its committed token and regenerates the rest."""
        self.stats.reopens += 1
        for lane in (self.orders, self.items):
            if _channel_invalid(lane) or lane in self._stalled:
                lane.reopen()
        self._stalled = []
        self._sync_committed()

    def _sync_committed(self, statuses: list | None = None) -> None:
        """Stats from the lanes' channel statuses (read now, unless given)."""
        lanes = (self.orders, self.items)
        statuses = list(zip(lanes, statuses or [lane.status() for lane in lanes]))
        orders, items = (lane.parse_token(status.latest_committed_offset_token) for lane, status in statuses)
        self.stats.errors = sum(status.rows_error_count - lane.errors_before for lane, status in statuses)
        if self.stats.errors > self.options.max_error_rows and self._rejected is None:
            lane, status = max(statuses, key=lambda ls: ls[1].rows_error_count - ls[0].errors_before)
            self._rejected = (
                f"channel {lane.name} has {status.rows_error_count - lane.errors_before} rejected rows "
                f"(max_error_rows is {self.options.max_error_rows}); last error, at or before offset "
                f"{status.last_error_offset_token_upper_bound}: {status.last_error_message}. Stopped producing. "
                "The rejected rows are not in the table and the channel has moved past them: fix their cause "
                "(table or data), then load them again"
            )
        self.stats.orders_committed = max(0, (orders or 0) - self.spec.order_base + 1)
        self.stats.items_committed = max(0, (items or 0) - self.spec.item_base + 1)
        (_, order_status), (_, item_status) = statuses
        self.stats.last_order_token = order_status.latest_committed_offset_token if orders else None
        self.stats.last_item_token = item_status.latest_committed_offset_token if items else None


def _channel_invalid(lane: _Lane) -> bool:
    try:
        with sdk_errors(f"reading the status of {lane.name}"):
            return lane.channel.is_closed() or lane.channel.get_channel_status().status_code != "SUCCESS"
    except ChannelInvalidatedError:
        return True
    except StreamingError:
        return False  # not known to be invalid; the next read tells


def _backoff(attempt: int) -> float:
    """Exponential backoff with full jitter, capped at 10 s."""
    return random.uniform(0, min(10.0, 0.2 * 2**attempt))
