"""How fast the generator makes orders with their items, as numpy columns and as SDK row dicts.

    python bench/generator.py [--orders 1000000] [--batch 10000] [--runs 3]

Prints orders/s and rows/s (orders + items), the median of the runs, for: numpy columns in
one call; numpy columns in streaming-sized batches; and row dicts (``order_rows`` +
``item_rows``) in streaming-sized batches, timed without and with generation.
"""

from __future__ import annotations

import argparse
import statistics
import time

from aidemo.data.generator import InstanceSpec, order_batch
from aidemo.knobs import DEFAULT_CUSTOMERS


def _batches(spec: InstanceSpec, orders: int, size: int):
    for first in range(1, orders + 1, size):
        yield order_batch(spec, first, min(size, orders + 1 - first))


def _columns(spec: InstanceSpec, orders: int, size: int) -> tuple[float, int]:
    start = time.perf_counter()
    items = sum(len(batch.item_id) for batch in _batches(spec, orders, size))
    return time.perf_counter() - start, items


def _rows(spec: InstanceSpec, orders: int, size: int) -> tuple[float, float, int]:
    """(seconds building dicts, seconds in all, items)."""
    dict_seconds, items = 0.0, 0
    start = time.perf_counter()
    for batch in _batches(spec, orders, size):
        before = time.perf_counter()
        order_rows, item_rows = batch.order_rows(), batch.item_rows()
        dict_seconds += time.perf_counter() - before
        items += len(item_rows)
        del order_rows, item_rows
    return dict_seconds, time.perf_counter() - start, items


def _report(label: str, seconds: list[float], orders: int, items: int) -> None:
    median = statistics.median(seconds)
    print(
        f"{label:<44} {orders / median:>12,.0f} orders/s {(orders + items) / median:>13,.0f} rows/s"
        f"   ({median:.3f} s, runs {', '.join(f'{s:.3f}' for s in seconds)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000, help="orders per streaming batch")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    spec = InstanceSpec.single(args.seed, DEFAULT_CUSTOMERS)
    order_batch(spec, 1, 1)  # warm the caches (customer segments, date strings)

    print(f"{args.orders:,} orders, {args.runs} runs, median")
    one_call = [_columns(spec, args.orders, args.orders) for _ in range(args.runs)]
    items = one_call[0][1]
    print(f"{items:,} items ({items / args.orders:.2f} per order)")
    _report("numpy columns, one call", [s for s, _ in one_call], args.orders, items)
    batched = [_columns(spec, args.orders, args.batch)[0] for _ in range(args.runs)]
    _report(f"numpy columns, batches of {args.batch:,}", batched, args.orders, items)
    rows = [_rows(spec, args.orders, args.batch) for _ in range(args.runs)]
    _report(f"row dicts only, batches of {args.batch:,}", [d for d, _, _ in rows], args.orders, items)
    _report(f"columns + row dicts, batches of {args.batch:,}", [t for _, t, _ in rows], args.orders, items)


if __name__ == "__main__":
    main()
