"""The chunks of large results, kept under the home's spool until the connector fetches them.

A result over the inline size goes out in parts: the first in the reply, each of the others a
file under ``spool/results/``, named in the reply's ``chunks`` by a URL with a random id. The
connector GETs each URL with its own HTTP client, as it would from cloud storage, sending the
reply's ``chunkHeaders``: one of them holds the result's random key (in SSE-C's customer-key
header, which both connector majors keep out of their logs). A chunk is removed once it has
been sent whole, when it expires, or when its session closes; the spool for results is bounded,
and a result that would overflow it fails instead.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from aidemo.local.errors import ConnectorError

CHUNK_TTL_S = 3600
SPOOL_LIMIT_BYTES = 8 << 30
KEY_HEADER = "x-amz-server-side-encryption-customer-key"
_ALGORITHM_HEADER = "x-amz-server-side-encryption-customer-algorithm"
ROUTE = "/aidemo/v1/result-chunks/{chunk_id}"


@dataclass
class _Chunk:
    path: Path
    key_hash: bytes
    session_id: int
    expires: float
    size: int


class ChunkSpool:
    """The chunk files of the service's results, found by their random ids."""

    def __init__(self, root: Path, ttl_s: float = CHUNK_TTL_S, limit_bytes: int = SPOOL_LIMIT_BYTES):
        shutil.rmtree(root, ignore_errors=True)  # chunks of a previous run: their URLs died with it
        root.mkdir(mode=0o700, parents=True)
        self.root, self.ttl_s, self.limit_bytes = root, ttl_s, limit_bytes
        self._chunks: dict[str, _Chunk] = {}
        self._lock = threading.Lock()

    def result(self, session_id: int, base_url: str) -> ResultChunks:
        """A new result's chunks, for a session, with URLs under ``base_url``."""
        return ResultChunks(self, session_id, base_url.rstrip("/"))

    def find(self, chunk_id: str, key: str) -> Path | None:
        """The file of a chunk whose key is ``key``; None when unknown, expired or the key differs."""
        with self._lock:
            self._sweep()
            chunk = self._chunks.get(chunk_id)
        if chunk is None or not hmac.compare_digest(chunk.key_hash, _hash(key)):
            return None
        return chunk.path

    def remove(self, chunk_id: str) -> None:
        """Forget a chunk and delete its file (it has been sent)."""
        with self._lock:
            chunk = self._chunks.pop(chunk_id, None)
        if chunk is not None:
            chunk.path.unlink(missing_ok=True)

    def close_session(self, session_id: int) -> None:
        """Delete the chunks of a session that has closed."""
        with self._lock:
            doomed = [cid for cid, chunk in self._chunks.items() if chunk.session_id == session_id]
        for chunk_id in doomed:
            self.remove(chunk_id)

    def _add(self, data: bytes, key_hash: bytes, session_id: int) -> str:
        chunk_id = secrets.token_urlsafe(24)
        with self._lock:
            self._sweep()
            if sum(c.size for c in self._chunks.values()) + len(data) > self.limit_bytes:
                raise ConnectorError(
                    "000603",
                    f"The result is larger than the local service keeps for fetching ({self.limit_bytes} "
                    "bytes of chunks in all): select fewer rows or columns, or fetch earlier results first.",
                    "53100",
                )
            path = self.root / chunk_id
            self._chunks[chunk_id] = _Chunk(path, key_hash, session_id, time.time() + self.ttl_s, len(data))
        path.write_bytes(data)
        return chunk_id

    def _replace(self, chunk_id: str, change) -> bytes:
        with self._lock:
            chunk = self._chunks[chunk_id]
        data = change(chunk.path.read_bytes())
        chunk.path.write_bytes(data)
        chunk.size = len(data)
        return data

    def _sweep(self) -> None:
        """Delete expired chunks (lock held)."""
        now = time.time()
        for chunk_id in [cid for cid, chunk in self._chunks.items() if chunk.expires < now]:
            self._chunks.pop(chunk_id).path.unlink(missing_ok=True)


class ResultChunks:
    """The chunks of one result: each added part becomes a file and an entry of the reply's ``chunks``."""

    def __init__(self, spool: ChunkSpool, session_id: int, base_url: str):
        self._spool, self._session_id, self._base = spool, session_id, base_url
        self._key = secrets.token_urlsafe(32)
        self.entries: list[dict] = []
        self._ids: list[str] = []

    @property
    def base_url(self) -> str:
        """The service's URL as the client reached it (chunk and stage transfer URLs start with it)."""
        return self._base

    def add(self, data: bytes, rows: int) -> None:
        """Keep one part of the result (its bytes as the GET returns them) as the next chunk."""
        chunk_id = self._spool._add(data, _hash(self._key), self._session_id)
        self._ids.append(chunk_id)
        url = self._base + ROUTE.format(chunk_id=chunk_id)
        self.entries.append({"url": url, "rowCount": rows, "uncompressedSize": len(data), "compressedSize": len(data)})

    def rewrite(self, change) -> None:
        """Replace each chunk's bytes with ``change(bytes)`` (before the reply names them)."""
        for chunk_id, entry in zip(self._ids, self.entries):
            data = self._spool._replace(chunk_id, change)
            entry["uncompressedSize"] = entry["compressedSize"] = len(data)

    def reply(self) -> dict:
        """What the reply says of the chunks: their list, and the headers their GETs send."""
        if not self.entries:
            return {}
        headers = {_ALGORITHM_HEADER: "AES256", KEY_HEADER: self._key}
        return {"chunks": self.entries, "chunkHeaders": headers, "qrmk": self._key}

    def discard(self) -> None:
        """Delete the chunks kept so far (the result failed before its reply)."""
        for chunk_id in self._ids:
            self._spool.remove(chunk_id)


def _hash(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()
