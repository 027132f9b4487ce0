"""Every notebook run headless with papermill at small sizes, on the session's local service in
databases of their own."""

from __future__ import annotations

import argparse
import datetime as dt
import os
from pathlib import Path

import nbformat
import pytest

from aidemo import __version__, runbook
from aidemo.backends.backend import LocalBackend
from aidemo.backends.keys import load_private_key, public_key_body
from aidemo.config import load_profile
from aidemo.data.generator import InstanceSpec, first_item_id, order_batch, split_instances
from aidemo.notebook import SOURCE_CHECKOUT
from aidemo.stream.offsets import parse_order_dates, parse_order_token
from tests.helpers import write_snowflake_profile

pytestmark = pytest.mark.slow

PARAMETERS = {
    "NUM_CUSTOMERS": 1_000,
    "SEED": 11,
    "NUM_ORDERS": 1_500,  # 02, 03 and 05
    "INSTANCES": 3,
    "BATCH_SIZE": 200,
    "MAX_CLIENT_LAG": 1,
    "LAGS": [0.25, 1],  # 04: at RATE a batch of BATCH_SIZE fills in 1 s, so a lag past 1 s would hold nothing longer
    "BATCH_SIZES": [100, 1_000],
    "DURATION": 2.5,
    "RATE": 200,  # 04
    "KILL_AFTER": 500,
    "FAULT_SECONDS": 2,  # 05 (RATE paces the stream that gets killed and the faults)
    "PANEL_SECONDS": 2,  # 02, 03 (no panel runs headless)
    "SNOWFLAKE_USER": "DEMO_USER",  # 00
}


#: Where each backend's runs put the demo (on an account, the database its profile names).
DATABASES = {
    "local": "NOTEBOOKS_LOCAL",
    "snowflake": load_profile(os.environ["AIDEMO_SNOWFLAKE_PROFILE"]).database
    if os.environ.get("AIDEMO_SNOWFLAKE_PROFILE")
    else "NOTEBOOKS_SNOWFLAKE",
}


@pytest.fixture(scope="module")
def runs(local_home, tmp_path_factory):
    """Every notebook on the session's service, in a database of their own."""
    with pytest.MonkeyPatch.context() as patch:  # the kernels inherit the environment
        patch.setenv("AIDEMO_HOME", str(local_home.root))
        patch.setenv("AIDEMO_DATABASE", DATABASES["local"])
        yield runbook.run_notebooks(tmp_path_factory.mktemp("executed"), PARAMETERS)
    LocalBackend(local_home).fault_control().clear()  # 05's faults act on the whole service


# The notebooks that run unchanged on a Snowflake account (04 and 05 drive the local service's
# flush tick and faults).
ON_SNOWFLAKE = ("00_setup", "01_create_pipes", "02_single_channel", "03_parallel", "06_after_streaming")


@pytest.fixture(scope="module")
def snowflake_runs(local_home, tmp_path_factory):
    """00-03 and 06 with BACKEND = "snowflake": on the session's service through a snowflake profile (the
    connector and the SDK at its URL) naming a database of their own, or on the account
    AIDEMO_SNOWFLAKE_PROFILE names."""
    with pytest.MonkeyPatch.context() as patch:  # the kernels inherit the environment
        patch.delenv("AIDEMO_DATABASE", raising=False)  # the local runs' (the profile names the database)
        profile = os.environ.get("AIDEMO_SNOWFLAKE_PROFILE")
        if not profile:
            profile = write_snowflake_profile(
                LocalBackend(local_home, DATABASES["snowflake"]), tmp_path_factory.mktemp("profile") / "profile.json"
            )  # the service's CA is in SSL_CERT_FILE already (session_home), which the kernels inherit
        patch.setenv("AIDEMO_PROFILE", str(profile))
        declared = set().union(*map(runbook.declared_parameters, ON_SNOWFLAKE))
        parameters = {k: v for k, v in PARAMETERS.items() if k in declared} | {"BACKEND": "snowflake"}
        yield runbook.run_notebooks(tmp_path_factory.mktemp("executed-snowflake"), parameters, ON_SNOWFLAKE)


@pytest.fixture(params=["local", pytest.param("snowflake", marks=pytest.mark.snowflake)])
def backend_runs(request):
    """The backend's name and its runs of 00-03 and 06 (the Snowflake one at the service or an account)."""
    return request.param, request.getfixturevalue("runs" if request.param == "local" else "snowflake_runs")


def by_table(rows: list[dict]) -> dict[str, dict]:
    return {row["TABLE_NAME"]: row for row in rows}


def counts(rows: list[dict]) -> dict[str, int]:
    return {row["TABLE_NAME"]: row["ROW_COUNT"] for row in rows}


def assert_exactly_once(checks: list[dict], orders: int, items: int) -> None:
    table = by_table(checks)
    assert (table["ORDERS"]["ROW_COUNT"], table["ORDER_ITEMS"]["ROW_COUNT"]) == (orders, items)
    for name in ("ORDERS", "ORDER_ITEMS"):
        assert {k: table[name][k] for k in ("DUPLICATES", "MISSING", "UNMATCHED")} == {
            "DUPLICATES": 0,
            "MISSING": 0,
            "UNMATCHED": 0,
        }, table[name]
        assert table[name]["FIRST_ID"] == 1


def images(run: runbook.NotebookRun) -> int:
    nb = nbformat.read(run.output, as_version=4)
    return sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))


def html_of(run: runbook.NotebookRun) -> str:
    """Everything the executed notebook shows as text or HTML."""
    nb = nbformat.read(run.output, as_version=4)
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            parts += [str(output.get("data", {}).get(kind, "")) for kind in ("text/plain", "text/html")]
    return "\n".join(parts)


def items_of(num_orders: int) -> int:
    return first_item_id(InstanceSpec.single(PARAMETERS["SEED"], PARAMETERS["NUM_CUSTOMERS"]), num_orders + 1) - 1


def test_every_notebook_ran_and_recorded(runs):
    assert list(runs) == list(runbook.NOTEBOOKS)
    for run in runs.values():
        assert run.output.is_file() and run.results, run.name
        assert run.seconds > 0, run.name  # timed (how long they take is bench/'s business)


def test_00_setup(backend_runs):
    backend, runs = backend_runs
    results = runs["00_setup"].results
    assert results["backend"] == backend
    versions = {row["package"]: row["version"] for row in results["versions"]}
    assert versions["aidemo"] == __version__ and versions["snowpipe-streaming"] == "1.9.1"
    private, public = map(Path, results["key_files"])
    assert SOURCE_CHECKOUT not in private.parents
    load_private_key(private.read_text())
    assert results["alter_user"] == f"ALTER USER DEMO_USER SET RSA_PUBLIC_KEY='{public_key_body(public.read_text())}';"
    assert results["fingerprint"].startswith("SHA256:")
    assert [row["DATABASE_NAME"] for row in results["connection"]] == [DATABASES[backend]]


def test_01_create_pipes(backend_runs):
    results = backend_runs[1]["01_create_pipes"].results
    assert results["tables"] == {"CUSTOMERS": PARAMETERS["NUM_CUSTOMERS"], "ORDERS": 0, "ORDER_ITEMS": 0}
    assert {"ORDERS_PIPE", "ORDER_ITEMS_PIPE"} <= set(results["pipes"])
    segments = {row["CUSTOMER_SEGMENT"]: row["CUSTOMERS"] for row in results["customers"]}
    assert set(segments) == {"Basic", "Premium", "Standard"}
    assert sum(segments.values()) == PARAMETERS["NUM_CUSTOMERS"]


def test_02_single_channel(backend_runs):
    results = backend_runs[1]["02_single_channel"].results
    n, items = results["requested"], items_of(PARAMETERS["NUM_ORDERS"])
    assert n == PARAMETERS["NUM_ORDERS"]
    stats = results["stats"]
    assert (stats["orders_committed"], stats["items_committed"]) == (n, items)
    assert counts(results["counts"]) == {"CUSTOMERS": PARAMETERS["NUM_CUSTOMERS"], "ORDERS": n, "ORDER_ITEMS": items}
    assert (results["rerun"]["orders_sent"], results["rerun"]["items_sent"]) == (0, 0)
    assert results["rerun"]["orders_per_s"] is None  # nothing sent: no rate
    # One source for rates: this run's commits over its streaming seconds.
    assert stats["orders_per_s"] == pytest.approx(n / stats["stream_s"], rel=0.01)
    assert images(backend_runs[1]["02_single_channel"]) == 2  # the live view's final figure, twice
    tokens = {row["name"]: row["last_committed_offset_token"] for row in results["channels"]}
    assert tokens == {"orders_channel": stats["last_order_token"], "order_items_channel": f"item_{items}"}
    # The job's order dates ride in its orders token: live, in the minutes before it started.
    assert parse_order_token(tokens["orders_channel"]) == n
    assert parse_order_dates(tokens["orders_channel"]).mode == "live"
    assert_exactly_once(results["checks"], n, items)
    figures = results["figures"]  # what a batch report reads back
    assert (figures["orders_committed"], figures["retries"], figures["errors"]) == (n, 0, 0)
    assert figures["orders_per_s"] == pytest.approx(stats["orders_per_s"], rel=0.01)
    assert 0 < figures["handed_p50"] <= figures["committed_p50"] and figures["queryable_p50"] is None


def test_03_parallel(backend_runs):
    run = backend_runs[1]["03_parallel"]
    results = run.results
    n = PARAMETERS["NUM_ORDERS"]
    plan = split_instances(PARAMETERS["SEED"], n, PARAMETERS["INSTANCES"], PARAMETERS["NUM_CUSTOMERS"])
    items = sum(first_item_id(spec, spec.order_base + count) - spec.item_base for spec, count in plan)
    assert (results["requested"], results["orders_committed"], results["errors"]) == (n, n, {})
    assert [(row["instance"], row["orders_committed"]) for row in results["summary"]] == [
        (spec.instance, count) for spec, count in plan
    ]
    assert results["rows_committed"] == n + items
    assert counts(results["counts"])["ORDER_ITEMS"] == items
    assert_exactly_once(results["checks"], n, items)
    assert images(run) == 1  # the live view's final figure
    figures = results["figures"]
    assert (figures["orders_committed"], figures["errors"]) == (n, 0)
    assert 0 < figures["handed_p50"] <= figures["committed_p50"]


def test_04_latency(runs):
    results, run = runs["04_latency"].results, runs["04_latency"]
    lag_rows, size_rows = results["lag_summary"], results["size_summary"]
    assert [row["max_client_lag"] for row in lag_rows] == PARAMETERS["LAGS"]  # one row per lag
    assert {row["batch_size"] for row in lag_rows} == {PARAMETERS["BATCH_SIZE"]}
    assert [row["batch_size"] for row in size_rows] == PARAMETERS["BATCH_SIZES"]
    assert {row["max_client_lag"] for row in size_rows} == {PARAMETERS["MAX_CLIENT_LAG"]}
    expected_orders = round(PARAMETERS["RATE"] * PARAMETERS["DURATION"])
    for row in lag_rows + size_rows:
        assert row["orders"] == expected_orders and row["unresolved"] == 0, row
    # The lag decides when rows leave the client: a longer lag holds them longer.
    handed = [row["handed_p50"] for row in lag_rows]
    assert handed == sorted(handed) and handed[0] < handed[-1]
    assert images(run) == 4
    assert "handed p50 (s)" in html_of(run)  # formatted tables
    # One setting, the notebook's own: the row a batch report compares.
    figures = results["figures"]
    setting = (figures["max_client_lag"], figures["batch_size"])
    assert setting == (PARAMETERS["MAX_CLIENT_LAG"], PARAMETERS["BATCH_SIZE"])
    assert (figures["orders_committed"], figures["retries"], figures["errors"]) == (expected_orders, 0, 0)
    assert 0 < figures["handed_p50"] <= figures["committed_p50"] and figures["queryable_p50"] > 0


def test_05_exactly_once_recovery(runs):
    results = runs["05_exactly_once_recovery"].results
    n, items = PARAMETERS["NUM_ORDERS"], items_of(PARAMETERS["NUM_ORDERS"])
    crash, before, after = results["crash"], counts(results["before"]), counts(results["after"])
    assert PARAMETERS["KILL_AFTER"] <= crash["orders_committed"] < n
    # The service held the items channel's commits at the kill: the orders channel is ahead.
    assert crash["orders_committed"] > crash["items_complete_through"], crash
    assert (before["ORDERS"], before["ORDER_ITEMS"]) == (crash["orders_committed"], crash["items_committed"])
    # The items committed end inside the order after the last one whose items are complete.
    through = crash["items_complete_through"]
    assert items_of(through) <= crash["items_committed"] < items_of(through + 1)
    resumed = results["resumed"]
    assert resumed["orders_sent"] == n - crash["orders_committed"]
    assert resumed["items_sent"] == items - crash["items_committed"]
    assert (after["ORDERS"], after["ORDER_ITEMS"]) == (n, items)
    assert_exactly_once(results["checks"], n, items)


def test_cli_entry_runs_the_chosen_notebook_with_parameters(runs, tmp_path, capsys):
    args = argparse.Namespace(
        output_dir=str(tmp_path), parameters=[("SNOWFLAKE_USER", "PRESENTER")], notebook=["00_setup"]
    )
    assert runbook.run_cli(args) == 0
    out = capsys.readouterr().out
    assert "00_setup" in out and "all 1 notebooks ran" in out
    assert runbook.read_records(tmp_path / "00_setup.ipynb")["alter_user"].startswith("ALTER USER PRESENTER ")


def test_05_rides_through_faults_exactly_once(runs):
    results = runs["05_exactly_once_recovery"].results
    n = 2 * PARAMETERS["NUM_ORDERS"]
    under = results["under_faults"]
    # The same job, longer: RATE orders/s through five faults of FAULT_SECONDS on and as long off.
    n = PARAMETERS["NUM_ORDERS"] + round(PARAMETERS["RATE"] * PARAMETERS["FAULT_SECONDS"] * 11)
    assert under["resumed_after"] == PARAMETERS["NUM_ORDERS"] and parse_order_token(under["last_order_token"]) == n
    faults = {row["fault"]: row for row in results["faults"]}
    assert list(faults) == ["delay_commits", "throttle", "error", "drop", "invalidate"]
    assert all(row["hits"] >= 1 for row in faults.values()), faults  # every kind fired
    assert faults["throttle"]["sdk_resent"] + faults["throttle"]["kit_retries"] >= 1
    assert faults["invalidate"]["kit_reopens"] >= 1
    assert_exactly_once(results["checks_after_faults"], n, items_of(n))
    text = html_of(runs["05_exactly_once_recovery"])
    assert "WARN" not in text and "Crash(" not in text and "time lost (s)" in text


def test_06_after_streaming(backend_runs):
    """The view refreshed while the background stream landed its rows, and every figure adds up to the table."""
    _, runs = backend_runs
    run = runs["06_after_streaming"]
    results, n = run.results, PARAMETERS["NUM_ORDERS"]
    assert results["stats"]["orders_committed"] == n
    refreshes = results["refreshes"]
    assert len(refreshes) >= 2 and any(r["orders"] < n for r in refreshes[:-1])  # redrawn while rows landed
    assert [r["orders"] for r in refreshes] == sorted(r["orders"] for r in refreshes)
    assert all(r["orders"] >= r["committed"] for r in refreshes)
    assert refreshes[-1]["orders"] == n
    # The generator's revenue: orders 1..N of the job, exactly once.
    batch = order_batch(InstanceSpec.single(PARAMETERS["SEED"], PARAMETERS["NUM_CUSTOMERS"]), 1, n)
    revenue = int(batch.total_cents.sum()) / 100
    assert refreshes[-1]["revenue"] == pytest.approx(revenue, abs=0.005)
    segments = {row["CUSTOMER_SEGMENT"]: row for row in results["segments"]}
    assert set(segments) == {"Premium", "Standard", "Basic"} and sum(r["ORDERS"] for r in segments.values()) == n
    assert sum(r["REVENUE"] for r in segments.values()) == pytest.approx(revenue, abs=0.005)
    # Live dates: every minute lies in the quarter hour before the job started, as its token says.
    dates = parse_order_dates(results["stats"]["last_order_token"])
    minutes = [dt.datetime.fromisoformat(row["MINUTE"]) for row in results["minutes"]]
    assert dates.mode == "live" and sum(row["ORDERS"] for row in results["minutes"]) == n
    assert dates.start.replace(second=0) <= min(minutes) and max(minutes) < dates.epoch
    # pandas through fetch_pandas_all: the whole table, typed, and the same sums.
    assert results["orders_rows"] == n
    dtypes = results["orders_dtypes"]
    assert (dtypes["ORDER_ID"], dtypes["ORDER_DATE"], dtypes["TOTAL_AMOUNT"]) == ("int64", "datetime64[ns]", "float64")
    for row in results["pandas_by_segment"]:
        assert row["count"] == segments[row["CUSTOMER_SEGMENT"]]["ORDERS"]
        assert row["sum"] == pytest.approx(segments[row["CUSTOMER_SEGMENT"]]["REVENUE"], abs=0.005)
    # Snowpark needs connector 4.x; the kit's environment has 5.x, and the cell says so.
    assert results["snowpark"] is None and "Snowpark is not installed here" in html_of(run)
    assert images(run) >= 1 and "Traceback" not in html_of(run)
