"""How the local service says no: one place that turns bad input into a 4xx with a clear body.

Snowflake's routes answer ``{"code", "message"}`` JSON; the stand-in S3 stage answers S3's
``<Error><Code/><Message/></Error>`` XML, which the SDK's S3 client parses. Request bodies are
bounded for every route by :class:`BodyLimit`, before they are read whole; JSON bodies are
read with :func:`read_json`, which refuses malformed or mistyped bodies with a 400 instead of
letting a ``ValueError`` become a 500 that the SDK would retry for minutes.
"""

from __future__ import annotations

import errno
import json
import logging
import re
from collections.abc import Callable
from xml.sax.saxutils import escape

import duckdb
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from aidemo.local.errors import AuthError, BodyTooLarge, ServiceError
from aidemo.local.storage.stage import BUCKET

log = logging.getLogger("aidemo.local")

MAX_BODY_BYTES = (
    128 * 1024 * 1024
)  # above the SDK's largest file-mode upload (~12 MB) and rowset POST (255 MB cap off by default)
MAX_NAME_CHARS = 255  # Snowflake's longest identifier
MAX_KEY_CHARS = 1024  # S3's longest object key
DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


def is_stage(path: str) -> bool:
    """Whether a request path addresses the stand-in S3 stage."""
    return path.startswith(f"/{BUCKET}/")


def error_response(path: str, status: int, code: str, message: str) -> Response:
    """The error reply for a request to ``path``: S3 XML for the stage, Snowflake JSON elsewhere."""
    if is_stage(path):
        xml = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{escape(code)}</Code>'
            f"<Message>{escape(message)}</Message></Error>"
        )
        return Response(xml, status_code=status, media_type="application/xml")
    return JSONResponse({"code": code, "message": message}, status_code=status)


def refusal(
    request: Request,
    exc: Exception,
    home_root: str,
    on_disk_full: Callable[[Exception], str],
) -> Response:
    """The answer to a request that raised ``exc``: a 4xx saying what is wrong where the client can fix it.

    ``on_disk_full`` records a write refused for want of space and returns the message for the client.
    """
    path = request.url.path
    if isinstance(exc, AuthError):
        return error_response(path, 401, exc.code, exc.message)
    if isinstance(exc, ServiceError):
        return error_response(path, exc.status, exc.code, scrub(exc.message, home_root))
    if isinstance(exc, ClientDisconnect):
        return Response(status_code=499)  # nobody is listening any more
    if isinstance(exc, (OSError, duckdb.Error)) and disk_full(exc):
        return error_response(path, 507, "InsufficientStorage", on_disk_full(exc))
    if isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG:
        return error_response(
            path,
            400,
            "KeyTooLongError",
            "a name in the request path is too long for a file name",
        )
    if isinstance(exc, duckdb.Error):
        # Retrying will not fix a database error: answer 4xx so the SDK fails fast.
        log.warning("database error on %s: %s", path, exc)
        return error_response(path, 400, "DATABASE_ERROR", scrub(str(exc).splitlines()[0], home_root))
    log.error("%s %s failed", request.method, path, exc_info=exc)
    return error_response(
        path,
        500,
        "InternalError",
        "the local service failed on this request; its log says why",
    )


def disk_full(exc: BaseException) -> bool:
    """Whether an error says the disk (or the user's quota) is full."""
    if isinstance(exc, OSError):
        return exc.errno in DISK_FULL_ERRNOS
    return "No space left on device" in str(exc) or "Disk quota exceeded" in str(exc)


def scrub(message: str, *roots: str) -> str:
    """``message`` without the server's own paths (spool files named by DuckDB errors)."""
    for root in roots:
        message = re.sub(re.escape(root) + r"[^\s'\"]*", "<upload>", message)
    return message


def check_names(path: str, params: dict[str, str]) -> None:
    """Refuse path parameters that no object could be named: control characters or too long."""
    for field, value in params.items():
        limit = MAX_KEY_CHARS if field == "key" else MAX_NAME_CHARS
        if any(ord(ch) < 32 for ch in value):
            raise ServiceError(
                400,
                "InvalidArgument" if is_stage(path) else "000904",
                f"{field} must not contain control characters (such as NUL)",
            )
        if len(value) > limit:
            raise ServiceError(
                400,
                "KeyTooLongError" if is_stage(path) else "000904",
                f"{field} is {len(value)} characters long; at most {limit} are allowed",
            )


async def read_json(request: Request, shape: type = dict, *, empty=None):
    """The request's JSON body, which must be a ``shape`` (dict or list); ``empty`` if there is none."""
    body = await request.body()
    if not body.strip() and empty is not None:
        return empty
    try:
        value = json.loads(body)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise ServiceError(400, "000003", f"the request body is not valid JSON: {exc}") from None
    if not isinstance(value, shape):
        kind = "an object" if shape is dict else "an array"
        raise ServiceError(
            400,
            "000003",
            f"the request body must be a JSON {kind}, got {type(value).__name__}",
        )
    return value


def field(body: dict, name: str, kind: type | tuple[type, ...], default=None):
    """``body[name]`` checked to be of ``kind`` (``default`` when absent or null)."""
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, kind) or isinstance(value, bool) and bool not in _tuple(kind):
        names = " or ".join(k.__name__ for k in _tuple(kind))
        raise ServiceError(400, "000003", f"{name!r} must be {names}, got {json.dumps(value)[:80]}")
    return value


def _tuple(kind) -> tuple:
    return kind if isinstance(kind, tuple) else (kind,)


class BodyLimit:
    """ASGI middleware bounding every request body to ``max_bytes`` (``streamed``: the larger limits of
    the routes under a path prefix that write their bodies to disk as they arrive).

    A declared ``Content-Length`` over the limit is refused at once, unread; a body sent
    without one (or longer than declared) is refused as soon as the bytes read pass the limit:
    :class:`BodyTooLarge` is raised from ``receive`` and answered by the route like any
    :class:`ServiceError` (or here, for routes that let it through).
    """

    def __init__(self, app, max_bytes: int = MAX_BODY_BYTES, streamed: dict[str, int] | None = None):
        self.app = app
        self.max_bytes = max_bytes
        self.streamed = streamed or {}  # path prefix -> the limit of routes that stream bodies to disk

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        prefix = next((p for p in self.streamed if scope["path"].startswith(p)), None)
        max_bytes = self.streamed[prefix] if prefix is not None else self.max_bytes
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                return await error_response(
                    scope["path"],
                    400,
                    "InvalidArgument",
                    "Content-Length must be a non-negative integer",
                )(scope, receive, send)
            if int(declared) > max_bytes:
                return await error_response(
                    scope["path"],
                    413,
                    "EntityTooLarge",
                    BodyTooLarge(max_bytes).message,
                )(scope, receive, send)
        seen = 0

        async def bounded():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_bytes:
                    raise BodyTooLarge(max_bytes)
            return message

        started = False

        async def tracked(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, bounded, tracked)
        except BodyTooLarge as exc:  # from a route that does not answer ServiceError itself
            if started:
                raise
            await error_response(scope["path"], exc.status, exc.code, exc.message)(scope, receive, send)
