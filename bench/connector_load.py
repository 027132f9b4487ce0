"""Rows per second that the pinned connector (5.x) loads into a fresh local service.

``executemany`` with qmark binds asks the service (describe-only) whether the INSERT takes
array binds, then sends every row in one request, which the service runs as one multi-row
INSERT. Prints seconds and rows/s for each size::

    python bench/connector_load.py --rows 5000 20000
"""

from __future__ import annotations

import argparse
import time

from cryptography.hazmat.primitives import serialization
from service import fresh_backend

from aidemo.local.process import service
from aidemo.local.process.home import ACCOUNT, DATABASE, ROLE, SCHEMA, USER


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[5000, 20000])
    options = parser.parse_args()
    import snowflake.connector

    with fresh_backend() as backend:
        home = backend.home
        key = serialization.load_pem_private_key(home.user_key.read_bytes(), password=None)
        connection = snowflake.connector.connect(
            account=ACCOUNT,
            user=USER,
            host="127.0.0.1",
            port=service.status(home).port,
            protocol="https",
            private_key=key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
            database=DATABASE,
            schema=SCHEMA,
            role=ROLE,
            paramstyle="qmark",
            custom_root_store_path=str(home.trust_bundle),
            enable_server_session_keep_alive_auto_detection=False,
        )
        try:
            cur = connection.cursor()
            for n in options.rows:
                cur.execute(
                    "CREATE OR REPLACE TABLE LOAD_BENCH (ID NUMBER(38,0), NAME VARCHAR, "
                    "AMOUNT NUMBER(10,2), SCORE FLOAT, JOINED DATE)"
                )
                rows = [(i, f"customer {i}", f"{i % 1000}.25", i / 7, "2024-01-02") for i in range(n)]
                started = time.perf_counter()
                cur.executemany("INSERT INTO LOAD_BENCH VALUES (?, ?, ?, ?, ?)", rows)
                seconds = time.perf_counter() - started
                assert cur.rowcount == n and cur.execute("SELECT COUNT(*) FROM LOAD_BENCH").fetchone() == (n,)
                print(f"executemany {n:>7,} rows x 5 columns: {seconds:6.2f} s  {n / seconds:9,.0f} rows/s")
        finally:
            connection.close()


if __name__ == "__main__":
    main()
