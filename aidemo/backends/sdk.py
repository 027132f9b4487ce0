"""The one place that imports the Snowpipe Streaming SDK.

It creates clients and turns the SDK's errors into the kit's, by one table from the SDK's
error code to a class of the kit's error tree:

- backpressure (:class:`~aidemo.errors.BackpressureError`): the SDK holds more uncommitted
  rows than it may; waited out while commits drain;
- retryable (:class:`~aidemo.errors.TransientStreamingError`): the call may succeed later;
- invalidated (:class:`~aidemo.errors.ChannelInvalidatedError`): reopen the channel and replay
  from its committed token;
- anything else is fatal (:class:`~aidemo.errors.StreamingError`).
"""

from __future__ import annotations

import contextlib
import logging
import os
from typing import TYPE_CHECKING

from aidemo.errors import BackpressureError, ChannelInvalidatedError, StreamingError, TransientStreamingError

if TYPE_CHECKING:
    from snowflake.ingest.streaming import StreamingIngestClient

#: The level at which the SDK's Rust core logs to stdout (``SS_LOG_LEVEL``): its warnings (every
#: retry of a 429/5xx, a stale continuation token) stay out, its errors show. The SDK knows ``info``,
#: ``warn`` and ``error`` only; any other value (``off`` too) means ``warn``. Errors also reach the
#: caller as the kit's exceptions (:mod:`aidemo.errors`).
SDK_LOG_LEVEL = "error"

ERROR_CLASSES: dict[str, type[StreamingError]] = {
    "ReceiverSaturated": BackpressureError,
    "MemoryThresholdExceeded": BackpressureError,
    "MemoryThresholdExceededInContainer": BackpressureError,
    "HttpRetryableClientError": TransientStreamingError,
    "HttpRetriesExhaustedError": TransientStreamingError,
    "SfApiInternalServerError": TransientStreamingError,
    "InvalidChannelError": ChannelInvalidatedError,
    "ClosedChannelError": ChannelInvalidatedError,
    "ChannelClosedByUser": ChannelInvalidatedError,
    "ChannelNotFound": ChannelInvalidatedError,
}


def error_code(exc: BaseException) -> str | None:
    """The SDK's error code of ``exc`` (e.g. ``"ReceiverSaturated"``), or None."""
    return getattr(getattr(exc, "error_code", None), "value", None)


def translate(exc: BaseException, doing: str) -> StreamingError:
    """The kit's error for an SDK exception raised while ``doing`` something."""
    return ERROR_CLASSES.get(error_code(exc), StreamingError)(f"{doing}: {exc}")


@contextlib.contextmanager
def sdk_errors(doing: str):
    """Translate SDK exceptions raised inside the block into the kit's error tree."""
    from snowflake.ingest.streaming import StreamingIngestError

    try:
        yield
    except StreamingIngestError as exc:
        raise translate(exc, doing) from exc


def quiet_sdk_logs() -> None:
    """Keep the SDK's log lines below ERROR out, as every part of the kit runs it (command line,
    notebooks, bench scripts).

    Its Rust core reads ``SS_LOG_LEVEL`` once, when the SDK loads: call this first (a level already
    set in the environment wins). Its Python loggers (``snowflake.ingest``) log at ERROR, less the
    line they log whenever a channel is reopened, as the kit does on purpose after a fault.
    """
    os.environ.setdefault("SS_LOG_LEVEL", SDK_LOG_LEVEL)
    logging.getLogger("snowflake.ingest").setLevel(logging.ERROR)
    logging.getLogger("snowflake.ingest.streaming.streaming_ingest_client").addFilter(_reopen_notice)


def _reopen_notice(record: logging.LogRecord) -> bool:
    """False for the SDK's "callback was already registered" line: a reopened channel, expected."""
    return not str(record.msg).startswith("An acknowledgement callback was already registered")


def new_client(client_name: str, database: str, schema: str, pipe: str, properties: dict) -> StreamingIngestClient:
    """An SDK client for ``database.schema.pipe``; errors come back as the kit's."""
    quiet_sdk_logs()  # before the SDK loads (its Rust core logs at INFO to stdout unless told otherwise)
    from snowflake.ingest.streaming import StreamingIngestClient

    with sdk_errors(f"creating a client for pipe {database}.{schema}.{pipe}"):
        return StreamingIngestClient(client_name, database, schema, pipe, properties=properties)
