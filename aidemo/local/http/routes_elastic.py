"""The elastic channel: the one implicit channel named ``ELASTIC`` that every pipe has.

What SDK 1.9.1 sends for it (``StreamingIngestClient.from_table(...)`` or a pipe client, then
``get_elastic_channel()``), observed with ``SS_LOG_LEVEL=debug`` and a request log:

- ``get_elastic_channel()`` sends no open-channel request: one ``:bulk-channel-status`` asking
  for ``ELASTIC``, and a reply without it fails as ``ChannelNotFound``. Here a pipe's ELASTIC
  channel always exists (its row is made the first time it is asked for).
- ``append_row[s][_with_wait]``: ``POST .../channels/ELASTIC/rows`` with neither a continuation
  token nor offset tokens; a bigger batch is uploaded and registered with
  ``POST .../channels/ELASTIC/filebuffer``, as for a named channel but again without tokens.
- A 2xx reply acknowledges every append in the request (futures resolve, the success handler
  gets their append tokens); a 4xx fails them (futures raise, the error handler gets the tokens
  with the request id). The SDK itself refuses to open or drop a channel named ``ELASTIC``.

A 2xx reply means the rows are durably received, not that each row loaded: as in Snowflake,
a row the table rejects is counted in the ELASTIC channel's status (``rows_error_count``,
``last_error_message``) and its append still succeeds. Any 4xx (a dropped table, a bad
request) fails every append of that request, and SDK 1.9.1 then marks the elastic channel
invalid for the rest of the client's life.
"""

from __future__ import annotations

import threading

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse
from starlette.routing import Route

from aidemo.local.errors import ServiceError
from aidemo.local.http.replies import read_json
from aidemo.local.storage.store import Pipe, Store

ELASTIC = "ELASTIC"
_DATA = "/v2/streaming/data/databases/{db}/schemas/{schema}/pipes/{pipe}/channels/" + ELASTIC
_create_lock = threading.Lock()


def ensure_elastic(store: Store, pipe: Pipe, channel_names: list[str]) -> None:
    """Make the pipe's ELASTIC channel exist when a status request asks for it."""
    if ELASTIC not in channel_names:
        return
    with _create_lock:
        if ELASTIC not in store.channel_statuses(pipe, [ELASTIC]):
            store.open_channel(pipe, ELASTIC, None)


def routes(service, endpoint, load_fragments) -> list[Route]:
    """The elastic channel's data routes; they must come before the named-channel routes.

    ``endpoint`` is the app's authenticating wrapper for OAuth routes and ``load_fragments``
    its file-mode loader, shared with named channels.
    """
    store: Store = service.store

    async def pipe_of(request) -> Pipe:
        p = request.path_params
        pipe = await run_in_threadpool(store.pipe, p["db"], p["schema"], p["pipe"])
        await run_in_threadpool(ensure_elastic, store, pipe, [ELASTIC])
        return pipe

    @endpoint
    async def rows(request, principal):
        pipe = await pipe_of(request)
        encoding = request.headers.get("content-encoding", "").lower()
        if encoding not in ("", "identity", "zstd"):
            raise ServiceError(
                415,
                "UNSUPPORTED_CONTENT_ENCODING",
                f"Content-Encoding {encoding!r} is not supported.",
            )
        compression = "zstd" if encoding == "zstd" else "none"
        body = await request.body()
        token = await run_in_threadpool(store.append_rows, pipe, ELASTIC, None, body, compression, None, None)
        # The SDK requires next_continuation_token in the reply but never sends it back.
        return JSONResponse({"next_continuation_token": token})

    @endpoint
    async def filebuffer(request, principal):
        pipe = await pipe_of(request)
        fragments = await read_json(request, list)
        if not fragments:
            raise ServiceError(
                400,
                "ERR_INVALID_FRAGMENT",
                "body must be a non-empty JSON array of file fragments",
            )
        token = await run_in_threadpool(load_fragments, service, pipe, ELASTIC, None, fragments)
        return JSONResponse({"next_continuation_token": token})

    return [
        Route(_DATA + "/rows", rows, methods=["POST"]),
        Route(_DATA + "/filebuffer", filebuffer, methods=["POST"]),
    ]
