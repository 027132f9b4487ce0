"""What the routes share: one :class:`ServiceState` per running service, kept on the app.

The handlers (:mod:`~aidemo.local.http.ingest`, :mod:`~aidemo.local.http.connector`,
:mod:`~aidemo.local.http.sqlapi`, :mod:`~aidemo.local.http.filetransfer`,
:mod:`~aidemo.local.http.admin`) are module-level functions that read it with :func:`state_of`;
:mod:`aidemo.local.http.urls` maps URLs onto them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import threading
import time

from starlette.requests import Request

from aidemo.local.engine import sqlexec
from aidemo.local.engine.chunks import CHUNK_TTL_S, ChunkSpool
from aidemo.local.http import auth
from aidemo.local.http.faults import FaultInjector
from aidemo.local.http.replies import MAX_BODY_BYTES, scrub
from aidemo.local.http.sessions import MASTER_TTL_S, SESSION_TTL_S, Sessions
from aidemo.local.http.statements import MAX_RUNNING, Statements
from aidemo.local.process.home import ServiceHome
from aidemo.local.storage.stage import Stage
from aidemo.local.storage.stages import Stages
from aidemo.local.storage.store import Store

log = logging.getLogger(__name__)

PIPE_INFO_TTL_MS = 3_600_000


def _env(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


class ServiceState:
    """The state the routes share: the store, the signing secret, the stages, the connector's
    sessions and result chunks, the SQL API's statements, the fault injector."""

    def __init__(self, home: ServiceHome, store: Store):
        self.home = home
        self.store = store
        self.secret = home.token_secret.read_text()
        self.token_ttl_s = _env("AIDEMO_LOCAL_TOKEN_TTL_S", auth.SCOPED_TOKEN_TTL_S)
        self.pipe_info_ttl_ms = _env("AIDEMO_LOCAL_PIPE_INFO_TTL_MS", PIPE_INFO_TTL_MS)
        self.max_body_bytes = _env("AIDEMO_LOCAL_MAX_BODY_MB", MAX_BODY_BYTES >> 20) << 20
        self.started = time.time()
        self.stage = Stage(home.stage, self.secret)
        self.stage.sweep()
        store.stages = Stages(home.stages, self.stage.sign)
        self.fragments: dict[str, int] = {}  # file-mode fragments loaded, per "DB.SCHEMA.PIPE/channel"
        self._fragments_lock = threading.Lock()
        self.injector = FaultInjector(store, home.root)
        self.statements = Statements(_env("AIDEMO_LOCAL_SQL_API_MAX_RUNNING", MAX_RUNNING))
        self.sessions = Sessions(
            home.connector_sessions,
            _env("AIDEMO_LOCAL_SESSION_TTL_S", SESSION_TTL_S),
            _env("AIDEMO_LOCAL_MASTER_TTL_S", MASTER_TTL_S),
            on_end=lambda sql: sqlexec.end_session(store, sql),
        )
        self.spool = ChunkSpool(home.spool / "results", _env("AIDEMO_LOCAL_CHUNK_TTL_S", CHUNK_TTL_S))
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
        """Count ``n`` more file-mode fragments loaded into ``pipe``'s ``channel`` (for the health route)."""
        name = f"{pipe.database}.{pipe.schema}.{pipe.name}/{channel}"
        with self._fragments_lock:
            self.fragments[name] = self.fragments.get(name, 0) + n

    def pipe_key(self, pipe) -> bytes:
        """The 32-byte AES key the SDK encrypts a pipe's file-mode uploads with."""
        return hashlib.sha256(f"{self.secret}/{pipe.database}.{pipe.schema}.{pipe.name}".encode()).digest()


def state_of(request: Request) -> ServiceState:
    """The state of the service answering ``request``."""
    return request.app.state.service
