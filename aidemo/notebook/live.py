"""The live view of a running stream: committed orders/s and rows/s over time, per-stage latency.

A :class:`LiveView` samples the streams' :class:`~aidemo.measure.stats.StreamStats` a few times a
second on a thread of its own and, with a front end, redraws one figure (an ipywidgets
``Image``) and a per-instance table while the stream runs. Headless (papermill) it draws the
same figure once, at the end, as a static image. Every rate it shows comes from
:func:`aidemo.measure.stats.combined_rates`, the figure the summaries print.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from aidemo.notebook.session import has_front_end
from aidemo.stream.offsets import parse_item_token, parse_order_token

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from aidemo.backends.backend import StreamingBackend
    from aidemo.measure.stats import FlushRecord, StreamStats
    from aidemo.stream.options import StreamOptions
    from aidemo.stream.parallel import ParallelResult

RATE_WINDOW_S = 2.0  # the rate over time is the committed count's slope over this window


class LiveView:
    """A stream's figures while it runs; ``update`` is the progress callback, ``on_flush`` the streamer's.

    ``samples`` (seconds since start, this run's committed orders and rows) and ``latencies``
    (per flushed batch: seconds from generation to hand-over and to commit) stay afterwards.
    ``mark`` shades a span of the time axis (e.g. while a fault is on).
    """

    def __init__(
        self,
        title: str,
        *,
        interval: float = 0.3,
        live: bool | None = None,
        table: bool = False,
    ):
        self.title, self.interval, self.table = title, interval, table
        self.live = has_front_end() if live is None else live
        self.samples: list[tuple[float, int, int]] = []
        self.latencies: list[dict] = []
        self.spans: list[tuple[float, float | None, str]] = []
        self.started = time.monotonic()
        self._stats: list[StreamStats] = []
        self._pending: list[FlushRecord] = []
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._image = self._html = self.widget = None

    # ---- what the stream calls ------------------------------------------------------------

    def update(self, stats: StreamStats | list[StreamStats]) -> None:
        """The streams' progress callback: keep the latest stats (live objects or fresh copies)."""
        with self._lock:
            self._stats = sorted(stats, key=lambda s: s.instance) if isinstance(stats, list) else [stats]

    def current(self) -> list[StreamStats]:
        """The stats the view shows (the streams' own objects when they run in this process)."""
        with self._lock:
            return list(self._stats)

    def on_flush(self, record: FlushRecord) -> None:
        """The streamer's flush callback: a batch handed to the SDK, waiting for its commit."""
        with self._lock:
            self._pending.append(record)
            self.latencies.append(
                {
                    "at_s": record.handed_at - self.started,
                    "stage": "handed",
                    "seconds": record.handed_at - record.generated_at,
                }
            )

    def mark(self, label: str, start: float, end: float | None = None) -> None:
        """Shade ``start``..``end`` (``time.monotonic()`` values; None: until now) with ``label``."""
        with self._lock:
            self.spans.append(
                (
                    start - self.started,
                    None if end is None else end - self.started,
                    label,
                )
            )

    # ---- running -----------------------------------------------------------------------

    def __enter__(self) -> LiveView:
        self.started = time.monotonic()
        if self.live:
            import ipywidgets as widgets
            from IPython.display import display

            self._image = widgets.Image(format="png", layout=widgets.Layout(width="100%", max_width="1000px"))
            self._html = widgets.HTML()
            self.widget = widgets.VBox([self._image, self._html] if self.table else [self._image])
            self._draw()
            display(self.widget)
        self._thread = threading.Thread(target=self._loop, name="aidemo-live-view", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()
        self._sample()
        if self.live:
            self._draw()
        elif exc[0] is None:
            from IPython.display import Image, display

            display(Image(data=self.png(), format="png"))

    def _loop(self) -> None:
        while not self._done.wait(self.interval):
            self._sample()
            if self.live:
                self._draw()

    def _sample(self) -> None:
        now = time.monotonic()
        with self._lock:
            stats = list(self._stats)
            if not stats:
                return
            self.samples.append(
                (
                    now - self.started,
                    sum(s.orders_committed_now for s in stats),
                    sum(s.rows_committed_now for s in stats),
                )
            )
            committed = {(s.instance, "orders"): parse_order_token(s.last_order_token) or 0 for s in stats}
            committed |= {(s.instance, "items"): parse_item_token(s.last_item_token) or 0 for s in stats}
            waiting = []
            for record in self._pending:
                if committed.get((record.instance, record.lane), 0) >= record.last_id:
                    self.latencies.append(
                        {
                            "at_s": now - self.started,
                            "stage": "committed",
                            "seconds": now - record.generated_at,
                        }
                    )
                else:
                    waiting.append(record)
            self._pending = waiting

    def _draw(self) -> None:
        self._image.value = self.png()
        if self.table:
            self._html.value = self.instances().to_html(index=False)

    # ---- what it shows -----------------------------------------------------------------

    def status(self) -> str:
        """One line: committed of target, this run's rates (as in the summaries), sent, retries."""
        from aidemo.measure.progress import rates_text

        stats = self.current()
        if not stats:
            return "starting the SDK's clients ..."
        committed = sum(s.orders_committed for s in stats)
        target = sum(s.orders_target for s in stats)
        return f"committed {committed:,} of {target:,} orders · {rates_text(stats)}"

    def instances(self) -> pd.DataFrame:
        """One row per instance: target, committed orders and items, and whether it is done."""
        import pandas as pd

        stats = self.current()
        rows = [
            {
                "instance": s.instance,
                "orders target": f"{s.orders_target:,}",
                "orders committed": f"{s.orders_committed:,}",
                "items committed": f"{s.items_committed:,}",
                "state": _state(s),
            }
            for s in stats
        ]
        return pd.DataFrame(
            rows,
            columns=[
                "instance",
                "orders target",
                "orders committed",
                "items committed",
                "state",
            ],
        )

    def rates(self) -> pd.DataFrame:
        """Committed orders/s and rows/s over time (slope over :data:`RATE_WINDOW_S`)."""
        import numpy as np
        import pandas as pd

        with self._lock:
            frame = pd.DataFrame(self.samples, columns=["at_s", "orders", "rows"])
        if len(frame) < 2:
            return frame.iloc[0:0].assign(orders_per_s=0.0, rows_per_s=0.0)
        t = frame["at_s"].to_numpy()
        before = np.searchsorted(t, t - RATE_WINDOW_S)
        span = np.maximum(t - t[before], 1e-9)
        return frame.assign(
            orders_per_s=(frame["orders"].to_numpy() - frame["orders"].to_numpy()[before]) / span,
            rows_per_s=(frame["rows"].to_numpy() - frame["rows"].to_numpy()[before]) / span,
        ).iloc[1:]

    def figure(self) -> Figure:
        """The figure as it stands: throughput over time (left) and latency per stage (right)."""
        import pandas as pd

        from aidemo.measure.plots import figure_class

        figure = figure_class()(figsize=(11, 3.6), layout="constrained")
        throughput, latency = figure.subplots(1, 2, width_ratios=[3, 2])
        rates = self.rates()
        throughput.plot(rates["at_s"], rates["orders_per_s"], label="orders/s", color="tab:blue")
        throughput.plot(
            rates["at_s"],
            rates["rows_per_s"],
            label="rows/s (orders + items)",
            color="tab:orange",
        )
        throughput.set_xlabel("seconds since start")
        throughput.set_ylabel("committed per second")
        throughput.set_title(f"Committed throughput ({RATE_WINDOW_S:g} s window)", fontsize="medium")
        with self._lock:
            marks = pd.DataFrame(self.latencies, columns=["at_s", "stage", "seconds"])
            spans = list(self.spans)
        for stage, color in (("handed", "tab:green"), ("committed", "tab:red")):
            points = marks[marks["stage"] == stage]
            latency.scatter(
                points["at_s"],
                points["seconds"],
                s=10,
                color=color,
                label=f"generated → {stage}" + (" to the SDK" if stage == "handed" else ""),
            )
        latency.set_xlabel("seconds since start")
        latency.set_ylabel("latency per batch (s)")
        latency.set_title("Latency per stage", fontsize="medium")
        right = max([1.0, *rates["at_s"], *marks["at_s"]])
        for ax in (throughput, latency):
            for start, end, label in spans:
                ax.axvspan(start, right if end is None else end, color="grey", alpha=0.15)
                ax.text(
                    start,
                    1.0,
                    f" {label}",
                    transform=ax.get_xaxis_transform(),
                    fontsize="x-small",
                    va="top",
                    rotation=90,
                )
            ax.set_xlim(0, right * 1.02)
            ax.set_ylim(bottom=0)
            ax.grid(alpha=0.3)
            ax.legend(
                fontsize="small",
                loc="upper left" if ax is throughput else "upper right",
            )
        figure.suptitle(f"{self.title}: {self.status()}", fontsize="medium")
        return figure

    def png(self) -> bytes:
        buffer = io.BytesIO()
        self.figure().savefig(buffer, format="png", dpi=80)
        return buffer.getvalue()


def _state(stats: StreamStats) -> str:
    if stats.finished is not None:
        return "stopped" if stats.stopped else "done"
    if stats.opened is None:
        return "opening channels"
    if stats.orders_committed >= stats.orders_target:
        return "items catching up"
    return "streaming"


# ---- streams with a live view ----------------------------------------------------------------


def stream_live(
    backend: StreamingBackend,
    num_orders: int,
    *,
    options: StreamOptions,
    seed: int,
    num_customers: int,
    title: str = "One instance",
    view: LiveView | None = None,
    during: Callable[[LiveView], None] | None = None,
) -> StreamStats:
    """Stream orders 1..num_orders on one instance under a :class:`LiveView` (``view``, or a new
    one titled ``title``); the final stats.

    ``during(view)``, when given, runs on a thread of its own while the stream runs (05 uses
    it to switch faults on and off).
    """
    from aidemo.data.generator import InstanceSpec
    from aidemo.stream.streaming import Streamer

    with view or LiveView(title) as view:
        streamer = Streamer(
            backend,
            InstanceSpec.single(seed, num_customers),
            num_orders,
            options,
            on_flush=view.on_flush,
        )
        view.update(streamer.stats)
        helper = threading.Thread(target=during, args=(view,), daemon=True) if during else None
        if helper:
            helper.start()
        try:
            return streamer.run(view.update)
        finally:
            if helper:
                helper.join()


def parallel_live(
    backend: StreamingBackend,
    total_orders: int,
    instances: int,
    *,
    options: StreamOptions,
    seed: int,
    num_customers: int,
    processes: bool = False,
    view: LiveView | None = None,
) -> ParallelResult:
    """:func:`aidemo.stream.parallel.run_parallel` under a :class:`LiveView` (``view``, or a new one with
    a per-instance table)."""
    from aidemo.stream.parallel import run_parallel

    with view or LiveView(f"{instances} instances", table=True) as view:
        return run_parallel(
            total_orders,
            instances,
            backend=backend,
            seed=seed,
            num_customers=num_customers,
            options=options,
            processes=processes,
            on_progress=view.update,
            on_flush=None if processes else view.on_flush,
        )
