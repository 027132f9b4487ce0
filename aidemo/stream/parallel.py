"""Parallel streaming: one job of TOTAL orders split over N instances.

Instance i of N owns a contiguous slice of the order ids, the item ids and the customers
(:func:`aidemo.data.generator.split_instances`, a pure function of seed, TOTAL and N) and its own
channels ``orders_channel_<i>`` / ``order_items_channel_<i>``; it resumes from its own
committed tokens, so rerunning the same job after a crash completes it exactly once.
Instances run as threads of one process or as processes; ``instances=[k]`` runs one slice,
so N machines can finish one job together. The job's start (UTC, whole seconds) is the epoch of
the order dates of every instance that starts streaming in this run; an instance that resumes
keeps the dates its orders channel's token names (:mod:`aidemo.data.dates`).
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import queue
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from aidemo.backends.backend import StreamingBackend
from aidemo.data.dates import utc_now
from aidemo.data.generator import InstanceSpec, split_instances
from aidemo.errors import AidemoError, ConfigError
from aidemo.knobs import DEFAULT_CUSTOMERS, DEFAULT_SEED
from aidemo.measure.stats import FlushRecord, StreamStats
from aidemo.stream.options import StreamOptions
from aidemo.stream.streaming import Streamer

CHANNELS_PER_PIPE_LIMIT = 2000  # Snowflake's documented limit of channels per pipe
_WARN_SHARE = 0.9


@dataclass(frozen=True)
class ParallelResult:
    """Per-instance stats and errors of one run, with totals."""

    stats: tuple[StreamStats, ...]
    errors: dict[int, str]
    wall_s: float

    @property
    def orders_committed(self) -> int:
        return sum(s.orders_committed for s in self.stats)

    @property
    def rows_committed(self) -> int:
        return sum(s.rows_committed for s in self.stats)

    def summary(self) -> list[dict]:
        return [s.summary() | {"error": self.errors.get(s.instance)} for s in self.stats]


def plan(total_orders: int, instances: int, *, seed: int, num_customers: int) -> list[tuple[InstanceSpec, int]]:
    """The split of a job over instances; warns near Snowflake's 2,000 channels per pipe."""
    if instances > CHANNELS_PER_PIPE_LIMIT:
        raise ConfigError(
            f"{instances} instances need {instances} channels on each pipe; Snowflake allows "
            f"{CHANNELS_PER_PIPE_LIMIT} per pipe"
        )
    if instances >= _WARN_SHARE * CHANNELS_PER_PIPE_LIMIT:
        warnings.warn(
            f"{instances} instances use {instances} channels per pipe ({2 * instances} in all), close to "
            f"Snowflake's limit of {CHANNELS_PER_PIPE_LIMIT} channels per pipe",
            stacklevel=2,
        )
    return split_instances(seed, total_orders, instances, num_customers)


def run_parallel(
    total_orders: int,
    instances: int,
    *,
    backend: StreamingBackend | None = None,
    seed: int = DEFAULT_SEED,
    num_customers: int = DEFAULT_CUSTOMERS,
    options: StreamOptions = StreamOptions(),
    only: list[int] | None = None,
    processes: bool = False,
    on_progress: Callable[[list[StreamStats]], None] | None = None,
    stop: threading.Event | None = None,
    on_flush: Callable[[FlushRecord], None] | None = None,
) -> ParallelResult:
    """Stream a job of ``total_orders`` over ``instances`` instances (or only the slices in ``only``).

    ``on_flush`` sees every batch handed to the SDK (threads only: worker processes keep theirs).
    """
    from aidemo.backends.backend import open_backend

    backend = backend or open_backend()
    slices = plan(total_orders, instances, seed=seed, num_customers=num_customers)
    chosen = sorted(set(only)) if only else list(range(instances))
    for k in chosen:
        if not 0 <= k < instances:
            raise ConfigError(f"instance {k} is not one of 0..{instances - 1}")
    work = [slices[k] for k in chosen]
    stats = {spec.instance: StreamStats(spec.instance, count) for spec, count in work}
    stop = stop or threading.Event()
    started, epoch = time.monotonic(), utc_now()
    errors = (
        _run_processes(backend, work, options, stats, on_progress, stop, epoch)
        if processes
        else _run_threads(backend, work, options, stats, on_progress, stop, epoch, on_flush)
    )
    return ParallelResult(tuple(stats[k] for k in sorted(stats)), errors, time.monotonic() - started)


def _run_threads(backend, work, options, stats, on_progress, stop, epoch, on_flush=None) -> dict[int, str]:
    lock = threading.Lock()
    errors: dict[int, str] = {}

    def one(spec: InstanceSpec, count: int) -> None:
        streamer = Streamer(
            backend,
            spec,
            count,
            options,
            channel_suffix=f"_{spec.instance}",
            stop_event=stop,
            on_flush=on_flush,
            epoch=epoch,
        )
        stats[spec.instance] = streamer.stats
        check_slice(streamer)

        def progress(_):
            if on_progress:
                with lock:
                    on_progress(list(stats.values()))

        streamer.run(progress)

    with cf.ThreadPoolExecutor(max_workers=len(work), thread_name_prefix="aidemo-instance") as pool:
        futures = {pool.submit(one, spec, count): spec.instance for spec, count in work}
        for future in cf.as_completed(futures):
            if future.exception() is not None:
                errors[futures[future]] = _describe(future.exception())
    return errors


def _run_processes(backend, work, options, stats, on_progress, stop, epoch) -> dict[int, str]:
    context = mp.get_context("spawn")
    updates = context.Queue()
    errors: dict[int, str] = {}
    procs = {}
    for spec, count in work:
        proc = context.Process(
            target=_process_main,
            name=f"aidemo-instance-{spec.instance}",
            args=(backend, spec, count, options, updates, epoch),
            daemon=True,
        )
        proc.start()
        procs[spec.instance] = proc
    pending = set(procs)
    stopping = False
    while pending:
        if stop.is_set() and not stopping:
            stopping = True
            for proc in procs.values():
                if proc.is_alive():
                    proc.terminate()  # SIGTERM: the worker flushes, waits for the commit and closes
        try:
            instance, kind, payload = updates.get(timeout=0.25)
        except queue.Empty:
            for k in list(pending):
                if not procs[k].is_alive():
                    pending.discard(k)
                    errors.setdefault(k, f"worker exited with code {procs[k].exitcode}")
            continue
        if kind == "stats":
            stats[instance] = payload
            if on_progress:
                on_progress(list(stats.values()))
        else:
            pending.discard(instance)
            if kind == "error":
                errors[instance] = payload
    for proc in procs.values():
        proc.join()
    return errors


def _process_main(backend, spec, count, options, updates, epoch) -> None:
    # ``backend`` arrives as the backend's own pickle (its __reduce__): the same server, a new connection.
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent turns Ctrl-C into SIGTERM for us
    try:
        streamer = Streamer(backend, spec, count, options, channel_suffix=f"_{spec.instance}", epoch=epoch)
        check_slice(streamer)
    except Exception as exc:
        updates.put((spec.instance, "error", _describe(exc)))
        return
    signal.signal(signal.SIGTERM, lambda *_: streamer.stop())
    try:
        stats = streamer.run(lambda st: updates.put((spec.instance, "stats", st)))
        updates.put((spec.instance, "stats", stats))
        updates.put((spec.instance, "done", None))
    except Exception as exc:  # reported to the parent; the rerun resumes
        updates.put((spec.instance, "stats", streamer.stats))
        updates.put((spec.instance, "error", _describe(exc)))


def check_slice(streamer: Streamer) -> None:
    """Refuse channels whose committed ids run past this instance's slice: another job wrote them."""
    for lane, last in ((streamer.orders, streamer.last_order), (streamer.items, streamer.last_item)):
        if lane.next_id - 1 > last:
            streamer.close()
            raise ConfigError(
                f"channel {lane.name} has committed id {lane.next_id - 1}, past this instance's slice "
                f"(ends at {last}): it belongs to a different job (another total, instance count or seed). "
                "Rerun that job with the same arguments, or reset with `aidemo setup --reset`."
            )


def _describe(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, AidemoError) else f"{type(exc).__name__}: {exc}"
