"""Faults on demand from a notebook or script: the local service misbehaves like a real one.

    from aidemo.faults import faults
    faults(backend).set("throttle", seconds=2)   # kinds: aidemo.local.faults.KINDS
    faults(backend).status()["counts"]
"""

from __future__ import annotations

from aidemo.backends import LocalBackend, StreamingBackend
from aidemo.errors import ConfigError
from aidemo.local.client import FaultControl, LocalClient

#: A mix for a demo: throttling, transient 5xx, lost answers and late commits for a few seconds.
DEMO_MIX = (
    ("throttle", {"seconds": 4}),
    ("error", {"seconds": 5, "rate": 0.2}),
    ("drop", {"seconds": 5, "rate": 0.1}),
    ("delay_commits", {"seconds": 5, "delay": 1.0}),
)


def faults(backend: StreamingBackend) -> FaultControl:
    """The fault controls of the backend's local service (a real account cannot be told to fail)."""
    if not isinstance(backend, LocalBackend):
        raise ConfigError(f"faults can be injected only into the local service, not the {backend.describe()} backend")
    return LocalClient(backend.info).faults


def switch_on(backend: StreamingBackend, mix=DEMO_MIX, *, seed: int = 0) -> dict | None:
    """Switch the faults of ``mix`` (pairs of kind and parameters) on; their status, or None when
    the backend is a real account (nothing is switched on there)."""
    if not isinstance(backend, LocalBackend):
        print(f"faults need the local backend; the {backend.describe()} backend runs without them")
        return None
    control = faults(backend)
    for kind, params in mix:
        status = control.set(kind, seed=seed, **params)
    return status


def fault_counts(backend: StreamingBackend) -> dict[str, int] | None:
    """Faults the local service injected so far, per kind, and the requests the SDK sent again."""
    if not isinstance(backend, LocalBackend):
        return None
    status = faults(backend).status()
    return status["counts"] | {"sdk_retries": status["sdk_retries"]}
