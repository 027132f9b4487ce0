"""Where the SDK streams to and SQL runs: the local service or a real Snowflake account.

One small interface, :class:`StreamingBackend`, two implementations, and one function,
:func:`open_backend`, that picks one from the profile. Both hand the same SDK the same
calls; only the client properties and the SQL path differ.
"""

from __future__ import annotations

import contextlib
import os
import threading
import warnings
import weakref
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from aidemo.config import Profile, load_profile, select_backend
from aidemo.errors import BackendError, StreamingError

if TYPE_CHECKING:
    import pandas
    from snowflake.ingest.streaming import StreamingIngestClient

    from aidemo.local.home import ServiceHome


class StreamingBackend(ABC):
    """What the kit needs of a backend: SDK clients for a pipe, and SQL."""

    name: str
    database: str
    schema: str

    @abstractmethod
    def client_properties(self) -> dict[str, str]:
        """Properties for ``StreamingIngestClient``."""

    def create_client(self, client_name: str, pipe: str) -> "StreamingIngestClient":
        """An SDK client for ``pipe``; SDK errors come back as :class:`StreamingError`."""
        # The SDK's Rust core logs at INFO to stdout unless told otherwise; keep notebooks readable.
        os.environ.setdefault("SS_LOG_LEVEL", "warn")
        from snowflake.ingest.streaming import StreamingIngestClient

        with sdk_errors(f"creating a client for pipe {pipe} on the {self.name} backend"):
            return StreamingIngestClient(
                client_name, self.database, self.schema, pipe, properties=self.client_properties()
            )

    @abstractmethod
    def sql(self, statement: str) -> "pandas.DataFrame":
        """Run one statement (or a script: the last statement's result) and return its rows."""

    def set_flush_tick(self, pipe: str, milliseconds: int) -> None:
        """Ask the server for a flush cadence; only the local service lets a client choose it."""

    def describe(self) -> str:
        return f"{self.name} ({self.database}.{self.schema})"


class LocalBackend(StreamingBackend):
    """The local Snowpipe Streaming service (started on first use, shared by all users)."""

    name = "local"

    def __init__(self, home: "ServiceHome | str | os.PathLike | None" = None):
        from aidemo.local.home import DATABASE, SCHEMA, ServiceHome
        from aidemo.local.service import ensure_running

        self.home = home if isinstance(home, ServiceHome) else ServiceHome.at(home)
        self.info = ensure_running(self.home)
        self.database, self.schema = DATABASE, SCHEMA
        _trust(self.home)

    def client_properties(self) -> dict[str, str]:
        props = self.info.sdk_properties()
        for key in ("database", "schema"):
            props.pop(key)
        return props

    def create_client(self, client_name: str, pipe: str) -> "StreamingIngestClient":
        """An SDK client whose file-mode uploads (its S3 client) go to the local service too."""
        with _s3_redirect(self.info.url, self.home.ca_cert.read_text()) as register:
            return register(super().create_client(client_name, pipe))

    def sql(self, statement: str) -> "pandas.DataFrame":
        from aidemo.local.client import LocalClient

        return LocalClient(self.info).query(statement, self.database, self.schema)

    def set_flush_tick(self, pipe: str, milliseconds: int) -> None:
        from aidemo.local.client import LocalClient

        LocalClient(self.info).set_flush_tick(self.database, self.schema, pipe, milliseconds)

    @property
    def faults(self):
        """Switch the service's faults on and off (see ``aidemo.local.faults``)."""
        from aidemo.local.client import LocalClient

        return LocalClient(self.info).faults


class SnowflakeBackend(StreamingBackend):
    """A real account from profile.json (key-pair auth); SQL through snowflake-connector-python."""

    name = "snowflake"

    def __init__(self, profile: Profile):
        self.profile = profile
        self.database, self.schema = profile.database, profile.schema
        self._connection = None
        self._lock = threading.Lock()

    def client_properties(self) -> dict[str, str]:
        return self.profile.sdk_properties()

    def sql(self, statement: str) -> "pandas.DataFrame":
        import pandas

        cursor = self._connect().cursor()
        try:
            for cur in self._connect().execute_string(statement):
                cursor = cur
            rows = cursor.fetchall() if cursor.description else []
            columns = [d[0] for d in cursor.description or []]
            return pandas.DataFrame(rows, columns=columns)
        except Exception as exc:  # the connector's ProgrammingError & co.
            from aidemo.errors import SqlError

            raise SqlError(f"{_short(statement)}: {exc}") from exc

    def _connect(self):
        with self._lock:
            if self._connection is None:
                try:
                    import snowflake.connector
                except ImportError as exc:
                    raise BackendError(
                        "the snowflake backend needs snowflake-connector-python: pip install 'aidemo[snowflake]'"
                    ) from exc
                from cryptography.hazmat.primitives import serialization

                from aidemo.keys import load_private_key

                key = load_private_key(self.profile.private_key, self.profile.private_key_passphrase)
                self._connection = snowflake.connector.connect(
                    account=self.profile.account, user=self.profile.user, role=self.profile.role or None,
                    warehouse=self.profile.warehouse or None, database=self.database, schema=self.schema,
                    private_key=key.private_bytes(
                        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                        serialization.NoEncryption(),
                    ),
                )
            return self._connection


def open_backend(profile: Profile | None = None, *, home=None) -> StreamingBackend:
    """The backend the profile selects: no profile or ``"backend": "local"`` means local."""
    profile = profile or load_profile()
    if select_backend(profile) == "local":
        return LocalBackend(home)
    return SnowflakeBackend(profile)


def sdk_error(exc: BaseException, doing: str) -> StreamingError:
    """The kit's error for an SDK exception; an invalidated channel gets its own class."""
    from aidemo.errors import ChannelInvalidatedError

    code = getattr(getattr(exc, "error_code", None), "value", None)
    cls = ChannelInvalidatedError if code in ("InvalidChannelError", "ClosedChannelError") else StreamingError
    return cls(f"{doing}: {exc}")


@contextlib.contextmanager
def sdk_errors(doing: str):
    """Translate SDK exceptions raised inside the block into the kit's error tree."""
    from snowflake.ingest.streaming import StreamingIngestError

    try:
        yield
    except StreamingIngestError as exc:
        raise sdk_error(exc, doing) from exc


_trust_lock = threading.Lock()


def _trust(home: "ServiceHome") -> None:
    """Point SSL_CERT_FILE (read by the SDK's Rust core at client creation) at a bundle with the local CA.

    The bundle keeps the roots the process trusted before (the system's, or a bundle the
    user set in SSL_CERT_FILE), so other HTTPS in the same process keeps working.
    """
    from pathlib import Path

    with _trust_lock:
        current = os.environ.get("SSL_CERT_FILE")
        if current and Path(current).is_file() and not _is_local_bundle(current):
            bundle = home.root / "trust-user.pem"
            bundle.write_text(Path(current).read_text() + "\n" + home.ca_cert.read_text())
        else:
            bundle = home.trust_bundle
        os.environ["SSL_CERT_FILE"] = str(bundle)


def _is_local_bundle(path: str) -> bool:
    """A trust bundle made by a local-service home (tests and demos may switch homes)."""
    from pathlib import Path

    p = Path(path)
    return p.name in ("trust.pem", "trust-user.pem") and (p.parent / "ca.pem").exists()


# The SDK builds its S3 client (file mode) from the process environment when the client is
# created AND again at every pipe-info refresh, which it schedules at most ~59 minutes apart
# whatever expiry the server sends. A value set only around create_client would therefore send
# uploads to AWS after the first refresh, so the variable stays set while any local client made
# here is open, and the previous value (or its absence) comes back when the last one is closed
# or collected. The service-specific AWS_ENDPOINT_URL_S3 is used rather than AWS_ENDPOINT_URL
# so that only S3 clients elsewhere in the process see it, and only during that time.
S3_ENDPOINT_VAR = "AWS_ENDPOINT_URL_S3"
_s3_lock = threading.Lock()
_s3_clients: "weakref.WeakSet" = weakref.WeakSet()
_s3_saved: list[str | None] = []  # the value before the redirect began; empty when not redirected
_s3_ca: list[str] = []  # the local CA of the first local client: the SDK's S3 client trusts no other


class _s3_redirect:
    """Hold the S3 endpoint on ``url`` while a client is created; ``register`` keeps it for that client."""

    def __init__(self, url: str, ca_pem: str):
        self.url = url
        self.ca_pem = ca_pem

    def __enter__(self):
        _s3_lock.acquire()
        try:
            if not _s3_ca:
                _s3_ca.append(self.ca_pem)
            elif _s3_ca[0] != self.ca_pem:
                warnings.warn(
                    f"{self.url} has another CA than the local service this process used first: the SDK loads "
                    "the trust roots of its S3 client once per process, so this client's file-mode uploads "
                    "(more than ~1 MB of rows per flush) will fail; use one local service home per process",
                    stacklevel=3,
                )
            if not _s3_saved:
                _s3_saved.append(os.environ.get(S3_ENDPOINT_VAR))
            os.environ[S3_ENDPOINT_VAR] = self.url
        except BaseException:
            _s3_lock.release()
            raise
        return self._register

    @staticmethod
    def _register(client):
        _s3_clients.add(client)
        weakref.finalize(client, _release_s3_endpoint)
        return client

    def __exit__(self, *exc):
        try:
            _restore_if_unused()
        finally:
            _s3_lock.release()
        return False


def _release_s3_endpoint() -> None:
    # Runs when a client is collected, maybe inside a section holding the lock: whoever holds
    # it restores the variable on the way out, so do not wait for it.
    if _s3_lock.acquire(blocking=False):
        try:
            _restore_if_unused()
        finally:
            _s3_lock.release()


def _prune_s3_clients() -> None:
    for client in list(_s3_clients):
        try:
            closed = client.is_closed()
        except Exception:  # a client the SDK already tore down
            closed = True
        if closed:
            _s3_clients.discard(client)


def _restore_if_unused() -> None:
    _prune_s3_clients()
    if not _s3_saved or any(True for _ in _s3_clients):  # iterating skips collected clients
        return
    previous = _s3_saved.pop()
    if previous is None:
        os.environ.pop(S3_ENDPOINT_VAR, None)
    else:
        os.environ[S3_ENDPOINT_VAR] = previous


def _short(statement: str, limit: int = 80) -> str:
    text = " ".join(statement.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
