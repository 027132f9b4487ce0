"""A batch run's report: one row per run (its parameters and figures), plots of the figures
against the parameters, as ``report.csv`` and an offline ``report.html``, and in a notebook.

Columns: ``notebook`` and ``run`` (the executed copy's file name), the parameters the run was
made with (upper case, as the notebooks name them), the figures it recorded
(:data:`~aidemo.notebook.figures.FIGURES`), ``run_s`` (seconds the notebook took) and ``error``
(empty when it ran through). The plots put the first parameter that varies on the x axis and
draw one line per value of the others.
"""

from __future__ import annotations

import base64
import html
import io
import math
import numbers
import os
from pathlib import Path
from typing import TYPE_CHECKING

from aidemo.errors import ConfigError
from aidemo.notebook.figures import FIGURES

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

CSV, HTML = "report.csv", "report.html"
#: The figures plotted against the parameters, in this order (those the runs measured).
PLOTTED = ("committed_p50", "committed_p95", "handed_p50", "queryable_p50", "orders_per_s", "rows_per_s", "run_s")
LABELS = {key: label for key, (label, _) in FIGURES.items()} | {"run_s": "notebook run (s)"}


def parameters(frame: pd.DataFrame) -> list[str]:
    """The parameter columns (upper case, as the notebooks name them)."""
    return [c for c in frame.columns if c.isupper()]


def varying(frame: pd.DataFrame) -> list[str]:
    """The parameters that take more than one value across the runs."""
    return [c for c in parameters(frame) if frame[c].astype(str).nunique() > 1]


def fixed(frame: pd.DataFrame) -> str:
    """The parameters every run had alike, as ``NAME=value`` text (empty if none)."""
    same = [c for c in parameters(frame) if c not in varying(frame)]
    return ", ".join(f"{c}={plain(frame[c].iloc[0])}" for c in same)


def plain(value) -> str:
    """A parameter's value as a person reads it: ``0.5`` (not ``0.500000``), ``10,000``."""
    if isinstance(value, float):
        return f"{value:g}"
    return f"{value:,}" if isinstance(value, numbers.Integral) and not isinstance(value, bool) else str(value)


def plot_figure(ax: Axes, frame: pd.DataFrame, figure: str) -> list:
    """``figure`` of the runs that ran through against the first varying parameter, one line per
    combination of the others; returns the lines."""
    import pandas as pd

    params = varying(frame)
    done = frame[frame["error"].fillna("").astype(str) == ""]
    x = params[0] if params else "run"
    numeric = pd.api.types.is_numeric_dtype(frame[x])
    ticks = sorted(frame[x].astype(str).unique()) if not numeric else None
    groups = done.groupby(params[1:], sort=True) if len(params) > 1 else [((), done)]
    lines = []
    for key, group in groups:
        key = key if isinstance(key, tuple) else (key,)
        group = group.sort_values(x)
        xs = group[x] if numeric else [ticks.index(str(v)) for v in group[x]]
        label = ", ".join(f"{name} {plain(value)}" for name, value in zip(params[1:], key)) or None
        lines += ax.plot(xs, group[figure], marker="o", label=label)
    if ticks is not None:
        ax.set_xticks(range(len(ticks)), ticks, rotation=30 if len(ticks) > 4 else 0)
    else:  # the values the grid tried, failed runs' too
        values = sorted(frame[x].unique())
        ax.set_xticks(values, [plain(v) for v in values])
    ax.set_xlabel(x)
    ax.set_ylabel(LABELS.get(figure, figure))
    ax.set_title(f"{LABELS.get(figure, figure)} against {x}", fontsize="medium")
    top = done[figure].max() if len(done) else math.nan
    ax.set_ylim(0, top * 1.15 if top > 0 else 1)  # room above the highest marker
    ax.grid(alpha=0.3)
    if any(line.get_label() and not line.get_label().startswith("_") for line in lines):
        ax.legend(fontsize="small")
    return lines


def report_images(frame: pd.DataFrame) -> dict[str, bytes]:
    """One PNG per figure of :data:`PLOTTED` that any run measured: figure -> PNG bytes."""
    from aidemo.measure.plots import figure_class

    images = {}
    for figure in PLOTTED:
        if figure in frame.columns and frame[figure].notna().any():
            drawing = figure_class()(figsize=(6, 3.6), layout="constrained")
            plot_figure(drawing.add_subplot(), frame, figure)
            buffer = io.BytesIO()
            drawing.savefig(buffer, format="png", dpi=100)
            images[figure] = buffer.getvalue()
    return images


def report_table(frame: pd.DataFrame):
    """The runs as a formatted table: the parameters that vary, the figures, run seconds and
    errors (if any); the parameters all runs had alike are :func:`fixed`."""
    from aidemo.notebook.figures import figures_table

    same = [c for c in parameters(frame) if c not in varying(frame)]
    shown = frame.drop(columns=["notebook", "run", *same])
    failed = (shown["error"].fillna("").astype(str) != "").any()
    style = figures_table(shown.drop(columns=[] if failed else ["error"]).to_dict("records"))
    style = style.format(plain, subset=varying(frame))
    wrapped = {"white-space": "normal", "text-align": "left", "min-width": "24em", "color": "#a00"}
    return style.set_properties(subset=["error"], **wrapped) if failed else style


def write_report(frame: pd.DataFrame, directory: str | os.PathLike, title: str) -> tuple[Path, Path]:
    """``report.csv`` and ``report.html`` (the table and the plots, images inline) in ``directory``."""
    directory = Path(directory)
    frame.to_csv(directory / CSV, index=False, float_format="%.6g")
    images = report_images(frame)
    failed = int((frame["error"].fillna("").astype(str) != "").sum())
    summary = f"{len(frame)} runs, {failed} failed" if failed else f"{len(frame)} runs"
    pictures = "\n".join(
        f'<figure><img alt="{html.escape(LABELS.get(key, key))}" src="data:image/png;base64,'
        f'{base64.b64encode(png).decode()}"></figure>'
        for key, png in images.items()
    )
    alike = fixed(frame)
    page = _PAGE.format(
        title=html.escape(title),
        summary=html.escape(summary + (f"; every run with {alike}" if alike else "")),
        table=report_table(frame).to_html(),
        pictures=pictures or "<p>No run measured a figure to plot.</p>",
    )
    (directory / HTML).write_text(page, encoding="utf-8")
    return directory / CSV, directory / HTML


def read_report(directory: str | os.PathLike) -> pd.DataFrame:
    """The runs of a batch report in ``directory`` (its ``report.csv``)."""
    import pandas as pd

    path = Path(directory) / CSV
    if not path.is_file():
        raise ConfigError(f"no batch report in {directory} (no {CSV}); run aidemo notebooks --grid ... first")
    return pd.read_csv(path, dtype={"error": str}).fillna({"error": ""})


def batch_report(directory: str | os.PathLike) -> pd.DataFrame:
    """Show a batch run's report in a notebook (the table and the plots of ``report.html``); its runs."""
    from IPython.display import Image, display

    frame = read_report(directory)
    alike = fixed(frame)
    if alike:
        print(f"every run with {alike}")
    display(report_table(frame))
    for png in report_images(frame).values():
        display(Image(data=png, format="png"))
    return frame


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }}
h1 {{ font-size: 1.3em; }}
table {{ border-collapse: collapse; font-size: 0.85em; margin-bottom: 1.5em; }}
th, td {{ border-bottom: 1px solid #ddd; padding: 0.25em 0.6em; }}
th {{ background: #f4f4f4; }}
.runs {{ overflow-x: auto; }}
.plots {{ display: flex; flex-wrap: wrap; gap: 1em; }}
figure {{ margin: 0; flex: 0 1 560px; }}
img {{ width: 100%; }}
</style></head>
<body>
<h1>{title}</h1>
<p>{summary}</p>
<div class="runs">{table}</div>
<div class="plots">
{pictures}
</div>
</body></html>
"""
