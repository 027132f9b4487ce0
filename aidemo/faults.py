"""Faults on demand from a notebook or script: the local service misbehaves like a real one.

from aidemo.faults import fault_switch
fault_switch(backend).set("throttle", seconds=2)   # kinds: aidemo.local.faults.KINDS
fault_switch(backend).status()["counts"]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aidemo.errors import from_local

if TYPE_CHECKING:
    from aidemo.backends import StreamingBackend
    from aidemo.local.client import FaultControl

#: A mix for a demo: throttling, transient 5xx, lost answers and late commits for a few seconds.
DEMO_MIX = (
    ("throttle", {"seconds": 4}),
    ("error", {"seconds": 5, "rate": 0.2}),
    ("drop", {"seconds": 5, "rate": 0.1}),
    ("delay_commits", {"seconds": 5, "delay": 1.0}),
)


class FaultSwitch:
    """A local service's fault control (:class:`~aidemo.local.client.FaultControl`) raising the kit's errors."""

    def __init__(self, control: FaultControl):
        self._control = control

    @from_local()
    def set(self, kind: str, **params) -> dict:
        """Switch a fault on (parameters of :class:`~aidemo.local.faults.FaultSpec`); returns the status."""
        return self._control.set(kind, **params)

    @from_local()
    def clear(self, kind: str | None = None) -> dict:
        """Switch every fault off (or those of one kind); held commits go at once."""
        return self._control.clear(kind)

    @from_local()
    def status(self) -> dict:
        """Active faults (with hits and seconds left), counts per kind, and the latest hits."""
        return self._control.status()

    @from_local()
    def counts(self) -> dict[str, int]:
        """Faults injected so far, per kind (kept across restarts)."""
        return self._control.counts()

    @from_local()
    def restart(self, downtime: float = 0.0, kill: bool = False) -> dict:
        """Stop the service and start it again on the same home and port (``kill``: as a crash would)."""
        return self._control.restart(downtime, kill)


def fault_switch(backend: StreamingBackend) -> FaultSwitch:
    """The fault switch of the backend's server; a ConfigError where it has none (a real account)."""
    return backend.fault_control()


def switch_on(backend: StreamingBackend, mix=DEMO_MIX, *, seed: int = 0) -> dict | None:
    """Switch the faults of ``mix`` (pairs of kind and parameters) on; their status, or None when
    the backend is a real account (nothing is switched on there)."""
    if not backend.supports_faults:
        print(f"faults need the local backend; the {backend.describe()} backend runs without them")
        return None
    control = fault_switch(backend)
    for kind, params in mix:
        status = control.set(kind, seed=seed, **params)
    return status


def fault_counts(backend: StreamingBackend) -> dict[str, int] | None:
    """Faults the local service injected so far, per kind, and the requests the SDK sent again."""
    if not backend.supports_faults:
        return None
    status = fault_switch(backend).status()
    return status["counts"] | {"sdk_retries": status["sdk_retries"]}
