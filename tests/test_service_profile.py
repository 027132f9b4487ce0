"""The service's profile.json: the SDK reads it as it is, the kit reads it as the local backend."""

from __future__ import annotations

import json
import shutil

from snowflake.ingest.streaming import StreamingIngestClient

from aidemo.config import load_profile


def test_profile_names_the_local_backend_and_the_sdk_ignores_that_key(backend, fresh_table, tmp_path):
    profile = json.loads(backend.home.profile.read_text())
    assert profile["backend"] == "local"

    client = StreamingIngestClient(
        "profile_json",
        profile["database"],
        profile["schema"],
        f"{fresh_table}-STREAMING",
        profile_json=str(backend.home.profile),
    )
    try:
        channel, _ = client.open_channel("ch")
        channel.append_row({"ORDER_ID": 1, "ORDER_STATUS": "from profile.json"}, "1")
        channel.wait_for_commit(lambda token: token == "1", 60)
    finally:
        client.close()
    assert backend.sql(f"SELECT ORDER_ID, ORDER_STATUS FROM RAW.{fresh_table}").values.tolist() == [
        [1, "from profile.json"]
    ]

    copied = tmp_path / "profile.json"  # next to an app, as the SDK's examples tell users to do
    shutil.copy(backend.home.profile, copied)
    assert load_profile(copied, env={}).backend == "local"
