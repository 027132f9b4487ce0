"""The setup cell of every notebook (:func:`start`) and what it opens (:class:`Demo`): the backend,
the job's seed and customers, its stream options.

:func:`start` returns a :class:`Demo`; its methods are the notebook functions with
the backend, ``seed``, ``num_customers`` and ``options`` filled in, so a cell names only what it
changes.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aidemo.notebook.session import banner
from aidemo.notebook.walkthrough import working_directory

if TYPE_CHECKING:
    import pandas as pd

    from aidemo.backends.backend import StreamingBackend
    from aidemo.backends.provision import SetupReport
    from aidemo.measure.stats import StreamStats
    from aidemo.notebook.analytics import BackgroundStream
    from aidemo.notebook.crash import Crash
    from aidemo.notebook.faultrun import FaultRun
    from aidemo.notebook.panel import ControlPanel
    from aidemo.stream.options import StreamOptions
    from aidemo.stream.parallel import ParallelResult


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
        """:func:`aidemo.backends.provision.setup` with this notebook's customers and seed (fresh tables by default)."""
        from aidemo.backends.provision import setup

        return setup(self.backend, reset=reset, num_customers=self.num_customers, seed=self.seed)

    def stream_live(self, num_orders: int, **kwargs) -> StreamStats:
        """:func:`aidemo.notebook.live.stream_live` of this notebook's job (``kwargs``: title, view)."""
        from aidemo.notebook.live import stream_live

        return stream_live(self.backend, num_orders, **self.job, **kwargs)

    def parallel_live(self, total_orders: int, instances: int, **kwargs) -> ParallelResult:
        """:func:`aidemo.notebook.live.parallel_live` of this notebook's job (``kwargs``: processes, view)."""
        from aidemo.notebook.live import parallel_live

        return parallel_live(self.backend, total_orders, instances, **self.job, **kwargs)

    def background_stream(self, num_orders: int) -> BackgroundStream:
        """:func:`aidemo.notebook.analytics.background_stream` of this notebook's job: it streams on a thread."""
        from aidemo.notebook.analytics import background_stream

        return background_stream(self.backend, num_orders, **self.job)

    def plan_frame(self, total_orders: int, instances: int) -> pd.DataFrame:
        """:func:`aidemo.notebook.tables.plan_frame`: how a parallel job of this notebook is split."""
        from aidemo.notebook.tables import plan_frame

        return plan_frame(total_orders, instances, **self.job)

    def crash_stream(self, num_orders: int, *, kill_after: int, **kwargs) -> Crash:
        """:func:`aidemo.notebook.crash.crash_stream` of this notebook's job."""
        from aidemo.notebook.crash import crash_stream

        return crash_stream(self.backend, num_orders, kill_after=kill_after, **self.job, **kwargs)

    def run_with_faults(self, *, seconds: float, **kwargs) -> FaultRun:
        """:func:`aidemo.notebook.faultrun.run_with_faults` of this notebook's job."""
        from aidemo.notebook.faultrun import run_with_faults

        return run_with_faults(self.backend, seconds=seconds, **self.job, **kwargs)

    def measure_grid(self, **kwargs) -> pd.DataFrame:
        """:func:`aidemo.measure.latency.measure_grid` of this notebook's job (``kwargs``: the grid; its lags, batch
        sizes and rate replace the options')."""
        from aidemo.measure import latency

        return latency.measure_grid(
            self.backend, seed=self.seed, num_customers=self.num_customers, base=self.options, **kwargs
        )

    def latency_run(self, namespace: MutableMapping[str, Any], **kwargs) -> tuple[dict, pd.DataFrame]:
        """:func:`aidemo.notebook.panel.latency_run` with this notebook's seed and customers (``namespace``:
        its globals, for ``MAX_CLIENT_LAG``, ``BATCH_SIZE``, ``DURATION``, ``RATE``)."""
        from aidemo.notebook.panel import latency_run

        return latency_run(self.backend, namespace, seed=self.seed, num_customers=self.num_customers, **kwargs)

    def latency_panel(self, namespace: MutableMapping[str, Any]) -> ControlPanel:
        """:func:`aidemo.notebook.panel.latency_panel` with this notebook's seed and customers."""
        from aidemo.notebook.panel import latency_panel

        return latency_panel(self.backend, namespace, seed=self.seed, num_customers=self.num_customers)

    def stream_panel(self, namespace: MutableMapping[str, Any], instances: int | None = None) -> ControlPanel:
        """:func:`aidemo.notebook.panel.stream_panel` with this notebook's seed and customers (``instances``:
        a parallel job's)."""
        from aidemo.notebook.panel import stream_panel

        return stream_panel(self.backend, namespace, instances, seed=self.seed, num_customers=self.num_customers)


def start(
    backend: str | None = "local", *, seed: int | None = None, num_customers: int | None = None, **options: Any
) -> Demo:
    """The setup cell: open the backend ``backend`` names (None: as the profile says), print the banner,
    and return it as a :class:`~aidemo.notebook.demo.Demo` with the notebook's job.

    ``seed`` and ``num_customers`` (default: ``config.properties``'s) are the job's; ``options``
    (``batch_size=``, ``max_client_lag=``, ``rate=`` ...) its :class:`~aidemo.stream.options.StreamOptions`,
    the rest of them from ``config.properties``. A notebook opened in JupyterLab runs in its
    folder, ``notebooks/``; the kit's files (``profile.json``, ``config.properties``, the local
    service's ``.aidemo/``) sit beside that folder, as for the command line, so the kernel moves
    there first (:func:`~aidemo.notebook.walkthrough.working_directory`). The SDK's own log lines
    below ERROR are switched off for the kernel (unless ``SS_LOG_LEVEL`` is set) before the SDK loads.
    """
    from aidemo.backends.backend import open_backend
    from aidemo.backends.sdk import quiet_sdk_logs
    from aidemo.config import load_profile
    from aidemo.settings import load_settings
    from aidemo.stream.options import StreamOptions

    quiet_sdk_logs()
    os.chdir(working_directory(Path.cwd().resolve()))
    settings = load_settings(seed=seed, num_customers=num_customers)
    job = StreamOptions.from_settings(settings, **options)
    opened = open_backend(load_profile(backend=backend))
    print(banner(opened))
    return Demo(opened, settings.seed, settings.num_customers, job)
