"""Batch runs (``aidemo notebooks --grid``): the grid, the executed copies, report.csv and report.html.

The grid runs execute the notebooks headless with papermill on the session's service, in a
database of their own (slow); the bad-input tests stop before any notebook runs.
"""

from __future__ import annotations

import base64
import os
import re

import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from aidemo import batch, cli, notebook
from aidemo.backends.backend import LocalBackend
from aidemo.errors import ConfigError
from aidemo.notebook.figures import FIGURES
from aidemo.notebook.report import read_report, write_report
from tests.helpers import write_snowflake_profile

IMAGE = re.compile(r'<img alt="[^"]*" src="data:image/png;base64,([A-Za-z0-9+/=]+)">')
PNG = b"\x89PNG\r\n\x1a\n"

# 04 at tiny sizes: one lag and one batch size in its sweeps, then the setting under test. At
# 100 orders/s no batch fills before the lag is up (even 0.5 s holds 50 of 1,000): the lag decides.
LATENCY = {"DURATION": 3.2, "RATE": 100, "LAGS": [0.5], "BATCH_SIZES": [100], "NUM_CUSTOMERS": 200, "SEED": 5}
LAGS, SIZES = (0.5, 1.5), (1_000, 2_000)


def _params(parameters: dict) -> list[str]:
    return [arg for name, value in parameters.items() for arg in ("-p", name, repr(value))]


# ---- the grid and its errors (no notebook runs) ---------------------------------------------


@pytest.mark.parametrize(
    "grid, message",
    [
        (["MAX_CLIENT_LAG=0.5,fast"], r"--grid MAX_CLIENT_LAG: 'fast' is not a number \(04_latency declares"),
        (["BATCH_SIZE=100,,1000"], "--grid BATCH_SIZE has an empty value"),
        (["LAGS=[1,2],3"], r"--grid LAGS: '3' is not a list"),
        (["MAX_LAG=1,2"], "unknown notebook parameter MAX_LAG; 04_latency declares BACKEND, BATCH_SIZE"),
        (["MAX_CLIENT_LAG"], "--grid takes NAME=V1,V2,... such as MAX_CLIENT_LAG=0.5,1,2; got 'MAX_CLIENT_LAG'"),
        (["RATE=100,200", "RATE=300"], "RATE is given twice"),
        (["BATCH_SIZE=100,100"], "--grid BATCH_SIZE lists 100 twice"),
    ],
)
def test_a_bad_grid_is_named_before_anything_runs(grid, message, tmp_path, capsys):
    args = ["notebooks", "--notebook", "04_latency", "--output-dir", str(tmp_path / "out")]
    assert cli.main([*args, *[arg for spec in grid for arg in ("--grid", spec)]]) == 1  # raised nothing
    err = capsys.readouterr().err
    assert re.search(message, err) and err.startswith("aidemo: error: ") and err.count("\n") == 1, err
    assert not (tmp_path / "out").exists()


def test_a_grid_runs_one_notebook(tmp_path, capsys):
    assert cli.main(["notebooks", "--grid", "RATE=1,2"]) == 1
    assert "give exactly one --notebook NAME" in capsys.readouterr().err


def test_the_grid_is_the_cross_product_of_typed_values():
    grid = batch.parse_grid(["MAX_CLIENT_LAG=0.5, 1", "LAGS=[0.5, 1],[2]", "BACKEND=snowflake"], "04_latency", {})
    assert grid == {"MAX_CLIENT_LAG": [0.5, 1], "LAGS": [[0.5, 1], [2]], "BACKEND": ["snowflake"]}
    runs = batch.combinations(grid)
    assert [tuple(run.values()) for run in runs] == [
        (0.5, [0.5, 1], "snowflake"),
        (0.5, [2], "snowflake"),
        (1, [0.5, 1], "snowflake"),
        (1, [2], "snowflake"),
    ]
    name = "04_latency__MAX_CLIENT_LAG=0.5__LAGS=0.5-1__BACKEND=snowflake.ipynb"
    assert batch.run_name("04_latency", runs[0]) == name
    with pytest.raises(ConfigError, match="PROCESSES: 'yes' is not True or False"):
        batch.parse_grid(["PROCESSES=True,yes"], "03_parallel", {})


# ---- grid runs -----------------------------------------------------------------------------


@pytest.fixture
def in_database(local_home, monkeypatch):
    """Kernels (which inherit the environment) on the session's service, in a database of their own."""
    monkeypatch.setenv("AIDEMO_HOME", str(local_home.root))
    monkeypatch.setenv("AIDEMO_DATABASE", "BATCH_LOCAL")
    return local_home


@pytest.mark.slow
def test_a_2x2_grid_over_04_keeps_every_run_and_reports_what_each_measured(in_database, tmp_path, capsys):
    out = tmp_path / "grid"
    grid = ["--grid", f"MAX_CLIENT_LAG={LAGS[0]},{LAGS[1]}", "--grid", f"BATCH_SIZE={SIZES[0]},{SIZES[1]}"]
    code = cli.main(["notebooks", "--notebook", "04_latency", "--output-dir", str(out), *grid, *_params(LATENCY)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "4 of 4 runs ran through" in printed.out
    assert "04_latency: 100%" in printed.err and "4/4" in printed.err  # the progress bar
    combos = [(lag, size) for lag in LAGS for size in SIZES]
    names = [f"04_latency__MAX_CLIENT_LAG={lag}__BATCH_SIZE={size}.ipynb" for lag, size in combos]
    assert sorted(p.name for p in out.glob("*.ipynb")) == sorted(names)

    report = read_report(out)
    assert list(report["run"]) == names
    assert list(zip(report["MAX_CLIENT_LAG"], report["BATCH_SIZE"])) == combos
    assert (report["DURATION"] == LATENCY["DURATION"]).all() and (report["RATE"] == LATENCY["RATE"]).all()
    assert list(report.columns) == [
        "notebook",
        "run",
        "MAX_CLIENT_LAG",
        "BATCH_SIZE",
        *LATENCY,
        *FIGURES,
        "run_s",
        "error",
    ]
    assert (report["error"] == "").all() and (report["run_s"] > 0).all()
    orders = round(LATENCY["RATE"] * LATENCY["DURATION"])
    assert (report["orders_committed"] == orders).all()
    assert (report["retries"] == 0).all() and (report["errors"] == 0).all()
    assert (report["handed_p50"] <= report["committed_p50"]).all()
    # The lag decides when rows leave the client: a longer lag, a later commit, at each batch size.
    for size in SIZES:
        short, long = (report.loc[(report.BATCH_SIZE == size) & (report.MAX_CLIENT_LAG == lag)].iloc[0] for lag in LAGS)
        assert short.committed_p50 < long.committed_p50 and short.handed_p50 < long.handed_p50, (short, long)

    page = (out / "report.html").read_text()
    images = IMAGE.findall(page)
    assert len(images) == 7 and all(base64.b64decode(data).startswith(PNG) for data in images)
    assert "http://" not in page and "https://" not in page  # readable offline
    assert "committed p50 (s)" in page and "every run with DURATION=3.2" in page

    InteractiveShell.instance()
    with capture_output() as shown:
        frame = notebook.batch_report(out)
    pd.testing.assert_frame_equal(frame, report)
    assert sum("image/png" in output.data for output in shown.outputs) == 7


@pytest.mark.slow
def test_a_failed_run_is_reported_and_the_others_still_run(in_database, tmp_path, capsys):
    out = tmp_path / "grid"
    args = ["notebooks", "--notebook", "01_create_pipes", "--output-dir", str(out), "--grid", "NUM_CUSTOMERS=0,50"]
    assert cli.main(args) == 1
    printed = capsys.readouterr()
    assert "1 of 2 runs ran through" in printed.out
    assert "run 01_create_pipes__NUM_CUSTOMERS=0.ipynb failed: notebook 01_create_pipes failed in cell" in printed.err
    report = read_report(out)
    assert list(report["NUM_CUSTOMERS"]) == [0, 50]
    assert "ConfigError: num_customers must be an integer >= 1, got 0" in report["error"][0]
    assert report["error"][1] == ""
    assert (out / "01_create_pipes__NUM_CUSTOMERS=50.ipynb").is_file()
    assert notebook.read_records(out / "01_create_pipes__NUM_CUSTOMERS=50.ipynb")["tables"]["CUSTOMERS"] == 50
    assert "1 failed" in (out / "report.html").read_text()


@pytest.mark.slow
@pytest.mark.snowflake
def test_a_small_grid_on_the_snowflake_backend(local_home, tmp_path, monkeypatch, capsys):
    """02 over two batch sizes with BACKEND = "snowflake": the connector and the SDK at the session's
    service through a snowflake profile, or on the account AIDEMO_SNOWFLAKE_PROFILE names."""
    monkeypatch.delenv("AIDEMO_DATABASE", raising=False)
    profile = os.environ.get("AIDEMO_SNOWFLAKE_PROFILE") or write_snowflake_profile(
        LocalBackend(local_home, "BATCH_SNOWFLAKE"), tmp_path / "profile.json"
    )
    monkeypatch.setenv("AIDEMO_PROFILE", str(profile))
    fixed = {"BACKEND": "snowflake", "NUM_ORDERS": 300, "RATE": 300, "PANEL_SECONDS": 2, "NUM_CUSTOMERS": 200}
    out = tmp_path / "grid"
    args = ["notebooks", "--notebook", "02_single_channel", "--output-dir", str(out), "--grid", "BATCH_SIZE=50,150"]
    assert cli.main([*args, *_params(fixed)]) == 0, capsys.readouterr().err
    report = read_report(out)
    assert list(report["BATCH_SIZE"]) == [50, 150] and (report["BACKEND"] == "snowflake").all()
    assert (report["orders_committed"] == 300).all() and (report["error"] == "").all()
    assert (report["committed_p50"] > 0).all() and report["queryable_p50"].isna().all()  # 02 queries no batch
    assert len(IMAGE.findall((out / "report.html").read_text())) == 6


def test_the_report_shows_a_failed_run_and_plots_against_a_text_parameter(tmp_path):
    rows = [
        {"notebook": "02_single_channel", "run": f"run{i}.ipynb", "BACKEND": backend, "MAX_CLIENT_LAG": lag}
        | ({"committed_p50": lag + 0.5, "orders_per_s": 100.0 * i} if not error else {})
        | {"run_s": 10.0, "error": error}
        for i, (backend, lag, error) in enumerate(
            [("local", 0.5, ""), ("local", 1.5, ""), ("snowflake", 0.5, ""), ("snowflake", 1.5, "cell 3 failed")]
        )
    ]
    csv, page = write_report(pd.DataFrame(rows), tmp_path, "02: BACKEND × MAX_CLIENT_LAG")
    text = page.read_text()
    assert len(IMAGE.findall(text)) == 3  # committed p50, orders/s, run seconds
    assert "4 runs, 1 failed" in text and "cell 3 failed" in text and "0.500000" not in text
    assert read_report(tmp_path)["error"].tolist() == ["", "", "", "cell 3 failed"]


def test_ctrl_c_stops_the_grid_and_reports_the_runs_that_ended(tmp_path, monkeypatch, capsys):
    def run_one(notebook, target, combination, fixed, timeout):
        if combination["RATE"] == 200:
            raise KeyboardInterrupt
        row = {"notebook": notebook, "run": target.name, **combination, "orders_per_s": 90.0, "run_s": 1.0}
        return batch.GridRun(combination, target, row | {"error": ""}, None)

    monkeypatch.setattr(batch, "_run_one", run_one)  # no kernel: what a run returns, then Ctrl-C
    out = tmp_path / "grid"
    args = ["notebooks", "--notebook", "04_latency", "--output-dir", str(out), "--grid", "RATE=100,200"]
    assert cli.main(args) == 130
    assert "stopped after 1 of 2 runs" in capsys.readouterr().err
    assert read_report(out)["RATE"].tolist() == [100]
