"""One instance streaming orders and items into the local service, until committed and queryable.

    python bench/stream_single.py [--orders 200000] [--batch-size 10000] [--repeat 3]

Each run starts its own service, streams the job with `aidemo.stream.streaming.Streamer` (default SDK
properties, the kit's defaults otherwise) and stops the clock when SQL sees every order and item.
Prints orders/s and rows/s per run and their median. Target: >= 34,000 orders/s.
"""

from __future__ import annotations

import argparse
import statistics
import time

from service import fresh_backend

from aidemo.data.generator import InstanceSpec, first_item_id
from aidemo.stream.options import StreamOptions
from aidemo.stream.streaming import Streamer


def run_once(orders: int, batch_size: int) -> tuple[float, int]:
    spec = InstanceSpec.single(42, 20_000)
    items = first_item_id(spec, orders + 1) - 1
    with fresh_backend() as backend:
        streamer = Streamer(backend, spec, orders, StreamOptions(batch_size=batch_size))
        start = time.perf_counter()
        streamer.run()
        query = "SELECT (SELECT COUNT(*) FROM RAW.ORDERS) + (SELECT COUNT(*) FROM RAW.ORDER_ITEMS) AS N"
        while backend.sql(query)["N"][0] < orders + items:
            time.sleep(0.05)
        return time.perf_counter() - start, orders + items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rates = []
    for i in range(args.repeat):
        seconds, rows = run_once(args.orders, args.batch_size)
        rates.append((args.orders / seconds, rows / seconds))
        print(
            f"run {i + 1}: {args.orders} orders + {rows - args.orders} items in {seconds:.2f} s: "
            f"{rates[-1][0]:,.0f} orders/s, {rates[-1][1]:,.0f} rows/s committed and queryable"
        )
    print(
        f"median: {statistics.median(r[0] for r in rates):,.0f} orders/s, "
        f"{statistics.median(r[1] for r in rates):,.0f} rows/s"
    )


if __name__ == "__main__":
    main()
