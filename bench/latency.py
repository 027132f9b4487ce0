"""Measured latency per max client lag on the local backend, through the real SDK.

    python bench/latency.py [--lags 1,2,5,10] [--duration 20] [--rate 500] [--batch-size 10000]

Starts a local service of its own in a temporary home (so nothing else streams meanwhile),
streams ``rate`` orders/s for ``duration`` s per lag, and prints per lag the p50/p95/p99 of
generated → handed to the SDK, → committed (as the SDK reports it) and → queryable (SQL).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from aidemo.backends.sdk import quiet_sdk_logs

quiet_sdk_logs()  # as the kit's command line and notebooks run the SDK: before it loads

from aidemo.backends.backend import LocalBackend  # noqa: E402
from aidemo.local.process import service  # noqa: E402
from aidemo.local.process.home import ServiceHome  # noqa: E402
from aidemo.measure import latency  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lags", default="1,2,5,10", help="max client lag values, seconds")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of streaming per lag")
    parser.add_argument("--rate", type=float, default=500.0, help="orders per second")
    parser.add_argument("--batch-size", type=int, default=10_000, help="orders per batch (large: the lag flushes)")
    args = parser.parse_args()
    lags = latency.parse_numbers("--lags", args.lags, float)

    with tempfile.TemporaryDirectory() as tmp:
        home = ServiceHome.at(Path(tmp) / "home")
        service.start(home)
        try:
            backend = LocalBackend(home)
            started = time.monotonic()
            batches = latency.measure_grid(
                backend, lags=lags, batch_sizes=[args.batch_size], duration=args.duration, rate=args.rate
            )
            took = time.monotonic() - started
        finally:
            service.stop(home)

    summary = latency.summarize(batches)
    print(
        f"local backend, {args.rate:g} orders/s for {args.duration:g} s per lag, batch size {args.batch_size:,}, "
        f"flush tick min(lag, 1 s); {took:.0f} s in all"
    )
    print(
        f"{'lag s':>6} {'batches':>7} {'orders/s':>8}   "
        + "   ".join(f"{latency.STAGE_NAMES[s].split(' → ')[1]:^20}" for s in latency.LATENCIES)
    )
    print(f"{'':>6} {'':>7} {'':>8}   " + "   ".join(f"{'p50':>6} {'p95':>6} {'p99':>6}" for _ in latency.LATENCIES))
    for row in summary.itertuples(index=False):
        cells = "   ".join(
            " ".join(f"{getattr(row, latency.percentile_column(stage, p)):6.2f}" for p in latency.PERCENTILES)
            for stage in latency.LATENCIES
        )
        print(f"{row.max_client_lag:6g} {row.batches:7d} {row.orders_per_s:8.0f}   {cells}")


if __name__ == "__main__":
    main()
