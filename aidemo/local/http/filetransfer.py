"""PUT and GET through the connector's own file transfer, against the local service's stages.

The reply to a PUT or GET query names the stage as a GCS-style location served by this service
(``stageInfo``: ``locationType`` GCS, ``endPoint`` the service, ``location``
``aidemo-files/<stage id>/<path>`` and an access token in ``creds``), which both connector majors
reach path-style with ``Authorization: Bearer <token>``: HEAD (does the file exist), PUT (upload)
and GET (download), under :data:`ROUTE`. The token is signed with the service secret, names one
stage and expires with the transfer (see :meth:`aidemo.local.storage.stages.Stages.token`).

The connector compresses (AUTO_COMPRESS, SOURCE_COMPRESSION) and decides what is SKIPPED (OVERWRITE)
itself, from the reply's options, and writes PUT's and GET's result rows itself. Files are stored
as uploaded, without client-side encryption: the reply's ``encryptionMaterial`` is null, as for a
Snowflake stage with server-side encryption, and the home (0700) is what keeps them private.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import os
import time
import uuid

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, Response

from aidemo.local.dialect.stagesql import GetFiles, PutFiles, check_stage
from aidemo.local.engine.sqlsession import Session
from aidemo.local.errors import SnowflakeError
from aidemo.local.http.state import state_of

BUCKET = "aidemo-files"
ROUTE = f"/{BUCKET}/{{stage_id}}/{{key:path}}"
TOKEN_TTL_MS = 3_600_000
MAX_FILE_BYTES = 5 << 30  # one staged file (uploads are streamed to disk; the body limit of requests is lower)
TRANSFERS = (PutFiles, GetFiles)
_DIGEST = "x-goog-meta-sfc-digest"
_COMPRESSIONS = ("AUTO_DETECT", "GZIP", "BZ2", "BROTLI", "ZSTD", "DEFLATE", "RAW_DEFLATE", "NONE")


def reply(store, command, session: Session, base_url: str) -> dict:
    """The ``data`` of the reply to a PUT or GET: what the connector's file transfer reads."""
    ref = command.ref
    stages = check_stage(store, ref)
    stages.files_dir(ref)
    path = ref.path.rstrip("/") + "/" if ref.path else ""
    options = dict(command.options)
    stage_id = stages.stage_id(ref)
    token = stages.token(ref, int(time.time() * 1000) + TOKEN_TTL_MS)
    upload = isinstance(command, PutFiles)
    stage_info = {
        "locationType": "GCS",
        "location": f"{BUCKET}/{stage_id}/{path if upload else ''}",
        "path": f"{stage_id}/{path if upload else ''}",
        "region": "local",
        "storageAccount": None,
        "isClientSideEncrypted": False,
        "creds": {"GCS_ACCESS_TOKEN": token},
        "presignedUrl": None,
        "endPoint": base_url.rstrip("/"),
        "useS3RegionalUrl": False,
        "useRegionalUrl": False,
        "useVirtualUrl": False,
    }
    data = {
        "stageInfo": stage_info,
        "encryptionMaterial": None,
        "parallel": _number(options.get("PARALLEL", 4), "PARALLEL", 1, 99),
        "threshold": 200 * 1024 * 1024,
        "clientShowEncryptionParameter": False,
        "rowtype": [],
        "rowset": [],
    }
    if upload:
        source = str(options.get("SOURCE_COMPRESSION", "AUTO_DETECT")).upper()
        if source not in _COMPRESSIONS:
            raise SnowflakeError(("001008", "22023"), f"invalid value [{source}] for parameter 'SOURCE_COMPRESSION'")
        return data | {
            "command": "UPLOAD",
            "src_locations": [command.local],
            "autoCompress": _flag(options.get("AUTO_COMPRESS", True)),
            "sourceCompression": source.lower(),
            "overwrite": _flag(options.get("OVERWRITE", False)),
            "uploadInfo": stage_info,
        }
    keys = [key for key, _ in stages.files(ref, command.pattern)]  # the path is a prefix: a folder or a file
    return data | {
        "command": "DOWNLOAD",
        "src_locations": keys,
        "localLocation": command.local,
        "presignedUrls": [],
    }


def _flag(value) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).upper() in ("TRUE", "T", "YES", "ON", "1")


def _number(value, name: str, low: int, high: int) -> int:
    if not str(value).isdigit() or not low <= int(value) <= high:
        raise SnowflakeError(("001008", "22023"), f"invalid value [{value}] for parameter '{name}'")
    return int(value)


def storage(handler):
    """An object route ``handler(request, path, partial)``: the stage file the request's token may
    reach, and its failures answered as GCS answers them (XML)."""

    @functools.wraps(handler)
    async def route(request: Request) -> Response:
        state = state_of(request)
        try:
            return await handler(request, *_located(state.store.stages, request))
        except PermissionError as exc:
            expired = "expired" in str(exc)
            return _error(401 if expired else 403, "AuthenticationRequired" if expired else "AccessDenied", exc)
        except FileNotFoundError as exc:
            return _error(404, "NoSuchKey", exc)
        except ValueError as exc:
            return _error(400, "InvalidArgument", exc)
        except ClientDisconnect:
            return Response(status_code=400)
        except OSError as exc:
            return _error(507, "InsufficientStorage", state.note_disk_full(exc))

    return route


@storage
async def head_object(request: Request, path, partial) -> Response:
    """Whether a staged file exists, with its digest and size."""
    if not path.is_file():
        return Response(status_code=404)
    digest = await run_in_threadpool(_sha256, path)
    return Response(headers={_DIGEST: digest, "content-length": str(path.stat().st_size)})


@storage
async def get_object(request: Request, path, partial) -> Response:
    """A staged file, downloaded."""
    if not path.is_file():
        return _error(404, "NoSuchKey", "no such file in the stage")
    digest = await run_in_threadpool(_sha256, path)
    return FileResponse(path, media_type="application/octet-stream", headers={_DIGEST: digest})


@storage
async def put_object(request: Request, path, partial) -> Response:
    """A file uploaded into the stage, streamed to disk: a large file never sits in memory."""
    partial.mkdir(exist_ok=True)
    upload = partial / uuid.uuid4().hex
    try:
        with open(upload, "wb") as f:
            async for piece in request.stream():
                f.write(piece)
        path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(upload, path)
    finally:
        upload.unlink(missing_ok=True)
    return Response(status_code=200)


def _located(stages, request: Request):
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    p = request.path_params
    return stages.transfer_path(p["stage_id"], p["key"], token)


def _error(status: int, code: str, message) -> Response:
    text = html.escape(str(message))
    body = f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>{text}</Message></Error>"
    return Response(body, status, media_type="application/xml")


def _sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return base64.b64encode(digest.digest()).decode()
