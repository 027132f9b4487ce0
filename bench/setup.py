"""How long `aidemo setup --reset` takes to load N customers into a fresh local service.

    python bench/setup.py [N ...]        (default: 20000)

Prints, per N, the seconds of the whole setup (reset, DDL, pipes, customers) and the
customers per second. The load is the same multi-row INSERT SQL a Snowflake account gets.
"""

from __future__ import annotations

import argparse
import time

from service import fresh_backend

from aidemo.backends.provision import setup


def main(counts: list[int]) -> None:
    with fresh_backend() as backend:
        setup(backend, num_customers=10, reset=True)  # connect and warm up once
        for n in counts:
            started = time.perf_counter()
            report = setup(backend, num_customers=n, reset=True)
            took = time.perf_counter() - started
            assert report.tables["CUSTOMERS"] == n
            print(f"setup --reset with {n:>9,} customers: {took:6.2f} s ({n / took:,.0f} customers/s)")
        backend.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Time `setup --reset` on a fresh local service.")
    parser.add_argument("counts", nargs="*", type=int, default=[20_000], help="customer counts (default: 20000)")
    main(parser.parse_args().counts)
