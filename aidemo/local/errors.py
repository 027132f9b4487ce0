"""The local service's own errors; the kit maps them onto its error tree where it calls the service.

LocalError
├── ConfigError          a value handed to the service is wrong (the message names it)
│   └── KeyPairError     a private key cannot be read
├── SqlError             a statement failed or is not supported by the service
└── LocalServiceError    the service cannot start, stop or answer
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
