"""Live progress of streaming instances: a total bar of committed orders, and one line per instance."""

from __future__ import annotations

import sys

from tqdm.auto import tqdm

from aidemo.measure.stats import StreamStats, combined_rates


class StreamProgress:
    """Bars over the instances' stats; ``update`` is the streamers' progress callback.

    Bars are drawn only on a terminal or in a notebook (tqdm's ``disable=None``).
    """

    def __init__(self, stats: list[StreamStats], enabled: bool = True):
        self.stats = list(stats)
        self.enabled = enabled
        self.total = None
        self.lines: list = []

    def __enter__(self) -> StreamProgress:
        if self.enabled:
            # tqdm's own rate would count orders resumed at the start; the postfix shows the stats' rates.
            options = dict(
                file=sys.stderr,
                dynamic_ncols=True,
                disable=None,
                mininterval=0.5,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]",
            )
            self.total = tqdm(
                total=sum(s.orders_target for s in self.stats), unit="orders", desc="committed", position=0, **options
            )
            if len(self.stats) > 1:
                self.lines = [
                    tqdm(
                        total=s.orders_target,
                        unit="orders",
                        desc=f"instance {s.instance}",
                        position=i + 1,
                        leave=False,
                        **options,
                    )
                    for i, s in enumerate(self.stats)
                ]
        return self

    def update(self, stats: StreamStats | list[StreamStats] | None = None) -> None:
        """Redraw; a list replaces the stats shown (worker processes send fresh copies)."""
        if isinstance(stats, list):
            self.stats = sorted(stats, key=lambda s: s.instance)
        if self.total is None:
            return
        for bar, s in zip(self.lines, self.stats):
            _show(bar, [s])
        _show(self.total, self.stats)

    def __exit__(self, *exc) -> None:
        if self.total is not None:
            self.update()
            for bar in self.lines:
                bar.close()
            self.total.close()


def _show(bar, stats: list[StreamStats]) -> None:
    bar.n = sum(s.orders_committed for s in stats)
    bar.set_postfix_str(rates_text(stats), refresh=False)
    bar.refresh()


def rates_text(stats: list[StreamStats]) -> str:
    """This run's committed orders/s and rows/s (:func:`~aidemo.measure.stats.combined_rates`), sent orders, retries."""
    orders, rows = combined_rates(stats)
    rate = f"{orders:,.0f} orders/s, {rows:,.0f} rows/s" if orders else "nothing committed by this run yet"
    return f"{rate}, sent {sum(s.orders_sent for s in stats):,}, retries {sum(s.retries for s in stats)}"
