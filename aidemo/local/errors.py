"""All of the local service's own errors; the kit maps the ``LocalError`` tree onto its own where it calls
the service, and the routes turn the others into their protocol's replies.

LocalError
├── ConfigError          a value handed to the service is wrong (the message names it)
│   └── KeyPairError     a private key cannot be read
├── SqlError             a statement failed or is not supported by the service
│   └── SnowflakeError   ... with a Snowflake code and SQLSTATE of its own
└── LocalServiceError    the service cannot start, stop or answer

ServiceError             a request a route refuses: an HTTP status and Snowflake's code
├── BodyTooLarge         a request body over its limit (413)
└── StatementError       a SQL API statement's failure, with its SQLSTATE
ConnectorError           a connector request answered with ``success: false`` and a code
└── QueryFailed          a statement failed, with its SQLSTATE and query id
AuthError                authentication failed (401)
BindError                bind variables that do not fit the statement (a ValueError)
"""

from __future__ import annotations


class LocalError(Exception):
    """Base of every error the local service raises on purpose."""


class ConfigError(LocalError, ValueError):
    """A value is missing or invalid; the message says which and what to give instead."""


class KeyPairError(ConfigError):
    """A private key cannot be loaded or is not an RSA key."""


class SqlError(LocalError):
    """A SQL statement failed or is not supported by the local service; the message names it."""


class LocalServiceError(LocalError):
    """The local service failed to start, stop or answer."""


class SnowflakeError(SqlError):
    """A statement refused or failed with a Snowflake code and SQLSTATE of its own."""

    def __init__(self, code: tuple[str, str], message: str):
        super().__init__(message)
        self.code = code


class ServiceError(Exception):
    """A request the service refuses; becomes ``{"code", "message"}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class BodyTooLarge(ServiceError):
    """A request body over the route's limit (413, answered before the rest of it is read)."""

    def __init__(self, limit: int):
        super().__init__(
            413,
            "EntityTooLarge",
            f"the request body exceeds the local service's limit of {limit} bytes",
        )


class StatementError(ServiceError):
    """A statement's failure as the SQL API answers it: an HTTP status, Snowflake's code and SQLSTATE."""

    def __init__(self, status: int, code: str, sql_state: str, message: str):
        super().__init__(status, code, message)
        self.sql_state = sql_state


class ConnectorError(Exception):
    """A request the protocol answers with ``success: false`` and a Snowflake code."""

    def __init__(self, code: str, message: str, sql_state: str | None = None):
        super().__init__(message)
        self.code, self.message, self.sql_state = code, message, sql_state


class QueryFailed(ConnectorError):
    """A statement failed: the error also carries its SQLSTATE and query id."""

    def __init__(self, code: str, sql_state: str, message: str, query_id: str):
        super().__init__(code, message, sql_state)
        self.query_id = query_id


class AuthError(Exception):
    """Authentication failed; ``code`` and ``message`` go into the 401 body."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class BindError(ValueError):
    """The bindings do not fit the statement (missing, malformed or of an unknown shape)."""
