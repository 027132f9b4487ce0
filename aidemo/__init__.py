"""aidemo: a notebook-driven demo kit for Snowflake's Snowpipe Streaming (high-performance architecture).

The official ``snowpipe-streaming`` SDK streams synthetic orders and order items either into a
local Snowpipe Streaming service (the default, nothing to sign up for) or into a real account
chosen by ``profile.json``. The public API::

    backend = aidemo.open_backend()            # local service, or Snowflake from profile.json
    aidemo.run_file("monitoring/row_counts.sql", backend)
"""

from aidemo.backends.backend import StreamingBackend, open_backend
from aidemo.backends.keys import KeyPair, generate_key_pair
from aidemo.backends.scripts import run_file, run_sql
from aidemo.config import Profile, load_profile
from aidemo.errors import (
    AidemoError,
    BackendError,
    BackpressureError,
    ChannelInvalidatedError,
    ConfigError,
    KeyPairError,
    LocalServiceError,
    OffsetTokenError,
    SqlError,
    StreamingError,
    TransientStreamingError,
)
from aidemo.settings import Settings, load_settings

__version__ = "0.1.0"

__all__ = [
    "AidemoError",
    "BackendError",
    "BackpressureError",
    "ChannelInvalidatedError",
    "ConfigError",
    "KeyPair",
    "KeyPairError",
    "LocalServiceError",
    "OffsetTokenError",
    "Profile",
    "Settings",
    "SqlError",
    "StreamingBackend",
    "StreamingError",
    "TransientStreamingError",
    "__version__",
    "generate_key_pair",
    "load_profile",
    "load_settings",
    "open_backend",
    "run_file",
    "run_sql",
]
