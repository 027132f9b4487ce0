"""Bad input anywhere in the kit's surface: a clear message through the CLI, and nothing lost.

Every case runs ``python -m aidemo.cli`` in a directory of its own (profile.json and
config.properties there) against one local service, and expects exit code 1, no traceback,
and a message that names what to fix. The tables are checked afterwards: a refused command
wrote nothing.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from aidemo.backends.keys import generate_key_pair
from aidemo.backends.scripts import run_file
from tests.helpers import demo_database

ENCRYPTED = generate_key_pair(passphrase="s3cret").private_key_pem
NOT_A_KEY = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"


def snowflake_profile(key: str) -> str:
    return json.dumps({"backend": "snowflake", "account": "myorg-myaccount", "user": "ME", "private_key": key})


@pytest.fixture(scope="module")
def backend(local_home):
    """The demo's objects in a database of the session's service that the CLI runs write to."""
    with demo_database(local_home, "BAD_INPUT") as backend:
        yield backend


@pytest.fixture
def cli(backend, tmp_path):
    """Run the CLI in tmp_path with the given files there and extra environment."""

    def run(*args, files: dict | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
        for name, text in (files or {}).items():
            (tmp_path / name).write_text(text)
        environ = {k: v for k, v in os.environ.items() if not k.startswith("AIDEMO_") and k != "PRIVATE_KEY_PASSPHRASE"}
        environ |= {"AIDEMO_HOME": str(backend.home.root), "AIDEMO_DATABASE": backend.database} | (env or {})
        return subprocess.run(
            [sys.executable, "-m", "aidemo.cli", *args],
            cwd=tmp_path,
            env=environ,
            capture_output=True,
            text=True,
            timeout=180,
        )

    return run


def orders(backend) -> int:
    return int(backend.sql("SELECT COUNT(*) AS N FROM RAW.ORDERS")["N"][0])


# (case, CLI arguments, files in the working directory, environment, the message shown)
CASES = [
    (
        "malformed profile",
        ["stream", "10"],
        {"profile.json": "{not json"},
        {},
        r"profile\.json line 1 column 2: invalid JSON",
    ),
    (
        "missing profile",
        ["stream", "10"],
        {},
        {"AIDEMO_PROFILE": "nowhere/profile.json"},
        r"AIDEMO_PROFILE 'nowhere/profile\.json': no such file",
    ),
    (
        "misspelt profile key",
        ["stream", "10"],
        {"profile.json": json.dumps({"backend": "local", "acount": "x"})},
        {},
        r"profile\.json: unknown key 'acount' \(did you mean 'account'\?\)",
    ),
    ("unknown backend", ["stream", "10"], {"profile.json": json.dumps({"backend": "cloud"})}, {}, r"backend.*'cloud'"),
    (
        "private key that is not a key",
        ["stream", "10"],
        {"profile.json": snowflake_profile(NOT_A_KEY)},
        {},
        r"profile\.json: cannot read the private key \(damaged PEM\)",
    ),
    (
        "encrypted key without passphrase",
        ["stream", "10"],
        {"profile.json": snowflake_profile(ENCRYPTED)},
        {},
        r"profile\.json: the private key is encrypted: set private_key_passphrase \(or the environment variable "
        r"PRIVATE_KEY_PASSPHRASE\)",
    ),
    (
        "encrypted key, wrong passphrase",
        ["stream", "10"],
        {"profile.json": snowflake_profile(ENCRYPTED)},
        {"PRIVATE_KEY_PASSPHRASE": "guess"},
        r"cannot read the private key \(wrong passphrase",
    ),
    (
        "batch size 0",
        ["stream", "10", "--batch-size", "0"],
        {},
        {},
        r"batch_size must be an integer between 1 and 1000000, got 0",
    ),
    (
        "negative batch size",
        ["stream", "10", "--batch-size", "-5"],
        {},
        {},
        r"batch_size must be an integer between 1 and 1000000, got -5",
    ),
    (
        "max client lag 0",
        ["stream", "10", "--max-client-lag", "0"],
        {},
        {},
        r"max_client_lag must be a number of seconds between 0\.1 and 600",
    ),
    (
        "max client lag 1000",
        ["stream", "10", "--max-client-lag", "1000"],
        {},
        {},
        r"max_client_lag must be a number of seconds between 0\.1 and 600, got 1000",
    ),
    (
        "lag out of range in the environment",
        ["stream", "10"],
        {},
        {"AIDEMO_MAX_CLIENT_LAG": "-1"},
        r"AIDEMO_MAX_CLIENT_LAG must be a number of seconds between 0\.1 and 600, got '-1'",
    ),
    (
        "unknown settings key",
        ["stream", "10"],
        {"config.properties": "batch.sise=10\n"},
        {},
        r"config\.properties line 1: unknown key 'batch\.sise' \(did you mean 'batch\.size'\?\)",
    ),
    (
        "a key of an earlier config.properties",
        ["stream", "10"],
        {"config.properties": "orders.batch.size=10\n"},
        {},
        r"config\.properties line 1: orders\.batch\.size is now called batch\.size",
    ),
    (
        "settings value of the wrong type",
        ["stream", "10"],
        {"config.properties": "batch.size=abc\n"},
        {},
        r"config\.properties line 1: batch\.size must be an integer",
    ),
    (
        "negative number of orders",
        ["stream", "--", "-5"],
        {},
        {},
        r"number of orders must be a positive integer, got -5",
    ),
    (
        "unknown table",
        ["sql", "SELECT * FROM RAW.NO_SUCH_TABLE"],
        {},
        {},
        r"SQL compilation error: .*Object '[^']*NO_SUCH_TABLE' does not exist or not authorized",
    ),
    (
        "fault with a rate above 1",
        ["local", "fault", "error", "--rate", "3"],
        {},
        {},
        r"fault rate must be a share of requests in \(0, 1\], got 3",
    ),
]


@pytest.mark.parametrize("args, files, env, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_gets_a_clear_message_and_writes_nothing(cli, backend, args, files, env, message):
    before = orders(backend)
    done = cli(*args, files=files, env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("aidemo: error: "), done.stderr
    assert re.search(message, done.stderr), done.stderr
    assert orders(backend) == before


def test_an_unknown_pipe_is_named(cli, backend):
    before = orders(backend)
    assert cli("sql", "DROP PIPE RAW.ORDERS_PIPE").returncode == 0
    try:
        done = cli("stream", "10", "--no-progress")
        assert done.returncode == 1 and "Traceback" not in done.stderr
        assert f"Pipe '{backend.database}.RAW.ORDERS_PIPE' does not exist or not authorized" in done.stderr
        assert f"Run `aidemo setup` to create the demo's tables and pipes in {backend.database}.RAW" in done.stderr
        assert orders(backend) == before
    finally:
        run_file("03_pipes.sql", backend)


def test_another_total_on_the_same_channels_is_refused_and_the_first_job_stays_whole(cli, backend):
    fast = ["--batch-size", "100", "--max-client-lag", "0.2", "--no-progress"]
    first = cli("parallel", "400", "2", *fast)
    assert first.returncode == 0, first.stderr
    clash = cli("parallel", "300", "2", *fast)
    assert clash.returncode == 1 and "Traceback" not in clash.stderr
    assert (
        "instance 0 failed: channel orders_channel_0 has committed id 200, past this instance's slice "
        "(ends at 150): it belongs to a different job" in clash.stderr
    )
    assert "reset with `aidemo setup --reset`" in clash.stderr
    counts = backend.sql("SELECT COUNT(*) AS N, COUNT(DISTINCT ORDER_ID) AS D, MAX(ORDER_ID) AS M FROM RAW.ORDERS")
    assert counts.values.tolist() == [[400, 400, 400]]


def test_an_instance_outside_the_job_is_named(cli):
    done = cli("parallel", "100", "3", "--instance", "5")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "instance 5 is not one of 0..2" in done.stderr
