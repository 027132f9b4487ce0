"""Tables a presenter reads: chosen columns, names with units, numbers with sensible precision.

Each function returns a pandas ``Styler`` (rendered as HTML in JupyterLab and in executed
notebooks); the frames behind them stay plain for :func:`aidemo.notebook.record`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    from pandas.io.formats.style import Styler

    from aidemo.measure.stats import StreamStats
    from aidemo.stream.options import StreamOptions

COUNT, SECONDS, RATE, TEXT = "{:,.0f}", "{:,.2f}", "{:,.0f}", "{}"


def styled(
    frame: pd.DataFrame,
    columns: dict[str, tuple[str, str]],
    caption: str | None = None,
) -> Styler:
    """``frame`` with only ``columns`` (name -> (label, format)), relabelled and formatted; no index."""
    present = {name: spec for name, spec in columns.items() if name in frame.columns}
    shown = frame[list(present)].rename(columns={name: label for name, (label, _) in present.items()})
    formats = {label: fmt for label, fmt in present.values() if fmt is not TEXT}
    style = shown.style.format(formats, na_rep="–").hide(axis="index")
    style = style.set_table_styles(
        [
            {"selector": "th", "props": "text-align: right; white-space: nowrap;"},
            {"selector": "td", "props": "text-align: right; white-space: nowrap;"},
        ]
    )
    return style.set_caption(caption) if caption else style


STREAM_COLUMNS = {
    "instance": ("instance", TEXT),
    "orders_committed": ("orders committed", COUNT),
    "items_committed": ("items committed", COUNT),
    "resumed_after": ("resumed after order", COUNT),
    "orders_sent": ("orders sent", COUNT),
    "startup_s": ("start-up (s)", SECONDS),
    "stream_s": ("streaming (s)", SECONDS),
    "orders_per_s": ("orders/s", RATE),
    "rows_per_s": ("rows/s", RATE),
    "retries": ("retries", COUNT),
    "reopens": ("reopens", COUNT),
    "errors": ("rejected rows", COUNT),
    "error": ("error", TEXT),
}


def stream_table(
    stats: StreamStats | Iterable[StreamStats],
    caption: str | None = None,
    errors: dict[int, str] | None = None,
) -> Styler:
    """One row per instance (and a total row for several): what this run committed, how fast.

    Rates are :attr:`~aidemo.measure.stats.StreamStats.orders_per_s` and ``rows_per_s``, the
    figures the progress bar and the live view show; a run that had nothing to send has none.
    """
    import pandas as pd

    from aidemo.measure.stats import StreamStats, combined_rates

    stats = [stats] if isinstance(stats, StreamStats) else list(stats)
    rows = [s.summary() | ({"error": errors.get(s.instance)} if errors else {}) for s in stats]
    if len(stats) > 1:
        orders_rate, rows_rate = combined_rates(stats)
        total = {
            key: sum(row[key] for row in rows)
            for key in (
                "orders_committed",
                "items_committed",
                "resumed_after",
                "orders_sent",
                "retries",
                "reopens",
                "errors",
            )
        }
        rows.append(
            total
            | {
                "instance": "all",
                "startup_s": max(r["startup_s"] for r in rows),
                "stream_s": max(r["stream_s"] for r in rows),
                "orders_per_s": orders_rate,
                "rows_per_s": rows_rate,
            }
        )
    columns = dict(STREAM_COLUMNS)
    if len(stats) == 1:
        columns.pop("instance")
    return styled(pd.DataFrame(rows), columns, caption)


def crash_table(crash) -> Styler:
    """Where each channel stood after the kill (a :class:`~aidemo.notebook.crash.Crash`)."""
    import pandas as pd

    rows = [
        {
            "channel": "orders",
            "token": crash.last_order_token or "none",
            "committed": crash.orders_committed,
            "orders complete": crash.orders_committed,
        },
        {
            "channel": "order items",
            "token": crash.last_item_token or "none",
            "committed": crash.items_committed,
            "orders complete": crash.items_complete_through,
        },
    ]
    return styled(
        pd.DataFrame(rows),
        {
            "channel": ("channel", TEXT),
            "token": ("last committed token", TEXT),
            "committed": ("rows committed", COUNT),
            "orders complete": ("orders complete through", COUNT),
        },
        caption=f"killed after {crash.seconds:.1f} s",
    )


def latency_table(summary: pd.DataFrame) -> Styler:
    """A latency summary (:func:`aidemo.measure.latency.summarize`): per setting, p50 and p99 of each stage."""
    from aidemo.measure.latency import LATENCIES, percentile_column

    columns = {
        "max_client_lag": ("max client lag (s)", "{:g}"),
        "batch_size": ("batch size", COUNT),
        "rate": ("orders/s offered", COUNT),
        "batches": ("batches", COUNT),
        "orders": ("orders", COUNT),
        "orders_per_s": ("orders/s committed", RATE),
    }
    for stage in LATENCIES:
        for p in (50, 99):
            columns[percentile_column(stage, p)] = (
                f"{stage.removesuffix('_s')} p{p} (s)",
                SECONDS,
            )
    return styled(summary, columns)


def pipes_table(frame: pd.DataFrame) -> Styler:
    """``SHOW PIPES`` narrowed to what a presenter needs: name, table, definition."""
    frame = frame.rename(columns=str.lower)
    return styled(
        frame,
        {
            "name": ("pipe", TEXT),
            "database_name": ("database", TEXT),
            "schema_name": ("schema", TEXT),
            "definition": ("definition", TEXT),
        },
    ).set_properties(subset=["definition"], **{"text-align": "left", "white-space": "normal"})


def plan_frame(
    total_orders: int, instances: int, *, seed: int, num_customers: int, options: StreamOptions | None = None
) -> pd.DataFrame:
    """How :func:`aidemo.stream.parallel.run_parallel` splits a job: per instance its channels (those of
    ``options``, default the defaults), ids and customers."""
    import pandas as pd

    from aidemo.data.generator import first_item_id
    from aidemo.stream.options import StreamOptions
    from aidemo.stream.parallel import plan

    options = options or StreamOptions()
    rows = [
        {
            "instance": spec.instance,
            "channels": f"{options.orders_channel}_{spec.instance}, {options.items_channel}_{spec.instance}",
            "orders": count,
            "order_ids": f"{spec.order_base}..{spec.order_base + count - 1}",
            "item_ids": f"{spec.item_base}..{first_item_id(spec, spec.order_base + count) - 1}",
            "customers": f"{spec.customer_lo}..{spec.customer_hi}",
        }
        for spec, count in plan(total_orders, instances, seed=seed, num_customers=num_customers)
    ]
    return pd.DataFrame(rows)
