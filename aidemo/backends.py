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
_first_ca: list[str] = []  # the CA of the first local service this process trusted


def _trust(home: "ServiceHome") -> None:
    """Point SSL_CERT_FILE (read by the SDK's Rust core at client creation) at a bundle with the local CA.

    The bundle keeps the roots the process trusted before (the system's, or a bundle the
    user set in SSL_CERT_FILE), so other HTTPS in the same process keeps working.
    """
    from pathlib import Path

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
        current = os.environ.get("SSL_CERT_FILE")
        if current and Path(current).is_file() and not _is_local_bundle(current):
            bundle = home.root / "trust-user.pem"
            bundle.write_text(Path(current).read_text() + "\n" + ca)
        else:
            bundle = home.trust_bundle
        os.environ["SSL_CERT_FILE"] = str(bundle)


def _is_local_bundle(path: str) -> bool:
    """A trust bundle made by a local-service home (tests and demos may switch homes)."""
    from pathlib import Path

    p = Path(path)
    return p.name in ("trust.pem", "trust-user.pem") and (p.parent / "ca.pem").exists()


def _short(statement: str, limit: int = 80) -> str:
    text = " ".join(statement.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
