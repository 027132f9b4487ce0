"""Ingest throughput of the local service through the real SDK with its DEFAULT properties.

Starts its own local service in a temporary home, creates an ORDERS-shaped table per run and
streams ``--rows`` rows split over 1 and then 4 channels: ONE SDK client with several
channels, each channel fed by its own thread. Rows are generated before timing starts.
Reports, as the median of ``--repeat`` runs, rows/s until every row is queryable
(``SELECT count(*)`` = N) and until the SDK sees every channel's last token committed,
plus the CPU seconds of this process (the SDK) and of the service process.

    python bench/local_ingest.py --rows 1000000 --channels 1 4 --repeat 3
"""

from __future__ import annotations

import argparse
import resource
import statistics
import threading
import time

from service import cpu_seconds, fresh_backend
from snowflake.ingest.streaming import StreamingIngestError

from aidemo.backends.backend import LocalBackend
from aidemo.local.process.service import status as service_status

APPEND_BATCH = 10_000
TIMEOUT_S = 300
POLL_S = 0.05  # how often the table's row count and the channels' committed tokens are read


def make_rows(n: int) -> list[dict]:
    statuses = ("Completed", "Shipped", "Processing", "Pending", "Cancelled")
    return [
        {
            "ORDER_ID": i,
            "CUSTOMER_ID": 1 + i % 20_000,
            "ORDER_DATE": f"2025-{1 + i % 12:02d}-{1 + i % 28:02d} 10:{i % 60:02d}:00",
            "ORDER_STATUS": statuses[i % 5],
            "TOTAL_AMOUNT": round(20 + (i * 7.31) % 2980, 2),
            "DISCOUNT_PERCENT": float(i % 30),
            "SHIPPING_COST": round(5 + (i * 0.37) % 45, 2),
        }
        for i in range(1, n + 1)
    ]


def client_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def feed(channel, rows: list[dict], errors: list) -> None:
    try:
        for start in range(0, len(rows), APPEND_BATCH):
            batch = rows[start : start + APPEND_BATCH]
            first, last = str(batch[0]["ORDER_ID"]), str(batch[-1]["ORDER_ID"])
            while True:
                try:
                    channel.append_rows(batch, first, last)
                    break
                except StreamingIngestError as exc:  # backpressure: ReceiverSaturated
                    if "saturat" not in str(exc).lower() and "429" not in str(exc):
                        raise
                    time.sleep(0.05)
        # Committed as the SDK sees it: its channel status, read as often as the kit's stream reads it
        # (wait_for_commit would add its own one-second poll).
        last, deadline = str(rows[-1]["ORDER_ID"]), time.perf_counter() + TIMEOUT_S
        while channel.get_latest_committed_offset_token() != last:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{last} was not committed within {TIMEOUT_S} s")
            time.sleep(POLL_S)
    except BaseException as exc:
        errors.append(exc)


def run(backend: LocalBackend, rows: list[dict], channels: int, run_id: str) -> dict:
    table = f"BENCH_{run_id}"
    backend.sql(
        f"CREATE TABLE RAW.{table} (ORDER_ID NUMBER(38,0) NOT NULL, CUSTOMER_ID NUMBER(38,0), "
        "ORDER_DATE TIMESTAMP_NTZ, ORDER_STATUS VARCHAR(20), TOTAL_AMOUNT NUMBER(10,2), "
        "DISCOUNT_PERCENT NUMBER(5,2), SHIPPING_COST NUMBER(8,2))"
    )
    client = backend.create_client(f"bench_{run_id}", f"{table}-STREAMING")
    opened = [client.open_channel(f"ch_{i}")[0] for i in range(channels)]
    size = -(-len(rows) // channels)
    slices = [rows[i * size : (i + 1) * size] for i in range(channels)]
    errors: list = []
    threads = [threading.Thread(target=feed, args=(ch, part, errors)) for ch, part in zip(opened, slices)]
    pid = service_status(backend.home).pid
    cpu0, service0, t0 = client_cpu_s(), cpu_seconds(pid), time.perf_counter()
    for t in threads:
        t.start()
    queryable = None
    while queryable is None and time.perf_counter() - t0 < TIMEOUT_S and not errors:
        count = int(backend.sql(f"SELECT count(*) AS N FROM RAW.{table}")["N"].iloc[0])
        if count == len(rows):
            queryable = time.perf_counter() - t0
        else:
            time.sleep(POLL_S)
    for t in threads:
        t.join()
    committed = time.perf_counter() - t0
    cpu1, service1 = client_cpu_s(), cpu_seconds(pid)
    client.close()
    if errors:
        raise errors[0]
    if queryable is None:
        raise RuntimeError(f"{table} did not reach {len(rows)} rows within {TIMEOUT_S} s")
    backend.sql(f"DROP TABLE RAW.{table}")
    return {
        "queryable_s": queryable,
        "committed_s": committed,
        "client_cpu_s": cpu1 - cpu0,
        "service_cpu_s": service1 - service0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per run (default 1,000,000)")
    parser.add_argument("--channels", type=int, nargs="+", default=[1, 4], help="channel counts to run (default 1 4)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per channel count; the median is shown")
    args = parser.parse_args()

    rows = make_rows(args.rows)
    with fresh_backend() as backend:
        print(
            f"{args.rows:,} rows, default SDK properties, one client, one thread per channel, median of {args.repeat}"
        )
        for channels in args.channels:
            runs = [run(backend, rows, channels, f"{channels}_{r}") for r in range(args.repeat)]
            med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            print(
                f"{channels} channel(s): {args.rows / med['queryable_s']:>12,.0f} rows/s queryable "
                f"({med['queryable_s']:.2f} s), {args.rows / med['committed_s']:>12,.0f} rows/s committed "
                f"as the SDK sees it ({med['committed_s']:.2f} s); "
                f"CPU s: client {med['client_cpu_s']:.2f}, service {med['service_cpu_s']:.2f}"
            )


if __name__ == "__main__":
    main()
