"""06, after streaming: the streamed orders as DataFrames, and revenue by segment and orders per
minute redrawn while a stream runs.

The SQL is in ``sql/analytics/`` and runs on the backend's database and schema
(:func:`aidemo.backends.scripts.sql_text`), on either backend. :func:`orders_frame` reads it with the
connector's ``fetch_pandas_all`` (Arrow) on a connection of its own; :func:`watch_orders`
queries through the backend while a :func:`background_stream` runs. Snowpark is optional: it
needs snowflake-connector-python 4.x and the kit pins 5.x, so where it cannot be imported
:func:`snowpark_revenue` says so in one line and returns None.
"""

from __future__ import annotations

import io
import threading
import time
from typing import TYPE_CHECKING

from aidemo.notebook.session import has_front_end, version_of
from aidemo.notebook.tables import COUNT, SECONDS, TEXT

MONEY = "{:,.2f}"

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure
    from pandas.io.formats.style import Styler

    from aidemo.backends.backend import StreamingBackend
    from aidemo.measure.stats import StreamStats
    from aidemo.stream.options import StreamOptions
    from aidemo.stream.streaming import Streamer


class BackgroundStream:
    """A stream running on a thread of its own while the notebook goes on: its ``stats`` as they
    move, :meth:`wait` for the end (re-raising the stream's error), :meth:`stop` to end it early."""

    def __init__(self, streamer: Streamer) -> None:
        self.streamer, self.stats = streamer, streamer.stats
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="aidemo-background-stream", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.stats = self.streamer.run()
        except Exception as exc:  # handed to wait()
            self.error = exc

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> StreamStats:
        """The stream's stats once it ended (or after ``timeout`` seconds); its error, raised."""
        self._thread.join(timeout)
        if self.error is not None:
            raise self.error
        return self.stats

    def stop(self) -> StreamStats:
        """Stop the stream (it flushes and waits for the commit) and wait for it."""
        self.streamer.stop()
        return self.wait()


def background_stream(
    backend: StreamingBackend, num_orders: int, *, options: StreamOptions, seed: int, num_customers: int
) -> BackgroundStream:
    """Start streaming orders 1..num_orders on one instance on a background thread, and say how they are dated."""
    from aidemo.data.generator import InstanceSpec
    from aidemo.stream.streaming import Streamer

    streamer = Streamer(backend, InstanceSpec.single(seed, num_customers), num_orders, options)
    pace = f" at {options.rate:g} orders/s" if options.rate else ""
    print(f"streaming {num_orders:,} orders{pace} in the background\norders dated {streamer.dates.describe()}")
    return BackgroundStream(streamer)


def orders_frame(backend: StreamingBackend) -> pd.DataFrame:
    """The streamed orders with their customer's segment (``sql/analytics/streamed_orders.sql``) as a
    pandas DataFrame, read with the connector's ``fetch_pandas_all``."""
    from aidemo.backends.scripts import sql_text
    from aidemo.backends.sqlclient import connect, connector_errors
    from aidemo.errors import SqlError

    connection = connect(backend.endpoint())
    try:
        with connector_errors("reading the streamed orders", SqlError):
            cursor = connection.cursor()
            cursor.execute(sql_text("analytics/streamed_orders.sql", backend))
            return cursor.fetch_pandas_all()
    finally:
        connection.close()


def snowpark_revenue(backend: StreamingBackend) -> pd.DataFrame | None:
    """Revenue by segment through Snowpark DataFrames (``table().join().group_by().agg()``), as pandas;
    None, after one line saying why, where Snowpark cannot be imported."""
    try:
        from snowflake.snowpark import Session
        from snowflake.snowpark import functions as f
    except ImportError:
        print(
            "Snowpark is not installed here: it needs connector 4.x, this environment has "
            f"{version_of('snowflake-connector-python')}"
        )
        return None
    from aidemo.backends.sqlclient import connect

    session = Session.builder.configs({"connection": connect(backend.endpoint())}).create()
    try:
        name = f"{backend.database}.{backend.schema}"
        orders, customers = session.table(f"{name}.ORDERS"), session.table(f"{name}.CUSTOMERS")
        revenue = (
            orders.join(customers, "CUSTOMER_ID")
            .group_by("CUSTOMER_SEGMENT")
            .agg(f.count("ORDER_ID").alias("ORDERS"), f.sum("TOTAL_AMOUNT").alias("REVENUE"))
            .sort(f.col("REVENUE").desc())
        )
        return revenue.to_pandas()
    finally:
        session.close()


_SEGMENT_COLUMNS = {
    "CUSTOMER_SEGMENT": ("segment", TEXT),
    "ORDERS": ("orders", COUNT),
    "REVENUE": ("revenue ($)", MONEY),
    "AVG_ORDER": ("average order ($)", MONEY),
}
_HISTORY_COLUMNS = {
    "at_s": ("at (s)", SECONDS),
    "committed": ("committed before", COUNT),
    "orders": ("orders", COUNT),
    "revenue": ("revenue ($)", MONEY),
}


_CELL_PADDING = [{"selector": "th, td", "props": "padding: 2px 12px;"}]


class OrdersWatch:
    """Revenue by segment and orders per minute, queried again at each :meth:`refresh`.

    ``refreshes`` keeps what each refresh saw: seconds since the watch started, the stream's
    committed orders just before the queries, and the orders and revenue by segment counted (the
    query by minute runs a moment later, so while rows land it may count a few more).
    """

    def __init__(self, backend: StreamingBackend, title: str = "Streamed orders") -> None:
        import pandas as pd

        self.backend, self.title = backend, title
        self.started = time.monotonic()
        self.segments = pd.DataFrame(columns=["CUSTOMER_SEGMENT", "ORDERS", "REVENUE", "AVG_ORDER"])
        self.minutes = pd.DataFrame(columns=["MINUTE", "ORDERS", "REVENUE"])
        self.refreshes: list[dict] = []

    def refresh(self, committed: int | None = None) -> None:
        """Query both again; ``committed``: the stream's committed orders just before."""
        from aidemo.backends.scripts import run_file

        self.segments = run_file("analytics/revenue_by_segment.sql", self.backend)
        self.minutes = run_file("analytics/orders_per_minute.sql", self.backend)
        self.refreshes.append(
            {
                "at_s": round(time.monotonic() - self.started, 2),
                "committed": committed,
                "orders": int(self.segments["ORDERS"].sum()),
                "revenue": round(float(self.segments["REVENUE"].sum()), 2),
            }
        )

    def history(self) -> Styler:
        """One row per refresh: when, the stream's committed orders just before, what the queries counted."""
        import pandas as pd

        from aidemo.notebook.tables import styled

        return styled(pd.DataFrame(self.refreshes), _HISTORY_COLUMNS)

    def figure(self) -> Figure:
        """Revenue by segment (left) and orders per minute of ORDER_DATE (right), as they stand."""
        from aidemo.measure.plots import figure_class

        figure = figure_class()(figsize=(11, 3.6), layout="constrained")
        by_segment, by_minute = figure.subplots(1, 2, width_ratios=[2, 3])
        segments = self.segments.iloc[::-1]
        revenue = segments["REVENUE"].astype(float).to_numpy()
        bars = by_segment.barh(segments["CUSTOMER_SEGMENT"].astype(str).to_numpy(), revenue, color="tab:blue")
        by_segment.bar_label(bars, labels=[f"${v:,.0f}" for v in revenue], padding=3, fontsize="small")
        by_segment.xaxis.set_major_formatter(_thousands())
        by_segment.xaxis.set_major_locator(_ticks())
        by_segment.set_xlabel("revenue ($ thousands)")
        by_segment.set_xlim(0, max([1.0, *revenue]) * 1.3)
        by_segment.set_title("Revenue by customer segment", fontsize="medium")
        minutes = self.minutes
        by_minute.bar(
            minutes["MINUTE"].to_numpy(),
            minutes["ORDERS"].astype(float).to_numpy(),
            width=0.8 / 1440,  # days: 80 % of a minute
            align="edge",
            color="tab:orange",
        )
        by_minute.set_ylabel("orders")
        by_minute.set_xlabel("minute of ORDER_DATE (UTC)")
        by_minute.set_title("Orders per minute", fontsize="medium")
        by_minute.xaxis.set_major_formatter(_minute_format())
        for ax in (by_segment, by_minute):
            ax.grid(alpha=0.3)
        last = self.refreshes[-1] if self.refreshes else {"orders": 0, "revenue": 0.0, "at_s": 0.0}
        figure.suptitle(
            f"{self.title}: {last['orders']:,} orders, ${last['revenue']:,.2f} "
            f"(refresh {len(self.refreshes)}, {last['at_s']:.0f} s)",
            fontsize="medium",
        )
        return figure

    def png(self) -> bytes:
        buffer = io.BytesIO()
        self.figure().savefig(buffer, format="png", dpi=80)
        return buffer.getvalue()

    def table(self) -> Styler:
        """The segments as the figure shows them: orders, revenue and the average order."""
        from aidemo.notebook.tables import styled

        return styled(self.segments, _SEGMENT_COLUMNS)


def _minute_format():
    from matplotlib.dates import DateFormatter

    return DateFormatter("%H:%M")


def _thousands():
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _: f"{value / 1000:,.0f}")


def _ticks():
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(5)


def watch_orders(
    backend: StreamingBackend, stream: BackgroundStream, *, every: float = 2.0, live: bool | None = None
) -> OrdersWatch:
    """Redraw revenue by segment and orders per minute every ``every`` seconds while ``stream``
    runs, and once more after it ended; the watch, with what each refresh saw.

    With a front end the figure and the table are widgets redrawn in place; headless (papermill)
    they are shown once, at the end.
    """
    from IPython.display import Image, display

    watch, live = OrdersWatch(backend), has_front_end() if live is None else live
    if live:
        import ipywidgets as widgets

        image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        table = widgets.HTML()  # outside JupyterLab's rendered-HTML styles: the cells get their own padding
        display(widgets.VBox([image, table]))
    while True:
        running, committed = stream.running, stream.stats.orders_committed
        watch.refresh(committed)
        if live:
            image.value = watch.png()
            table.value = watch.table().set_table_styles(_CELL_PADDING, overwrite=False).to_html()
        if not running:
            break
        stream.wait(every)
    stream.wait()
    if not live:
        display(Image(data=watch.png(), format="png"), watch.table())
    return watch
