"""04's latency sweeps as a cell shows them: the summary of a sweep and its charts, one call each.

Each chart draws one of :mod:`aidemo.measure.plots` on a figure of its own and returns that
figure (a matplotlib ``Figure``); a notebook shows it inline as a PNG, as the inline backend
draws a pyplot figure (``bbox_inches="tight"``), in JupyterLab and in papermill runs alike.
Nothing goes through pyplot, so nothing is left open between cells and nothing shows twice.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

#: Width and height of a chart, in inches.
SIZE = (8, 4)


def latency_summary(batches: pd.DataFrame) -> pd.DataFrame:
    """One row per setting of a sweep (:func:`aidemo.measure.latency.summarize`): p50/p95/p99 per stage, throughput."""
    from aidemo.measure.latency import summarize

    return summarize(batches)


def lag_chart(summary: pd.DataFrame, stage: str = "committed_s") -> Figure:
    """Measured p50 and p99 of ``stage`` against the lag setting (:func:`~aidemo.measure.plots.lag_vs_latency`)."""
    from aidemo.measure import plots

    return chart(plots.lag_vs_latency, summary, stage=stage)


def distribution_chart(batches: pd.DataFrame, stage: str = "committed_s") -> Figure:
    """The cumulative distribution of ``stage`` per setting (:func:`~aidemo.measure.plots.latency_distribution`)."""
    from aidemo.measure import plots

    return chart(plots.latency_distribution, batches, stage=stage)


def stages_chart(summary: pd.DataFrame) -> Figure:
    """Per setting, p50 of each stage up to p99 (:func:`~aidemo.measure.plots.stage_breakdown`)."""
    from aidemo.measure import plots

    return chart(plots.stage_breakdown, summary)


def throughput_chart(batches: pd.DataFrame, bin_seconds: float = 1.0) -> Figure:
    """Orders committed per second over each run (:func:`~aidemo.measure.plots.throughput_over_time`)."""
    from aidemo.measure import plots

    return chart(plots.throughput_over_time, batches, bin_seconds=bin_seconds)


def chart(draw: Callable[..., Any], data: pd.DataFrame, size: tuple[float, float] = SIZE, **options: Any) -> Figure:
    """A figure of ``size`` with one Axes on which ``draw(ax, data, **options)`` drew; it shows as a PNG."""
    figure = _chart_class()(figsize=size, layout="constrained")
    draw(figure.add_subplot(), data, **options)
    return figure


@functools.cache
def _chart_class() -> type:
    from aidemo.measure.plots import figure_class

    class Chart(figure_class()):
        """A matplotlib ``Figure`` that a notebook shows as a PNG, without pyplot."""

        def _repr_png_(self) -> bytes | None:
            if not self.axes:
                return None
            buffer = io.BytesIO()
            self.savefig(buffer, format="png", bbox_inches="tight")
            return buffer.getvalue()

    return Chart
