"""The local service as an ASGI app: the route table of :mod:`aidemo.local.http.urls`, behind the
body limit and the fault injector, serving one :class:`~aidemo.local.http.state.ServiceState`.

Routes follow what the official clients send (see the protocol notes in the docs).
"""

from __future__ import annotations

import contextlib

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware

from aidemo.local.http import filetransfer, urls
from aidemo.local.http.faults import FaultMiddleware
from aidemo.local.http.replies import BodyLimit
from aidemo.local.http.state import ServiceState


def build_app(state: ServiceState) -> Starlette:
    """The ASGI application serving ``state`` (kept as ``app.state.service`` for the handlers)."""

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        state.statements.cancel_all()
        await run_in_threadpool(state.store.commit_held)  # no request is in flight any more
        state.injector.save()

    middleware = [
        Middleware(
            BodyLimit,
            max_bytes=state.max_body_bytes,
            streamed={f"/{filetransfer.BUCKET}/": filetransfer.MAX_FILE_BYTES},
        ),
        Middleware(FaultMiddleware, injector=state.injector),
    ]
    app = Starlette(routes=urls.routes(), middleware=middleware, lifespan=lifespan)
    app.state.service = state
    return app
