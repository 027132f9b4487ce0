"""The kit's one SQL path: the connector at the profile's URL on both backends, the same
dtypes from both, errors that say what to fix, and connections closed without warnings."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest

from aidemo.backends.backend import SnowflakeBackend
from aidemo.backends.keys import generate_key_pair
from aidemo.backends.sqlclient import Endpoint
from aidemo.config import load_profile
from aidemo.errors import AidemoError, BackendError, SqlError
from tests.helpers import write_snowflake_profile

TYPED = (
    "SELECT 255.18::NUMBER(10,2) AS PRICE, 42::NUMBER(38,0) AS ID, 1.5::FLOAT AS F, 'x' AS S, "
    "'2024-01-02'::DATE AS D, '2024-01-02 03:04:05.5'::TIMESTAMP_NTZ AS TS, TRUE AS B"
)


def test_the_connector_dials_the_profiles_url(plain_keys):
    args = Endpoint(
        "MYORG-ACCT", "ME", "https://myorg-acct.privatelink.snowflakecomputing.com:8443", plain_keys.private_key_pem
    ).connect_args()
    assert (args["host"], args["port"], args["protocol"]) == (
        "myorg-acct.privatelink.snowflakecomputing.com",
        8443,
        "https",
    )
    assert (
        Endpoint("A", "U", "https://a.snowflakecomputing.com", plain_keys.private_key_pem).connect_args()["port"] == 443
    )
    assert args["private_key"][:2] == b"\x30\x82"  # DER (PKCS#8), which 5.x wants rather than PEM bytes


def test_the_same_statement_gives_the_same_dtypes(own_backend):
    frame = own_backend.sql(TYPED)
    assert {c: str(t) for c, t in frame.dtypes.items()} == {
        "PRICE": "float64",
        "ID": "Int64",
        "F": "float64",
        "S": "object",
        "D": "object",
        "TS": "datetime64[ns]",
        "B": "object",
    }
    assert frame.iloc[0].tolist() == [
        255.18,
        42,
        1.5,
        "x",
        dt.date(2024, 1, 2),
        dt.datetime(2024, 1, 2, 3, 4, 5, 500000),
        True,
    ]


def test_an_unknown_object_is_an_sql_error_naming_statement_and_fix(own_backend):
    with pytest.raises(SqlError, match=r"SELECT \* FROM NO_SUCH_TABLE: .*002003.*run `aidemo setup`"):
        own_backend.sql("SELECT * FROM NO_SUCH_TABLE")


def profile_of(backend, tmp_path, **change) -> str:
    """A snowflake profile for the local service and database of ``backend``, with some values changed."""
    return str(write_snowflake_profile(backend, tmp_path / "profile.json", **change))


@pytest.mark.parametrize(
    "change",
    [{"private_key": generate_key_pair().private_key_pem}, {"user": "NOBODY"}],
    ids=["wrong key", "unknown user"],
)
def test_a_refused_login_is_a_backend_error_saying_what_to_fix(demo_db, tmp_path, change):
    backend = SnowflakeBackend(load_profile(profile_of(demo_db, tmp_path, **change)))
    user = change.get("user", "AIDEMO")
    with pytest.raises(BackendError, match=rf"as {user}: .*390144.*private key does not match .* user {user}"):
        backend.sql("SELECT 1")


def test_an_unreachable_url_is_a_backend_error_naming_it(demo_db, tmp_path):
    backend = SnowflakeBackend(load_profile(profile_of(demo_db, tmp_path, url="https://127.0.0.1:1")))
    with pytest.raises(BackendError, match=r"cannot reach https://127.0.0.1:1"):
        backend.sql("SELECT 1")


def test_a_login_that_timed_out_is_named_unreachable_too():
    """5.x gives up on a refused address with a login timeout (HYT00) when its retries outlast it."""
    from snowflake.connector.errors import OperationalError

    from aidemo.backends.sqlclient import Endpoint, connector_errors

    endpoint = Endpoint("ACCT", "AIDEMO", "https://127.0.0.1:1", "key")
    timeout = OperationalError(msg="Failed to login: login timed out after 30s", errno=14, sqlstate="HYT00")
    with pytest.raises(BackendError, match=r"login timed out after 30s; cannot reach https://127.0.0.1:1"):
        with connector_errors("connecting", BackendError, endpoint):
            raise timeout


def aidemo(profile: str, trust, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, AIDEMO_PROFILE=profile, SSL_CERT_FILE=str(trust), PYTHONWARNINGS="default")
    return subprocess.run(
        [sys.executable, "-m", "aidemo.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_the_cli_says_what_to_fix_without_a_traceback_and_exits_without_warnings(demo_db, tmp_path):
    wrong = aidemo(
        profile_of(demo_db, tmp_path, private_key=generate_key_pair().private_key_pem),
        demo_db.home.trust_bundle,
        "sql",
        "SELECT 1",
    )
    assert wrong.returncode == 1 and "Traceback" not in wrong.stderr
    assert wrong.stderr.startswith("aidemo: error: connecting to ") and "private key does not match" in wrong.stderr

    right = aidemo(profile_of(demo_db, tmp_path), demo_db.home.trust_bundle, "sql", "SELECT COUNT(*) AS N FROM ORDERS")
    assert (right.returncode, right.stderr) == (0, "")  # no warning from the connector or at exit
    assert right.stdout.split() == ["N", "0"]


@pytest.mark.parametrize("tick", [None, 200], ids=["sdk", "with a flush tick"])
def test_a_missing_pipe_says_how_to_create_it(own_backend, tick):
    db = own_backend.database
    with pytest.raises(
        AidemoError, match=rf"Pipe '{db}.RAW.NO_SUCH_PIPE' does not exist.*Run `aidemo setup` to create .* in {db}\.RAW"
    ):
        own_backend.create_client("missing", "NO_SUCH_PIPE", flush_tick_ms=tick)


def test_close_closes_and_the_next_statement_reconnects(own_backend):
    assert own_backend.sql("SELECT 1 AS A")["A"].tolist() == [1]
    own_backend.close()
    own_backend.close()
    assert own_backend.sql("SELECT 2 AS A")["A"].tolist() == [2]
