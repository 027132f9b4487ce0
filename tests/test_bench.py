"""Every benchmark script runs as its usage line says (``python bench/<name>.py``): asked for
``--help`` it prints its usage, so its imports resolve from the checkout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
SCRIPTS = sorted(p.name for p in BENCH.glob("*.py") if p.name != "service.py")  # service.py is their helper


@pytest.mark.parametrize("script", SCRIPTS)
def test_a_bench_script_answers_its_usage(script):
    done = subprocess.run(
        [sys.executable, str(BENCH / script), "--help"], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("usage: ") and script in done.stdout


def test_a_streaming_bench_script_runs_quiet():
    """The SDK's log lines below ERROR stay out of a bench run (its level set as the kit sets it)."""
    env = {key: value for key, value in os.environ.items() if key != "SS_LOG_LEVEL"}
    done = subprocess.run(
        [sys.executable, str(BENCH / "stream_single.py"), "--orders", "300", "--repeat", "1"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "run 1: 300 orders + " in done.stdout
    output = done.stdout + done.stderr
    assert "| INFO |" not in output and "| WARN |" not in output, output[-2000:]
