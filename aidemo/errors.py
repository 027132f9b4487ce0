"""The kit's one error tree.

Every error the kit raises on purpose derives from :class:`AidemoError`; SDK and
connector errors are translated at one boundary (``raise ... from exc``) so a
notebook shows a message that says what to fix, never a Rust stack. The local service
has its own small tree (:mod:`aidemo.local.errors`); :func:`from_local` maps it onto this one
where the kit calls the service.

    AidemoError
    ├── ConfigError            a profile, config.properties, environment or argument value is wrong
    │   └── KeyPairError       a private key cannot be read (bad PEM, wrong or missing passphrase)
    ├── BackendError           the chosen backend cannot be reached or used
    │   └── LocalServiceError  the local service cannot start, stop or answer
    ├── SqlError               a statement failed or is not supported
    └── StreamingError         the SDK refused or failed a streaming call
        ├── TransientStreamingError  the call may succeed when retried
        │   └── BackpressureError    the SDK holds too many uncommitted rows; wait for commits
        ├── ChannelInvalidatedError  a channel was fenced or invalidated; reopen and replay
        └── OffsetTokenError   a committed offset token the kit did not write
"""

from __future__ import annotations

import contextlib

from aidemo.local import errors as local


class AidemoError(Exception):
    """Base of every error the kit raises on purpose."""


class ConfigError(AidemoError, ValueError):
    """A configuration value is missing or invalid; the message names the key and its source."""


class KeyPairError(ConfigError):
    """A private key cannot be loaded or is not an RSA key."""


class BackendError(AidemoError):
    """The selected backend cannot be used."""


class LocalServiceError(BackendError):
    """The local Snowpipe Streaming service failed to start, stop or answer."""


class SqlError(AidemoError):
    """A SQL statement failed or is not supported by the backend; the message names it."""


class StreamingError(AidemoError):
    """A Snowpipe Streaming call failed."""


class TransientStreamingError(StreamingError):
    """The SDK refused a call that may succeed when retried (a 5xx, retries exhausted)."""


class BackpressureError(TransientStreamingError):
    """The SDK holds more uncommitted rows than it may; retry once commits drain them."""


class ChannelInvalidatedError(StreamingError):
    """The channel was invalidated (for example fenced by a newer writer)."""


class OffsetTokenError(StreamingError):
    """An offset token does not have the form the kit writes."""


# The local service's errors as the kit's (the most specific class first).
_FROM_LOCAL: dict[type[local.LocalError], type[AidemoError]] = {
    local.KeyPairError: KeyPairError,
    local.ConfigError: ConfigError,
    local.SqlError: SqlError,
    local.LocalServiceError: LocalServiceError,
}


@contextlib.contextmanager
def from_local():
    """Raise the local service's errors as the kit's (``raise ... from exc``); also a decorator."""
    try:
        yield
    except local.LocalError as exc:
        kind = next(kit for cls, kit in _FROM_LOCAL.items() if isinstance(exc, cls))
        raise kind(str(exc)) from exc
