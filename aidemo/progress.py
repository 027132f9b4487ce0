"""Live progress of streaming instances: a tqdm bar of committed orders with rows/s."""

from __future__ import annotations

import sys

from tqdm.auto import tqdm

from aidemo.streaming import StreamStats


class StreamProgress:
    """One bar over all instances' orders; ``update`` is the streamers' progress callback."""

    def __init__(self, stats: list[StreamStats], enabled: bool = True):
        self.stats = stats
        self.enabled = enabled
        self.bar = None

    def __enter__(self) -> "StreamProgress":
        if self.enabled:
            total = sum(s.orders_target for s in self.stats)
            self.bar = tqdm(total=total, unit="orders", desc="committed", file=sys.stderr, dynamic_ncols=True,
                            disable=None, mininterval=0.5)  # disable=None: no bar when not a terminal
        return self

    def update(self, _changed: StreamStats | None = None) -> None:
        if self.bar is None:
            return
        committed = sum(s.orders_committed for s in self.stats)
        rows = sum(s.rows_committed for s in self.stats)
        elapsed = max(max(s.elapsed for s in self.stats), 1e-9)
        self.bar.n = committed
        self.bar.set_postfix(rows=rows, rows_per_s=f"{rows / elapsed:,.0f}",
                             retries=sum(s.retries for s in self.stats), refresh=False)
        self.bar.refresh()

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.update()
            self.bar.close()
