"""An SDK app the kit did not write, run with nothing but what `aidemo local env` prints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from aidemo.backends.keys import generate_key_pair
from tests.helpers import fragments_loaded

ROWS = 20_000  # ~2.5 MB of NDJSON in one append: file mode
APP = textwrap.dedent(
    """
    import sys
    from snowflake.ingest.streaming import StreamingIngestClient

    profile, table, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    client = StreamingIngestClient(
        "outside_app", "AUTOMATED_INTELLIGENCE", "RAW", f"{table}-STREAMING", profile_json=profile
    )
    channel, _ = client.open_channel("app")
    channel.append_row({"ID": 0, "NAME": "first"}, "0")
    channel.append_rows([{"ID": i, "NAME": f"row {i:>95}"} for i in range(1, n + 1)], "1", str(n))
    channel.wait_for_commit(lambda token: token == str(n), 60)
    status = channel.get_channel_status()
    print(status.status_code, status.latest_committed_offset_token, status.rows_inserted_count,
          status.rows_error_count)
    client.close()
    """
)


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "aidemo.cli", "local", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def printed_env(home) -> dict[str, str]:
    out = cli("env", "--home", str(home.root))
    assert out.returncode == 0, out.stderr
    exports = [line.removeprefix("export ") for line in out.stdout.splitlines() if line.startswith("export ")]
    assert str(home.profile) in out.stdout
    return dict(line.split("=", 1) for line in exports)


def run_app(tmp_path, env: dict[str, str], profile, table: str) -> subprocess.CompletedProcess:
    app = tmp_path / "app.py"
    app.write_text(APP)
    bare = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "SS_LOG_LEVEL": "error",
        **env,
    }
    return subprocess.run(
        [sys.executable, str(app), str(profile), table, str(ROWS)],
        env=bare,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture
def app_table(backend) -> str:
    name = f"APP_{os.getpid()}_{len(backend.sql('SHOW TABLES IN SCHEMA RAW'))}"
    backend.sql(f"CREATE TABLE RAW.{name} (ID NUMBER(38,0) NOT NULL, NAME VARCHAR)")
    return name


def test_an_outside_sdk_app_streams_with_only_the_printed_settings(backend, local_home, app_table, tmp_path):
    env = printed_env(local_home)
    assert set(env) == {
        "SSL_CERT_FILE",
        "REQUESTS_CA_BUNDLE",
        "AWS_ENDPOINT_URL_S3",
        "AIDEMO_HOME",
    }
    done = run_app(tmp_path, env, local_home.profile, app_table)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["SUCCESS", str(ROWS), str(ROWS + 1), "0"]
    assert fragments_loaded(local_home, f"{app_table}-STREAMING", "app") >= 1  # the batch went in file mode
    frame = backend.sql(f"SELECT ID, NAME FROM RAW.{app_table} ORDER BY ID")
    assert frame["ID"].tolist() == list(range(ROWS + 1))
    assert frame["NAME"].tolist() == ["first"] + [f"row {i:>95}" for i in range(1, ROWS + 1)]


def test_an_app_with_a_foreign_key_fails_at_once_saying_why(local_home, app_table, tmp_path):
    # A profile whose key the service does not know (say, copied from another home).
    profile = json.loads(local_home.profile.read_text())
    profile["private_key"] = generate_key_pair().private_key_pem
    wrong = tmp_path / "profile.json"
    wrong.write_text(json.dumps(profile))
    failed = run_app(tmp_path, printed_env(local_home), wrong, app_table)
    assert failed.returncode != 0
    assert "390144" in failed.stderr and "JWT token is invalid" in failed.stderr, failed.stderr[-2000:]


def test_local_run_sets_the_exports_for_a_command(local_home):
    done = cli(
        "run",
        "--home",
        str(local_home.root),
        "--",
        sys.executable,
        "-c",
        "import os; print(os.environ['SSL_CERT_FILE'], os.environ['REQUESTS_CA_BUNDLE'])",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(local_home.trust_bundle)] * 2
    assert cli("run", "--home", str(local_home.root)).returncode == 1  # nothing to run
