"""Snowpark DataFrames against the local service, run by the Python of the 4.x venv (tests/connector4x.py).

Reads connect() arguments and a schema name as JSON on stdin, runs each DataFrame operation of
tests/test_snowpark.py and prints, as JSON, what Snowpark answered: rows (each value as its type's
name and its text), schemas, the results of update / delete / merge, and the SQL it sent where the
test checks it. Imports nothing of the kit.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import sys
from decimal import Decimal


def plain(value) -> list:
    """A value as JSON can carry it: its type's name and its text."""
    if hasattr(value, "isoformat"):
        return [type(value).__name__, value.isoformat()]
    return [type(value).__name__, str(value)]


def frame(df) -> dict:
    """A DataFrame's rows (ordered as the query orders them) and its schema's column types."""
    return {
        "rows": [[plain(v) for v in row] for row in df.collect()],
        "schema": [[field.name, type(field.datatype).__name__] for field in df.schema.fields],
    }


class Sent(logging.Handler):
    """The statements the connector sends and what Snowpark logs, as they go."""

    def __init__(self):
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())

    def queries(self) -> list[str]:
        return [line[len("query: [") : -1] for line in self.lines if line.startswith("query: [")]


def _create_dataframes(session, report: dict) -> None:
    from snowflake.snowpark import Row

    row = [1, "a", 2.5, True, dt.date(2024, 5, 6), Decimal("12.34")]
    lists = session.create_dataframe([row, [2, None, -1.0, False, None, None]], schema=list("ABCDEF"))
    report["lists"] = frame(lists.sort("A"))
    rows = session.create_dataframe([Row(ID=7, NAME="x"), Row(ID=8, NAME="y")])
    report["rows"] = frame(rows.sort("ID"))


def _pandas(session, sent: Sent, report: dict) -> None:
    import pandas as pd

    small = pd.DataFrame(
        {
            "ID": [1, 2],
            "NAME": ["x", None],
            "AMOUNT": [1.5, -2.25],
            "OK": [True, False],
            "AT": pd.to_datetime(["2024-05-06 07:08:09", "2024-12-31 23:59:59"]),
        }
    )
    report["from_pandas"] = frame(session.create_dataframe(small).sort("ID"))
    sent.lines.clear()
    large = session.create_dataframe(pd.DataFrame({"N": range(20_000)}))
    report["from_large_pandas"] = [large.count(), large.agg({"N": "sum"}).collect()[0][0]]
    # Snowpark uploads it as write_pandas does: PUT to a temporary stage (the connector logs no PUT
    # statement), then COPY INTO a temporary table.
    queries = " ".join(sent.queries()).upper()
    report["large_pandas_sent"] = [kind for kind in ("CREATE TEMP STAGE", "COPY INTO") if f"{kind} " in queries]
    written = session.write_pandas(small, "WRITTEN", auto_create_table=True)
    report["write_pandas"] = frame(written.sort("ID"))
    session.write_pandas(small.head(1), "WRITTEN", overwrite=True)
    report["write_pandas_overwrite"] = frame(session.table("WRITTEN"))


def _save_as_table(session, report: dict) -> None:
    first = session.create_dataframe([[1, "a"], [2, "b"]], schema=["ID", "NAME"])
    first.write.save_as_table("SAVED", mode="append")
    session.create_dataframe([[3, "c"]], schema=["ID", "NAME"]).write.save_as_table("SAVED", mode="append")
    report["appended"] = frame(session.table("SAVED").sort("ID"))
    session.create_dataframe([[9, "z"]], schema=["ID", "NAME"]).write.save_as_table("SAVED", mode="overwrite")
    report["overwritten"] = frame(session.table("SAVED"))
    temporary = session.create_dataframe([[5, "t"]], schema=["ID", "NAME"])
    temporary.write.save_as_table("SAVED_TEMP", table_type="temporary")
    report["temporary"] = frame(session.table("SAVED_TEMP"))


def _range(session, report: dict) -> None:
    report["range"] = frame(session.range(5).sort("ID"))
    report["range_step"] = frame(session.range(1, 10, 3).sort("ID"))


def _changes(session, report: dict) -> None:
    from snowflake.snowpark.functions import col, lit, when_matched, when_not_matched

    source = [[1, "a", 10], [2, "b", 20], [3, "c", 30], [4, "d", 40]]
    session.create_dataframe(source, schema=["ID", "NAME", "N"]).write.save_as_table("CHANGED", mode="overwrite")
    table = session.table("CHANGED")
    updated = table.update({"NAME": lit("B"), "N": col("N") + 1}, table["ID"] == 2)
    deleted = table.delete(table["ID"] >= 4)
    incoming = session.create_dataframe([[1, "A"], [5, "E"]], schema=["ID", "NAME"])
    merged = table.merge(
        incoming,
        table["ID"] == incoming["ID"],
        [
            when_matched().update({"NAME": incoming["NAME"]}),
            when_not_matched().insert({"ID": incoming["ID"], "NAME": incoming["NAME"], "N": lit(0)}),
        ],
    )
    report["update"] = [updated.rows_updated, updated.multi_joined_rows_updated]
    report["delete"] = deleted.rows_deleted
    report["merge"] = [merged.rows_inserted, merged.rows_updated, merged.rows_deleted]
    report["changed"] = frame(session.table("CHANGED").sort("ID"))


def _queries(session, sent: Sent, report: dict) -> None:
    from snowflake.snowpark import functions as f

    session.create_dataframe(
        [[1, "EU", 10.5], [2, "US", 4.0], [3, "EU", 1.5]], schema=["ID", "SEGMENT", "AMOUNT"]
    ).write.save_as_table("ORDERS_SP", mode="overwrite")
    orders = session.table("ORDERS_SP")
    cached = orders.cache_result()
    session.sql("INSERT INTO ORDERS_SP VALUES (4, 'US', 100)").collect()
    report["cached"] = frame(cached.sort("ID"))
    report["cached_from"] = cached.queries["queries"][-1]
    by_segment = orders.group_by("SEGMENT").agg(f.sum("AMOUNT").alias("REVENUE"), f.count("ID").alias("ORDERS"))
    report["by_segment"] = frame(by_segment.sort("SEGMENT"))
    names = session.create_dataframe([["EU", "Europe"], ["US", "United States"]], schema=["CODE", "REGION"])
    joined = orders.join(names, orders["SEGMENT"] == names["CODE"]).select("ID", "REGION")
    report["joined"] = frame(joined.sort("ID"))
    sent.lines.clear()
    pandas = orders.sort("ID").to_pandas()
    report["pandas"] = {
        "dtypes": {name: str(dtype) for name, dtype in pandas.dtypes.items()},
        "ids": pandas["ID"].tolist(),
        "amounts": pandas["AMOUNT"].tolist(),
        "json_fallback": [line for line in sent.lines if "result format is set to JSON" in line],
    }


def main(args: dict) -> dict:
    import snowflake.connector
    from snowflake.snowpark import Session

    connect = dict(args["connect"], private_key=base64.b64decode(args["connect"]["private_key"]))
    sent = Sent()
    for name in ("snowflake.connector.cursor", "snowflake.snowpark"):
        logging.getLogger(name).addHandler(sent)
        logging.getLogger(name).setLevel(logging.DEBUG)
    session = Session.builder.configs(connect).create()
    session.sql(f"CREATE SCHEMA IF NOT EXISTS {args['schema']}").collect()
    session.use_schema(args["schema"])
    report = {"session": str(session)}
    _create_dataframes(session, report)
    _pandas(session, sent, report)
    _save_as_table(session, report)
    _range(session, report)
    _changes(session, report)
    _queries(session, sent, report)
    sent.lines.clear()
    session.close()
    report["close"] = [q for q in sent.queries() if "cancel_all_queries" in q.lower()]
    # The temporary table went with the session that made it.
    with snowflake.connector.connect(**connect) as connection:
        cursor = connection.cursor().execute(f"SHOW TABLES LIKE 'SAVED%' IN SCHEMA {args['schema']}")
        report["tables_after_close"] = sorted(row[1] for row in cursor.fetchall())
    return report


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.stdin.read()))))
