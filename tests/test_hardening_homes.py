"""The local service's homes: leftovers of a killed service removed, a fresh home made by four
processes at once, a broken certificate replaced, clients of a killed service, a shadowing folder."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from aidemo.backends.backend import LocalBackend
from aidemo.data.generator import InstanceSpec
from aidemo.errors import LocalServiceError
from aidemo.local import errors as local_errors
from aidemo.local.process import pki, service
from aidemo.local.process.client import LocalClient
from aidemo.local.process.home import ServiceHome
from aidemo.stream.options import StreamOptions
from aidemo.stream.streaming import Streamer
from tests.helpers import Probe, select_one, share_ca

pytestmark = pytest.mark.integration  # each test starts services of its own (or probes one)


# ---- 10: spool leftovers ----------------------------------------------------------------------


def test_10_leftovers_of_a_killed_service_are_removed_at_start(tmp_path):
    home = ServiceHome.at(tmp_path / "home")
    service.start(home)
    location = Probe(home).stage_location()
    kept = home.stage / location.split("/")[1] / "0.ndjson"
    service.stop(home)
    leftovers = [
        home.spool / "ab12.ndjson",
        home.spool / "cd34.ndjson.zst",
        home.spool / "duckdb" / "x.tmp",
        kept.with_name(".0.ndjson.1234.part"),
        kept.with_name("1.ndjson"),
    ]
    for path in leftovers:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"" if path.name == "1.ndjson" else b"x" * 4096)
    kept.write_bytes(b"a whole upload waiting to be registered")
    service.start(home)
    try:
        assert [p for p in leftovers if p.exists()] == []
        assert kept.exists()
    finally:
        service.stop(home)


# ---- 11: a fresh home, made by four processes at once; a broken one repaired ------------------


STARTER = (
    "import sys; from aidemo.local.process import service; from aidemo.local.process.home import ServiceHome; "
    "print(service.start(ServiceHome.at(sys.argv[1])).pid)"
)


def test_11_four_processes_starting_a_fresh_home_at_once_agree(tmp_path):
    home = ServiceHome.at(tmp_path / "fresh")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", STARTER, str(home.root)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    try:
        pids = {p.communicate(timeout=120)[0].strip() for p in procs}
        assert all(p.returncode == 0 for p in procs)
        assert len(pids) == 1
        assert pki.server_pair_ok(
            home.ca_cert.read_text(),
            home.server_cert.read_text(),
            home.server_key.read_text(),
        )
        assert [p.name for p in home.root.iterdir() if p.name.endswith(".tmp")] == []
        assert select_one(home) == [["1"]]
    finally:
        service.stop(home)


def test_11_a_server_certificate_of_another_ca_is_replaced(tmp_path):
    home = ServiceHome.at(tmp_path / "broken")
    home.ensure()
    other_ca = pki.make_ca()
    home.server_cert.write_text(pki.make_server_cert(*other_ca)[0])  # what a half-finished race left
    with contextlib.suppress(FileNotFoundError):
        home.ca_key.write_text(home.ca_key.read_text()[:100])  # and a half-written CA key
    service.start(home)
    try:
        assert pki.ca_pair_ok(home.ca_cert.read_text(), home.ca_key.read_text())
        assert pki.server_pair_ok(
            home.ca_cert.read_text(),
            home.server_cert.read_text(),
            home.server_key.read_text(),
        )
        assert select_one(home) == [["1"]]
    finally:
        service.stop(home)


# ---- smaller ones ----------------------------------------------------------------------------


@pytest.mark.slow
def test_clients_of_a_killed_service_say_it_is_gone(local_home, tmp_path):
    home = share_ca(local_home, tmp_path / "killed")  # the SDK's S3 client trusts one CA per process
    backend = LocalBackend(home)
    client = LocalClient(backend.info)
    streamer = Streamer(
        backend,
        InstanceSpec.single(42, 20_000),
        10_000_000,
        StreamOptions(batch_size=500, max_client_lag=0.2, rate=2000),
    )
    done = {}
    runner = threading.Thread(target=lambda: done.setdefault("error", _raised(streamer.run)))
    runner.start()
    while streamer.stats.orders_committed < 1000:
        assert runner.is_alive(), done
        time.sleep(0.1)
    os.kill(backend.info.pid, signal.SIGKILL)
    # The SDK would retry the vanished service without end; the stream stops, saying why.
    runner.join(timeout=120)
    assert not runner.is_alive()
    assert isinstance(done["error"], LocalServiceError) and "is not running" in str(done["error"])
    with pytest.raises(local_errors.LocalServiceError, match="is not running .*stopped or killed"):
        client.faults.status()


def _raised(action) -> BaseException | None:
    try:
        action()
    except BaseException as exc:  # noqa: BLE001 - handed to the test thread
        return exc
    return None


def test_the_service_starts_the_same_from_a_folder_that_shadows_the_kit(tmp_path, monkeypatch):
    for name in ("aidemo", "sql"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("raise ImportError('the wrong package')\n")
    monkeypatch.chdir(tmp_path)
    home = ServiceHome.at(tmp_path / "home")
    try:
        info = service.start(home)
        assert info.pid == service.status(home).pid and select_one(home) == [["1"]]
    finally:
        service.stop(home)
