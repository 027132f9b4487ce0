"""Every URL the local service answers, and the handler that answers it: one table.

In order: Snowpipe Streaming's (:mod:`~aidemo.local.http.ingest`; the ELASTIC channel is served by
the named-channel handlers), the SQL API's (:mod:`~aidemo.local.http.sqlapi`), the service's own
(:mod:`~aidemo.local.http.admin`), the stand-in S3 stage's and the stages' object routes
(:mod:`~aidemo.local.http.filetransfer`), the connector's (:mod:`~aidemo.local.http.connector`);
last, anything else is a 404 that names it. Who may call each is declared on its handler
(:func:`aidemo.local.http.auth.endpoint`).
"""

from __future__ import annotations

from starlette.routing import Route

from aidemo.local.engine.chunks import ROUTE as CHUNK_ROUTE
from aidemo.local.http import admin, connector, filetransfer, ingest, sqlapi
from aidemo.local.http.statements import URL as STATEMENTS
from aidemo.local.storage.stage import BUCKET

PIPES = "/v2/streaming/databases/{db}/schemas/{schema}/pipes"
CHANNEL_DATA = "/v2/streaming/data/databases/{db}/schemas/{schema}/pipes/{pipe}/channels/{channel}"
ANY = "GET HEAD POST PUT DELETE PATCH"

#: (path, methods, handler), matched in this order.
URLS = (
    ("/v2/streaming/hostname", "GET", ingest.hostname),
    ("/oauth/token", "POST", ingest.oauth_token),
    ("/telemetry/send/sessionless", "POST", ingest.telemetry),
    (PIPES + "/{pipe}/channels/{channel}", "PUT DELETE", ingest.channel),
    (PIPES + "/{pipe_action}", "POST", ingest.pipe_action),
    (CHANNEL_DATA + "/rows", "POST", ingest.rows),
    (CHANNEL_DATA + "/filebuffer", "POST", ingest.filebuffer),
    (STATEMENTS, "POST", sqlapi.submit),
    (STATEMENTS + "/{handle}", "GET", sqlapi.status),
    (STATEMENTS + "/{handle}/cancel", "POST", sqlapi.cancel),
    ("/aidemo/v1/health", "GET", admin.health),
    ("/aidemo/v1/pipes/{db}/{schema}/{pipe}/flush-tick", "POST", admin.flush_tick),
    ("/aidemo/v1/faults", "GET POST DELETE", admin.faults),
    (f"/{BUCKET}/{{key:path}}", "PUT", ingest.put_object),  # S3 PutObject (path-style)
    (CHUNK_ROUTE, "GET", connector.result_chunk),
    ("/session/v1/login-request", "POST", connector.login),
    ("/queries/v1/query-request", "POST", connector.query),
    ("/queries/v1/abort-request", "POST", connector.abort),
    ("/monitoring/queries/{query_id:path}", "GET", connector.query_status),
    ("/queries/{query_id}/result", "GET", connector.query_result),
    ("/queries/{query_id}/abort-request", "POST", connector.abort_query),
    ("/session/heartbeat", "POST", connector.heartbeat),
    ("/session/token-request", "POST", connector.token_request),
    ("/session", "POST", connector.delete_session),
    ("/telemetry/send", "POST", connector.telemetry),
    (filetransfer.ROUTE, "HEAD", filetransfer.head_object),
    (filetransfer.ROUTE, "GET", filetransfer.get_object),
    (filetransfer.ROUTE, "PUT", filetransfer.put_object),
    ("/{path:path}", ANY, admin.unknown),
)


def routes() -> list[Route]:
    """The table as Starlette routes."""
    return [Route(path, handler, methods=methods.split()) for path, methods, handler in URLS]
