"""Shared fixtures: a local service started and stopped by the tests themselves."""

from __future__ import annotations

import itertools
import os

import pytest

from aidemo.backends.backend import LocalBackend, SnowflakeBackend
from aidemo.backends.keys import generate_key_pair
from aidemo.backends.scripts import run_file
from aidemo.config import load_profile
from aidemo.local.process import service
from aidemo.local.process.home import ServiceHome
from tests.helpers import (
    LOG_BYTES,
    TTL_MS,
    Probe,
    connector_arguments,
    demo_database,
    environment,
    own_service,
    share_ca,
    write_snowflake_profile,
)

os.environ.setdefault("SS_LOG_LEVEL", "error")

# Tiers: ``integration`` is every test that uses a local service, ``slow`` is marked by hand
# (notebooks, browser, long fault and kill scenarios), ``unit`` is the rest and needs no service.
# Every fixture that reaches the session's service depends on local_home.
SERVICE_FIXTURES = {"local_home"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Mark each test with its tier, from the fixtures it uses, so that no test can be left out."""
    for item in items:
        if SERVICE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)
        if not any(item.get_closest_marker(name) for name in ("integration", "slow")):
            item.add_marker(pytest.mark.unit)


_running: list[pytest.Item] = []  # the test being set up, run or torn down
_start = service.start


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item):
    _running.append(item)
    try:
        return (yield)
    finally:
        _running.remove(item)


_started: list[str] = []  # the tests (or the session) that started a local service in this process


def _start_refused_in_unit_tests(home: ServiceHome):
    """service.start for the tests: a unit test (or a fixture it uses) that starts a service fails."""
    if _running and _running[-1].get_closest_marker("unit"):
        raise AssertionError(f"{_running[-1].nodeid} starts a local service: mark it integration (or use local_home)")
    _started.append(_running[-1].nodeid if _running else "session")
    return _start(home)


def pytest_sessionfinish(session):
    if hasattr(session.config, "workeroutput"):  # a pytest-xdist worker: tell the controller its starts
        session.config.workeroutput["services_started"] = _started


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """pytest-xdist's controller: gather the starts of a worker that finished."""
    _started.extend(getattr(node, "workeroutput", {}).get("services_started", ()))


def pytest_terminal_summary(terminalreporter):
    """How many local services the run started (each worker's session service included); services
    that a test's child processes start are not counted."""
    if _started:
        terminalreporter.write_line(f"local services started: {len(_started)} (in {len(set(_started))} tests)")


def pytest_configure(config):
    """While the tests run, a unit test that starts a local service fails (see _start_refused_in_unit_tests)."""
    service.start = _start_refused_in_unit_tests


def pytest_unconfigure(config):
    service.start = _start


@pytest.fixture(scope="session", autouse=True)
def session_home(tmp_path_factory) -> ServiceHome:
    """The home of the session's service, made (not started) before any test runs, and its CA in
    SSL_CERT_FILE from the start, as ``aidemo local env`` exports it: the connector's native core
    reads that variable once per process, at its first connection, whichever test makes it."""
    home = ServiceHome.at(tmp_path_factory.mktemp("aidemo-home"))
    home.ensure()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SSL_CERT_FILE", str(home.trust_bundle))
        yield home


@pytest.fixture(scope="session")
def local_home(session_home) -> ServiceHome:
    """The session's local service, started by the first test that needs it."""
    service.start(session_home)
    yield session_home
    service.stop(session_home)


@pytest.fixture(scope="session")
def backend(local_home) -> LocalBackend:
    """The local backend on the session's service (the demo's AUTOMATED_INTELLIGENCE.RAW), shared by the tests."""
    return LocalBackend(local_home)


_names = itertools.count(1)


@pytest.fixture
def fresh_table(backend, request) -> str:
    """A fresh table RAW.T_<n> shaped like ORDERS, for tests that need one of their own."""
    name = f"T_{request.node.name.split('[')[0].upper()[:40]}_{next(_names)}"
    backend.sql(
        f"CREATE TABLE RAW.{name} (ORDER_ID NUMBER(38,0) NOT NULL, CUSTOMER_ID NUMBER(38,0), "
        "ORDER_DATE TIMESTAMP_NTZ, ORDER_STATUS VARCHAR(20), TOTAL_AMOUNT NUMBER(10,2), "
        "DISCOUNT_PERCENT NUMBER(5,2), SHIPPING_COST NUMBER(8,2))"
    )
    return name


@pytest.fixture
def private_service(local_home, tmp_path) -> LocalBackend:
    """A service of its own, for tests about the service process (a restart, its fault counts);
    otherwise ``demo_db`` (a CLI or an app in a child process reaches it with AIDEMO_DATABASE)."""
    with own_service(share_ca(local_home, tmp_path / "home")) as backend:
        yield backend


_databases = itertools.count(1)


@pytest.fixture
def demo_db(local_home) -> LocalBackend:
    """The demo's objects in a database of their own on the session's service, for tests that own
    ORDERS / ORDER_ITEMS / CUSTOMERS and their channels completely; faults still on at the end are
    cleared (they act on the whole service)."""
    with demo_database(local_home, f"AI_{next(_databases)}") as backend:
        try:
            yield backend
        finally:
            backend.fault_control().clear()


@pytest.fixture(params=["local", pytest.param("snowflake", marks=pytest.mark.snowflake)])
def own_backend(request, demo_db, tmp_path):
    """A backend whose demo objects the test may change, freshly created in a database of its own.

    ``local``: the local backend on that database of the session's service. ``snowflake``: the
    Snowflake backend, on the account of the profile that AIDEMO_SNOWFLAKE_PROFILE names (its demo
    objects dropped and created again first), or else on that same database through a snowflake
    profile: the same connector, SDK calls and SQL as on an account.
    """
    if request.param == "local":
        yield demo_db
        return
    path = os.environ.get("AIDEMO_SNOWFLAKE_PROFILE")
    if not path:  # the service's CA is in SSL_CERT_FILE already (session_home)
        path = write_snowflake_profile(demo_db, tmp_path / "profile.json")
    with SnowflakeBackend(load_profile(path)) as backend:
        if os.environ.get("AIDEMO_SNOWFLAKE_PROFILE"):
            for name in ("reset.sql", "01_database.sql", "02_tables.sql", "03_pipes.sql"):
                run_file(name, backend)
        yield backend


@pytest.fixture(scope="session")
def plain_keys():
    """An unencrypted key pair."""
    return generate_key_pair()


@pytest.fixture(scope="session")
def encrypted_keys():
    """A key pair whose private key is encrypted with the passphrase 's3cret'."""
    return generate_key_pair(passphrase="s3cret")


@pytest.fixture(scope="session")
def connect(local_home):
    """Opens connections of the unmodified snowflake-connector-python to the session's service;
    keyword arguments override connect()'s. Every connection is closed at the end."""
    import snowflake.connector

    opened = []

    def open_connection(**overrides):
        connection = snowflake.connector.connect(**connector_arguments(local_home, **overrides))
        opened.append(connection)
        return connection

    yield open_connection
    for connection in opened:
        connection.close()


@pytest.fixture
def connection(connect):
    """A connector connection in a schema of its own (created for the test, and USEd)."""
    connection = connect()
    schema = f"C_{next(_names)}"
    connection.cursor().execute(f"CREATE SCHEMA {schema}")
    connection.cursor().execute(f"USE SCHEMA {schema}")
    return connection


@pytest.fixture
def in_empty_dir(tmp_path, monkeypatch):
    """Run from an empty directory, so no ./profile.json or ./config.properties is found."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="session")
def probe(tmp_path_factory) -> Probe:
    """Raw HTTPS to a service of its own with a small body limit, a short pipe-info expiry and a small log."""
    home = ServiceHome.at(tmp_path_factory.mktemp("hardening") / "home")
    with environment(
        AIDEMO_LOCAL_MAX_BODY_MB="1",
        AIDEMO_LOCAL_PIPE_INFO_TTL_MS=str(TTL_MS),
        AIDEMO_LOCAL_LOG_BYTES=str(LOG_BYTES),
    ):
        service.start(home)
    yield Probe(home)
    service.stop(home)
