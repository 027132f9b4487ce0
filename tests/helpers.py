"""What the tests share beyond fixtures: homes with the session's CA, services of their own, demo
databases, profiles and connector arguments for the local service, and what a job's channels
committed, read back to compare whole tables with the generator's. Tests import them from here
(``from tests.helpers import ...``); tests/conftest.py holds the fixtures and hooks only."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import socket
import ssl
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd

from aidemo.backends.backend import LocalBackend
from aidemo.backends.keys import keypair_jwt
from aidemo.backends.scripts import run_file
from aidemo.backends.sqlclient import connector_major
from aidemo.data.dates import OrderDates
from aidemo.data.generator import InstanceSpec, order_batch
from aidemo.local.process import service
from aidemo.local.process.home import ACCOUNT, DATABASE, ROLE, SCHEMA, USER, ServiceHome
from aidemo.stream.offsets import parse_order_dates


def share_ca(source: ServiceHome, root) -> ServiceHome:
    """A new home with the CA of ``source`` (see ServiceHome.copy_ca_from)."""
    home = ServiceHome.at(root)
    home.copy_ca_from(source)
    return home


@contextlib.contextmanager
def own_service(home: ServiceHome):
    service.start(home)
    try:
        with LocalBackend(home) as backend:
            yield backend
    finally:
        service.stop(home)


def demo_database(home: ServiceHome, database: str) -> LocalBackend:
    """A backend on the service of ``home`` whose demo tables and pipes (those of sql/, as a fresh
    service holds them in AUTOMATED_INTELLIGENCE) are created in ``database``."""
    backend = LocalBackend(home, database)
    for name in ("01_database.sql", "02_tables.sql", "03_pipes.sql"):
        run_file(name, backend)
    return backend


def write_snowflake_profile(local: LocalBackend, path: Path, **change) -> Path:
    """A profile.json for the snowflake backend that points at a local service (its URL, user and
    key) and at the database of ``local``; ``change`` replaces values."""
    profile = {**local.info.sdk_properties(), "backend": "snowflake", "database": local.database, **change}
    path.write_text(json.dumps(profile, indent=2))
    return path


def connector_arguments(home: ServiceHome, **overrides) -> dict:
    """What an app passes to snowflake.connector.connect() for the service of ``home``."""
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(home.user_key.read_bytes(), password=None)
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    args = {
        "account": ACCOUNT,
        "user": USER,
        "host": "127.0.0.1",
        "port": service.status(home).port,
        "protocol": "https",
        "private_key": der,
        "database": DATABASE,
        "schema": SCHEMA,
        "role": ROLE,
        "warehouse": "LOCAL_WH",
    }
    if connector_major() >= 5:  # 4.x trusts REQUESTS_CA_BUNDLE only (the local backend sets it)
        args |= {
            "custom_root_store_path": str(home.trust_bundle),
            "enable_server_session_keep_alive_auto_detection": False,
        }
    return args | overrides


# ---- rows through the SDK ------------------------------------------------------------------


def order(i: int, **overrides) -> dict:
    """A row of an ORDERS-shaped table, order ``i`` (``overrides`` replace values)."""
    row = {
        "ORDER_ID": i,
        "CUSTOMER_ID": 1000 + i,
        "ORDER_DATE": f"2025-01-{1 + i % 28:02d} 10:00:00",
        "ORDER_STATUS": "Completed",
        "TOTAL_AMOUNT": round(10 + i * 1.25, 2),
        "DISCOUNT_PERCENT": 5.0,
        "SHIPPING_COST": 7.5,
    }
    row.update(overrides)
    return row


def ids(backend, table: str) -> list[int]:
    """The ORDER_IDs of RAW.``table``, in order."""
    return backend.sql(f"SELECT ORDER_ID FROM RAW.{table} ORDER BY ORDER_ID")["ORDER_ID"].tolist()


def stream(backend, pipe: str, channel: str, rows: list[dict], token) -> object:
    """Append ``rows`` on a channel of ``pipe`` through the SDK and wait for the last token; the client."""
    client = backend.create_client(f"test_{channel}", pipe)
    ch, _ = client.open_channel(channel)
    last = token(len(rows))
    ch.append_rows(rows, token(1), last)
    ch.wait_for_commit(lambda committed: committed == last, 60)
    return client


BURST = 70_000  # ~12 MB of NDJSON in one tick: far above the SDK's 1 MB rowset limit


def fragments_loaded(home: ServiceHome, pipe: str, channel: str) -> int:
    """File-mode fragments the service of ``home`` loaded for a channel (its health route)."""
    info = service.status(home)
    context = ssl.create_default_context(cafile=str(home.ca_cert))
    with urllib.request.urlopen(info.url + "/aidemo/v1/health", context=context, timeout=10) as resp:
        counts = json.loads(resp.read())["file_fragments_loaded"]
    return counts.get(f"AUTOMATED_INTELLIGENCE.RAW.{pipe}/{channel}", 0)


# ---- raw HTTPS to a service (the hardening tests) ---------------------------------------------

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


def select_one(home: ServiceHome) -> list:
    """``SELECT 1`` through the SQL API of the home's running service: its rows."""
    probe = Probe(home)
    reply = probe.send("POST", "/api/v2/statements", b'{"statement": "SELECT 1"}', probe.jwt_headers())
    assert reply.status == 200, reply.body
    return reply.json()["data"]


def rss_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))


def committed_tokens(backend) -> dict[str, str | None]:
    """Each channel of the demo's schema and its committed offset token (None: nothing yet)."""
    channels = backend.sql(f"SHOW CHANNELS IN SCHEMA {backend.database}.RAW")
    return {name: token or None for name, token in zip(channels["name"], channels["last_committed_offset_token"])}


def job_dates(backend, channel: str = "orders_channel") -> OrderDates:
    """The order dates the job on ``channel`` streamed with, as its committed token keeps them."""
    dates = parse_order_dates(committed_tokens(backend).get(channel))
    assert dates is not None, f"{channel} committed nothing"
    return dates


def expected_tables(backend, slices: list[tuple[InstanceSpec, int]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The orders and items the generator makes for the job's ``slices`` (one: ``orders_channel``;
    several: ``orders_channel_<i>``), each dated as its channel's committed token says."""
    batches = [
        order_batch(
            spec,
            spec.order_base,
            count,
            job_dates(backend, "orders_channel" if len(slices) == 1 else f"orders_channel_{spec.instance}"),
        )
        for spec, count in slices
    ]
    return (
        pd.concat([b.orders_frame() for b in batches], ignore_index=True),
        pd.concat([b.items_frame() for b in batches], ignore_index=True),
    )
