"""A local service in a temporary home for one benchmark run, and its CPU seconds.

Imported first by the benchmarks that stream: it sets the SDK's log level before the SDK loads.
"""

from __future__ import annotations

import contextlib
import os
import tempfile

from aidemo.backends.sdk import quiet_sdk_logs

quiet_sdk_logs()  # as the kit's command line and notebooks run the SDK: before it loads

from aidemo.backends.backend import LocalBackend  # noqa: E402
from aidemo.local.process import service  # noqa: E402
from aidemo.local.process.home import ServiceHome  # noqa: E402

_CA_HOME = ServiceHome.at(tempfile.mkdtemp(prefix="aidemo-bench-ca-"))


@contextlib.contextmanager
def fresh_backend():
    """A LocalBackend on a service started for this run in a temporary home; stopped afterwards.

    All runs of one process share a CA (see ServiceHome.copy_ca_from).
    """
    with tempfile.TemporaryDirectory(prefix="aidemo-bench-") as root:
        home = ServiceHome.at(root)
        home.copy_ca_from(_CA_HOME)
        service.start(home)
        try:
            yield LocalBackend(home)
        finally:
            service.stop(home)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
