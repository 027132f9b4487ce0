"""The upstream demo's parallel loop, re-told in its own steps, against the same local service as the kit.

The demo this kit re-implements (`parallel_streaming_orchestrator.py <orders> <instances>`) runs its
instances as threads of one process. Each instance opens two SDK clients (orders, order items) with
a channel each, then, 10,000 orders at a time, draws every order and its items one by one with
Python's `random` (Decimal prices rounded half up, dates back from now), turns each into a dict,
and appends the orders and then their items with `append_rows`, offset tokens `order_<id>` and
`item_<id>`, retrying on backpressure. When every instance has appended all it made, the job ends
once its last tokens are committed.

This script runs that loop, then the kit's `run_parallel` (threads, as `aidemo parallel` runs by
default) on the same job, each on a service of its own started the same way, and prints orders/s
until every row is queryable for both, and their ratio. The kit's target: at least 3 times the
upstream demo's orders/s.

    python bench/upstream_demo.py [--orders 1000000] [--instances 5] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import ROUND_HALF_UP, Decimal

from parallel import run_once as run_kit
from service import fresh_backend

from aidemo.data.models import CATALOGUE

BATCH = 10_000  # the demo's orders.batch.size
CUSTOMERS = 20_000
CENT = Decimal("0.01")
STATUSES = (("Completed", 0.65), ("Shipped", 0.80), ("Processing", 0.90), ("Pending", 0.97), ("Cancelled", 1.0))
# Per segment: order amount range, discount chance and range, items per order, quantity, unit price.
SEGMENTS = {
    "Premium": ((500.0, 3000.0), 0.1, (5, 10), (3, 8), (2, 5), (150.0, 500.0)),
    "Standard": ((100.0, 800.0), 0.4, (5, 20), (2, 5), (1, 3), (50.0, 250.0)),
    "Basic": ((20.0, 300.0), 0.5, (10, 30), (1, 3), (1, 2), (10.0, 100.0)),
}


def price(low: float, high: float) -> Decimal:
    return Decimal(str(low + (high - low) * random.random())).quantize(CENT, rounding=ROUND_HALF_UP)


def order_and_items(order_id: int, item_id: int, low: int, high: int) -> tuple[dict, list[dict]]:
    """One order of a customer drawn from [low, high] and its items, drawn as the demo draws them."""
    segment = random.choice(tuple(SEGMENTS))
    amounts, discount_chance, discounts, counts, quantities, unit_prices = SEGMENTS[segment]
    ago = dt.timedelta(
        days=random.randint(1, 365),
        hours=random.randint(0, 23),
        minutes=random.randint(0, 59),
        seconds=random.randint(0, 59),
    )
    draw = random.random()
    status = next(name for name, below in STATUSES if draw < below)
    discount = Decimal(random.randint(*discounts)) if random.random() < discount_chance else Decimal(0)
    order = {
        "ORDER_ID": order_id,
        "CUSTOMER_ID": random.randint(low, high),
        "ORDER_DATE": (dt.datetime.now() - ago).strftime("%Y-%m-%d %H:%M:%S"),
        "ORDER_STATUS": status,
        "TOTAL_AMOUNT": float(price(*amounts)),
        "DISCOUNT_PERCENT": float(discount),
        "SHIPPING_COST": float(price(5.0, 50.0)),
    }
    items = []
    for n in range(random.randint(*counts)):
        product = random.choice(CATALOGUE)
        quantity, unit = random.randint(*quantities), price(*unit_prices)
        items.append(
            {
                "ORDER_ITEM_ID": item_id + n,
                "ORDER_ID": order_id,
                "PRODUCT_ID": product.product_id,
                "PRODUCT_NAME": product.name,
                "PRODUCT_CATEGORY": product.category,
                "QUANTITY": quantity,
                "UNIT_PRICE": float(unit),
                "LINE_TOTAL": float((unit * quantity).quantize(CENT, rounding=ROUND_HALF_UP)),
            }
        )
    return order, items


def append(channel, rows: list[dict], prefix: str, key: str) -> None:
    """``append_rows`` with the demo's retry on backpressure (ReceiverSaturated / 429)."""
    delay = 1.0
    while True:
        try:
            channel.append_rows(rows, f"{prefix}_{rows[0][key]}", f"{prefix}_{rows[-1][key]}")
            return
        except Exception as exc:
            if "ReceiverSaturated" not in str(exc) and "429" not in str(exc):
                raise
            time.sleep(delay)
            delay = min(2 * delay, 30.0)


def instance(backend, i: int, orders: int, low: int, high: int) -> tuple[list, list]:
    """One instance's stream: (channel, the last token it must commit) pairs, and its clients."""
    orders_client = backend.create_client(f"ORDERS_CLIENT_{i}", "ORDERS-STREAMING")
    items_client = backend.create_client(f"ORDER_ITEMS_CLIENT_{i}", "ORDER_ITEMS-STREAMING")
    orders_channel = orders_client.open_channel(f"orders_channel_instance_{i}", "0")[0]
    items_channel = items_client.open_channel(f"order_items_channel_instance_{i}", "0")[0]
    # Ids of instance i start at i * 10^9, so instances never collide.
    order_id, item_id = i * 10**9 + 1, i * 10**9 + 1
    for start in range(0, orders, BATCH):
        batch, items = [], []
        for _ in range(min(BATCH, orders - start)):
            order, its = order_and_items(order_id, item_id, low, high)
            batch.append(order)
            items += its
            order_id, item_id = order_id + 1, item_id + len(its)
        append(orders_channel, batch, "order", "ORDER_ID")
        append(items_channel, items, "item", "ORDER_ITEM_ID")
    lasts = [(orders_channel, f"order_{order_id - 1}"), (items_channel, f"item_{item_id - 1}")]
    return lasts, [orders_client, items_client]


def run_upstream(orders: int, instances: int) -> float:
    """Seconds until the upstream loop's whole job is committed and every row queryable."""
    with fresh_backend() as backend:
        share, span = orders // instances, CUSTOMERS // instances
        start = time.perf_counter()
        with ThreadPoolExecutor(instances) as pool:
            jobs = [
                pool.submit(
                    instance,
                    backend,
                    i,
                    orders - share * i if i == instances - 1 else share,
                    i * span + 1,
                    CUSTOMERS if i == instances - 1 else (i + 1) * span,
                )
                for i in range(instances)
            ]
            streams = [job.result() for job in jobs]
        for lasts, _ in streams:
            for channel, token in lasts:
                channel.wait_for_commit(lambda t, token=token: t == token, 300)
        query = "SELECT (SELECT COUNT(*) FROM RAW.ORDERS) AS O"
        while backend.sql(query)["O"][0] < orders:
            time.sleep(0.05)
        seconds = time.perf_counter() - start
        for _, clients in streams:
            for client in clients:
                client.close()
        return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000, help="orders per job (default 1,000,000)")
    parser.add_argument("--instances", type=int, default=5, help="instances per job (default 5)")
    parser.add_argument("--repeat", type=int, default=3, help="jobs per side, in alternation; the median is shown")
    args = parser.parse_args()
    upstream, kit = [], []
    for r in range(args.repeat):
        upstream.append(args.orders / run_upstream(args.orders, args.instances))
        kit.append(args.orders / run_kit(args.orders, args.instances, processes=False)[0])
        print(f"run {r + 1}: upstream loop {upstream[-1]:,.0f} orders/s, kit {kit[-1]:,.0f} orders/s")
    up, ours = statistics.median(upstream), statistics.median(kit)
    print(
        f"{args.orders:,} orders over {args.instances} instances, median of {args.repeat}: upstream loop "
        f"{up:,.0f} orders/s, kit {ours:,.0f} orders/s, ratio {ours / up:.1f}"
    )


if __name__ == "__main__":
    main()
