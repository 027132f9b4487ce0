"""The local service probed as an attacker and a faulty client would: through real HTTP(S).

One service (small body limit, short pipe-info expiry, small log) takes most probes; the
tests of fresh, broken, full and read-only homes start services of their own.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import stat
import subprocess
import sys
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
from pathlib import Path

import jwt
import pytest
from conftest import share_ca

from aidemo.backends import LocalBackend
from aidemo.errors import LocalServiceError
from aidemo.generator import InstanceSpec
from aidemo.keys import (
    fingerprint,
    generate_key_pair,
    keypair_jwt,
    load_private_key,
    public_key_of,
)
from aidemo.local import errors as local_errors
from aidemo.local import pki, service
from aidemo.local.client import LocalClient
from aidemo.local.home import ACCOUNT, ROLE, USER, ServiceHome
from aidemo.local.stage import BUCKET
from aidemo.options import StreamOptions
from aidemo.streaming import Streamer

pytestmark = pytest.mark.integration  # each test starts services of its own (or probes one)

PIPES = "/v2/streaming/databases/AUTOMATED_INTELLIGENCE/schemas/RAW/pipes"
DATA = "/v2/streaming/data/databases/AUTOMATED_INTELLIGENCE/schemas/RAW/pipes"
LIMIT = 1 << 20  # the probed service's body limit (AIDEMO_LOCAL_MAX_BODY_MB=1)
TTL_MS = 1500  # its pipe-info expiry
LOG_BYTES = 20_000  # its log's rotation size


class Reply:
    def __init__(self, status: int, headers: dict, body: bytes):
        self.status, self.headers, self.body = status, headers, body

    def json(self) -> dict:
        return json.loads(self.body)

    def s3_error(self) -> tuple[str, str]:
        root = ET.fromstring(self.body)
        assert root.tag == "Error", self.body
        return root.findtext("Code"), root.findtext("Message")


class Probe:
    """Raw HTTPS requests to one service, with or without the local user's credentials."""

    def __init__(self, home: ServiceHome, info: service.ServiceInfo | None = None):
        self.home = home
        self.info = info or service.status(home)
        self.context = ssl.create_default_context(cafile=str(home.ca_cert))
        self._scoped = None

    def send(
        self,
        method: str,
        path: str,
        body: bytes | list[bytes] = b"",
        headers: dict | None = None,
        declared: int | None = None,
    ) -> Reply:
        """One request on a fresh connection; ``body`` a list is sent chunked. Send errors are
        ignored: the server may answer (and close) before the body is through."""
        sock = self.context.wrap_socket(
            socket.create_connection(("127.0.0.1", self.info.port)),
            server_hostname="127.0.0.1",
        )
        head = {"Host": f"127.0.0.1:{self.info.port}"} | (headers or {})
        if isinstance(body, list):
            head["Transfer-Encoding"] = "chunked"
        else:
            head["Content-Length"] = str(len(body) if declared is None else declared)
        lines = [f"{method} {path} HTTP/1.1"] + [f"{k}: {v}" for k, v in head.items()]
        with contextlib.suppress(OSError):
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
            if isinstance(body, list):
                for chunk in body:
                    sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sock.sendall(b"0\r\n\r\n")
            else:
                sock.sendall(body)
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        reply = Reply(
            response.status,
            {k.lower(): v for k, v in response.getheaders()},
            response.read(),
        )
        sock.close()
        return reply

    def jwt_headers(self, token: str | None = None) -> dict:
        token = token or keypair_jwt(ACCOUNT, USER, self.home.user_key.read_text(), role=ROLE)
        return {
            "Authorization": f"Bearer {token}",
            "X-Snowflake-Authorization-Token-Type": "KEYPAIR_JWT",
        }

    def oauth_headers(self) -> dict:
        if self._scoped is None:
            reply = self.send(
                "POST",
                "/oauth/token",
                b"grant_type=x&scope=127.0.0.1",
                self.jwt_headers(),
            )
            assert reply.status == 200, reply.body
            self._scoped = reply.body.decode()
        return {
            "Authorization": f"Bearer {self._scoped}",
            "X-Snowflake-Authorization-Token-Type": "OAUTH",
        }

    def stage_location(self) -> str:
        reply = self.send("POST", f"{PIPES}/ORDERS_PIPE:pipe-info", b"{}", self.oauth_headers())
        assert reply.status == 200, reply.body
        return reply.json()["durable_stage_location"]["location"]

    def open_channel(self, name: str) -> str:
        reply = self.send("PUT", f"{PIPES}/ORDERS_PIPE/channels/{name}", b"{}", self.oauth_headers())
        assert reply.status == 200, reply.body
        return reply.json()["next_continuation_token"]


@contextlib.contextmanager
def environment(**values):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    home = ServiceHome.at(tmp_path_factory.mktemp("hardening") / "home")
    with environment(
        AIDEMO_LOCAL_MAX_BODY_MB="1",
        AIDEMO_LOCAL_PIPE_INFO_TTL_MS=str(TTL_MS),
        AIDEMO_LOCAL_LOG_BYTES=str(LOG_BYTES),
    ):
        service.start(home)
    yield Probe(home)
    service.stop(home)


def select_one(home: ServiceHome) -> list:
    """``SELECT 1`` through the SQL API of the home's running service: its rows."""
    probe = Probe(home)
    reply = probe.send("POST", "/api/v2/statements", b'{"statement": "SELECT 1"}', probe.jwt_headers())
    assert reply.status == 200, reply.body
    return reply.json()["data"]


def rss_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))


# ---- 1: bounded bodies ----------------------------------------------------------------------


def test_1_an_unauthenticated_upload_is_refused_before_its_body_is_read(probe):
    peak = rss_kb(probe.info.pid)
    # Not one byte of the body is sent: each answer comes from the headers alone.
    reply = probe.send("PUT", f"/{BUCKET}/0123.4567.forged/0.ndjson", declared=256 << 20)
    assert reply.status == 413 and reply.s3_error()[0] == "EntityTooLarge"
    reply = probe.send("PUT", f"/{BUCKET}/0123.4567.forged/0.ndjson", declared=LIMIT // 2)
    assert reply.status == 403 and reply.s3_error()[0] == "AccessDenied"
    reply = probe.send("POST", "/api/v2/statements", declared=256 << 20)
    assert reply.status == 413 and reply.json()["code"] == "EntityTooLarge"
    assert rss_kb(probe.info.pid) - peak < 16 << 10  # the peak moved by less than 16 MB


def test_1_an_over_limit_body_without_a_length_is_cut_off(probe):
    location = probe.stage_location()
    chunks = [b"x" * 65536] * (LIMIT // 65536 + 4)
    reply = probe.send("PUT", f"/{location}0.ndjson", chunks)
    assert reply.status == 413
    assert reply.s3_error()[0] == "EntityTooLarge"
    reply = probe.send("POST", "/api/v2/statements", chunks, probe.jwt_headers())
    assert reply.status == 413 and "exceeds the local service's limit" in reply.json()["message"]
    # Also on a route with its own error handling (the connector's login), unauthenticated.
    reply = probe.send("POST", "/session/v1/login-request", chunks)
    assert reply.status == 413 and reply.json()["code"] == "EntityTooLarge"
    # Under the limit a signed upload goes through.
    reply = probe.send("PUT", f"/{location}1.ndjson", b"{}\n" * 1000)
    assert reply.status == 200 and reply.headers["etag"].startswith('"')


# ---- 2: nothing secret in a bounded log --------------------------------------------------


def test_2_the_log_holds_no_token_and_is_rotated(probe):
    secret = "Bearer sEcReT-" + "t" * 2000
    for n in range(120):
        reply = probe.send(
            "GET",
            f"/no/such/route/{n}/" + "p" * 200,
            headers={"Authorization": secret, "X-Big": "h" * 8000},
        )
        assert reply.status == 404 and reply.json()["code"] == "NOT_FOUND"
    logs = sorted(probe.home.root.glob("service.log*"))
    assert [p.name for p in logs][:2] == ["service.log", "service.log.1"]  # rotated
    for path in logs:
        text = path.read_text()
        assert "sEcReT" not in text and "hhhhhhhh" not in text
        assert path.stat().st_size <= LOG_BYTES + 1000
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


# ---- 3: key-pair JWTs -------------------------------------------------------------------


def _jwt(
    home: ServiceHome,
    user: str = USER,
    key_pem: str | None = None,
    *,
    scale: int = 1000,
    **times,
) -> str:
    key_pem = key_pem or home.user_key.read_text()
    now = time.time()
    claims = {
        "iss": f"{ACCOUNT}.{user}.{fingerprint(public_key_of(key_pem))}",
        "sub": f"{ACCOUNT}.{user}",
        "iat": int(now * scale),
        "exp": int((now + 59 * 60) * scale),
    }
    claims |= {k: int((now + v) * scale) if v is not None else None for k, v in times.items()}
    return jwt.encode(
        {k: v for k, v in claims.items() if v is not None},
        load_private_key(key_pem),
        algorithm="RS256",
    )


def test_3_key_pair_jwts_live_at_most_an_hour_and_name_their_issue_time(probe):
    home = probe.home

    def hostname(token: str) -> Reply:
        return probe.send("GET", "/v2/streaming/hostname", headers=probe.jwt_headers(token))

    assert hostname(_jwt(home)).status == 200  # the SDK's: milliseconds
    assert hostname(_jwt(home, scale=1)).status == 200  # the connector's: seconds
    assert hostname(_jwt(home, iat=-30, exp=30 + 3600 - 60)).status == 200
    for token, why in [
        (_jwt(home, exp=10 * 365 * 86400), "at most 3600 s"),
        (_jwt(home, scale=1, exp=7200), "at most 3600 s"),
        (_jwt(home, iat=None), "needs numeric 'iat' and 'exp'"),
        (_jwt(home, exp=None), "needs numeric 'iat' and 'exp'"),
        (_jwt(home, iat=-3600, exp=-120), "expired"),
        (_jwt(home, iat=600, exp=900), "issued in the future"),
    ]:
        reply = hostname(token)
        assert reply.status == 401 and why in reply.json()["message"], (why, reply.body)


def test_3_refusals_do_not_tell_whether_a_user_exists(probe):
    stranger = generate_key_pair().private_key_pem
    unknown_user = probe.send(
        "GET",
        "/v2/streaming/hostname",
        headers=probe.jwt_headers(_jwt(probe.home, "MALLORY")),
    )
    unknown_key = probe.send(
        "GET",
        "/v2/streaming/hostname",
        headers=probe.jwt_headers(_jwt(probe.home, key_pem=stranger)),
    )
    assert unknown_user.status == unknown_key.status == 401
    assert unknown_user.json() == unknown_key.json()
    assert "MALLORY" not in unknown_user.body.decode()


# ---- 6, 7: a private home ------------------------------------------------------------------


def test_6_7_the_home_and_everything_in_it_are_private(probe, tmp_path):
    root = probe.home.root
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    paths = [p for p in root.rglob("*")]
    assert {
        "databases",
        "AUTOMATED_INTELLIGENCE.duckdb",
        "service.log",
        "ca.key",
        "token.secret",
        "user.p8",
        "spool",
    } <= {p.name for p in paths}
    for path in paths:
        expected = 0o700 if path.is_dir() else 0o600
        assert stat.S_IMODE(path.stat().st_mode) == expected, path
    copy = ServiceHome.at(tmp_path / "copy")
    copy.copy_ca_from(probe.home)
    assert copy.ca_key.read_bytes() == probe.home.ca_key.read_bytes()
    for path in [copy.root, *copy.root.iterdir()]:
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path
    assert pki.server_pair_ok(
        copy.ca_cert.read_text(),
        copy.server_cert.read_text(),
        copy.server_key.read_text(),
    )


# ---- 8: stage prefixes expire ------------------------------------------------------------------


def test_8_a_stage_prefix_expires_with_its_pipe_info(probe):
    location = probe.stage_location()
    assert probe.send("PUT", f"/{location}0.ndjson", b"{}\n").status == 200
    time.sleep(2 * TTL_MS / 1000 + 0.5)  # past expiry_time_ms and its grace (here as long as the TTL)
    reply = probe.send("PUT", f"/{location}1.ndjson", b"{}\n")
    assert reply.status == 403
    assert reply.s3_error()[0] == "ExpiredToken"


# ---- 9: every malformed request gets a 4xx that says what is wrong -----------------------


def test_9_malformed_stage_requests_get_s3_errors(probe):
    location = probe.stage_location()
    cases = [
        (f"/{location}a%00b.ndjson", {}, "InvalidArgument"),
        (f"/{location}{'n' * 300}.ndjson", {}, "KeyTooLongError"),
        (f"/{location}{'n/' * 600}x", {}, "KeyTooLongError"),
        (
            f"/{location}2.ndjson",
            {"x-amz-decoded-content-length": "twelve"},
            "InvalidArgument",
        ),
    ]
    for path, headers, code in cases:
        reply = probe.send("PUT", path, b"{}\n", headers)
        assert reply.status == 400 and reply.s3_error()[0] == code, (
            path[-40:],
            reply.body,
        )


BAD_JSON = [b"{not json", b"\xff\xfe", b"[1, 2]", b"42", b'"text"', b"null"]


@pytest.mark.parametrize(
    "route",
    [
        (
            "POST",
            "/api/v2/statements",
            "jwt",
            [b'{"statement": 5}', b'{"statement": "SELECT 1", "database": []}'],
        ),
        (
            "PUT",
            f"{PIPES}/ORDERS_PIPE/channels/c9",
            "oauth",
            [b'{"offset_token": {"a": 1}}'],
        ),
        (
            "POST",
            f"{PIPES}/ORDERS_PIPE:bulk-channel-status",
            "oauth",
            [b'{"channel_names": "c9"}', b'{"channel_names": [1, 2]}'],
        ),
        (
            "POST",
            "/aidemo/v1/pipes/AUTOMATED_INTELLIGENCE/RAW/ORDERS_PIPE/flush-tick",
            "jwt",
            [b'{"ms": "100"}', b'{"ms": true}', b'{"ms": 1.5}'],
        ),
        (
            "POST",
            "/aidemo/v1/faults",
            "jwt",
            [
                b'{"kind": "slow", "delay": "x"}',
                b'{"kind": 7}',
                b'{"kind": "slow", "x": 1}',
            ],
        ),
        (
            "POST",
            f"{DATA}/ORDERS_PIPE/channels/c9/filebuffer?continuationToken=x",
            "oauth",
            [b"[]", b"[1]", b"{}"],
        ),
    ],
    ids=[
        "statements",
        "open-channel",
        "bulk-status",
        "flush-tick",
        "faults",
        "filebuffer",
    ],
)
def test_9_malformed_or_mistyped_json_gets_a_4xx_body(probe, route):
    method, path, auth, mistyped = route
    headers = probe.jwt_headers() if auth == "jwt" else probe.oauth_headers()
    for body in BAD_JSON + mistyped:
        if method == "PUT" and body == b"null":
            continue
        reply = probe.send(method, path, body, headers | {"Content-Type": "application/json"})
        assert 400 <= reply.status < 500, (body, reply.status, reply.body)
        error = reply.json()
        assert error["code"] and error["message"], (body, error)


def test_9_bad_forms_and_names_get_a_4xx_body(probe):
    reply = probe.send("POST", "/oauth/token", b"scope=\xff\xfe", probe.jwt_headers())
    assert reply.status == 400 and "URL-encoded form" in reply.json()["message"]
    for name in ["a%00b", "p" * 300]:
        reply = probe.send("PUT", f"{PIPES}/{name}/channels/c1", b"{}", probe.oauth_headers())
        assert reply.status == 400 and reply.json()["code"] == "000904", reply.body
    reply = probe.send("POST", "/api/v2/statements", b'{"statement": ""}', probe.jwt_headers())
    assert reply.status == 400 and "non-empty" in reply.json()["message"]


def test_400_messages_do_not_name_the_servers_files(probe):
    token = probe.open_channel("paths")
    query = urllib.parse.urlencode({"continuationToken": token, "startOffsetToken": "1", "endOffsetToken": "1"})
    reply = probe.send(
        "POST",
        f"{DATA}/ORDERS_PIPE/channels/paths/rows?{query}",
        b"\x28\xb5\x2f\xfd garbage",
        probe.oauth_headers() | {"Content-Encoding": "zstd"},
    )
    assert 400 <= reply.status < 500, reply.body
    assert str(probe.home.root) not in reply.body.decode() and "spool" not in reply.body.decode()


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
    "import sys; from aidemo.local import service; from aidemo.local.home import ServiceHome; "
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
from aidemo.local.home import ServiceHome
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
