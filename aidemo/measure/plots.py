"""Latency figures: each function draws on a matplotlib Axes and returns what it drew.

They take the frames of :mod:`aidemo.measure.latency` (``batches``: one row per flushed batch;
``summary``: one row per setting) and never call ``plt.show()``; a notebook shows the
figure, :func:`write_figures` saves it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from aidemo.errors import ConfigError
from aidemo.measure.latency import LATENCIES, STAGE_NAMES, percentile_column

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd
    from matplotlib.axes import Axes


def figure_class():
    """``matplotlib.figure.Figure``, or an install hint when matplotlib is missing."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ConfigError("plotting needs matplotlib: pip install 'aidemo[plots]' (or pip install matplotlib)") from exc
    return Figure


def setting_label(lag: float, batch_size: int) -> str:
    return f"lag {lag:g} s, batch {batch_size:,}"


def latency_distribution(ax: Axes, batches: pd.DataFrame, stage: str = "committed_s") -> list:
    """Cumulative distribution of one stage's latency per (lag, batch size); returns the lines."""
    _check_stage(stage)
    lines = []
    for (lag, size), group in batches.groupby(["max_client_lag", "batch_size"], sort=True):
        values = np.sort(group[stage].dropna().to_numpy())
        if values.size:
            share = np.arange(1, values.size + 1) / values.size
            lines += ax.step(values, share, where="post", label=setting_label(lag, size))
    ax.set_xlabel(f"{STAGE_NAMES[stage]} (s)")
    ax.set_ylabel("share of batches")
    ax.set_ylim(0, 1.02)
    ax.set_title(f"Latency distribution per setting ({_backends(batches)})")
    ax.grid(alpha=0.3)
    if lines:
        ax.legend(fontsize="small")
    return lines


def stage_breakdown(ax: Axes, summary: pd.DataFrame) -> list:
    """Per setting, p50 of each stage's latency as bars with whiskers up to p99; returns the bar containers."""
    labels = [setting_label(lag, size) for lag, size in zip(summary["max_client_lag"], summary["batch_size"])]
    x = np.arange(len(summary))
    width = 0.8 / len(LATENCIES)
    bars = []
    for i, stage in enumerate(LATENCIES):
        p50 = summary[percentile_column(stage, 50)].to_numpy(dtype=float)
        p99 = summary[percentile_column(stage, 99)].to_numpy(dtype=float)
        bars.append(
            ax.bar(
                x + (i - (len(LATENCIES) - 1) / 2) * width,
                p50,
                width,
                yerr=[np.zeros_like(p50), np.clip(p99 - p50, 0, None)],
                capsize=3,
                label=STAGE_NAMES[stage],
            )
        )
    ax.set_xticks(x, labels, rotation=30, ha="right", fontsize="small")
    ax.set_ylabel("s after generation (p50, whisker to p99)")
    ax.set_title(f"Where the time goes ({_backends(summary)})")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize="small")
    return bars


def throughput_over_time(ax: Axes, batches: pd.DataFrame, bin_seconds: float = 1.0) -> list:
    """Orders committed per second against time since each run started; returns the lines."""
    if not bin_seconds > 0:
        raise ConfigError(f"bin_seconds must be positive, got {bin_seconds!r}")
    orders = batches[batches["lane"] == "orders"].dropna(subset=["committed"])
    lines = []
    for (lag, size), group in orders.groupby(["max_client_lag", "batch_size"], sort=True):
        edges = np.arange(0, group["committed"].max() + 2 * bin_seconds, bin_seconds)
        counts, _ = np.histogram(group["committed"], bins=edges, weights=group["rows"])
        lines += ax.step(
            edges[:-1],
            counts / bin_seconds,
            where="post",
            label=setting_label(lag, size),
        )
    ax.set_xlabel("seconds since the run started")
    ax.set_ylabel("orders committed per second")
    ax.set_title(f"Throughput over time ({_backends(batches)})")
    ax.grid(alpha=0.3)
    if lines:
        ax.legend(fontsize="small")
    return lines


def lag_vs_latency(ax: Axes, summary: pd.DataFrame, stage: str = "committed_s") -> list:
    """Measured p50 and p99 against the max client lag setting, with the line y = x; returns the artists."""
    _check_stage(stage)
    artists = []
    for size, group in summary.groupby("batch_size", sort=True):
        group = group.sort_values("max_client_lag")
        lag = group["max_client_lag"].to_numpy(dtype=float)
        (p50,) = ax.plot(lag, group[percentile_column(stage, 50)], "o-", label=f"p50, batch {size:,}")
        (p99,) = ax.plot(
            lag,
            group[percentile_column(stage, 99)],
            "^--",
            color=p50.get_color(),
            label=f"p99, batch {size:,}",
        )
        artists += [p50, p99]
    top = float(summary["max_client_lag"].max()) if len(summary) else 1.0
    artists += ax.plot([0, top], [0, top], color="grey", linewidth=1, label="y = x (the setting)")
    ax.set_xlabel("max client lag setting (s)")
    ax.set_ylabel(f"{STAGE_NAMES[stage]} (s)")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.set_title(f"Setting vs measured latency ({_backends(summary)})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return artists


def _check_stage(stage: str) -> None:
    if stage not in LATENCIES:
        raise ConfigError(f"stage must be one of {', '.join(LATENCIES)}, got {stage!r}")


def _backends(frame: pd.DataFrame) -> str:
    return ", ".join(sorted(frame["backend"].unique())) if len(frame) else "no data"


def write_figures(batches: pd.DataFrame, summary: pd.DataFrame, output: Path) -> list[Path]:
    """The four standard figures as PNGs in ``output``; returns their paths."""
    figure_cls = figure_class()
    drawings = {
        "latency_distribution.png": lambda ax: latency_distribution(ax, batches),
        "latency_stages.png": lambda ax: stage_breakdown(ax, summary),
        "throughput.png": lambda ax: throughput_over_time(ax, batches),
        "lag_vs_latency.png": lambda ax: lag_vs_latency(ax, summary),
    }
    paths = []
    for name, draw in drawings.items():
        figure = figure_cls(figsize=(8, 4.5), layout="constrained")
        draw(figure.add_subplot())
        figure.savefig(output / name, dpi=120)
        paths.append(output / name)
    return paths
