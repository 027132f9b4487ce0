"""SQL through ``snowflake-connector-python``, the one SQL client of the kit.

Both backends connect with :func:`connect` (the local service speaks the connector's protocol),
so a statement runs the same way on both; only the :class:`Endpoint` differs. Results become
DataFrames through one normaliser, :func:`to_frame`, and connector errors become the kit's
:class:`~aidemo.errors.SqlError` or :class:`~aidemo.errors.BackendError` with a hint of what to fix.

Dtypes of a result, whichever backend it came from:

=====================================  ==============================================
NUMBER(p,0) and integer types          ``Int64`` (nullable integers)
NUMBER(p,s) with s > 0, FLOAT          ``float64`` (not ``Decimal``: the demo's money
                                       columns have at most 2 decimals)
TIMESTAMP_NTZ                          ``datetime64[ns]``
TIMESTAMP_LTZ / TIMESTAMP_TZ           ``datetime64[ns, UTC]``
DATE, TIME, BOOLEAN, VARCHAR, VARIANT  ``object`` (``date``, ``time``, ``bool``, ``str``)
=====================================  ==============================================
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from aidemo.errors import BackendError, SqlError

if TYPE_CHECKING:
    import pandas
    from snowflake.connector import SnowflakeConnection

# Seconds the connector keeps retrying a login before it gives up (its own default is minutes).
LOGIN_TIMEOUT_S = 30

# Type codes of cursor.description (snowflake.connector.constants.FIELD_ID_TO_NAME).
_FIXED, _REAL, _TIMESTAMP_LTZ, _TIMESTAMP_TZ, _TIMESTAMP_NTZ = 0, 1, 6, 7, 8


@dataclass(frozen=True, repr=False)
class Endpoint:
    """Where and as whom the connector logs in: an account URL, a user and its PKCS#8 PEM key."""

    account: str
    user: str
    url: str
    private_key: str
    role: str | None = None
    warehouse: str | None = None
    database: str | None = None
    schema: str | None = None
    # A PEM bundle the connection trusts (the local service's CA); None: the connector's defaults.
    # Given per connection to 5.x, whose native core reads SSL_CERT_FILE only once.
    trust_bundle: str | None = None

    def __repr__(self) -> str:
        return f"Endpoint({self.user}@{self.url}, role={self.role}, {self.database}.{self.schema})"

    def connect_args(self) -> dict:
        """Keyword arguments of ``snowflake.connector.connect``: host, port and protocol from ``url``."""
        from cryptography.hazmat.primitives import serialization

        from aidemo.backends.keys import load_private_key

        parts = urlsplit(self.url)
        der = load_private_key(self.private_key).private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        args = {
            "account": self.account,
            "user": self.user,
            "private_key": der,
            "host": parts.hostname,
            "port": parts.port or (443 if parts.scheme == "https" else 80),
            "protocol": parts.scheme,
            "role": self.role,
            "warehouse": self.warehouse,
            "database": self.database,
            "schema": self.schema,
            "login_timeout": LOGIN_TIMEOUT_S,
        }
        if connector_major() >= 5:
            args["custom_root_store_path"] = self.trust_bundle
            # Log out on close (the kit runs no async queries); saying so also silences 5.x's warning.
            args["enable_server_session_keep_alive_auto_detection"] = False
        return {key: value for key, value in args.items() if value is not None}


def connector_major() -> int:
    """The major version of the installed connector: 5 (the ``snowflake`` extra) or 4 (the ``snowpark`` extra).

    4.x has no per-connection trust bundle: it trusts REQUESTS_CA_BUNDLE only, which the local
    backend points at the service's CA (:class:`aidemo.backends.backend.LocalBackend`)."""
    from snowflake.connector.version import VERSION

    return VERSION[0]


def connect(endpoint: Endpoint) -> SnowflakeConnection:
    """An open connection; a failed login raises :class:`BackendError` saying what to fix."""
    import snowflake.connector

    with connector_errors(f"connecting to {endpoint.url} as {endpoint.user}", BackendError, endpoint):
        return snowflake.connector.connect(**endpoint.connect_args())


def run(connection: SnowflakeConnection, statement: str) -> pandas.DataFrame:
    """Run a statement or a script (split by the connector); the last statement's rows."""
    with connector_errors(_short(statement), SqlError):
        cursor = None
        for cursor in connection.execute_string(statement, remove_comments=True):  # noqa: B007 (the last one)
            pass
        if cursor is None:
            raise SqlError(f"{_short(statement)}: no statement to run")
        return to_frame(cursor.description or [], cursor.fetchall() if cursor.description else [])


def to_frame(description, rows: list) -> pandas.DataFrame:
    """Rows of the connector (``cursor.description``, ``fetchall()``) as a DataFrame of the dtypes above."""
    import pandas

    names = [column.name for column in description]
    frame = pandas.DataFrame(rows, columns=names, dtype=object)
    for i, column in enumerate(description):
        frame.isetitem(i, _normalise(frame.iloc[:, i], column))
    return frame


def _normalise(values: pandas.Series, column) -> pandas.Series:
    import pandas

    code = column.type_code
    if code == _FIXED and not column.scale:
        return values.astype("Int64")
    if code in (_FIXED, _REAL):
        return values.astype("float64")
    if code in (_TIMESTAMP_NTZ, _TIMESTAMP_LTZ, _TIMESTAMP_TZ):
        with contextlib.suppress(pandas.errors.OutOfBoundsDatetime):  # years past 2262 stay datetimes
            return pandas.to_datetime(values, utc=code != _TIMESTAMP_NTZ).astype(
                "datetime64[ns]" if code == _TIMESTAMP_NTZ else "datetime64[ns, UTC]"
            )
    return values


_UNKNOWN_OBJECT = (
    "an object it names does not exist, or the role lacks a privilege on it: check the name, "
    "run `aidemo setup`, or grant it (sql/04_grants.sql)"
)
# Snowflake error codes and what to do about them.
_HINTS = {
    390144: "the private key does not match the public key registered for user {user} (register it with "
    "ALTER USER {user} SET RSA_PUBLIC_KEY='...', as notebook 00 prints), or user {user} does not exist in "
    "account {account}",
    390100: "user {user} does not exist in account {account}, or cannot log in with a key pair",
    390101: "user {user} is locked or disabled",
    390189: "role {role} is not granted to user {user}: run sql/04_grants.sql or change role in the profile",
    390201: "database {database} does not exist or role {role} cannot use it: run `aidemo setup` and sql/04_grants.sql",
    390202: (
        "schema {database}.{schema} does not exist or role {role} cannot use it: "
        "run `aidemo setup` and sql/04_grants.sql"
    ),
    250001: "cannot reach {url}: check url in the profile and the network (for a local service: is it running, "
    "and does SSL_CERT_FILE hold its CA? `aidemo local env` prints the exports)",
    251005: "the profile has no user",
    2003: _UNKNOWN_OBJECT,
    2043: _UNKNOWN_OBJECT,
    3001: "the role lacks a privilege this statement needs: see sql/04_grants.sql",
    606: "no warehouse is in use: set warehouse in the profile",
}


class SessionLost(BackendError):
    """The server no longer knows the connection's session (it restarted, or the session expired):
    the statement did not run, and a new connection may run it."""


# Session token unknown or expired, master token too (5.x reports a failed renewal as 250001).
_SESSION_GONE = (390112, 390114)


def _session_gone(errno: int, text: str) -> bool:
    return errno in _SESSION_GONE or (errno == 250001 and "refresh session" in text)


@contextlib.contextmanager
def connector_errors(doing: str, error: type[Exception], endpoint: Endpoint | None = None):
    """Connector exceptions inside the block as ``error`` naming ``doing`` and a hint of what to fix."""
    import snowflake.connector.errors as sf

    try:
        yield
    except sf.Error as exc:
        errno = exc.errno if isinstance(exc.errno, int) else -1
        if _session_gone(errno, str(exc)):
            raise SessionLost(f"{doing}: {' '.join(str(exc).split())}") from None
        raise error(_message(doing, exc, errno, endpoint)) from None
    except OSError as exc:  # a socket or TLS failure the connector did not wrap
        raise BackendError(f"{doing}: {exc}") from None


def _message(doing: str, exc, errno: int, endpoint: Endpoint | None) -> str:
    text = " ".join(str(exc).split())  # "002003 (42S02): SQL compilation error: ..."
    hint = _HINTS.get(errno)
    # A login that timed out (5.x, HYT00) never heard from the server: as unreachable as a refused one.
    timed_out = getattr(exc, "sqlstate", None) == "HYT00" and "login" in text.lower()
    if hint is None and (timed_out or "certificate" in text.lower() or "ssl" in text.lower()):
        hint = _HINTS[250001]
    if hint:
        fields = {key: value for key, value in vars(endpoint).items() if value} if endpoint else {}
        hint = hint.format_map(_Blank(fields))
    return f"{doing}: {text}" + (f"; {hint}" if hint else "")


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "?"


def _short(statement: str, limit: int = 80) -> str:
    text = " ".join(statement.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
