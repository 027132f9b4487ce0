"""Where the SDK streams to and SQL runs: the local service or a real Snowflake account.

One small interface, :class:`StreamingBackend`, two implementations, and one function,
:func:`open_backend`, that picks one from the profile. Both hand the same SDK the same
calls; only the client properties and the SQL path differ.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
import warnings
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from aidemo.backends.faultswitch import FaultSwitch
from aidemo.backends.sdk import new_client
from aidemo.config import Profile, load_profile
from aidemo.errors import AidemoError, ConfigError, from_local

if TYPE_CHECKING:
    import pandas
    from snowflake.ingest.streaming import StreamingIngestClient

    from aidemo.backends.sqlclient import Endpoint
    from aidemo.local.process.home import ServiceHome


# How Snowflake (and the local service) says that a pipe is missing or out of the role's reach.
_MISSING = "does not exist or not authorized"


class StreamingBackend(ABC):
    """What the kit needs of a backend: SDK clients for a pipe, and SQL."""

    name: str
    database: str
    schema: str

    def __init__(self) -> None:
        self._connection = None
        self._sql_lock = threading.Lock()

    @abstractmethod
    def client_properties(self) -> dict[str, str]:
        """Properties for ``StreamingIngestClient``."""

    def create_client(self, client_name: str, pipe: str, flush_tick_ms: int | None = None) -> StreamingIngestClient:
        """An SDK client for ``pipe``; SDK errors come back as :class:`StreamingError`.

        ``flush_tick_ms`` first asks the server for that flush cadence (see :meth:`set_flush_tick`).
        A pipe that does not exist fails saying how to create it.
        """
        try:
            if flush_tick_ms is not None:
                self.set_flush_tick(pipe, flush_tick_ms)
            return new_client(client_name, self.database, self.schema, pipe, self.client_properties())
        except AidemoError as exc:
            if _MISSING not in str(exc):
                raise
            raise type(exc)(
                f"{exc} Run `aidemo setup` to create the demo's tables and pipes in {self.database}.{self.schema}, "
                "or check the pipe names in config.properties and the role's privileges (sql/04_grants.sql)"
            ) from exc

    @abstractmethod
    def endpoint(self) -> Endpoint:
        """Where SQL connects: account URL, user and key."""

    def sql(self, statement: str) -> pandas.DataFrame:
        """Run one statement (or a script: the last statement's result) and return its rows.

        One connection per backend, opened on first use and shared by the threads of the
        process (one statement at a time); :meth:`close` closes it.
        """
        from aidemo.backends.sqlclient import SessionLost, run

        with self._sql_lock:
            try:
                return run(self._open(), statement)
            except SessionLost:  # the server restarted or forgot the session: log in again, once
                self._drop_connection(retry=False)
                return run(self._open(), statement)

    def _open(self):
        from aidemo.backends.sqlclient import connect

        if self._connection is None:
            self._connection = connect(self.endpoint())
            # Registered after the connector's own exit handler, so it runs first: a backend
            # nobody closed (a notebook kernel ending) closes without the connector's warning.
            atexit.register(self.close)
        return self._connection

    def close(self) -> None:
        """Close the SQL connection, if one is open; the next statement opens a new one."""
        with self._sql_lock:
            self._drop_connection()

    def _drop_connection(self, retry: bool = True) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            atexit.unregister(self.close)
            with contextlib.suppress(Exception):  # the server may be gone already: nothing left to close
                connection.close(retry=retry)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def set_flush_tick(self, pipe: str, milliseconds: int) -> None:  # noqa: B027 (a no-op unless overridden)
        """Ask the server for a flush cadence; only the local service lets a client choose it."""

    def check_reachable(self) -> None:  # noqa: B027 (a no-op unless overridden)
        """Raise :class:`~aidemo.errors.BackendError` if the server is known to be gone for good.

        The SDK retries a vanished server without end; a stream whose commits stand still asks this.
        """

    def fault_control(self) -> FaultSwitch:
        """The server's fault switch (set, clear, status, restart); only the local service has one.

        Raises :class:`~aidemo.errors.ConfigError` here: a real account cannot be told to fail.
        """
        raise ConfigError(f"faults can be injected only into the local service, not the {self.describe()} backend")

    @property
    def supports_faults(self) -> bool:
        """Whether :meth:`fault_control` answers on this backend."""
        return False

    def child_environment(self) -> dict[str, str]:
        """Environment variables under which an ``aidemo`` command in a child process opens this backend."""
        return {"AIDEMO_BACKEND": self.name, "AIDEMO_DATABASE": self.database, "AIDEMO_SCHEMA": self.schema}

    def describe(self) -> str:
        return f"{self.name} ({self.database}.{self.schema})"


class LocalBackend(StreamingBackend):
    """The local Snowpipe Streaming service (started on first use, shared by all users)."""

    name = "local"

    def __init__(
        self,
        home: ServiceHome | str | os.PathLike | None = None,
        database: str | None = None,
        schema: str | None = None,
    ):
        """``database`` and ``schema``: where the demo's objects are (default AUTOMATED_INTELLIGENCE.RAW,
        which a fresh service holds); ``aidemo setup`` creates them anywhere else."""
        from aidemo.local.process.home import DATABASE, SCHEMA, ServiceHome
        from aidemo.local.process.service import ensure_running

        self.home = home if isinstance(home, ServiceHome) else ServiceHome.at(home)
        with from_local():
            self.info = ensure_running(self.home)
        self.database, self.schema = database or DATABASE, schema or SCHEMA
        super().__init__()
        _trust(self.home)

    def endpoint(self) -> Endpoint:
        from aidemo.backends.sqlclient import Endpoint

        props = self.info.sdk_properties()
        return Endpoint(
            props["account"],
            props["user"],
            props["url"],
            props["private_key"],
            role=props.get("role"),
            database=self.database,
            schema=self.schema,
            trust_bundle=str(self.home.trust_bundle),
        )

    def check_reachable(self) -> None:
        from aidemo.local.process.service import check_running

        with from_local():
            check_running(self.home)

    def client_properties(self) -> dict[str, str]:
        props = self.info.sdk_properties()
        for key in ("database", "schema"):
            props.pop(key)
        return props

    def set_flush_tick(self, pipe: str, milliseconds: int) -> None:
        from aidemo.local.process.client import LocalClient

        with from_local():
            LocalClient(self.info).set_flush_tick(self.database, self.schema, pipe, milliseconds)

    def fault_control(self) -> FaultSwitch:
        """The service's fault switch (see :mod:`aidemo.local.http.faults` for the kinds)."""
        from aidemo.local.process.client import LocalClient

        return FaultSwitch(LocalClient(self.info).faults)

    @property
    def supports_faults(self) -> bool:
        return True

    def child_environment(self) -> dict[str, str]:
        return super().child_environment() | {"AIDEMO_HOME": str(self.home.root)}

    def __reduce__(self):
        # A worker process reopens the same service home (started already, so no second start).
        return (LocalBackend, (str(self.home.root), self.database, self.schema))


class SnowflakeBackend(StreamingBackend):
    """A Snowflake account from profile.json (key-pair auth): the SDK and the connector both use its ``url``."""

    name = "snowflake"

    def __init__(self, profile: Profile):
        self.profile = profile
        self.database, self.schema = profile.database, profile.schema
        super().__init__()

    def client_properties(self) -> dict[str, str]:
        return self.profile.sdk_properties()

    def __reduce__(self):
        # A worker process opens its own connection from the same profile.
        return (SnowflakeBackend, (self.profile,))

    def endpoint(self) -> Endpoint:
        from aidemo.backends.sqlclient import Endpoint

        props = self.profile.sdk_properties()  # the key as unencrypted PKCS#8
        return Endpoint(
            props["account"],
            props["user"],
            props["url"],
            props["private_key"],
            role=self.profile.role,
            warehouse=self.profile.warehouse,
            database=self.database,
            schema=self.schema,
        )


def open_backend(profile: Profile | None = None, *, home=None) -> StreamingBackend:
    """The backend the profile selects: no profile or ``"backend": "local"`` means local."""
    profile = profile or load_profile()
    if profile.backend == "local":
        return LocalBackend(home, profile.database, profile.schema)
    return SnowflakeBackend(profile)


_trust_lock = threading.Lock()
_first_ca: list[str] = []  # the CA of the first local service this process trusted


def _trust(home: ServiceHome) -> None:
    """Point SSL_CERT_FILE (read by the SDK's Rust core at client creation) at a bundle with the local CA,
    and REQUESTS_CA_BUNDLE too where the connector is 4.x (which reads only that; 5.x gets the bundle
    per connection, Endpoint.trust_bundle).

    The bundle keeps the roots the process trusted before (the system's, or the bundles the
    user set in those variables), so other HTTPS in the same process keeps working.
    """
    from pathlib import Path

    from aidemo.backends.sqlclient import connector_major

    variables = ("SSL_CERT_FILE",) if connector_major() >= 5 else ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")

    with _trust_lock:
        ca = home.ca_cert.read_text()
        if not _first_ca:
            _first_ca.append(ca)
        elif _first_ca[0] != ca:
            warnings.warn(
                f"{home.root} has another CA than the local service this process used first: the SDK loads "
                "the trust roots of its S3 client once per process, so file-mode uploads (more than ~1 MB "
                "of rows per flush) to this service will fail; use one local service home per process",
                stacklevel=3,
            )
        current = {os.environ.get(name) for name in variables} - {None}
        users = sorted(path for path in current if Path(path).is_file() and not _is_local_bundle(path))
        if users:
            bundle = home.root / "trust-user.pem"
            bundle.write_text("".join(Path(path).read_text() + "\n" for path in users) + ca)
        else:
            bundle = home.trust_bundle
        for name in variables:
            os.environ[name] = str(bundle)


def _is_local_bundle(path: str) -> bool:
    """A trust bundle made by a local-service home (tests and demos may switch homes)."""
    from pathlib import Path

    p = Path(path)
    return p.name in ("trust.pem", "trust-user.pem") and (p.parent / "ca.pem").exists()
