"""Faults on demand: single and parallel streams ride through each fault, exactly once.

Each run switches a fault on once a fifth of the job is in ORDERS, then checks the tables
exactly (every order and item once, equal to the generator's) and the committed tokens.
The module prints a table per fault: requests faulted, the kit's retries and reopens, and
the time lost against a run without faults.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import random
import subprocess
import sys
import threading
import time
from types import SimpleNamespace

import duckdb
import pandas as pd
import pytest

from aidemo.data.generator import InstanceSpec, first_item_id
from aidemo.errors import ConfigError, StreamingError
from aidemo.local.http.faults import FaultInjector, FaultSpec
from aidemo.local.storage.held import HeldCommit, HeldCommits
from aidemo.stream.offsets import parse_order_token
from aidemo.stream.options import StreamOptions
from aidemo.stream.parallel import plan, run_parallel
from aidemo.stream.streaming import Streamer
from tests.helpers import committed_tokens, expected_tables

SEED, CUSTOMERS = 11, 20_000
FAST = StreamOptions(batch_size=100, max_client_lag=0.2, commit_timeout=90, stall_reopen=5)
MODES = {"single": (600, 1, 400.0), "parallel": (900, 3, 200.0)}  # orders, instances, orders/s each
# Request and commit faults stay on until they have hit ``count`` requests or commits, so each one
# fires however fast or slow the machine is; the service's counts then show exactly that many.
FAULTS = {
    "none": None,
    "throttle": dict(count=3),
    "error": dict(count=3),
    "slow": dict(count=3, delay=0.3),
    "drop": dict(count=2),
    "invalidate": {},
    "delay_commits": dict(count=3, delay=0.7),
    "stall_commits": dict(count=3),
    "restart": {},
}
REPORT: list[dict] = []


@pytest.fixture(scope="module", autouse=True)
def report(request):
    yield
    if not REPORT:
        return
    table = pd.DataFrame(REPORT).drop(columns="recorded")
    baseline = table[table["fault"] == "none"].set_index("mode")["wall_s"]
    table["lost_s"] = (table["wall_s"] - table["mode"].map(baseline)).round(2)
    writer = request.config.pluginmanager.get_plugin("terminalreporter")
    with request.config.pluginmanager.get_plugin("capturemanager").global_and_fixture_disabled():
        writer.write_line(
            "\nfaults: requests faulted, requests the SDK sent again, the kit's retries and "
            "reopens, time lost against no fault"
        )
        writer.write_line(table.to_string(index=False))


def slices(total: int, n: int) -> list[tuple[InstanceSpec, int]]:
    if n == 1:
        return [(InstanceSpec.single(SEED, CUSTOMERS), total)]
    return plan(total, n, seed=SEED, num_customers=CUSTOMERS)


def assert_exact(backend, total: int, n: int) -> None:
    """Every order and item once, equal to the generator's; each channel committed up to its last id."""
    orders, items = expected_tables(backend, slices(total, n))
    pd.testing.assert_frame_equal(backend.sql("SELECT * FROM RAW.ORDERS ORDER BY ORDER_ID"), orders, check_dtype=False)
    pd.testing.assert_frame_equal(
        backend.sql("SELECT * FROM RAW.ORDER_ITEMS ORDER BY ORDER_ITEM_ID"), items, check_dtype=False
    )
    tokens = committed_tokens(backend)
    for spec, count in slices(total, n):
        suffix = "" if n == 1 else f"_{spec.instance}"
        last_order = spec.order_base + count - 1
        assert parse_order_token(tokens[f"orders_channel{suffix}"]) == last_order
        assert tokens[f"order_items_channel{suffix}"] == f"item_{first_item_id(spec, last_order + 1) - 1}"


def stream(backend, total: int, n: int, rate: float, options: StreamOptions = FAST) -> list:
    options = dataclasses.replace(options, rate=rate)
    if n == 1:
        return [Streamer(backend, InstanceSpec.single(SEED, CUSTOMERS), total, options).run()]
    result = run_parallel(total, n, backend=backend, seed=SEED, num_customers=CUSTOMERS, options=options)
    assert result.errors == {}
    return list(result.stats)


class Injector(threading.Thread):
    """Runs ``action`` once ORDERS holds ``after`` rows; re-raises its error in ``join``."""

    def __init__(self, backend, after: int, action):
        super().__init__(daemon=True)
        self.backend, self.after, self.action = backend, after, action
        self.done = threading.Event()
        self.error: BaseException | None = None

    def run(self):
        try:
            deadline = time.monotonic() + 60
            while self.backend.sql("SELECT COUNT(*) AS N FROM RAW.ORDERS")["N"][0] < self.after:
                assert time.monotonic() < deadline, "the stream never got going"
                time.sleep(0.02)
            self.action()
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            self.error = exc
        finally:
            self.done.set()

    def join(self, timeout=None):
        super().join(timeout)
        if self.error:
            raise self.error


def run_under(backend, mode: str, actions) -> dict:
    """Stream the mode's job while ``actions`` (a list of callables) fire one after another."""
    total, n, rate = MODES[mode]
    control = backend.fault_control()
    before = control.status()

    def fire():
        for action in actions:
            action(control)

    injector = Injector(backend, total // 5, fire)
    started = time.monotonic()
    injector.start()
    stats = stream(backend, total, n, rate)
    wall = time.monotonic() - started
    injector.join(30)
    assert injector.done.is_set()
    assert_exact(backend, total, n)
    after = control.status()
    assert after["active"] == [], "a fault did not reach its count before the stream ended"
    recorded = {kind: after["counts"].get(kind, 0) - before["counts"].get(kind, 0) for kind in after["counts"]}
    return {
        "mode": mode,
        "faulted": sum(recorded.values()),
        "recorded": {k: n for k, n in recorded.items() if n},
        "sdk_retries": after["sdk_retries"] - before["sdk_retries"],
        "kit_retries": sum(s.retries for s in stats),
        "reopens": sum(s.reopens for s in stats),
        "wall_s": round(wall, 2),
    }


def switch(kind: str, params: dict):
    def action(control):
        if kind == "restart":
            control.restart()
        else:
            control.set(kind, seed=SEED, **params)

    return action


@pytest.mark.integration  # its service fixture is picked per case
@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("kind", list(FAULTS))
def test_a_stream_rides_through_each_fault_exactly_once(request, kind, mode):
    params = FAULTS[kind]
    backend = request.getfixturevalue(
        "private_service" if kind == "restart" else "demo_db"
    )  # a restart needs its own service
    row = run_under(backend, mode, [] if params is None else [switch(kind, params)])
    REPORT.append({"fault": kind} | row)
    recorded = dict(row["recorded"])
    if kind == "none":
        assert recorded == {} and row["reopens"] == 0
    elif kind == "invalidate":
        assert list(recorded) == ["invalidate"]  # one hit per channel open at that moment
        assert row["reopens"] >= 1  # the fenced writers reopened and replayed from the committed token
    else:
        assert recorded == {kind: params.get("count", 1)}, recorded


def mix(seed: int) -> tuple[list, dict]:
    """A reproducible mix: three request or commit faults, each for a few hits, then a fenced channel;
    with the hits each kind must record (the fenced channels aside)."""
    rng = random.Random(seed)
    kinds = rng.sample(["throttle", "error", "slow", "drop", "delay_commits"], 3)
    counts = {k: rng.randint(1, 3) for k in kinds}
    actions = [switch(k, dict(count=n, delay=round(rng.uniform(0.1, 0.4), 2))) for k, n in counts.items()]
    actions.append(lambda control: time.sleep(rng.uniform(0.2, 0.8)))
    actions.append(switch("invalidate", {}))
    if seed % 2:
        actions.append(switch("restart", {}))
        counts["restart"] = 1
    return actions, counts


@pytest.mark.integration  # its service fixture is picked per case
@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_seeded_mix_of_faults_loses_and_doubles_nothing(request, seed):
    actions, counts = mix(seed)
    backend = request.getfixturevalue("private_service" if "restart" in counts else "demo_db")
    row = run_under(backend, "parallel", actions)
    REPORT.append({"fault": f"mix seed {seed}"} | row)
    recorded = dict(row["recorded"])
    assert recorded.pop("invalidate") >= 1 and recorded == counts, recorded
    assert row["faulted"] >= 4 and row["reopens"] >= 1


@pytest.mark.slow
@pytest.mark.parametrize("kill", [False, True], ids=["stop", "sigkill"])
def test_commits_held_at_a_restart_are_kept_or_replayed(private_service, kill):
    """A graceful stop commits the rows it accepted; a crash loses them and their writers send them again."""

    def stall_then_restart(control):
        before = control.counts().get("stall_commits", 0)
        control.set("stall_commits", seconds=30)
        deadline = time.monotonic() + 60
        while control.counts().get("stall_commits", 0) == before:  # a batch is held when the service stops
            assert time.monotonic() < deadline, "no commit was held"
            time.sleep(0.05)
        control.restart(kill=kill)

    row = run_under(private_service, "single", [stall_then_restart])
    REPORT.append({"fault": "stall + " + ("SIGKILL" if kill else "restart")} | row)
    assert row["recorded"]["restart"] == 1 and row["recorded"]["stall_commits"] >= 1, row["recorded"]
    if kill:
        assert row["reopens"] >= 1


def test_a_commit_hold_on_one_channel_is_dropped_when_a_reopen_fences_its_writer(backend, fresh_table):
    """Only the named channel's commits wait; a reopen discards what its old writer had held, and
    the new writer replays those rows exactly once."""
    from tests.helpers import ids, order

    control = backend.fault_control()
    held, free = f"held_{fresh_table}", f"free_{fresh_table}"
    first = backend.create_client("hold_first", f"{fresh_table}-STREAMING")
    try:
        control.set("stall_commits", channel=held)
        before = control.counts().get("stall_commits", 0)
        held_ch, _ = first.open_channel(held)
        free_ch, _ = first.open_channel(free)
        held_ch.append_rows([order(i) for i in range(1, 11)], "1", "10")
        free_ch.append_rows([order(i) for i in range(101, 111)], "101", "110")
        free_ch.wait_for_commit(lambda token: token == "110", 60)
        deadline = time.monotonic() + 60
        while control.counts().get("stall_commits", 0) == before:  # the held channel's batch is accepted
            assert time.monotonic() < deadline, "no commit was held"
            time.sleep(0.05)
        assert held_ch.get_latest_committed_offset_token() is None
        assert ids(backend, fresh_table) == list(range(101, 111))

        second = backend.create_client("hold_second", f"{fresh_table}-STREAMING")
        try:
            reopened, status = second.open_channel(held)  # fences the first writer
            control.clear("stall_commits")  # lets go whatever is still held: nothing of this channel
            assert status.latest_committed_offset_token is None
            assert ids(backend, fresh_table) == list(range(101, 111))
            reopened.append_rows([order(i) for i in range(1, 11)], "1", "10")
            reopened.wait_for_commit(lambda token: token == "10", 60)
        finally:
            second.close()
    finally:
        control.clear("stall_commits")
        with contextlib.suppress(StreamingError):
            first.close()
    assert ids(backend, fresh_table) == list(range(1, 11)) + list(range(101, 111))
    tokens = backend.sql(f'SHOW CHANNELS IN PIPE RAW."{fresh_table}-STREAMING"')
    assert dict(zip(tokens["name"], tokens["last_committed_offset_token"])) == {held: "10", free: "110"}


def test_rejected_rows_stop_the_stream_with_a_message_naming_the_channel(demo_db):
    control = demo_db.fault_control()
    injector = Injector(demo_db, 200, lambda: control.set("reject_rows", channel="order_items_channel"))
    injector.start()
    streamer = Streamer(demo_db, InstanceSpec.single(SEED, CUSTOMERS), 2_000, dataclasses.replace(FAST, rate=400))
    with pytest.raises(
        StreamingError,
        match=r"channel order_items_channel has \d+ rejected rows \(max_error_rows "
        r"is 0\).*injected fault reject_rows.*Stopped producing",
    ):
        streamer.run()
    injector.join(10)
    assert 0 < streamer.stats.errors and streamer.stats.orders_sent < 2_000  # it stopped producing
    orders = demo_db.sql("SELECT COUNT(*) AS N, COUNT(DISTINCT ORDER_ID) AS D, MAX(ORDER_ID) AS M FROM RAW.ORDERS")
    assert orders["N"][0] == orders["D"][0] == orders["M"][0]  # a prefix of the job, once
    channels = demo_db.sql(f"SHOW CHANNELS IN SCHEMA {demo_db.database}.RAW").set_index("name")
    assert channels.loc["order_items_channel", "rows_error_count"] >= streamer.stats.errors
    assert control.counts()["reject_rows"] >= 1


def test_max_error_rows_lets_a_stream_run_past_rejections_and_counts_them(demo_db):
    control = demo_db.fault_control()
    injector = Injector(demo_db, 200, lambda: control.set("reject_rows", channel="order_items_channel", count=2))
    injector.start()
    options = dataclasses.replace(FAST, rate=500, max_error_rows=10**9)
    stats = Streamer(demo_db, InstanceSpec.single(SEED, CUSTOMERS), 1_000, options).run()
    injector.join(10)
    items = demo_db.sql("SELECT COUNT(*) AS N FROM RAW.ORDER_ITEMS")["N"][0]
    assert stats.errors > 0 and items == first_item_id(InstanceSpec.single(SEED, CUSTOMERS), 1_001) - 1 - stats.errors
    assert stats.summary()["errors"] == stats.errors


def test_fault_draws_are_reproducible_from_the_seed(tmp_path):
    store = SimpleNamespace(commit_hold=None, rejection=None, release_commits=lambda: None)

    def draws(seed: int) -> list[bool]:
        state = FaultInjector(store, tmp_path)
        state.set(FaultSpec("error", rate=0.3, seed=seed))
        return [state.pick("POST", "/v2/streaming/data/x/rows") is not None for _ in range(200)]

    assert draws(1) == draws(1) != draws(2)
    assert 30 < sum(draws(1)) < 90


def test_a_commit_held_without_an_end_goes_when_released():
    """A stall without seconds holds commits until it ends (its count is reached, or it is cleared)."""
    lock, done = threading.Lock(), threading.Event()
    held = HeldCommits(lock)
    with lock:
        held.hold(HeldCommit(("DB", "RAW", "PIPE", "channel"), duckdb.connect(), done.set, math.inf))
    assert held.waiting(("DB", "RAW", "PIPE", "channel")) == 1 and not done.wait(0.2)
    held.release()
    assert done.wait(30), "the released commit never ran"
    assert held.waiting(("DB", "RAW", "PIPE", "channel")) == 0
    with lock:
        held.close()


def test_fault_counts_survive_a_restart_and_show_in_status(private_service):
    control = private_service.fault_control()
    control.set("error", rate=1.0, count=2, target="all")
    control.restart()
    status = control.status()
    assert status["counts"].get("restart") == 1 and status["active"] == []
    with pytest.raises(ConfigError, match="rate"):
        control.set("error", rate=0)
    with pytest.raises(ConfigError, match="unknown fault parameter.*speed"):
        control.set("slow", speed=3)
    with pytest.raises(ConfigError, match="no channel named 'nope'"):
        control.set("invalidate", channel="nope")


def test_the_cli_switches_faults_on_and_off(demo_db, tmp_path):
    env = dict(os.environ, AIDEMO_HOME=str(demo_db.home.root))

    def cli(*args):
        return subprocess.run(
            [sys.executable, "-m", "aidemo.cli", "local", "fault", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    on = cli("throttle", "--seconds", "30")
    assert on.returncode == 0 and "on: throttle" in on.stdout
    assert "on: throttle" in cli("status").stdout
    assert demo_db.fault_control().status()["active"][0]["kind"] == "throttle"
    off = cli("clear")
    assert off.returncode == 0 and "on: none" in off.stdout
    bad = cli("flood")
    assert bad.returncode == 1 and "fault kind must be one of throttle" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.slow
def test_saturation_is_waited_out_while_commits_drain(demo_db):
    """The service answers 429 while one instance pushes past the SDK's 1,048,576 in-flight rows: append_rows
    is refused (ReceiverSaturated) more often than max_retries allows for other errors, and the
    stream waits it out and finishes exactly once. max_in_flight is raised so the kit's own gate
    does not hold the stream back before the SDK does."""
    demo_db.fault_control().set("throttle", seconds=8)
    options = StreamOptions(batch_size=10_000, max_client_lag=1.0, max_retries=1, max_in_flight=2_000_000)
    total = 330_000  # about 1.12M items: more than the SDK holds in flight for one channel
    stats = Streamer(demo_db, InstanceSpec.single(SEED, CUSTOMERS), total, options).run()
    assert stats.retries > options.max_retries
    assert stats.orders_committed == total and stats.reopens == 0
    assert_exact(demo_db, total, 1)
