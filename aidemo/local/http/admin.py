"""The service's own routes under ``/aidemo/v1`` (health, a pipe's flush tick, faults), and the
answer to a URL no route serves."""

from __future__ import annotations

import logging
import os

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from aidemo.local.errors import ConfigError, ServiceError
from aidemo.local.http.auth import KEYPAIR_JWT, OAUTH, endpoint
from aidemo.local.http.faults import FaultSpec
from aidemo.local.http.replies import field, read_json
from aidemo.local.http.state import state_of

log = logging.getLogger(__name__)


@endpoint()
async def health(request: Request, principal) -> Response:
    """Whether the service is up, since when, from which home, and its disk."""
    state = state_of(request)
    return JSONResponse(
        {
            "status": "ok",
            "pid": os.getpid(),
            "started": state.started,
            "home": str(state.home.root),
            "file_fragments_loaded": state.fragments,
            "disk": state.disk(),
        }
    )


@endpoint(KEYPAIR_JWT, OAUTH)
async def flush_tick(request: Request, principal) -> Response:
    """Set how often a pipe's channels flush (``{"ms": N}``)."""
    p = request.path_params
    ms = field(await read_json(request), "ms", int)
    if ms is None:
        raise ServiceError(400, "INVALID_PARAMETER", 'body must be {"ms": <integer milliseconds>}')
    await run_in_threadpool(state_of(request).store.set_flush_tick, p["db"], p["schema"], p["pipe"], ms)
    return JSONResponse({"pipe": p["pipe"], "flush_tick_ms": ms})


@endpoint(KEYPAIR_JWT, OAUTH)
async def faults(request: Request, principal) -> Response:
    """The faults in force (GET), one more (POST a spec), or fewer (DELETE, ``?kind=`` for one kind)."""
    injector = state_of(request).injector
    try:
        if request.method == "POST":
            spec = FaultSpec.from_dict(await read_json(request))
            return JSONResponse(await run_in_threadpool(injector.set, spec))
        if request.method == "DELETE":
            return JSONResponse(injector.clear(request.query_params.get("kind")))
    except (ConfigError, TypeError) as exc:  # TypeError: a parameter of the wrong type
        raise ServiceError(400, "INVALID_FAULT", str(exc)) from None
    return JSONResponse(injector.status())


@endpoint()
async def unknown(request: Request, principal) -> Response:
    """A 404 naming the method and path no route serves."""
    log.warning("no route for %s %.200s", request.method, request.url.path)
    raise ServiceError(404, "NOT_FOUND", f"The local service has no route {request.method} {request.url.path}.")
