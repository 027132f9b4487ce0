"""The notebooks' helpers in Python: the control panel, recording, the live table, keys, and the committed notebooks."""

from __future__ import annotations

import io
import logging
import os
import re
import stat
import subprocess
import sys
import tokenize
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from aidemo import notebook, runbook
from aidemo.backends.keys import generate_key_pair, load_private_key
from aidemo.backends.provision import setup
from aidemo.backends.scripts import sql_file
from aidemo.errors import ConfigError
from aidemo.measure.stats import FlushRecord, StreamStats
from aidemo.notebook import ControlPanel, LiveView
from aidemo.notebook.figures import FIGURES
from aidemo.notebook.walkthrough import working_directory
from aidemo.stream.offsets import item_token, order_token
from aidemo.stream.options import StreamOptions
from tests.test_latency import synthetic_batches

SQL_KEYWORDS = re.compile(r"\b(SELECT|SHOW|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|MERGE)\b")


# ---- the committed notebooks --------------------------------------------------------------


@pytest.mark.parametrize("name", runbook.NOTEBOOKS)
def test_notebook_is_committed_clean_with_one_parameters_cell(name):
    nb = nbformat.read(runbook.notebook_path(name), as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code), "strip outputs and counts"
    tagged = [cell for cell in nb.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1 and tagged[0].cell_type == "code"
    names = list(runbook.declared_parameters(name))
    assert "BACKEND" in names and all(n.isupper() for n in names), names
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    assert nb.metadata.kernelspec.name == runbook.KERNEL
    # The setup cell comes right after the parameters and opens the backend they name.
    assert any(re.search(r"notebook\.start\(\s*BACKEND\b", cell.source) for cell in code)
    assert "notebook.record(" in code[-1].source


@pytest.mark.parametrize("name", runbook.NOTEBOOKS)
def test_notebook_cells_hold_no_sql_and_name_existing_files(name):
    nb = nbformat.read(runbook.notebook_path(name), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            strings = [
                t.string
                for t in tokenize.generate_tokens(io.StringIO(cell.source).readline)
                if t.type == tokenize.STRING
            ]
            assert not [s for s in strings if SQL_KEYWORDS.search(s)], f"SQL in a cell of {name}: {cell.source!r}"
            for path in re.findall(r'run_file\("([^"]+)"', cell.source):
                assert sql_file(path).is_file()


# ---- recording ----------------------------------------------------------------------------


def _as_notebook(outputs) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [nbformat.v4.new_output("display_data", data=o.data, metadata=o.metadata) for o in outputs]
    return nbformat.v4.new_notebook(cells=[cell])


def test_record_round_trips_through_a_notebook(tmp_path):
    InteractiveShell.instance()
    frame = pd.DataFrame({"A": [1, 2], "B": [0.5, np.nan]})
    with capture_output() as captured:
        notebook.record(frame=frame, count=np.int64(3), ratio=float("nan"), where=tmp_path, pair=(1, "x"))
        notebook.record(count=4)  # a later record wins
    nb = _as_notebook(captured.outputs)
    nbformat.validate(nb)
    path = tmp_path / "run.ipynb"
    nbformat.write(nb, path)
    assert notebook.read_records(path) == {
        "frame": [{"A": 1, "B": 0.5}, {"A": 2, "B": None}],
        "count": 4,
        "ratio": None,
        "where": str(tmp_path),
        "pair": [1, "x"],
    }
    assert captured.outputs[0].data["text/plain"] == "recorded: frame, count, ratio, where, pair"


def test_record_refuses_values_it_cannot_write():
    InteractiveShell.instance()
    with pytest.raises(ConfigError, match="cannot record object values"):
        notebook.record(thing=object())


# ---- the control panel --------------------------------------------------------------------


def _texts(panel: ControlPanel, name: str) -> str:
    return "".join(o.get("text", "") for o in panel.output.outputs if o.get("name") == name)


def test_control_panel_writes_the_parameters_and_runs_with_the_sliders_values():
    namespace = {"MAX_CLIENT_LAG": 5, "BATCH_SIZE": 1_000}
    calls = []
    panel = ControlPanel(namespace, lambda **values: calls.append(values) or dict(values))
    assert (panel.max_client_lag.value, panel.batch_size.value) == (5, 1_000)

    panel.max_client_lag.value = 12
    panel.batch_size.value = 2_500
    assert namespace == {"MAX_CLIENT_LAG": 12, "BATCH_SIZE": 2_500}
    panel.run_button.click()
    assert calls == [{"max_client_lag": 12, "batch_size": 2_500}]
    assert panel.status.value == "run 1 done" and not panel.run_button.disabled
    assert panel.rows == [{"run": 1, "max_client_lag": 12, "batch_size": 2_500}]
    assert panel.runs[0][0] == calls[0]


def test_control_panel_is_busy_while_it_runs_and_refuses_a_second_run():
    seen = []

    def action(**values):
        seen.append((panel.run_button.disabled, panel.run_button.description, panel.max_client_lag.disabled))
        assert panel.run() is None  # a second click while running does nothing
        return {"orders/s": 1234.5}

    panel = ControlPanel({"MAX_CLIENT_LAG": 1, "BATCH_SIZE": 100}, action)
    panel.run_button.click()
    assert seen == [(True, "Running…", True)]
    assert len(panel.runs) == 1 and not panel.run_button.disabled and panel.run_button.description == "Run"
    html = panel.table().to_html()
    assert "1,234" in html and "orders/s" in html


def test_control_panel_reports_errors_in_its_output():
    def fail(**_):
        raise ConfigError("rate must be positive")

    panel = ControlPanel({"MAX_CLIENT_LAG": 1, "BATCH_SIZE": 100}, fail)
    panel.run_button.click()
    assert "run 1 failed: rate must be positive" in _texts(panel, "stderr")
    assert panel.status.value == "run 1 failed" and not panel.run_button.disabled
    assert isinstance(panel.runs[0][1], ConfigError)


@pytest.mark.parametrize(
    "namespace, message",
    [
        ({"MAX_CLIENT_LAG": 0.2, "BATCH_SIZE": 100}, "MAX_CLIENT_LAG must be a number between 0.5 and 30"),
        ({"MAX_CLIENT_LAG": 5, "BATCH_SIZE": 60_000}, "BATCH_SIZE must be an integer between 50 and 10000"),
        ({"BATCH_SIZE": 100}, "MAX_CLIENT_LAG must be"),
    ],
)
def test_control_panel_names_a_parameter_out_of_range(namespace, message):
    with pytest.raises(ConfigError, match=message):
        ControlPanel(namespace, lambda **_: None)


def test_widgets_only_with_a_front_end(monkeypatch):
    import IPython

    class Kernel:
        kernel = object()

    monkeypatch.delenv(notebook.HEADLESS_ENV, raising=False)
    monkeypatch.setattr(IPython, "get_ipython", lambda: None)
    assert not notebook.has_front_end()
    monkeypatch.setattr(IPython, "get_ipython", lambda: Kernel())
    assert notebook.has_front_end()
    monkeypatch.setenv(notebook.HEADLESS_ENV, "1")
    assert not notebook.has_front_end()


def _panel_namespace(demo_db, **more) -> dict:
    """Fresh tables with 200 customers, and a notebook's namespace for a panel over them."""
    setup(demo_db, reset=True, num_customers=200, seed=7)
    return {"MAX_CLIENT_LAG": 0.5, "RATE": 200, "SEED": 7, "NUM_CUSTOMERS": 200, **more}


def test_latency_panel_measures_the_setting_the_sliders_show(demo_db):
    namespace = _panel_namespace(demo_db, BATCH_SIZE=10_000, DURATION=1.5)
    panel = notebook.latency_panel(demo_db, namespace)
    assert panel.max_client_lag.max == 0.75  # half of DURATION: a longer lag shows nothing more in 1.5 s
    panel.max_client_lag.value = 0.75
    panel.batch_size.value = 100
    panel.run_button.click()
    assert _texts(panel, "stderr") == ""
    row, _image = panel.runs[0][1]
    assert (row["max_client_lag"], row["batch_size"], row["rate"]) == (0.75, 100, 200.0)
    assert namespace["MAX_CLIENT_LAG"] == 0.75
    # the stages were measured (their durations are bench/latency.py's business, not a test's)
    assert 0 < row["handed_p50"] <= row["committed_p50"] and 0 < row["queryable_p50"]
    assert (row["orders_committed"], row["retries"], row["errors"]) == (300, 0, 0)
    assert set(FIGURES) <= set(row)  # the figures a batch report compares
    shown = [o["data"] for o in panel.output.outputs if o.get("output_type") == "display_data"]
    assert any("image/png" in data for data in shown)
    assert "committed p95 (s)" in panel.table().to_html()


def test_stream_panel_reports_the_committed_latency_of_each_run(demo_db):
    namespace = _panel_namespace(demo_db, BATCH_SIZE=1_000, PANEL_SECONDS=1.5)
    panel = notebook.stream_panel(demo_db, namespace)
    with capture_output():
        panel.run_button.click()
    assert _texts(panel, "stderr") == ""
    row = panel.rows[0]
    assert (row["max_client_lag"], row["batch_size"], row["rate"]) == (0.5, 1_000, 200)
    assert (row["orders_committed"], row["retries"], row["errors"]) == (300, 0, 0)
    assert 0 < row["handed_p50"] <= row["committed_p50"] and row["queryable_p50"] is None  # no query per batch
    assert row["orders_per_s"] > 0 and row["rows_per_s"] > row["orders_per_s"]
    html = panel.table().to_html()
    assert "committed p50 (s)" in html and "queryable" not in html  # nothing measured, no column


# ---- the live view and the rates -----------------------------------------------------------


def _stats(instance: int, target: int, orders: int, items: int, **more) -> StreamStats:
    return StreamStats(instance, target, orders_committed=orders, items_committed=items, **more)


def test_stream_stats_rates_count_this_runs_commits_only():
    fresh = _stats(0, 100, 0, 0, opened=10.0, finished=20.0)
    fresh.orders_committed, fresh.items_committed = 100, 400
    assert (fresh.orders_per_s, fresh.rows_per_s) == (10.0, 50.0)
    assert fresh.summary()["orders_per_s"] == 10.0
    rerun = _stats(0, 100, 100, 400, opened=10.0, finished=11.0, orders_resumed=100, items_resumed=400)
    assert rerun.orders_per_s is None and rerun.summary()["rows_per_s"] is None  # nothing sent: no rate
    assert "–" in notebook.stream_table(rerun).to_html()


def test_live_view_states_rates_and_latencies():
    view = LiveView("test", live=False, interval=60)
    with capture_output() as shown, view:
        a = _stats(0, 100, 0, 0, opened=view.started)
        b = _stats(1, 100, 0, 0, opened=view.started)
        view.update([b, a])
        a.orders_committed = 100  # all orders, no items yet: not done
        assert view.instances()["state"].tolist() == ["items catching up", "streaming"]
        a.finished = view.started + 5
        assert view.instances()["state"].tolist() == ["done", "streaming"]
    assert view.samples[-1][1] == 100 and len(shown.outputs) == 1  # headless: one static figure
    assert "image/png" in shown.outputs[0].data


def test_live_view_matches_each_flush_to_its_own_instance_and_lane():
    # Channel names say nothing here: the record's lane and instance decide which commit it waits for.
    view = LiveView("test", live=False, interval=60)
    at = view.started
    for lane, instance, last in (("orders", 0, 10), ("items", 0, 30), ("orders", 1, 20), ("items", 1, 5)):
        view.on_flush(FlushRecord("any_name", lane, instance, 1, last, last, at, at + 0.5))
    a = _stats(0, 100, 10, 0, opened=at, last_order_token=order_token(10), last_item_token=item_token(29))
    b = _stats(1, 100, 0, 0, opened=at, last_order_token=order_token(19), last_item_token=item_token(5))
    view.update([a, b])
    view._sample()
    assert [row["stage"] for row in view.latencies] == ["handed"] * 4 + ["committed"] * 2
    assert [(r.instance, r.lane) for r in view._pending] == [(0, "items"), (1, "orders")]


def test_a_fault_run_that_could_not_run_shows_nothing_and_says_why():
    from aidemo.notebook.faultrun import FaultRun

    skipped = FaultRun(None, [], 3, 400.0, None, skipped="faults can be injected only into the local service")
    assert (skipped.table(), skipped.stream_table(), skipped.frame(), skipped.summary()) == (None,) * 4


def test_markdown_shows_text_as_markdown():
    shown = notebook.markdown("**bold**")
    assert shown._repr_markdown_() == "**bold**"


def test_the_plan_names_the_channels_the_options_name():
    plan = notebook.plan_frame(
        10, 2, seed=1, num_customers=4, options=StreamOptions(orders_channel="o", items_channel="i")
    )
    assert plan["channels"].tolist() == ["o_0, i_0", "o_1, i_1"]
    assert plan["order_ids"].tolist() == ["1..5", "6..10"] and plan["customers"].tolist() == ["1..2", "3..4"]
    default = notebook.plan_frame(10, 2, seed=1, num_customers=4)
    assert default["channels"][0] == "orders_channel_0, order_items_channel_0"


# ---- keys, crash arguments, runbook arguments ---------------------------------------------


def test_write_key_pair_writes_owner_only_keys_outside_the_project(tmp_path):
    keys = generate_key_pair()
    private, public = notebook.write_key_pair(keys, tmp_path / "keys")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert load_private_key(private.read_text()).key_size == 2048
    assert public.read_text() == keys.public_key_pem
    temporary, _ = notebook.write_key_pair(keys)
    assert temporary.parent != notebook.SOURCE_CHECKOUT and temporary.is_file()
    with pytest.raises(ConfigError, match="KEY_DIR .* is inside the project"):
        notebook.write_key_pair(keys, notebook.NOTEBOOK_DIR / "keys")
    assert not (notebook.NOTEBOOK_DIR / "keys").exists()


@pytest.mark.parametrize("kill_after", [0, 100, 2.5])
def test_crash_stream_wants_a_kill_point_inside_the_job(kill_after):
    with pytest.raises(ConfigError, match="kill_after must be between 1 and 99"):
        notebook.crash_stream(None, 100, kill_after=kill_after, options=None, seed=1, num_customers=10)


def test_a_crash_leaves_the_orders_ahead_and_the_rerun_fills_the_items_in_exactly_once(demo_db):
    """On the local service the items channel's commits are held at the kill: the orders channel
    is ahead, the held items are lost with the writer, and the same job again completes both."""
    from aidemo.data.generator import InstanceSpec, first_item_id
    from aidemo.stream.options import StreamOptions
    from aidemo.stream.streaming import Streamer
    from tests.test_faults import CUSTOMERS, SEED, assert_exact

    options = StreamOptions(batch_size=50, max_client_lag=0.2, rate=400)
    crash = notebook.crash_stream(demo_db, 1_200, kill_after=300, options=options, seed=SEED, num_customers=CUSTOMERS)
    assert crash.orders_committed > crash.items_complete_through  # the orders channel is ahead
    # The CLI the notebook kills dates the job as the options say, and keeps the dates in its token.
    assert crash.last_order_token.startswith(f"order_{crash.orders_committed}@live:")
    assert crash.last_item_token == f"item_{crash.items_committed}"
    counts = demo_db.sql("SELECT (SELECT COUNT(*) FROM RAW.ORDERS) AS O, (SELECT COUNT(*) FROM RAW.ORDER_ITEMS) AS I")
    assert (counts["O"][0], counts["I"][0]) == (crash.orders_committed, crash.items_committed)
    assert demo_db.fault_control().status()["active"] == []  # the hold ended with the crash
    spec = InstanceSpec.single(SEED, CUSTOMERS)
    stats = Streamer(demo_db, spec, 1_200, options).run()
    assert stats.summary()["orders_sent"] == 1_200 - crash.orders_committed
    assert stats.summary()["items_sent"] == first_item_id(spec, 1_201) - 1 - crash.items_committed
    assert_exact(demo_db, 1_200, 1)


def test_run_notebooks_rejects_unknown_parameters_and_notebooks(tmp_path):
    with pytest.raises(ConfigError, match="unknown notebook parameter NUM_ORDRS; the notebooks declare .*NUM_ORDERS"):
        runbook.run_notebooks(tmp_path, {"NUM_ORDRS": 10})
    with pytest.raises(ConfigError, match="no notebook '08_nope'"):
        runbook.run_notebooks(tmp_path, {}, ["08_nope"])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "text, value",
    [
        ("5", 5),
        ("0.5", 0.5),
        ("[1, 5]", [1, 5]),
        ("None", None),
        ("False", False),
        ("snowflake", "snowflake"),
        ("'local'", "local"),
    ],
)
def test_parse_parameter(text, value):
    assert runbook.parse_parameter(text) == value


def test_environment_lists_python_and_the_kit():
    frame = notebook.environment()
    versions = dict(zip(frame["package"], frame["version"]))
    from aidemo import __version__

    assert versions["aidemo"] == __version__
    assert versions["snowpipe-streaming"] != "missing"
    assert re.fullmatch(r"3\.\d+\.\d+.*", versions["python"])


def test_a_working_copy_gets_the_missing_notebooks_and_keeps_edited_ones(tmp_path):
    folder, copied = notebook.working_copy(tmp_path)
    assert folder == tmp_path.resolve() / "notebooks"
    assert [path.name for path in copied] == [f"{name}.ipynb" for name in runbook.NOTEBOOKS]
    edited, removed = folder / "02_single_channel.ipynb", folder / "04_latency.ipynb"
    edited.write_text("edited")
    removed.unlink()
    assert notebook.working_copy(tmp_path) == (folder, [removed])
    assert edited.read_text() == "edited"
    assert removed.read_bytes() == (notebook.NOTEBOOK_DIR / removed.name).read_bytes()
    # A kernel started in a walkthrough folder (a copy, the checkout's) works from its parent; elsewhere, where it is.
    assert working_directory(folder) == tmp_path.resolve()
    assert working_directory(notebook.NOTEBOOK_DIR) == notebook.NOTEBOOK_DIR.parent
    other = tmp_path / "elsewhere" / "notebooks"
    other.mkdir(parents=True)
    assert working_directory(other) == other and working_directory(tmp_path) == tmp_path


# A kernel: the setup cell, then a stream under a fault the SDK retries (a WARN line per retry).
KERNEL_UNDER_FAULTS = """
from aidemo import notebook
from aidemo.data.generator import InstanceSpec
from aidemo.stream.options import StreamOptions
from aidemo.stream.streaming import Streamer

backend = notebook.start("local").backend
backend.fault_control().set("throttle", count=3)
Streamer(backend, InstanceSpec.single(1, 100), 200, StreamOptions(batch_size=50, max_client_lag=0.2)).run()
"""


@pytest.mark.parametrize("level, warnings_show", [(None, False), ("warn", True)])
def test_the_kernels_sdk_logs_its_errors_but_not_the_retries_of_a_fault(demo_db, tmp_path, level, warnings_show):
    """The SDK's Rust core writes to the kernel's stdout, which a headless run inherits from the terminal;
    the setup cell keeps its retry warnings out unless ``SS_LOG_LEVEL`` asks for them. Its errors show at
    every level the SDK knows (info, warn, error; anything else counts as warn)."""
    env = {key: value for key, value in os.environ.items() if key != "SS_LOG_LEVEL"}
    env |= demo_db.child_environment() | ({"SS_LOG_LEVEL": level} if level else {})
    before = demo_db.fault_control().counts().get("throttle", 0)
    done = subprocess.run(
        [sys.executable, "-c", KERNEL_UNDER_FAULTS], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert demo_db.fault_control().counts()["throttle"] == before + 3
    warnings = [line for line in done.stdout.splitlines() if "| WARN |" in line]
    assert bool(warnings) == warnings_show, done.stdout


def test_start_opens_the_named_backend_from_the_working_directory(demo_db, tmp_path, monkeypatch, capsys):
    for name, value in demo_db.child_environment().items():  # where an aidemo process finds this database
        monkeypatch.setenv(name, value)
    folder, _ = notebook.working_copy(tmp_path)
    monkeypatch.chdir(folder)  # where JupyterLab starts a notebook's kernel
    (tmp_path / "config.properties").write_text("seed=7\nitems.channel=start_items\n")
    demo = notebook.start("local", num_customers=50, batch_size=25, rate=10)
    backend = demo.backend
    assert Path.cwd() == tmp_path.resolve()
    # The job: the arguments, then config.properties beside the notebooks' folder, then the defaults.
    assert (demo.seed, demo.num_customers) == (7, 50)
    assert demo.options == StreamOptions(batch_size=25, rate=10, items_channel="start_items")
    assert demo.job == {"options": demo.options, "seed": 7, "num_customers": 50}
    assert backend.name == "local" and backend.home == demo_db.home
    line = capsys.readouterr().out.strip()
    assert line == notebook.banner(backend)
    assert "snowpipe-streaming 1.9.1" in line and line.endswith(f"backend: local ({demo_db.database}.RAW)")
    # The SDK's line about a reopened channel (the kit reopens on purpose) stays out; its other errors show.
    sdk = logging.getLogger("snowflake.ingest.streaming.streaming_ingest_client")
    record = sdk.makeRecord(
        sdk.name,
        logging.ERROR,
        __file__,
        1,
        "An acknowledgement callback was already registered for channel=%s",
        ("c",),
        None,
    )
    assert not sdk.filter(record)
    assert sdk.filter(sdk.makeRecord(sdk.name, logging.ERROR, __file__, 1, "another error", (), None))


# ---- 04's charts and the demo's panels ------------------------------------------------------


def _sweep() -> pd.DataFrame:
    """Two settings' order batches: lag 5 s with batch 1,000 (three batches), lag 1 s with batch 100 (two)."""
    return pd.concat([synthetic_batches(5.0, 1000, [6.0, 8.0, 7.0]), synthetic_batches(1.0, 100, [2.0, 2.5])])


def test_latency_charts_are_figures_of_what_the_sweep_measured():
    from matplotlib.container import BarContainer

    batches = _sweep()
    summary = notebook.latency_summary(batches)
    assert summary[["max_client_lag", "batch_size", "orders"]].values.tolist() == [[1.0, 100, 200], [5.0, 1000, 300]]

    lag = notebook.lag_chart(summary)
    (ax,) = lag.axes
    assert tuple(lag.get_size_inches()) == (8, 4)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("max client lag setting (s)", "generated → committed (s)")
    assert ax.get_title() == "Setting vs measured latency (local)"
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["p50, batch 100", "p99, batch 100", "p50, batch 1,000", "p99, batch 1,000", "y = x (the setting)"]
    assert list(ax.get_lines()[2].get_ydata()) == [7.0]  # lag 5 s: the median of 6, 8 and 7 s

    (ax,) = notebook.distribution_chart(batches).axes
    fast, slow = ax.get_lines()
    assert (fast.get_label(), slow.get_label()) == ("lag 1 s, batch 100", "lag 5 s, batch 1,000")
    assert list(slow.get_xdata()) == [6.0, 7.0, 8.0] and ax.get_ylabel() == "share of batches"

    (ax,) = notebook.stages_chart(summary).axes
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "generated → handed to the SDK",
        "generated → committed",
        "generated → queryable",
    ]
    handed, committed, queryable = [c for c in ax.containers if isinstance(c, BarContainer)]  # the rest: whiskers
    assert [bar.get_height() for bar in committed] == pytest.approx(summary["committed_p50"].tolist())
    assert [t.get_text() for t in ax.get_xticklabels()] == ["lag 1 s, batch 100", "lag 5 s, batch 1,000"]

    throughput = notebook.throughput_chart(batches)
    (ax,) = throughput.axes
    assert sum(ax.get_lines()[0].get_ydata()) == 200 and ax.get_ylabel() == "orders committed per second"

    # A cell shows each one inline as a PNG (no pyplot: nothing left open for the next cell).
    shown, _ = InteractiveShell.instance().display_formatter.format(throughput)
    assert shown["image/png"].startswith(b"\x89PNG")


def test_the_demo_runs_its_panels_with_its_own_seed_and_customers(monkeypatch):
    from aidemo.measure import latency

    measured = []

    def measure(backend, **settings):
        measured.append(settings)
        return synthetic_batches(settings["max_client_lag"], settings["batch_size"], [1.5, 2.0])

    monkeypatch.setattr(latency, "measure", measure)
    demo = notebook.Demo(backend=None, seed=7, num_customers=50, options=StreamOptions())
    namespace = {"MAX_CLIENT_LAG": 1, "BATCH_SIZE": 100, "DURATION": 2, "RATE": 100}  # no SEED, NUM_CUSTOMERS
    row, _ = demo.latency_run(namespace)
    assert measured == [
        {"max_client_lag": 1, "batch_size": 100, "duration": 2, "rate": 100, "seed": 7, "num_customers": 50}
    ]
    assert (row["max_client_lag"], row["batch_size"], row["committed_p50"]) == (1, 100, 1.75)
    panel = demo.latency_panel(namespace)
    panel.batch_size.value = 250
    with capture_output():
        panel.run_button.click()
    assert (measured[-1]["batch_size"], measured[-1]["seed"], measured[-1]["num_customers"]) == (250, 7, 50)
    assert panel.rows[0]["batch_size"] == 250 and _texts(panel, "stderr") == ""


def test_the_demo_streams_its_panels_runs_with_its_own_seed_and_customers(monkeypatch):
    from aidemo.backends import provision
    from aidemo.notebook import live

    calls = []
    monkeypatch.setattr(provision, "setup", lambda backend, **job: calls.append(("setup", job)))
    monkeypatch.setattr(live, "parallel_live", lambda backend, total, instances, **job: calls.append(("stream", job)))
    demo = notebook.Demo(backend=None, seed=7, num_customers=50, options=StreamOptions())
    namespace = {"MAX_CLIENT_LAG": 1, "BATCH_SIZE": 100, "RATE": 100, "PANEL_SECONDS": 2}  # no SEED, NUM_CUSTOMERS
    panel = demo.stream_panel(namespace, instances=2)
    with capture_output():
        panel.run_button.click()
    assert _texts(panel, "stderr") == ""
    (_, fresh), (_, streamed) = calls
    assert fresh == {"reset": True, "seed": 7, "num_customers": 50}
    assert (streamed["seed"], streamed["num_customers"], streamed["options"].batch_size) == (7, 50, 100)
