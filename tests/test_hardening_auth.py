"""The local service probed as an attacker would, through real HTTPS: nothing secret in a bounded
log, key-pair JWTs of bounded life whose refusals do not tell whether a user exists, a private home."""

from __future__ import annotations

import stat
import time

import jwt
import pytest

from aidemo.backends.keys import (
    fingerprint,
    generate_key_pair,
    load_private_key,
    public_key_of,
)
from aidemo.local.process import pki
from aidemo.local.process.home import ACCOUNT, USER, ServiceHome
from tests.helpers import LOG_BYTES, Reply

pytestmark = pytest.mark.integration  # each test starts services of its own (or probes one)


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
