"""What a notebook's setup cell opened (:class:`Demo`): the backend, the job's seed and customers, its stream options.

:func:`~aidemo.notebook.session.start` returns one; its methods are the notebook functions with
the backend, ``seed``, ``num_customers`` and ``options`` filled in, so a cell names only what it
changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from aidemo.backends import StreamingBackend
    from aidemo.notebook.crash import Crash
    from aidemo.notebook.faults import FaultRun
    from aidemo.options import StreamOptions
    from aidemo.parallel import ParallelResult
    from aidemo.provision import SetupReport
    from aidemo.stats import StreamStats


@dataclass(frozen=True)
class Demo:
    """A notebook's backend with the seed, customer count and stream options every run of it uses."""

    backend: StreamingBackend
    seed: int
    num_customers: int
    options: StreamOptions

    @property
    def job(self) -> dict[str, Any]:
        """The keywords every stream of this notebook takes: its options, seed and customer count."""
        return {"options": self.options, "seed": self.seed, "num_customers": self.num_customers}

    def setup(self, *, reset: bool = True) -> SetupReport:
        """:func:`aidemo.provision.setup` with this notebook's customers and seed (fresh tables by default)."""
        from aidemo.provision import setup

        return setup(self.backend, reset=reset, num_customers=self.num_customers, seed=self.seed)

    def stream_live(self, num_orders: int, **kwargs) -> StreamStats:
        """:func:`aidemo.notebook.live.stream_live` of this notebook's job (``kwargs``: title, view)."""
        from aidemo.notebook.live import stream_live

        return stream_live(self.backend, num_orders, **self.job, **kwargs)

    def parallel_live(self, total_orders: int, instances: int, **kwargs) -> ParallelResult:
        """:func:`aidemo.notebook.live.parallel_live` of this notebook's job (``kwargs``: processes, view)."""
        from aidemo.notebook.live import parallel_live

        return parallel_live(self.backend, total_orders, instances, **self.job, **kwargs)

    def plan_frame(self, total_orders: int, instances: int) -> pd.DataFrame:
        """:func:`aidemo.notebook.tables.plan_frame`: how a parallel job of this notebook is split."""
        from aidemo.notebook.tables import plan_frame

        return plan_frame(total_orders, instances, seed=self.seed, num_customers=self.num_customers)

    def crash_stream(self, num_orders: int, *, kill_after: int, **kwargs) -> Crash:
        """:func:`aidemo.notebook.crash.crash_stream` of this notebook's job."""
        from aidemo.notebook.crash import crash_stream

        return crash_stream(self.backend, num_orders, kill_after=kill_after, **self.job, **kwargs)

    def run_with_faults(self, *, seconds: float, **kwargs) -> FaultRun:
        """:func:`aidemo.notebook.faults.run_with_faults` of this notebook's job."""
        from aidemo.notebook.faults import run_with_faults

        return run_with_faults(self.backend, seconds=seconds, **self.job, **kwargs)

    def measure_grid(self, **kwargs) -> pd.DataFrame:
        """:func:`aidemo.latency.measure_grid` of this notebook's job (``kwargs``: the grid; its lags, batch
        sizes and rate replace the options')."""
        from aidemo import latency

        return latency.measure_grid(
            self.backend, seed=self.seed, num_customers=self.num_customers, base=self.options, **kwargs
        )
