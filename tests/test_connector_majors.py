"""The kit on the other connector version it supports: 4.8.1, which the ``snowpark`` extra installs.

The suite runs on 5.2.0 (the ``snowflake`` and ``dev`` extras). tests/connector4x.py makes a venv
with ``pip install -e ".[snowpark]"``; there the kit's own tests of its SQL path
(aidemo/backends/sqlclient.py through the backends, aidemo.backends.scripts's files,
aidemo.backends.provision) run again, with pytest in a child process.
"""

from __future__ import annotations

import os
import subprocess
import xml.etree.ElementTree as ElementTree

import pytest

from tests import connector4x

# The kit's tests that go through aidemo/backends/sqlclient.py: the backends' SQL path, sql/, setup.
KIT_TESTS = ("tests/test_backends.py", "tests/test_sql.py", "tests/test_provision.py")
VERSIONS = "import snowflake.connector as c, snowflake.snowpark as s; print(c.__version__, s.__version__)"


@pytest.fixture(scope="module")
def python():
    return str(connector4x.python())


@pytest.mark.slow
def test_the_snowpark_extra_installs_without_a_conflict(python):
    versions = subprocess.run([python, "-c", VERSIONS], capture_output=True, text=True, check=True).stdout
    assert versions.split() == ["4.8.1", "1.56.0"]
    check = subprocess.run([python, "-m", "pip", "check"], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.slow
def test_the_kits_connector_tests_pass_on_4x(python, tmp_path):
    report = tmp_path / "report.xml"
    # Nothing but what the kit itself sets (SSL_CERT_FILE, for the local service's CA) tells 4.x whom to trust.
    env = {key: value for key, value in os.environ.items() if key not in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")}
    done = subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow", f"--junitxml={report}", *KIT_TESTS],
        cwd=connector4x.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    (suite,) = ElementTree.parse(report).getroot().iter("testsuite")
    counts = {key: int(suite.get(key)) for key in ("tests", "failures", "errors", "skipped")}
    assert counts["tests"] >= 25 and counts["failures"] == counts["errors"] == 0, counts
    assert counts["skipped"] < counts["tests"] // 2, counts  # the real-account runs skip without a profile
