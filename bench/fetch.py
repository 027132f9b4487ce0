"""How fast the pinned connector (5.x) reads a large result from a fresh local service.

Fills ORDERS with ``--rows`` rows (one INSERT ... SELECT over GENERATOR), then times
``fetch_pandas_all()`` of ``SELECT * FROM ORDERS`` through the connector, and the service's
peak resident memory during each fetch (its peak RSS, reset before each one). In the same run,
DuckDB in this process builds the same rows and times its own Arrow fetch of the same query
(``to_arrow_table()``, DuckDB 2's name for ``fetch_arrow_table()``): the ratio of the two
rates is what the service's wire path costs. Medians of ``--repeat`` runs::

    python bench/fetch.py --rows 1000000 --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import duckdb
from cryptography.hazmat.primitives import serialization
from service import fresh_backend

from aidemo.local.process import service
from aidemo.local.process.home import ACCOUNT, DATABASE, ROLE, SCHEMA, USER

# The same rows in the service (Snowflake SQL) and in DuckDB (its own SQL and types).
FILL = (
    "INSERT INTO ORDERS SELECT SEQ8(), SEQ8() % 5000, '2024-01-01 00:00:00'::TIMESTAMP_NTZ, 'shipped', "
    "(SEQ8() % 100000) / 100, 5.5, 4.25 FROM TABLE(GENERATOR(ROWCOUNT => {rows}))"
)
DUCK_FILL = (
    "CREATE TABLE ORDERS AS SELECT range::BIGINT AS ORDER_ID, (range % 5000)::BIGINT AS CUSTOMER_ID, "
    "TIMESTAMP '2024-01-01 00:00:00' AS ORDER_DATE, 'shipped'::VARCHAR AS ORDER_STATUS, "
    "((range % 100000) / 100)::DECIMAL(10,2) AS TOTAL_AMOUNT, 5.5::DECIMAL(5,2) AS DISCOUNT_PERCENT, "
    "4.25::DECIMAL(8,2) AS SHIPPING_COST FROM range({rows})"
)
QUERY = "SELECT * FROM ORDERS"


def peak_rss_reset(pid: int) -> None:
    """Reset the process's peak resident set size (Linux: 5 into /proc/PID/clear_refs)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set size since the last reset, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc status")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    import snowflake.connector

    duck = duckdb.connect()
    duck.execute(DUCK_FILL.format(rows=options.rows))
    with fresh_backend() as backend:
        home = backend.home
        info = service.status(home)
        key = serialization.load_pem_private_key(home.user_key.read_bytes(), password=None)
        connection = snowflake.connector.connect(
            account=ACCOUNT,
            user=USER,
            host="127.0.0.1",
            port=info.port,
            protocol="https",
            private_key=key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
            database=DATABASE,
            schema=SCHEMA,
            role=ROLE,
            custom_root_store_path=str(home.trust_bundle),
            enable_server_session_keep_alive_auto_detection=False,
        )
        try:
            cur = connection.cursor()
            cur.execute(FILL.format(rows=options.rows))
            rates, peaks, duck_rates, baseline = [], [], [], peak_rss_mb(info.pid)
            for _ in range(options.repeat):
                peak_rss_reset(info.pid)
                started = time.perf_counter()
                frame = cur.execute(QUERY).fetch_pandas_all()
                rates.append(len(frame) / (time.perf_counter() - started))
                peaks.append(peak_rss_mb(info.pid))
                assert len(frame) == options.rows, len(frame)
                started = time.perf_counter()
                table = duck.sql(QUERY).to_arrow_table()
                duck_rates.append(table.num_rows / (time.perf_counter() - started))
            dtypes = ", ".join(f"{name}:{dtype}" for name, dtype in frame.dtypes.items())
        finally:
            connection.close()
    rate, duck_rate = statistics.median(rates), statistics.median(duck_rates)
    print(f"{options.rows:,} ORDERS rows, median of {options.repeat}")
    print(f"connector fetch_pandas_all: {rate:>14,.0f} rows/s   (dtypes {dtypes})")
    print(f"duckdb to_arrow_table:     {duck_rate:>14,.0f} rows/s")
    print(f"ratio connector/duckdb:     {rate / duck_rate:>14.4f}")
    print(f"service peak RSS during a fetch: {statistics.median(peaks):,.0f} MB (after the fill: {baseline:,.0f} MB)")


if __name__ == "__main__":
    main()
