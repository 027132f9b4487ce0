"""Faults on demand from a notebook or script: the local service misbehaves like a real one.

backend.fault_control().set("throttle", seconds=2)   # kinds: aidemo.local.http.faults.KINDS
backend.fault_control().status()["counts"]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aidemo.errors import from_local

if TYPE_CHECKING:
    from aidemo.local.process.client import FaultControl


class FaultSwitch:
    """A local service's fault control (:class:`~aidemo.local.process.client.FaultControl`) raising the kit's errors."""

    def __init__(self, control: FaultControl):
        self._control = control

    @from_local()
    def set(self, kind: str, **params) -> dict:
        """Switch a fault on (parameters of :class:`~aidemo.local.http.faults.FaultSpec`); returns the status."""
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
