"""What one run measured, as one flat row: the figures a batch report compares and a knobs panel shows.

A run is a stream under a live view (02, 03) or a latency measurement (04). Both give the same
keys, :data:`FIGURES`: committed orders, this run's orders/s and rows/s (the one definition of a
rate, :mod:`aidemo.measure.stats`), p50 and p95 latency per stage (from each batch's generation to its
hand-over to the SDK, its commit and, for 04, until a query sees it), retries, rejected rows and
the seconds streamed. A figure a run cannot measure is None (02 and 03 do not query per batch).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

from aidemo.notebook.tables import COUNT, RATE, SECONDS, TEXT, styled

if TYPE_CHECKING:
    import pandas as pd
    from pandas.io.formats.style import Styler

    from aidemo.measure.stats import StreamStats
    from aidemo.notebook.live import LiveView

#: The stages a batch's latency is measured to, from its first row's generation.
STAGES = ("handed", "committed", "queryable")
#: Each figure's key (in records and report.csv), its label and its format in tables.
FIGURES = {
    "orders_committed": ("orders committed", COUNT),
    "orders_per_s": ("orders/s", RATE),
    "rows_per_s": ("rows/s", RATE),
    **{f"{stage}_p{p}": (f"{stage} p{p} (s)", SECONDS) for stage in STAGES for p in (50, 95)},
    "retries": ("retries", COUNT),
    "errors": ("rejected rows", COUNT),
    "stream_s": ("streaming (s)", SECONDS),
}
#: The settings a panel's run is made with, labelled as the figures are.
SETTINGS = {
    "max_client_lag": ("max client lag (s)", "{:g}"),
    "batch_size": ("batch size", COUNT),
    "rate": ("rate offered (orders/s)", COUNT),
}


def run_figures(view: LiveView) -> dict:
    """The figures of the stream(s) that ``view`` watched (:class:`~aidemo.notebook.LiveView`)."""
    import pandas as pd

    marks = pd.DataFrame(view.latencies, columns=["at_s", "stage", "seconds"])
    latencies = {stage: marks.loc[marks["stage"] == stage, "seconds"] for stage in STAGES}
    return _figures(view.current(), latencies)


def latency_figures(batches: pd.DataFrame) -> dict:
    """The figures of one :func:`aidemo.measure.latency.measure` (its frame of batches, both lanes)."""
    from aidemo.measure.latency import LATENCIES

    stats = batches.attrs.get("stats")
    latencies = {stage.removesuffix("_s"): batches[stage] for stage in LATENCIES}
    return _figures([stats] if stats is not None else [], latencies)


def _figures(stats: list[StreamStats], latencies: dict[str, Iterable[float]]) -> dict:
    from aidemo.measure.latency import percentile_table
    from aidemo.measure.stats import combined_rates

    orders_rate, rows_rate = combined_rates(stats)
    opened = [s.opened for s in stats if s.opened is not None]
    finished = [s.finished for s in stats if s.finished is not None]
    row = {
        "orders_committed": sum(s.orders_committed_now for s in stats),
        "orders_per_s": orders_rate,
        "rows_per_s": rows_rate,
    }
    for stage in STAGES:
        table = percentile_table(latencies.get(stage, ()))
        for p in (50, 95):
            value = table[f"p{p}"]
            row[f"{stage}_p{p}"] = None if math.isnan(value) else value
    row |= {
        "retries": sum(s.retries for s in stats),
        "errors": sum(s.errors for s in stats),
        "stream_s": max(finished) - min(opened) if opened and finished else None,
    }
    return row


def figures_table(rows: list[dict], caption: str | None = None) -> Styler:
    """Rows of settings and figures (a panel's runs, a batch report's) as a formatted table.

    Columns beyond :data:`SETTINGS` and :data:`FIGURES` are formatted by their names: ``.../s``
    as rates, ``... (s)`` as seconds, other numbers as counts, text as it is.
    """
    import pandas as pd

    frame = pd.DataFrame(rows).dropna(axis="columns", how="all")
    known = {"run": ("run", TEXT)} | SETTINGS | FIGURES | {"run_s": ("notebook run (s)", SECONDS)}
    columns = {name: known.get(name) or (name, _format_of(name, frame[name])) for name in frame.columns}
    return styled(frame, columns, caption)


def _format_of(name: str, values: pd.Series) -> str:
    import pandas as pd

    if name.isupper() or not pd.api.types.is_numeric_dtype(values):  # a notebook's parameter, or text
        return TEXT
    return RATE if name.endswith("/s") else SECONDS if name.endswith("(s)") else COUNT
