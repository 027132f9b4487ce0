"""What one ``:bulk-channel-status`` request costs the local service, as the SDK sends it.

The SDK learns commits only from that request, which each client sends every
``channel_status_cache_refresh_interval_seconds`` (back to back when 0). This starts a local
service in a temporary home, opens ``--channels`` channels on a table's default pipe the way the
SDK does (key-pair JWT, scoped token, open channel), commits one row on each, then sends
``--requests`` status requests for all of them over one kept-alive HTTPS connection and prints the
service's CPU per request and the request's round trip. ``--write`` streams rows on another
connection meanwhile, so that the status answers race commits as they do during a job.

    python bench/status_poll.py --channels 4 --requests 2000
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time

import httpx
from service import cpu_seconds, fresh_backend

from aidemo.local.process.home import ACCOUNT, ROLE, USER
from aidemo.local.process.keys import keypair_jwt
from aidemo.local.process.service import status as service_status

TABLE = "POLL_BENCH"


def scoped_session(backend) -> tuple[httpx.Client, str]:
    """An HTTPS client on the service and the scoped token the SDK would use, got as the SDK gets it."""
    info = service_status(backend.home)
    http = httpx.Client(base_url=info.url, verify=str(backend.home.ca_cert), timeout=30)
    jwt = keypair_jwt(ACCOUNT, USER, backend.home.user_key.read_text(), role=ROLE)
    headers = {"Authorization": f"Bearer {jwt}", "X-Snowflake-Authorization-Token-Type": "KEYPAIR_JWT"}
    host = http.get("/v2/streaming/hostname", headers=headers).text
    form = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "scope": host}
    token = http.post("/oauth/token", data=form, headers=headers).text
    http.headers.update({"Authorization": f"Bearer {token}", "X-Snowflake-Authorization-Token-Type": "OAUTH"})
    return http, info.pid


def pipe_path(backend, data: bool = False) -> str:
    scope = "data/" if data else ""
    return f"/v2/streaming/{scope}databases/{backend.database}/schemas/{backend.schema}/pipes/{TABLE}-STREAMING"


def open_channels(http: httpx.Client, backend, names: list[str]) -> dict[str, str]:
    """Open each channel and commit one row on it; their continuation tokens."""
    tokens = {}
    for name in names:
        reply = http.put(f"{pipe_path(backend)}/channels/{name}", json={"fail_on_uncommitted_rows": True})
        reply.raise_for_status()
        tokens[name] = append(http, backend, name, reply.json()["next_continuation_token"], 0)
    return tokens


def append(http: httpx.Client, backend, channel: str, token: str, n: int) -> str:
    """POST one row as the SDK's rowset mode does; the next continuation token."""
    body = json.dumps({"ID": n}).encode() + b"\n"
    reply = http.post(
        f"{pipe_path(backend, data=True)}/channels/{channel}/rows",
        params={"startOffsetToken": str(n), "endOffsetToken": str(n), "continuationToken": token},
        content=body,
        headers={"Content-Type": "application/x-ndjson"},
    )
    reply.raise_for_status()
    return reply.json()["next_continuation_token"]


def write_until(stop: threading.Event, backend, channel: str, token: str) -> int:
    """Stream one-row batches on ``channel`` over a connection of its own until ``stop``; how many."""
    http, _ = scoped_session(backend)
    n = 1
    with http:
        while not stop.is_set():
            token = append(http, backend, channel, token, n)
            n += 1
    return n - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--channels", type=int, default=4, help="channels asked for in each request (default 4)")
    parser.add_argument("--requests", type=int, default=2000, help="status requests to send (default 2000)")
    parser.add_argument("--write", action="store_true", help="stream rows on another channel meanwhile")
    args = parser.parse_args()

    with fresh_backend() as backend:
        backend.sql(f"CREATE TABLE {backend.schema}.{TABLE} (ID NUMBER(38,0))")
        http, pid = scoped_session(backend)
        names = [f"ch_{i}" for i in range(args.channels)]
        tokens = open_channels(http, backend, names + ["writer"])
        stop, written = threading.Event(), []
        writer = threading.Thread(
            target=lambda: written.append(write_until(stop, backend, "writer", tokens["writer"])), daemon=True
        )
        if args.write:
            writer.start()
        url, body = f"{pipe_path(backend)}:bulk-channel-status", {"channel_names": names}
        for _ in range(50):  # warm up
            http.post(url, json=body).raise_for_status()
        rtts, cpu0, t0 = [], cpu_seconds(pid), time.perf_counter()
        for _ in range(args.requests):
            start = time.perf_counter()
            reply = http.post(url, json=body)
            rtts.append(time.perf_counter() - start)
            reply.raise_for_status()
        wall, cpu = time.perf_counter() - t0, cpu_seconds(pid) - cpu0
        stop.set()
        if args.write:
            writer.join()
        statuses = reply.json()["channel_statuses"]
        assert sorted(statuses) == sorted(names), statuses
        http.close()
    line = (
        f"{args.requests} status requests for {args.channels} channel(s) in {wall:.2f} s: "
        f"service {cpu / args.requests * 1000:.2f} ms CPU per request (all of it, writes included), "
        f"round trip median {statistics.median(rtts) * 1000:.2f} ms"
    )
    if args.write:
        line += f"; {written[0]} one-row commits meanwhile"
    print(line)


if __name__ == "__main__":
    main()
