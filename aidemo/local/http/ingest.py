"""Snowpipe Streaming's routes: hostname, scoped-token exchange, telemetry, pipe info, channels,
rows and file fragments, and the stand-in S3 stage's PutObject. One function per action; the
URLs are in :mod:`aidemo.local.http.urls`.

The elastic channel is the one implicit channel named ``ELASTIC`` that every pipe has: a channel
with no tokens, served by the same handlers as a named channel. What SDK 1.9.1 sends for it
(``StreamingIngestClient.from_table(...)`` or a pipe client, then ``get_elastic_channel()``),
observed with ``SS_LOG_LEVEL=debug`` and a request log:

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

import base64
import threading
import time
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from aidemo.local.errors import ServiceError
from aidemo.local.http import auth
from aidemo.local.http.auth import KEYPAIR_JWT, OAUTH, endpoint
from aidemo.local.http.replies import field, read_json
from aidemo.local.http.state import ServiceState, state_of
from aidemo.local.storage.stage import BUCKET, fragment_batch
from aidemo.local.storage.store import Pipe, Store

ELASTIC = "ELASTIC"
_create_lock = threading.Lock()


@endpoint(KEYPAIR_JWT)
async def hostname(request: Request, principal) -> Response:
    """The host the SDK sends its data requests to."""
    return PlainTextResponse("127.0.0.1")


@endpoint(KEYPAIR_JWT)
async def oauth_token(request: Request, principal) -> Response:
    """A key-pair JWT traded for a scoped token (the form's ``scope``)."""
    try:
        form = parse_qs((await request.body()).decode(), strict_parsing=False, max_num_fields=20)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ServiceError(400, "000003", f"the body must be a URL-encoded form: {exc}") from None
    state = state_of(request)
    scope = form.get("scope", [""])[0]
    return PlainTextResponse(auth.issue_scoped_token(state.secret, principal, scope, state.token_ttl_s))


@endpoint(KEYPAIR_JWT, OAUTH)
async def telemetry(request: Request, principal) -> Response:
    """The SDK's sessionless telemetry, acknowledged."""
    return JSONResponse({"success": True, "data": "ok"})


@endpoint(OAUTH)
async def pipe_action(request: Request, principal) -> Response:
    """``POST .../pipes/{pipe}:pipe-info`` and ``...:bulk-channel-status``."""
    state, p = state_of(request), request.path_params
    name, _, action = p["pipe_action"].partition(":")
    pipe = await run_in_threadpool(state.store.pipe, p["db"], p["schema"], name)
    if action == "pipe-info":
        host, port = request.scope["server"]
        expiry_ms = int(time.time() * 1000) + state.pipe_info_ttl_ms
        location = state.stage.new_location(expiry_ms)
        return JSONResponse(_pipe_info(pipe, location, f"{host}:{port}", state.pipe_key(pipe), expiry_ms))
    if action == "bulk-channel-status":
        names = field(await read_json(request), "channel_names", list, [])
        if not all(isinstance(n, str) for n in names):
            raise ServiceError(400, "000003", "'channel_names' must be a list of channel names (strings)")
        await run_in_threadpool(ensure_elastic, state.store, pipe, names)
        statuses = await run_in_threadpool(state.store.channel_statuses, pipe, names)
        return JSONResponse({"channel_statuses": statuses})
    raise ServiceError(404, "NOT_FOUND", f"Unknown pipe action {action!r}.")


@endpoint(OAUTH)
async def channel(request: Request, principal) -> Response:
    """Open (PUT) or drop (DELETE) a named channel."""
    store, p = state_of(request).store, request.path_params
    pipe = await run_in_threadpool(store.pipe, p["db"], p["schema"], p["pipe"])
    if request.method == "DELETE":
        token = await run_in_threadpool(store.drop_channel, pipe, p["channel"])
        return JSONResponse({"last_committed_offset_token": token})
    body = await read_json(request, empty={})
    token, status = await run_in_threadpool(store.open_channel, pipe, p["channel"], field(body, "offset_token", str))
    return JSONResponse({"next_continuation_token": token, "channel_status": status})


@endpoint(OAUTH)
async def rows(request: Request, principal) -> Response:
    """Rowset mode: one POST of NDJSON rows (plain or zstd) into a channel."""
    store, p, q = state_of(request).store, request.path_params, request.query_params
    pipe = await _pipe_of(store, request)
    encoding = request.headers.get("content-encoding", "").lower()
    if encoding not in ("", "identity", "zstd"):
        raise ServiceError(415, "UNSUPPORTED_CONTENT_ENCODING", f"Content-Encoding {encoding!r} is not supported.")
    token = await run_in_threadpool(
        store.append_rows,
        pipe,
        p["channel"],
        _continuation(request),
        await request.body(),
        "zstd" if encoding == "zstd" else "none",
        q.get("startOffsetToken"),
        q.get("endOffsetToken"),
    )
    # The elastic channel's SDK requires next_continuation_token in the reply but never sends it back.
    return JSONResponse({"next_continuation_token": token})


@endpoint(OAUTH)
async def filebuffer(request: Request, principal) -> Response:
    """File mode: register uploaded file fragments, loaded into a channel in one step."""
    state, p = state_of(request), request.path_params
    pipe = await _pipe_of(state.store, request)
    fragments = await read_json(request, list)
    if not fragments:
        raise ServiceError(400, "ERR_INVALID_FRAGMENT", "body must be a non-empty JSON array of file fragments")
    token = await run_in_threadpool(load_fragments, state, pipe, p["channel"], _continuation(request), fragments)
    return JSONResponse({"next_continuation_token": token})


@endpoint()
async def put_object(request: Request, principal) -> Response:
    """S3 PutObject (path-style) into the stand-in stage; the signed prefix is the credential."""
    stage = state_of(request).stage
    key = f"{BUCKET}/{request.path_params['key']}"
    stage.path_of(key)  # checked before the body is read
    etag = await run_in_threadpool(stage.put, key, await request.body(), request.headers)
    return Response(status_code=200, headers={"ETag": etag})


def ensure_elastic(store: Store, pipe: Pipe, channel_names: list[str]) -> None:
    """Make the pipe's ELASTIC channel exist when a request names it."""
    if ELASTIC not in channel_names:
        return
    with _create_lock:
        if ELASTIC not in store.channel_statuses(pipe, [ELASTIC]):
            store.open_channel(pipe, ELASTIC, None)


def load_fragments(state: ServiceState, pipe, channel: str, continuation_token: str | None, fragments: list) -> str:
    """Load registered file fragments in one transaction, then delete their uploads."""
    key = state.pipe_key(pipe)
    batches, uploads = [], []
    try:
        for fragment in fragments:
            batch, upload = fragment_batch(state.stage, fragment, key, state.home.spool)
            batches.append(batch)
            uploads.append(upload)
        token = state.store.load(pipe, channel, continuation_token, batches)
    finally:
        for batch in batches:
            batch.path.unlink(missing_ok=True)
    for upload in uploads:
        upload.unlink(missing_ok=True)
    state.count_fragments(pipe, channel, len(batches))
    return token


async def _pipe_of(store: Store, request: Request) -> Pipe:
    """The pipe a data request addresses (its ELASTIC channel made if the request is for it)."""
    p = request.path_params
    pipe = await run_in_threadpool(store.pipe, p["db"], p["schema"], p["pipe"])
    if p["channel"] == ELASTIC:
        await run_in_threadpool(ensure_elastic, store, pipe, [ELASTIC])
    return pipe


def _continuation(request: Request) -> str | None:
    """The request's continuation token; None (no fencing check) for the elastic channel, which has none."""
    if request.path_params["channel"] == ELASTIC:
        return None
    return request.query_params.get("continuationToken", "")


def _pipe_info(pipe, location: str, endpoint: str, pipe_key: bytes, expiry_ms: int) -> dict:
    # Each pipe-info call gets its own stage prefix: the SDK numbers its files per client from 0.
    # ``storage_endpoint`` (bare host:port; the SDK prepends https://) points the SDK's S3 client
    # at this service for every client, whatever AWS_ENDPOINT_URL* the process has set.
    location = {
        "expiry_time_ms": expiry_ms,
        "location_type": "S3",
        "use_s3_regional_url": False,
        "location": location,
        "storage_endpoint": endpoint,
        "region": "us-west-2",
        "creds": {"AWS_KEY_ID": "aidemo", "AWS_SECRET_KEY": "aidemo", "AWS_TOKEN": "aidemo"},
    }
    return {
        "rowset_stage_location": location,
        "durable_stage_location": location,
        "encryption_info": {"pipe_key": base64.b64encode(pipe_key).decode(), "pipe_key_id": 1, "diversifier": "aidemo"},
        "parameter_overrides": {"max_append_request_buffer_duration_ms": pipe.flush_tick_ms},
    }
