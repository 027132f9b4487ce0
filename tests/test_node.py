"""Node's snowflake-sdk (npm) against the local service: key-pair login, DDL, bound inserts, a query.

Once per checkout the pinned snowflake-sdk is installed from the npm registry into ``.node-c/``
(kept for later runs; made under a file lock, as pytest-xdist workers may ask at once), then
``tests/node/query.js`` runs with the distribution's Node, trusting the service's CA through
NODE_EXTRA_CA_CERTS, and prints what the SDK read as JSON: values and their JavaScript types.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from aidemo.local.process import service
from aidemo.local.process.home import ACCOUNT, DATABASE, ROLE, USER

SDK = "snowflake-sdk@3.4.1"
ROOT = Path(__file__).resolve().parents[1]
MODULES = ROOT / ".node-c"
SCRIPT = Path(__file__).with_name("node") / "query.js"
_schemas = itertools.count(1)

pytestmark = pytest.mark.skipif(
    not (shutil.which("node") and shutil.which("npm")),
    reason="Node and npm are not installed (Debian: apt-get install nodejs npm)",
)


def node_modules() -> Path:
    """The node_modules holding the pinned snowflake-sdk, installed from npm first if missing."""
    marker = MODULES / "aidemo-requirements.txt"
    MODULES.mkdir(exist_ok=True)
    with open(ROOT / ".node-c.lock", "w") as lock:  # pytest-xdist workers install it once
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists() or marker.read_text() != SDK:
            (MODULES / "package.json").write_text(json.dumps({"private": True}))
            done = subprocess.run(
                ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", str(MODULES), SDK],
                capture_output=True,
                text=True,
                timeout=900,
                check=False,
            )
            assert done.returncode == 0, f"npm install {SDK} failed:\n{done.stderr[-3000:]}"
            marker.write_text(SDK)
    return MODULES / "node_modules"


def test_node_snowflake_sdk_connects_and_reads_typed_rows(local_home, tmp_path):
    settings = {
        "account": ACCOUNT,
        "username": USER,
        "accessUrl": f"https://127.0.0.1:{service.status(local_home).port}",
        "privateKey": local_home.user_key.read_text(),
        "database": DATABASE,
        "schema": f"NODE_{os.getpid()}_{next(_schemas)}",
        "role": ROLE,
        "warehouse": "LOCAL_WH",
    }
    env = dict(os.environ, NODE_PATH=str(node_modules()), NODE_EXTRA_CA_CERTS=str(local_home.trust_bundle))
    done = subprocess.run(
        ["node", str(SCRIPT)],
        input=json.dumps(settings),
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,  # the SDK writes its snowflake.log there
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["inserted"] == 2
    assert report["columns"] == [
        ["ID", "fixed", 0],
        ["AMOUNT", "fixed", 2],
        ["NAME", "text", None],
        ["PAID", "boolean", None],
        ["DAY", "date", None],
        ["AT", "timestamp_ntz", 9],
        ["RATIO", "real", None],
    ]
    assert report["rows"] == [
        {
            "ID": ["number", "1"],
            "AMOUNT": ["number", "12.5"],
            "NAME": ["string", "first"],
            "PAID": ["boolean", "true"],
            "DAY": ["Date", "2024-01-02T00:00:00Z"],
            "AT": ["Date", "2024-01-02T03:04:05Z"],
            "RATIO": ["number", "0.25"],
        },
        {
            "ID": ["number", "2"],
            "AMOUNT": ["number", "7"],
            "NAME": ["string", "second"],
            "PAID": ["boolean", "false"],
            "DAY": ["Date", "2024-02-29T00:00:00Z"],
            "AT": ["Date", "2024-02-29T23:59:59Z"],
            "RATIO": ["number", "1.5"],
        },
    ]
    assert report["total"] == {"N": ["number", "2"], "TOTAL": ["number", "19.5"]}
