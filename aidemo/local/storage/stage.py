"""The local stand-in for the S3 stage that the SDK uploads file-mode data to.

In file mode the SDK's S3 client (sent to the service by pipe-info's ``storage_endpoint``) PUTs
an encrypted zstd NDJSON file to ``/<bucket>/<prefix>/<n>.ndjson`` in AWS chunked encoding,
then registers it with ``/filebuffer``. This module decodes and stores those uploads under
the home's ``spool/stage/``, hands out stage prefixes that it can recognise again (signed
with the service secret together with their expiry: an SDK client keeps uploading to the prefix
of its last pipe-info reply, across a restart of the service, until it fetches a new one before
``expiry_time_ms``), decrypts registered fragments and sweeps away uploads nobody registered.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import time
import uuid
import zlib
from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from aidemo.local.errors import ServiceError
from aidemo.local.storage.store import Batch

BUCKET = "aidemo-stage"
LOCATION_TTL_MS = 3_600_000
GRACE_MS = 600_000  # a prefix stays valid this long after its pipe-info expired (uploads in flight)
STALE_AFTER_S = 3600.0
SWEEP_EVERY_S = 300.0
_BLOCK = 16


def decode_aws_chunked(body: bytes) -> tuple[bytes, dict[str, str]]:
    """Data and trailer headers (names lower-cased) of an ``aws-chunked`` request body.

    Each chunk is ``<hex size>[;chunk-signature=...]\\r\\n<data>\\r\\n``; a zero-size chunk
    ends the data and is followed by trailer lines such as ``x-amz-checksum-crc32:<b64>``.
    Raises ``ValueError`` saying what is malformed.
    """
    view = memoryview(body)
    data = bytearray()
    pos = 0
    while True:
        eol = body.find(b"\r\n", pos)
        if eol < 0:
            raise ValueError(f"aws-chunked body ends inside a chunk-size line at byte {pos}")
        line = bytes(view[pos:eol])
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise ValueError(f"aws-chunked body has a bad chunk-size line {line[:80]!r} at byte {pos}") from None
        pos = eol + 2
        if size == 0:
            break
        end = pos + size
        if body[end : end + 2] != b"\r\n":
            raise ValueError(f"aws-chunked chunk of {size} bytes at byte {pos} is truncated or not followed by CRLF")
        data += view[pos:end]
        pos = end + 2
    trailers = {}
    for line in body[pos:].split(b"\r\n"):
        if not line:
            continue
        name, sep, value = line.partition(b":")
        if not sep:
            raise ValueError(f"aws-chunked trailer line {line[:80]!r} is not 'name:value'")
        trailers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
    return bytes(data), trailers


def check_crc32(data: bytes, expected_b64: str) -> None:
    """Refuse ``data`` unless its CRC32 matches the base64 big-endian value S3 clients send."""
    actual = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    if actual != expected_b64:
        raise ServiceError(400, "BadDigest", f"x-amz-checksum-crc32 is {expected_b64} but the body's CRC32 is {actual}")


def decrypt_ctr(ciphertext: bytes, key: bytes, iv: bytes, offset: int = 0) -> bytes:
    """AES-CTR decryption of bytes that start ``offset`` bytes into a stream begun at counter ``iv``."""
    if len(iv) != _BLOCK:
        raise ValueError(f"the IV must be {_BLOCK} bytes, got {len(iv)}")
    counter = (int.from_bytes(iv, "big") + offset // _BLOCK) % (1 << 128)
    decryptor = Cipher(algorithms.AES(key), modes.CTR(counter.to_bytes(_BLOCK, "big"))).decryptor()
    skip = offset % _BLOCK
    return (decryptor.update(bytes(skip) + ciphertext) + decryptor.finalize())[skip:]


class Stage:
    """Uploads under ``root``, addressed by their S3 key ``<bucket>/<prefix>/<name>``."""

    def __init__(self, root: Path, secret: str):
        self.root = root
        self._secret = secret.encode()
        self._last_sweep = 0.0
        root.mkdir(parents=True, exist_ok=True)

    def new_location(self, expiry_time_ms: int | None = None) -> str:
        """A fresh ``bucket/prefix/`` for one pipe-info reply (the SDK numbers files per client from 0).

        The prefix is accepted until ``expiry_time_ms`` (default: an hour from now) plus a grace
        of at most :data:`GRACE_MS` for uploads and registrations in flight.
        """
        now_ms = int(time.time() * 1000)
        expiry = now_ms + LOCATION_TTL_MS if expiry_time_ms is None else expiry_time_ms
        signed = f"{uuid.uuid4().hex}.{expiry + min(GRACE_MS, max(0, expiry - now_ms))}"
        return f"{BUCKET}/{signed}.{self.sign(signed)}/"

    def path_of(self, key: str) -> Path:
        """Where the object ``key`` is kept; refuses keys outside a live prefix this service handed out."""
        parts = key.strip("/").split("/")
        if len(parts) < 3 or parts[0] != BUCKET or any(p in ("", ".", "..") for p in parts):
            raise ServiceError(403, "AccessDenied", f"object key {key!r} is not under a stage location of this service")
        signed, _, mac = parts[1].rpartition(".")
        if not hmac.compare_digest(mac, self.sign(signed)):
            raise ServiceError(403, "AccessDenied", f"stage prefix {parts[1]!r} was not handed out by this service")
        if int(signed.rpartition(".")[2]) < time.time() * 1000:
            raise ServiceError(403, "ExpiredToken", f"stage prefix {parts[1]!r} has expired: fetch pipe-info again")
        return self.root.joinpath(*parts[1:])

    def put(self, key: str, body: bytes, headers) -> str:
        """Store one PutObject request; returns its quoted ETag (hex MD5 of the data, as S3 does)."""
        path = self.path_of(key)
        data, trailers = body, {}
        if "aws-chunked" in headers.get("content-encoding", "").lower():
            try:
                data, trailers = decode_aws_chunked(body)
            except ValueError as exc:
                raise ServiceError(400, "IncompleteBody", str(exc)) from None
        declared = headers.get("x-amz-decoded-content-length")
        if declared is not None and not declared.strip().isdigit():
            raise ServiceError(
                400, "InvalidArgument", f"x-amz-decoded-content-length must be an integer, got {declared[:40]!r}"
            )
        if declared is not None and int(declared) != len(data):
            raise ServiceError(
                400,
                "IncompleteBody",
                f"x-amz-decoded-content-length is {declared} but the body holds {len(data)} bytes",
            )
        crc = trailers.get("x-amz-checksum-crc32") or headers.get("x-amz-checksum-crc32")
        if crc:
            check_crc32(data, crc)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
        try:
            partial.write_bytes(data)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
        self.sweep_if_due()
        return '"' + hashlib.md5(data, usedforsecurity=False).hexdigest() + '"'

    def sweep_if_due(self) -> None:
        if time.monotonic() - self._last_sweep >= SWEEP_EVERY_S:
            self.sweep()

    def sweep(self, max_age_s: float = STALE_AFTER_S) -> int:
        """Delete uploads older than ``max_age_s`` that were never registered; returns how many."""
        self._last_sweep = time.monotonic()
        cutoff = time.time() - max_age_s
        removed = 0
        for path in sorted(self.root.rglob("*"), reverse=True):  # files before their directories
            try:
                if path.stat().st_mtime >= cutoff:
                    continue
                if path.is_dir():
                    if not any(path.iterdir()):
                        path.rmdir()
                else:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                pass  # removed by a concurrent load
        return removed

    def sign(self, nonce: str) -> str:
        """The service secret's signature of ``nonce`` (stage prefixes, stage transfer tokens)."""
        return hmac.new(self._secret, nonce.encode(), hashlib.sha256).hexdigest()[:20]


def remove_leftovers(spool: Path) -> int:
    """Delete what a killed (or disk-full) service left in ``spool``; call before the store opens.

    No load is in flight at start, so request bodies, decrypted fragments and DuckDB's spill
    files all go; of the uploads only partial and empty ones (whole ones wait to be registered
    or swept). Returns how many files were removed.
    """
    doomed = [p for p in spool.glob("*") if p.is_file()]
    doomed += [p for p in (spool / "duckdb").rglob("*") if p.is_file()]
    doomed += [
        p for p in (spool / "stage").rglob("*") if p.is_file() and (p.name.endswith(".part") or p.stat().st_size == 0)
    ]
    for path in doomed:
        path.unlink(missing_ok=True)
    return len(doomed)


_FRAGMENT_INTS = ("file_length_bytes", "fragment_start_byte_offset", "fragment_length_bytes", "fragment_row_count")


def fragment_batch(stage: Stage, fragment: dict, key: bytes, spool: Path) -> tuple[Batch, Path]:
    """Check one registered fragment against its upload and decrypt it into a zstd NDJSON file in ``spool``.

    Returns the batch to load and the uploaded file (to delete once loaded). Refuses, naming
    the file, a fragment whose upload is missing or whose sizes do not match it.
    """
    if not isinstance(fragment, dict) or not isinstance(fragment.get("file_path"), str):
        raise ServiceError(
            400, "ERR_INVALID_FRAGMENT", f"each fragment must be an object with a file_path, got {str(fragment)[:100]}"
        )
    name = fragment["file_path"]
    for field in _FRAGMENT_INTS:
        if not isinstance(fragment.get(field), int) or fragment[field] < 0:
            raise ServiceError(
                400, "ERR_INVALID_FRAGMENT", f"fragment {name!r}: {field} must be a non-negative integer"
            )
    try:
        iv = base64.b64decode(fragment.get("iv_base64") or "", validate=True)
    except (TypeError, binascii.Error):
        iv = b""
    if len(iv) != _BLOCK:
        raise ServiceError(400, "ERR_INVALID_FRAGMENT", f"fragment {name!r}: iv_base64 must hold {_BLOCK} bytes")
    path = stage.path_of(name)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ServiceError(
            404, "ERR_FILE_NOT_FOUND", f"fragment {name!r}: no such file was uploaded to the stage"
        ) from None
    if size != fragment["file_length_bytes"]:
        raise ServiceError(
            400,
            "ERR_FILE_LENGTH_MISMATCH",
            f"fragment {name!r}: file_length_bytes is {fragment['file_length_bytes']} "
            f"but the upload holds {size} bytes",
        )
    start, length = fragment["fragment_start_byte_offset"], fragment["fragment_length_bytes"]
    if start + length > size:
        raise ServiceError(
            400,
            "ERR_FRAGMENT_OUT_OF_RANGE",
            f"fragment {name!r}: bytes {start}..{start + length} lie beyond the file's {size} bytes",
        )
    with open(path, "rb") as f:
        f.seek(start)
        plain = decrypt_ctr(f.read(length), key, iv, start)
    out = spool / f"{uuid.uuid4().hex}.ndjson.zst"
    try:
        out.write_bytes(plain)
    except OSError:
        out.unlink(missing_ok=True)
        raise
    batch = Batch(
        out,
        "zstd",
        fragment.get("fragment_start_offset_token"),
        fragment.get("fragment_end_offset_token"),
        fragment["fragment_row_count"],
        f"fragment {name!r}",
    )
    return batch, path
