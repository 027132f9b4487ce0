"""A parallel job against the local service: wall time, throughput and peak memory.

    python bench/parallel.py [--orders 1000000] [--instances 5] [--mode threads|processes|both] [--repeat 3]

Each run starts its own service and streams the whole job with `aidemo.stream.parallel.run_parallel`
(default SDK properties and kit settings), stopping the clock when SQL sees every row. Peak memory
is the largest resident set of this process and of its worker processes (getrusage ru_maxrss).
Targets on a 2-core machine: 1,000,000 orders with 5 instances in <= 30 s; peak memory flat as
the job grows (compare --orders 10000000).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

from service import fresh_backend

from aidemo.data.generator import first_item_id
from aidemo.stream.parallel import plan, run_parallel


def run_once(orders: int, instances: int, processes: bool) -> tuple[float, int]:
    slices = plan(orders, instances, seed=42, num_customers=20_000)
    spec, count = slices[-1]
    rows = orders + first_item_id(spec, spec.order_base + count) - 1
    with fresh_backend() as backend:
        start = time.perf_counter()
        result = run_parallel(orders, instances, backend=backend, processes=processes)
        if result.errors:
            raise SystemExit(f"errors: {result.errors}")
        query = "SELECT (SELECT COUNT(*) FROM RAW.ORDERS) + (SELECT COUNT(*) FROM RAW.ORDER_ITEMS) AS N"
        while backend.sql(query)["N"][0] < rows:
            time.sleep(0.05)
        return time.perf_counter() - start, rows


def peak_rss_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--instances", type=int, default=5)
    parser.add_argument("--mode", choices=("threads", "processes", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    modes = ["threads", "processes"] if args.mode == "both" else [args.mode]
    for mode in modes:
        walls = []
        for i in range(args.repeat):
            seconds, rows = run_once(args.orders, args.instances, mode == "processes")
            walls.append(seconds)
            print(
                f"{mode} run {i + 1}: {args.orders} orders, {rows} rows in {seconds:.2f} s: "
                f"{args.orders / seconds:,.0f} orders/s, {rows / seconds:,.0f} rows/s"
            )
        wall = statistics.median(walls)
        print(f"{mode} median: {wall:.2f} s, {args.orders / wall:,.0f} orders/s, {rows / wall:,.0f} rows/s")
    own, children = peak_rss_mb()
    print(f"peak RSS: this process {own:,.0f} MB; largest child (service or worker) {children:,.0f} MB")


if __name__ == "__main__":
    main()
