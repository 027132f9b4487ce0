"""05's crash: kill a running ``aidemo stream`` (SIGKILL) and read where each channel stopped."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aidemo.errors import ConfigError, StreamingError

if TYPE_CHECKING:
    import pandas as pd

    from aidemo.backends.backend import StreamingBackend
    from aidemo.stream.options import StreamOptions


def channel_tokens(backend: StreamingBackend) -> pd.DataFrame:
    """Every channel of the schema: name, pipe, last committed offset token, rows inserted (``SHOW CHANNELS``)."""
    from aidemo.backends.scripts import run_file

    frame = run_file("monitoring/show_channels.sql", backend).rename(columns={"parent_name": "pipe"})
    columns = ["name", "pipe", "last_committed_offset_token", "rows_inserted"]
    return frame.reindex(columns=columns).sort_values("name", ignore_index=True)


@dataclass(frozen=True)
class Crash:
    """Where a killed ``aidemo stream`` left the two channels (ids count from 1, so ids are counts).

    ``items_complete_through`` is the last order whose items are all committed: below
    ``orders_committed``, the items channel was behind; above it, ahead.
    """

    orders_committed: int
    items_committed: int
    items_complete_through: int
    last_order_token: str | None
    last_item_token: str | None
    seconds: float

    def describe(self) -> str:
        """Where the two channels stopped, in a sentence or two of Markdown (from the figures above)."""
        orders, through = self.orders_committed, self.items_complete_through
        where = (
            f"The stream was killed after {self.seconds:.1f} s. The orders channel had committed "
            f"{orders:,} orders (`{self.last_order_token}`); the items channel {self.items_committed:,} "
            f"items (`{self.last_item_token}`), complete through order {through:,}. "
        )
        if orders > through:
            return where + (
                f"**The orders channel was {orders - through:,} orders ahead**: on restart the items "
                f"channel resumes inside order {through + 1:,}, the orders channel after order {orders:,}."
            )
        if orders < through:
            return where + (
                f"**The items channel was {through - orders:,} orders ahead**: on restart the orders "
                f"channel resumes after order {orders:,}, the items channel after order {through:,}."
            )
        return where + (
            "This time **both channels stopped at the same order**; each still resumes after its own token."
        )


def crash_stream(
    backend: StreamingBackend,
    num_orders: int,
    *,
    kill_after: int,
    options: StreamOptions,
    seed: int,
    num_customers: int,
    timeout: float = 120.0,
    divergence_wait: float = 5.0,
) -> Crash:
    """Run ``aidemo stream num_orders`` in a process and kill it (SIGKILL) once ``kill_after`` orders are in ORDERS.

    The two channels commit independently; the kill is timed for a moment when they stand at
    different orders (waiting at most ``divergence_wait`` seconds for one). Where the backend
    takes faults (the local service), the service holds the items channel's commits back
    from then on, as a slow commit on one channel would, so the orders channel is ahead when
    the process dies; the batches it held for the dead writer are dropped with its channel
    (fenced, as the rerun's reopen would) and the hold ends. Nothing is flushed or closed:
    what the process had buffered is lost, and each channel is left at whatever it had
    committed (read once they stop moving). Rerunning the same job resumes each channel
    after its own token.
    """
    from aidemo.data.generator import InstanceSpec, order_of_item
    from aidemo.knobs import knob_environment
    from aidemo.stream.offsets import parse_item_token, parse_order_token

    if not isinstance(kill_after, int) or not 0 < kill_after < num_orders:
        raise ConfigError(f"kill_after must be between 1 and {num_orders - 1} orders, got {kill_after!r}")
    env = os.environ | backend.child_environment() | knob_environment(seed=seed, num_customers=num_customers)
    command = [sys.executable, "-m", "aidemo.cli", "stream", str(num_orders), *options.to_arguments(), "--no-progress"]
    switch = backend.fault_control() if backend.supports_faults else None
    held = False
    started = time.monotonic()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        while _orders_in_table(backend) < kill_after:
            if proc.poll() is not None:
                raise StreamingError(
                    f"`aidemo stream` ended (exit code {proc.returncode}) before {kill_after} "
                    f"orders were committed: {proc.stderr.read().strip()[-500:]}"
                )
            if time.monotonic() - started > timeout:
                raise StreamingError(f"fewer than {kill_after} orders committed within {timeout:g} s")
            time.sleep(0.05)
        if switch is not None:
            switch.set("stall_commits", channel=options.items_channel)
            held = True
        spec, until = (
            InstanceSpec.single(seed, num_customers),
            time.monotonic() + divergence_wait,
        )
        while time.monotonic() < until and proc.poll() is None:
            order_text, item_text = _tokens(backend, options)
            orders, items = (
                parse_order_token(_token(order_text)) or 0,
                parse_item_token(_token(item_text)) or 0,
            )
            through = order_of_item(spec, items + 1)[0] - 1
            if orders > through if held else orders != through:
                break
            time.sleep(0.01)
    finally:
        proc.kill()  # SIGKILL: no flush, no close
        proc.wait()
        proc.stderr.close()
        if held:  # the dead writer's held batches go with its fenced channel; then the hold ends
            switch.set("invalidate", channel=options.items_channel)
            switch.clear("stall_commits")
    seconds = time.monotonic() - started
    order_token, item_token = _settled_tokens(backend, timeout, options)
    items = parse_item_token(item_token) or 0
    complete_through = order_of_item(InstanceSpec.single(seed, num_customers), items + 1)[0] - 1
    return Crash(
        parse_order_token(order_token) or 0,
        items,
        complete_through,
        order_token,
        item_token,
        round(seconds, 2),
    )


def _settled_tokens(backend: StreamingBackend, timeout: float, options: StreamOptions) -> tuple[str | None, str | None]:
    """The single instance's committed tokens once they stop moving.

    What the dead process had already sent can still be committed by the server for a
    moment; the tokens are read until two reads a second apart agree.
    """
    deadline = time.monotonic() + timeout
    previous = None
    while True:
        current = tuple(_token(t) for t in _tokens(backend, options))
        if current == previous or time.monotonic() > deadline:
            return current
        previous = current
        time.sleep(1.0)


def _tokens(backend: StreamingBackend, options: StreamOptions) -> tuple[Any, Any]:
    tokens = {row.name: row.last_committed_offset_token for row in channel_tokens(backend).itertuples()}
    return tokens.get(options.orders_channel), tokens.get(options.items_channel)


def _orders_in_table(backend: StreamingBackend) -> int:
    from aidemo.backends.scripts import run_file

    counts = run_file("monitoring/row_counts.sql", backend)
    return int(counts.set_index("TABLE_NAME").loc["ORDERS", "ROW_COUNT"])


def _token(value: Any) -> str | None:
    """A token from SHOW CHANNELS; a channel with nothing committed shows NULL."""
    return value if isinstance(value, str) and value else None
