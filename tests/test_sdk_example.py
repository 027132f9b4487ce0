"""Snowflake's official SDK example (snowflakedb/snowpipe-streaming-sdk-examples, python-example),
re-told here in the example's own steps, run against the local service with only configuration
changed: the exports of `aidemo local env` and the service's profile.json next to the app."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap

from aidemo.backends.backend import LocalBackend
from tests.test_outside_app import printed_env

# The example's steps: its names, a client and a channel as context managers, one append_row
# per row with the row number as offset token, wait_for_commit, then the channel's status.
EXAMPLE = textwrap.dedent(
    """
    import os, uuid
    from datetime import datetime
    os.environ["SS_LOG_LEVEL"] = "warn"
    from snowflake.ingest.streaming import StreamingIngestClient

    ROWS = 100_000
    with StreamingIngestClient(
        client_name=f"MY_CLIENT_{uuid.uuid4()}", db_name="MY_DATABASE", schema_name="MY_SCHEMA",
        pipe_name="MY_TABLE-STREAMING", profile_json="profile.json",
    ) as client:
        with client.open_channel(f"MY_CHANNEL_{uuid.uuid4()}")[0] as channel:
            for i in range(1, ROWS + 1):
                channel.append_row({"c1": i, "c2": str(i), "ts": datetime.now()}, str(i))
            channel.wait_for_commit(lambda token: token is not None and int(token) >= ROWS, timeout_seconds=30)
            status = channel.get_channel_status()
            print(status.latest_committed_offset_token, status.rows_inserted_count, status.rows_error_count,
                  status.server_avg_processing_latency.total_seconds() >= 0)
    """
)


def test_the_official_sdk_example_runs_with_only_configuration_changed(local_home, tmp_path):
    """On the session's service, in a SQL session of its own (CREATE DATABASE changes its current database)."""
    with LocalBackend(local_home) as admin:
        run_example(admin, tmp_path)


def run_example(admin, tmp_path):
    # The example's objects: its README creates the table in a database and schema of the user's.
    admin.sql("CREATE DATABASE MY_DATABASE")
    admin.sql("CREATE SCHEMA MY_DATABASE.MY_SCHEMA")
    admin.sql("CREATE OR REPLACE TABLE MY_DATABASE.MY_SCHEMA.MY_TABLE (c1 NUMBER, c2 VARCHAR, ts TIMESTAMP_NTZ)")
    shutil.copy(admin.home.profile, tmp_path / "profile.json")
    (tmp_path / "streaming_ingest_example.py").write_text(EXAMPLE)

    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **printed_env(admin.home)}
    done = subprocess.run(
        [sys.executable, "streaming_ingest_example.py"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # The example's own line comes last (the SDK's core may log a warning to stdout before it).
    assert done.stdout.splitlines()[-1].split() == ["100000", "100000", "0", "True"], done.stdout[-2000:]
    frame = admin.sql(
        "SELECT COUNT(*) AS N, MIN(C1) AS LO, MAX(C1) AS HI, COUNT(DISTINCT C2) AS D, "
        "COUNT(TS) AS T FROM MY_DATABASE.MY_SCHEMA.MY_TABLE"
    )
    assert frame.iloc[0].tolist() == [100_000, 1, 100_000, 100_000, 100_000]
