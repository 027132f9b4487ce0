"""The local service on a full disk and on a read-only home: one clear error, nothing lost
(each test mounts a small filesystem in a user namespace of its own)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse

import pytest

from aidemo.local.process import service
from aidemo.local.process.home import ServiceHome
from tests.helpers import DATA, Probe

pytestmark = pytest.mark.integration  # each test starts services of its own (or probes one)


# ---- 12, 13: a full disk, a read-only home ------------------------------------------------------


def _namespace(script: str) -> list[str]:
    """A command running ``script`` in a mount namespace of its own (mounts stay private to it)."""
    return ["unshare", "--user", "--map-root-user", "--mount", "sh", "-ec", script]


@pytest.fixture
def mounts():
    if (
        shutil.which("unshare") is None
        or subprocess.run(_namespace("mount -t tmpfs tmpfs /mnt"), check=False, capture_output=True).returncode != 0
    ):
        pytest.skip("cannot mount in a user namespace here (unshare)")


def test_12_a_full_disk_is_reported_as_such(tmp_path, mounts):
    home = ServiceHome.at(tmp_path / "full")
    home.ensure()
    # The service runs with its spool on a 1 MB tmpfs: a real ENOSPC, no monkeypatching.
    script = (
        f"mount -t tmpfs -o size=1m tmpfs {home.spool}; "
        f"exec {sys.executable} -m aidemo.local --home {home.root} --log {home.log}"
    )
    proc = subprocess.Popen(
        _namespace(script),
        cwd=home.root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        env=os.environ | {"AIDEMO_LOCAL_MAX_BODY_MB": "8"},
    )
    try:
        deadline = time.monotonic() + 60
        while service.status(home) is None:
            assert proc.poll() is None and time.monotonic() < deadline, home.console
            time.sleep(0.2)
        probe = Probe(home)
        location = probe.stage_location()
        reply = probe.send("PUT", f"/{location}0.ndjson", os.urandom(3 << 20))
        assert reply.status == 507
        code, message = reply.s3_error()
        assert code == "InsufficientStorage" and "disk is full" in message
        token = probe.open_channel("full")
        query = urllib.parse.urlencode({"continuationToken": token})
        rows = b'{"ORDER_ID": 1}\n' * (200_000)
        reply = probe.send(
            "POST",
            f"{DATA}/ORDERS_PIPE/channels/full/rows?{query}",
            rows,
            probe.oauth_headers(),
        )
        assert reply.status == 507 and "disk is full" in reply.json()["message"], reply.body
        status = subprocess.run(
            [
                sys.executable,
                "-m",
                "aidemo.cli",
                "local",
                "status",
                "--home",
                str(home.root),
            ],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert "disk full: at " in status.stdout, status.stdout + status.stderr
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    # Nothing was left behind on the full spool (it lived in the namespace); the home is whole.
    assert list(home.spool.iterdir()) == []


SDK_ON_A_FULL_DISK = """
import os, sys
from snowflake.ingest.streaming import StreamingIngestClient
from aidemo.local.process.home import ServiceHome
home = ServiceHome.at(sys.argv[1])
props = home.sdk_properties(int(sys.argv[2]))
client = StreamingIngestClient("full", props.pop("database"), props.pop("schema"), "ORDERS_PIPE", properties=props)
channel, _ = client.open_channel("ch")
channel.append_rows([{"ORDER_ID": i, "ORDER_STATUS": os.urandom(8).hex()} for i in range(150_000)], "1", "150000")
try:
    channel.wait_for_commit(lambda token: token == "150000", 120)
except Exception as exc:
    print(exc)
"""


def test_12_the_sdk_names_a_full_disk(tmp_path, mounts):
    # The real SDK, in a process of its own (its S3 client trusts one CA per process), uploads a
    # file-mode burst to a service whose spool is a 1 MB tmpfs.
    home = ServiceHome.at(tmp_path / "sdk")
    home.ensure()
    script = (
        f"mount -t tmpfs -o size=1m tmpfs {home.spool}; "
        f"exec {sys.executable} -m aidemo.local --home {home.root} --log {home.log}"
    )
    proc = subprocess.Popen(_namespace(script), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while (info := service.status(home)) is None:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        env = os.environ | {
            "SSL_CERT_FILE": str(home.trust_bundle),
            "SS_LOG_LEVEL": "off",
        }
        done = subprocess.run(
            [sys.executable, "-c", SDK_ON_A_FULL_DISK, str(home.root), str(info.port)],
            check=False,
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
        )
        assert "InsufficientStorage" in done.stdout and "disk is full" in done.stdout, done.stdout + done.stderr
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_12_a_full_disk_at_commit_is_reported_and_loses_nothing(tmp_path, mounts):
    # The whole home, database included, on a 6 MB tmpfs: made outside, copied in, so that the
    # test still holds its CA and key (the tmpfs is visible only inside the namespace).
    made = ServiceHome.at(tmp_path / "made")
    made.ensure()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    made.port_file.write_text(str(port))
    live = tmp_path / "live"
    live.mkdir()
    script = (
        f"mount -t tmpfs -o size=6m tmpfs {live}; cp -a {made.root}/. {live}/; "
        f"exec {sys.executable} -m aidemo.local --home {live} --log {live}/service.log"
    )
    proc = subprocess.Popen(_namespace(script), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        probe = Probe(made, service.ServiceInfo(made, proc.pid, port))
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError):
                if probe.send("GET", "/aidemo/v1/health").status == 200:
                    break
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        token, batches = probe.open_channel("full"), 0
        row = {
            "ORDER_ID": 0,
            "ORDER_DATE": "2025-01-01 10:00:00",
            "ORDER_STATUS": "Completed" * 2,
        }
        while True:
            rows = "".join(json.dumps(row | {"ORDER_ID": batches * 5000 + i}) + "\n" for i in range(5000))
            query = urllib.parse.urlencode({"continuationToken": token, "endOffsetToken": str(batches)})
            reply = probe.send(
                "POST",
                f"{DATA}/ORDERS_PIPE/channels/full/rows?{query}",
                rows.encode(),
                probe.oauth_headers(),
            )
            if reply.status != 200:
                break
            token, batches = reply.json()["next_continuation_token"], batches + 1
            assert batches < 100, "the tmpfs never filled"
        # ENOSPC in DuckDB's COMMIT: said as such, not hidden by the ROLLBACK that follows it.
        assert reply.status == 507, reply.body
        assert "disk is full" in reply.json()["message"]
        full = probe.send("GET", "/aidemo/v1/health").json()["disk"]["full"]
        assert "No space left on device" in full["error"]
        # The refused batch advanced nothing: the writer's token still fits, and a small batch goes in.
        query = urllib.parse.urlencode({"continuationToken": token, "endOffsetToken": "last"})
        reply = probe.send(
            "POST",
            f"{DATA}/ORDERS_PIPE/channels/full/rows?{query}",
            b'{"ORDER_ID": -1}\n',
            probe.oauth_headers(),
        )
        assert reply.status == 200, reply.body
        reply = probe.send(
            "POST",
            "/api/v2/statements",
            json.dumps(
                {"statement": "SELECT COUNT(*), COUNT(DISTINCT ORDER_ID) FROM AUTOMATED_INTELLIGENCE.RAW.ORDERS"}
            ).encode(),
            probe.jwt_headers(),
        )
        assert reply.json()["data"] == [[str(batches * 5000 + 1)] * 2]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.parametrize("fresh", [True, False], ids=["empty", "made"])
def test_13_a_read_only_home_is_one_clear_error(tmp_path, mounts, fresh):
    home = ServiceHome.at(tmp_path / "ro")
    home.root.mkdir()
    if not fresh:
        home.ensure()
    script = (
        f"mount --bind {home.root} {home.root}; mount -o remount,ro,bind {home.root}; "
        f"exec {sys.executable} -m aidemo.cli local start --detach --home {home.root}"
    )
    done = subprocess.run(_namespace(script), check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr.startswith(f"aidemo: error: cannot write the local service's home {home.root}")
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
