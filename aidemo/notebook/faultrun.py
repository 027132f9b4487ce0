"""05's faults: one paced stream while a schedule switches each fault kind on in turn.

Each fault stays on for ``seconds``, then the stream runs clean for as long, so the live
view shows every one as its own shaded span. :class:`FaultRun` keeps, per fault, what the
service injected, what the SDK re-sent, what the kit retried or reopened, and how far the
committed orders fell behind the paced schedule (the time lost).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    from pandas.io.formats.style import Styler

    from aidemo.backends.backend import StreamingBackend
    from aidemo.measure.stats import StreamStats
    from aidemo.notebook.live import LiveView
    from aidemo.stream.options import StreamOptions


@dataclass(frozen=True)
class Fault:
    """One step of the schedule: a fault kind, what it does, its parameters."""

    kind: str
    what: str
    params: dict = field(default_factory=dict)


SCHEDULE = (
    # Late commits first, while the stream runs clean: every batch accepted meanwhile is held.
    Fault("delay_commits", "rows accepted at once but committed 2 s later", {"delay": 2.0}),
    Fault("throttle", "ingestion requests answered 429 (receiver saturated)"),
    Fault("error", "the next 3 requests answered 503 (service unavailable)", {"count": 3}),
    Fault(
        "drop",
        "the next 2 answers lost (connection closed after the work was done)",
        {"count": 2},
    ),
    Fault("invalidate", "both channels fenced under their writer (acts once)"),
)


@dataclass
class FaultStep:
    fault: Fault
    start_s: float  # seconds after the channels opened
    counts_before: dict
    counts_after: dict | None = None
    kit_before: tuple[int, int] = (0, 0)  # the stream's retries and reopens
    kit_after: tuple[int, int] = (0, 0)


@dataclass
class FaultRun:
    """A stream under :data:`SCHEDULE`: its stats, the steps and the live view's samples.

    On a backend that takes no faults (a real account) nothing ran: ``skipped`` says why, and
    every table and figure of the run is None (a cell shows nothing).
    """

    stats: StreamStats | None
    steps: list[FaultStep]
    seconds: float
    rate: float
    view: LiveView | None
    skipped: str | None = None

    def summary(self) -> dict | None:
        """The stream's summary (:meth:`~aidemo.measure.stats.StreamStats.summary`); None when nothing ran."""
        return None if self.stats is None else self.stats.summary()

    def stream_table(self) -> Styler | None:
        """The stream's row (:func:`~aidemo.notebook.tables.stream_table`); None when nothing ran."""
        from aidemo.notebook.tables import stream_table

        return None if self.stats is None else stream_table(self.stats)

    def frame(self) -> pd.DataFrame | None:
        """Per fault: injected, what the SDK and the kit did, and the seconds lost; None when nothing ran."""
        import pandas as pd

        if self.skipped is not None:
            return None

        behind = self._behind()
        rows = []
        for step in self.steps:
            after = step.counts_after or step.counts_before
            window = behind.loc[(behind.index >= step.start_s) & (behind.index < step.start_s + 2 * self.seconds)]
            # How much further behind the schedule the commits fell while the fault was on (and after).
            lost = max(0.0, float(window.max() - window.iloc[0])) if len(window) else None
            rows.append(
                {
                    "fault": step.fault.kind,
                    "injected": step.fault.what,
                    "hits": after.get(step.fault.kind, 0) - step.counts_before.get(step.fault.kind, 0),
                    "sdk_resent": after["sdk_retries"] - step.counts_before["sdk_retries"],
                    "kit_retries": step.kit_after[0] - step.kit_before[0],
                    "kit_reopens": step.kit_after[1] - step.kit_before[1],
                    "time_lost_s": lost,
                }
            )
        return pd.DataFrame(rows)

    def table(self) -> Styler | None:
        """:meth:`frame` formatted; None when nothing ran."""
        from aidemo.notebook.tables import COUNT, SECONDS, TEXT, styled

        if self.skipped is not None:
            return None
        return styled(
            self.frame(),
            {
                "fault": ("fault", TEXT),
                "injected": ("what the service did", TEXT),
                "hits": ("requests or commits hit", COUNT),
                "sdk_resent": ("requests the SDK re-sent", COUNT),
                "kit_retries": ("appends the kit retried", COUNT),
                "kit_reopens": ("channels reopened by the kit", COUNT),
                "time_lost_s": ("time lost (s)", SECONDS),
            },
        ).set_properties(
            subset=["what the service did"],
            **{"text-align": "left", "white-space": "normal"},
        )

    def _behind(self) -> pd.Series:
        """Seconds the committed orders trail the paced schedule, by seconds since the channels opened."""
        import pandas as pd

        opened = (self.stats.opened or self.view.started) - self.view.started
        samples = pd.DataFrame(self.view.samples, columns=["at_s", "orders", "rows"])
        at = samples["at_s"] - opened
        target = self.stats.orders_target - self.stats.orders_resumed
        expected = (at * self.rate).clip(lower=0, upper=target)
        return pd.Series(((expected - samples["orders"]) / self.rate).to_numpy(), index=at.to_numpy())


def run_with_faults(
    backend: StreamingBackend,
    *,
    options: StreamOptions,
    seed: int,
    num_customers: int,
    seconds: float,
    schedule: tuple[Fault, ...] = SCHEDULE,
) -> FaultRun:
    """Stream on (the same job, longer) at ``options.rate`` while ``schedule`` switches faults on.

    The first fault comes ``seconds`` after the channels open; each is on for ``seconds`` and
    followed by as long without. On a real account nothing runs: a note, and a run that says why
    (:attr:`FaultRun.skipped`).
    """
    from aidemo.errors import ConfigError
    from aidemo.notebook.crash import channel_tokens
    from aidemo.notebook.live import LiveView, stream_live
    from aidemo.stream.offsets import parse_order_token

    try:
        control = backend.fault_control()
    except ConfigError as exc:  # a real account cannot be told to fail
        print(f"no faults on this backend: {exc}")
        return FaultRun(None, [], seconds, float(options.rate or 0), None, skipped=str(exc))
    control.clear()
    tokens = dict(zip(*channel_tokens(backend)[["name", "last_committed_offset_token"]].T.values))
    done = parse_order_token(tokens.get(options.orders_channel) or None) or 0
    total = done + round(options.rate * seconds * (2 * len(schedule) + 1))
    steps: list[FaultStep] = []

    def status() -> dict:
        reply = control.status()
        return reply["counts"] | {"sdk_retries": reply["sdk_retries"]}

    def drive(view: LiveView) -> None:
        while not view.current() or view.current()[0].opened is None:
            time.sleep(0.05)
        stats = view.current()[0]
        for number, fault in enumerate(schedule):
            at = stats.opened + seconds * (1 + 2 * number)
            if _sleep_until(at, stats):
                break
            step = FaultStep(
                fault,
                time.monotonic() - stats.opened,
                status(),
                kit_before=(stats.retries, stats.reopens),
            )
            steps.append(step)
            lasting = {} if fault.kind == "invalidate" else {"seconds": seconds}
            control.set(fault.kind, seed=seed, **lasting, **fault.params)
            now = time.monotonic()
            view.mark(fault.kind, now, now + seconds)
            _sleep_until(at + 2 * seconds - 0.1, stats)
            step.counts_after, step.kit_after = status(), (stats.retries, stats.reopens)

    view = LiveView("Under faults")
    try:
        stats = stream_live(
            backend,
            total,
            options=options,
            seed=seed,
            num_customers=num_customers,
            view=view,
            during=drive,
        )
    finally:
        control.clear()
    return FaultRun(stats, steps, seconds, float(options.rate), view)


def _sleep_until(moment: float, stats: StreamStats) -> bool:
    """Sleep until ``moment`` (monotonic); True when the stream finished first."""
    while time.monotonic() < moment:
        if stats.finished is not None:
            return True
        time.sleep(min(0.05, max(0.0, moment - time.monotonic())))
    return stats.finished is not None
