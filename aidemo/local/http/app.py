"""The HTTP routes of the local Snowpipe Streaming service (an ASGI app).

Routes follow what the official SDK sends (see the protocol notes in the docs): hostname,
scoped-token exchange, telemetry, pipe-info, open/drop channel, rows, bulk channel status;
plus Snowflake's SQL API (``/api/v2/statements``, :mod:`aidemo.local.http.sqlapi`) and a few ``/aidemo/v1``
service routes (health, flush tick, faults).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import os
import shutil
import threading
import time
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from aidemo.local.errors import AuthError, ConfigError, ServiceError
from aidemo.local.http import auth, connector, filetransfer, routes_elastic, sqlapi
from aidemo.local.http.faults import FaultInjector, FaultMiddleware, FaultSpec
from aidemo.local.http.replies import (
    MAX_BODY_BYTES,
    BodyLimit,
    check_names,
    field,
    read_json,
    refusal,
    scrub,
)
from aidemo.local.http.statements import MAX_RUNNING, Statements
from aidemo.local.process.home import ACCOUNT, ServiceHome
from aidemo.local.storage.stage import BUCKET, Stage, fragment_batch
from aidemo.local.storage.stages import Stages
from aidemo.local.storage.store import Store

log = logging.getLogger("aidemo.local")

PIPE_INFO_TTL_MS = 3_600_000
KEYPAIR_JWT = "KEYPAIR_JWT"
OAUTH = "OAUTH"


class Service:
    """State shared by the routes: the store, the signing secret, the account name."""

    def __init__(self, home: ServiceHome, store: Store):
        self.home = home
        self.store = store
        self.secret = home.token_secret.read_text()
        self.token_ttl_s = int(os.environ.get("AIDEMO_LOCAL_TOKEN_TTL_S", auth.SCOPED_TOKEN_TTL_S))
        self.pipe_info_ttl_ms = int(os.environ.get("AIDEMO_LOCAL_PIPE_INFO_TTL_MS", PIPE_INFO_TTL_MS))
        self.max_body_bytes = int(os.environ.get("AIDEMO_LOCAL_MAX_BODY_MB", MAX_BODY_BYTES >> 20)) << 20
        self.started = time.time()
        self.stage = Stage(home.stage, self.secret)
        self.stage.sweep()
        store.stages = Stages(home.stages, self.stage.sign)
        self.fragments: dict[str, int] = {}  # file-mode fragments loaded, per "DB.SCHEMA.PIPE/channel"
        self._fragments_lock = threading.Lock()
        self.injector = FaultInjector(store, home.root)
        self.statements = Statements(int(os.environ.get("AIDEMO_LOCAL_SQL_API_MAX_RUNNING", MAX_RUNNING)))
        self.disk_full: dict | None = None  # the last write refused for want of space, for `aidemo local status`

    def note_disk_full(self, exc: BaseException) -> str:
        """Remember a write that failed on a full disk; the message for the client."""
        message = f"the local service's disk is full (home {self.home.root}): free some space, then retry"
        self.disk_full = {"at": time.time(), "error": scrub(str(exc), str(self.home.root))}
        log.error("disk full: %s", self.disk_full["error"])
        return message

    def disk(self) -> dict:
        """Free space under the home and the last write refused for want of it."""
        usage = shutil.disk_usage(self.home.root)
        return {"free_bytes": usage.free, "total_bytes": usage.total, "full": self.disk_full}

    def count_fragments(self, pipe, channel: str, n: int) -> None:
        name = f"{pipe.database}.{pipe.schema}.{pipe.name}/{channel}"
        with self._fragments_lock:
            self.fragments[name] = self.fragments.get(name, 0) + n

    def pipe_key(self, pipe) -> bytes:
        """The 32-byte AES key the SDK encrypts a pipe's file-mode uploads with."""
        return hashlib.sha256(f"{self.secret}/{pipe.database}.{pipe.schema}.{pipe.name}".encode()).digest()

    def principal(self, request: Request, *allowed: str) -> auth.Principal:
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("bearer "):
            raise AuthError("390101", "Authorization header is missing or not a Bearer token.")
        token = header[7:].strip()
        kind = request.headers.get("x-snowflake-authorization-token-type", OAUTH).upper()
        if kind not in allowed:
            raise AuthError("390101", f"Authorization token type {kind} is not accepted here.")
        if kind == KEYPAIR_JWT:
            return auth.verify_keypair_jwt(token, ACCOUNT, self.store.user_keys())
        return auth.verify_scoped_token(token, self.secret)


def build_app(service: Service) -> Starlette:
    """The ASGI application serving one :class:`Service`."""

    def endpoint(*allowed: str):
        def wrap(handler):
            async def route(request: Request) -> Response:
                try:
                    check_names(request.url.path, request.path_params)
                    principal = service.principal(request, *allowed) if allowed else None
                    return await handler(request, principal)
                except Exception as exc:  # noqa: BLE001 - every failure gets a body the client can read
                    return refusal(request, exc, str(service.home.root), service.note_disk_full)

            return route

        return wrap

    store = service.store

    @endpoint(KEYPAIR_JWT)
    async def hostname(request, principal):
        return PlainTextResponse("127.0.0.1")

    @endpoint(KEYPAIR_JWT)
    async def oauth_token(request, principal):
        try:
            form = parse_qs((await request.body()).decode(), strict_parsing=False, max_num_fields=20)
        except (UnicodeDecodeError, ValueError) as exc:
            raise ServiceError(400, "000003", f"the body must be a URL-encoded form: {exc}") from None
        scope = form.get("scope", [""])[0]
        return PlainTextResponse(auth.issue_scoped_token(service.secret, principal, scope, service.token_ttl_s))

    @endpoint(KEYPAIR_JWT, OAUTH)
    async def telemetry(request, principal):
        return JSONResponse({"success": True, "data": "ok"})

    @endpoint(OAUTH)
    async def pipe_action(request, principal):
        p = request.path_params
        name, _, action = p["pipe_action"].partition(":")
        pipe = await run_in_threadpool(store.pipe, p["db"], p["schema"], name)
        if action == "pipe-info":
            host, port = request.scope["server"]
            expiry_ms = int(time.time() * 1000) + service.pipe_info_ttl_ms
            return JSONResponse(
                _pipe_info(
                    pipe, service.stage.new_location(expiry_ms), f"{host}:{port}", service.pipe_key(pipe), expiry_ms
                )
            )
        if action == "bulk-channel-status":
            names = field(await read_json(request), "channel_names", list, [])
            if not all(isinstance(n, str) for n in names):
                raise ServiceError(400, "000003", "'channel_names' must be a list of channel names (strings)")
            await run_in_threadpool(routes_elastic.ensure_elastic, store, pipe, names)
            statuses = await run_in_threadpool(store.channel_statuses, pipe, names)
            return JSONResponse({"channel_statuses": statuses})
        raise ServiceError(404, "NOT_FOUND", f"Unknown pipe action {action!r}.")

    @endpoint(OAUTH)
    async def channel(request, principal):
        p = request.path_params
        pipe = await run_in_threadpool(store.pipe, p["db"], p["schema"], p["pipe"])
        if request.method == "DELETE":
            token = await run_in_threadpool(store.drop_channel, pipe, p["channel"])
            return JSONResponse({"last_committed_offset_token": token})
        body = await read_json(request, empty={})
        token, status = await run_in_threadpool(
            store.open_channel, pipe, p["channel"], field(body, "offset_token", str)
        )
        return JSONResponse({"next_continuation_token": token, "channel_status": status})

    @endpoint(OAUTH)
    async def rows(request, principal):
        p, q = request.path_params, request.query_params
        pipe = await run_in_threadpool(store.pipe, p["db"], p["schema"], p["pipe"])
        encoding = request.headers.get("content-encoding", "").lower()
        if encoding not in ("", "identity", "zstd"):
            raise ServiceError(415, "UNSUPPORTED_CONTENT_ENCODING", f"Content-Encoding {encoding!r} is not supported.")
        token = await run_in_threadpool(
            store.append_rows,
            pipe,
            p["channel"],
            q.get("continuationToken", ""),
            await request.body(),
            "zstd" if encoding == "zstd" else "none",
            q.get("startOffsetToken"),
            q.get("endOffsetToken"),
        )
        return JSONResponse({"next_continuation_token": token})

    @endpoint(OAUTH)
    async def filebuffer(request, principal):
        p, q = request.path_params, request.query_params
        pipe = await run_in_threadpool(store.pipe, p["db"], p["schema"], p["pipe"])
        fragments = await read_json(request, list)
        if not fragments:
            raise ServiceError(400, "ERR_INVALID_FRAGMENT", "body must be a non-empty JSON array of file fragments")
        token = await run_in_threadpool(
            load_fragments, service, pipe, p["channel"], q.get("continuationToken", ""), fragments
        )
        return JSONResponse({"next_continuation_token": token})

    @endpoint()
    async def put_object(request, principal):
        key = f"{BUCKET}/{request.path_params['key']}"
        service.stage.path_of(key)  # the signed prefix is the credential: check it before reading the body
        etag = await run_in_threadpool(service.stage.put, key, await request.body(), request.headers)
        return Response(status_code=200, headers={"ETag": etag})

    @endpoint()
    async def unknown(request, principal):
        log.warning("no route for %s %.200s", request.method, request.url.path)
        raise ServiceError(404, "NOT_FOUND", f"The local service has no route {request.method} {request.url.path}.")

    @endpoint()
    async def health(request, principal):
        return JSONResponse(
            {
                "status": "ok",
                "pid": os.getpid(),
                "started": service.started,
                "home": str(service.home.root),
                "file_fragments_loaded": service.fragments,
                "disk": service.disk(),
            }
        )

    @endpoint(KEYPAIR_JWT, OAUTH)
    async def flush_tick(request, principal):
        p = request.path_params
        ms = field(await read_json(request), "ms", int)
        if ms is None:
            raise ServiceError(400, "INVALID_PARAMETER", 'body must be {"ms": <integer milliseconds>}')
        await run_in_threadpool(store.set_flush_tick, p["db"], p["schema"], p["pipe"], ms)
        return JSONResponse({"pipe": p["pipe"], "flush_tick_ms": ms})

    @endpoint(KEYPAIR_JWT, OAUTH)
    async def faults(request, principal):
        try:
            if request.method == "POST":
                spec = FaultSpec.from_dict(await read_json(request))
                return JSONResponse(await run_in_threadpool(service.injector.set, spec))
            if request.method == "DELETE":
                return JSONResponse(service.injector.clear(request.query_params.get("kind")))
        except (ConfigError, TypeError) as exc:  # TypeError: a parameter of the wrong type
            raise ServiceError(400, "INVALID_FAULT", str(exc)) from None
        return JSONResponse(service.injector.status())

    base = "/v2/streaming/databases/{db}/schemas/{schema}/pipes"
    routes = [
        Route("/v2/streaming/hostname", hostname, methods=["GET"]),
        Route("/oauth/token", oauth_token, methods=["POST"]),
        Route("/telemetry/send/sessionless", telemetry, methods=["POST"]),
        Route(base + "/{pipe}/channels/{channel}", channel, methods=["PUT", "DELETE"]),
        Route(base + "/{pipe_action}", pipe_action, methods=["POST"]),
        *routes_elastic.routes(service, endpoint(OAUTH), load_fragments),
        Route(
            "/v2/streaming/data/databases/{db}/schemas/{schema}/pipes/{pipe}/channels/{channel}/rows",
            rows,
            methods=["POST"],
        ),
        Route(
            "/v2/streaming/data/databases/{db}/schemas/{schema}/pipes/{pipe}/channels/{channel}/filebuffer",
            filebuffer,
            methods=["POST"],
        ),
        # KEYPAIR_JWT only: an ingest-scoped (OAUTH) token cannot run SQL
        *sqlapi.routes(store, service.statements, endpoint(KEYPAIR_JWT)),
        Route("/aidemo/v1/health", health, methods=["GET"]),
        Route("/aidemo/v1/pipes/{db}/{schema}/{pipe}/flush-tick", flush_tick, methods=["POST"]),
        Route("/aidemo/v1/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route(f"/{BUCKET}/{{key:path}}", put_object, methods=["PUT"]),  # S3 PutObject (path-style)
        *connector.routes(service),
        *filetransfer.routes(service),
        Route("/{path:path}", unknown, methods=["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"]),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        service.statements.cancel_all()
        await run_in_threadpool(store.commit_held)  # no request is in flight any more
        service.injector.save()

    middleware = [
        Middleware(
            BodyLimit,
            max_bytes=service.max_body_bytes,
            streamed={f"/{filetransfer.BUCKET}/": filetransfer.MAX_FILE_BYTES},
        ),
        Middleware(FaultMiddleware, injector=service.injector),
    ]
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)


def load_fragments(service: Service, pipe, channel: str, continuation_token: str | None, fragments: list) -> str:
    """Load registered file fragments in one transaction, then delete their uploads."""
    key = service.pipe_key(pipe)
    batches, uploads = [], []
    try:
        for fragment in fragments:
            batch, upload = fragment_batch(service.stage, fragment, key, service.home.spool)
            batches.append(batch)
            uploads.append(upload)
        token = service.store.load(pipe, channel, continuation_token, batches)
    finally:
        for batch in batches:
            batch.path.unlink(missing_ok=True)
    for upload in uploads:
        upload.unlink(missing_ok=True)
    service.count_fragments(pipe, channel, len(batches))
    return token


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
