"""How long the pinned connector's write_pandas takes to upload a large DataFrame to a fresh local
service, and the service's peak resident memory while it does (PUT to a temporary stage, INFER_SCHEMA,
CREATE TABLE, COPY INTO). The client's own share, writing the DataFrame as Parquet with the same
compression, is timed on its own too::

    python bench/write_pandas.py --rows 1000000 [--compression gzip|snappy]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from fetch import peak_rss_mb, peak_rss_reset
from service import fresh_backend

from aidemo.local.process import service


def frame(rows: int) -> pd.DataFrame:
    """Rows shaped like orders: integers, floats with NULLs, strings, timestamps and booleans."""
    ids = np.arange(rows, dtype=np.int64)
    amount = (ids % 100_000) / 100
    return pd.DataFrame(
        {
            "ORDER_ID": ids,
            "CUSTOMER_ID": ids % 5000,
            "TOTAL_AMOUNT": np.where(ids % 10 == 0, np.nan, amount),
            "ORDER_STATUS": pd.Series(["shipped", "pending", "delivered", None])[ids % 4].to_numpy(),
            "ORDER_DATE": pd.Timestamp("2024-01-01") + pd.to_timedelta(ids, unit="s"),
            "EXPEDITED": ids % 3 == 0,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--compression", default="gzip", choices=["gzip", "snappy"])
    options = parser.parse_args()
    from snowflake.connector.pandas_tools import write_pandas

    from aidemo.backends.sqlclient import connect

    data = frame(options.rows)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        data.to_parquet(Path(tmp) / "chunk.parquet", compression=options.compression)
        client = time.perf_counter() - started
    with fresh_backend() as backend:
        pid = service.status(backend.home).pid
        connection = connect(backend.endpoint())
        try:
            baseline = peak_rss_mb(pid)
            peak_rss_reset(pid)
            started = time.perf_counter()
            done = write_pandas(
                connection,
                data,
                "WRITE_PANDAS_BENCH",
                auto_create_table=True,
                use_logical_type=True,
                compression=options.compression,
            )
            seconds = time.perf_counter() - started
            peak = peak_rss_mb(pid)
            count = connection.cursor().execute("SELECT COUNT(*) FROM WRITE_PANDAS_BENCH").fetchone()[0]
        finally:
            connection.close()
    assert done[0] and count == options.rows, (done, count)
    size = data.memory_usage(deep=True).sum() / 2**20
    what = f"{size:,.0f} MB in pandas, {done[1]} chunk(s), {options.compression}"
    print(f"write_pandas of {options.rows:,} rows ({what}):")
    print(f"  {seconds:.1f} s in all, {options.rows / seconds:,.0f} rows/s")
    print(f"  of which the client's Parquet writing takes about {client:.1f} s (timed alone)")
    print(f"service peak RSS during the upload: {peak:,.0f} MB (before it: {baseline:,.0f} MB)")


if __name__ == "__main__":
    main()
