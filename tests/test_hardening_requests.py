"""The local service probed as a faulty client would, through real HTTPS: bounded bodies, stage
prefixes that expire, and a 4xx that says what is wrong for every malformed request."""

from __future__ import annotations

import time
import urllib.parse

import pytest

from aidemo.local.storage.stage import BUCKET
from tests.helpers import DATA, LIMIT, PIPES, TTL_MS, rss_kb

pytestmark = pytest.mark.integration  # each test starts services of its own (or probes one)


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
