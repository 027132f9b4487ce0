"""The SDK's file mode against the local service: S3 uploads, /filebuffer, and mixing with rowset mode.

The SDK runs with its DEFAULT properties: a flush tick holding more than ~1 MB of rows goes
to file mode, smaller ones stay in rowset mode.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import zlib

import pytest
import zstandard
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from aidemo.backends.backend import LocalBackend
from aidemo.local.errors import ServiceError
from aidemo.local.http.ingest import load_fragments
from aidemo.local.http.state import ServiceState
from aidemo.local.process import service
from aidemo.local.process.bootstrap import open_store
from aidemo.local.process.home import ServiceHome
from aidemo.local.storage.stage import Stage, check_crc32, decode_aws_chunked, decrypt_ctr
from tests.helpers import BURST, fragments_loaded, ids, order


def stage_files(home: ServiceHome) -> list:
    return [p for p in home.stage.rglob("*") if p.is_file()]


def append(channel, first: int, last: int) -> None:
    channel.append_rows([order(i) for i in range(first, last + 1)], str(first), str(last))
    channel.wait_for_commit(lambda token: token == str(last), 60)


def committed(backend, table: str) -> list[list]:
    frame = backend.sql(f'SHOW CHANNELS IN PIPE RAW."{table}-STREAMING"')
    return frame[["name", "last_committed_offset_token", "rows_inserted", "rows_error_count"]].values.tolist()


def test_small_appends_stay_in_rowset_mode(backend, local_home, fresh_table):
    client = backend.create_client("fm_rowset", f"{fresh_table}-STREAMING")
    channel, _ = client.open_channel("ch")
    append(channel, 1, 2000)
    client.close()
    assert fragments_loaded(local_home, f"{fresh_table}-STREAMING", "ch") == 0
    assert ids(backend, fresh_table) == list(range(1, 2001))
    assert committed(backend, fresh_table) == [["ch", "2000", 2000, 0]]


def test_a_burst_goes_through_file_mode(backend, local_home, fresh_table):
    client = backend.create_client("fm_burst", f"{fresh_table}-STREAMING")
    channel, _ = client.open_channel("ch")
    append(channel, 1, BURST)
    assert channel.get_latest_committed_offset_token() == str(BURST)
    client.close()

    assert fragments_loaded(local_home, f"{fresh_table}-STREAMING", "ch") >= 1
    assert ids(backend, fresh_table) == list(range(1, BURST + 1))
    row = backend.sql(f"SELECT * FROM RAW.{fresh_table} WHERE ORDER_ID IN (1, {BURST}) ORDER BY ORDER_ID")
    assert row["CUSTOMER_ID"].tolist() == [1001, 1000 + BURST]
    assert row["TOTAL_AMOUNT"].tolist() == [11.25, round(10 + BURST * 1.25, 2)]
    assert row["ORDER_DATE"].tolist()[0] == dt.datetime(2025, 1, 2, 10, 0)
    assert committed(backend, fresh_table) == [["ch", str(BURST), BURST, 0]]
    assert stage_files(local_home) == []


def test_rowset_and_file_mode_mix_on_one_channel(backend, local_home, fresh_table):
    pipe = f"{fresh_table}-STREAMING"
    client = backend.create_client("fm_mix", pipe)
    channel, _ = client.open_channel("ch")
    append(channel, 1, 100)
    assert fragments_loaded(local_home, pipe, "ch") == 0
    append(channel, 101, 100 + BURST)
    after_burst = fragments_loaded(local_home, pipe, "ch")
    assert after_burst >= 1
    append(channel, 101 + BURST, 200 + BURST)
    assert fragments_loaded(local_home, pipe, "ch") == after_burst  # the small tail went as rows
    client.close()
    assert ids(backend, fresh_table) == list(range(1, 201 + BURST))
    assert committed(backend, fresh_table) == [["ch", str(200 + BURST), 200 + BURST, 0]]
    assert stage_files(local_home) == []


def test_file_mode_ignores_the_process_s3_endpoint(backend, local_home, fresh_table, monkeypatch):
    # pipe-info's stage location names the service as the S3 endpoint, which the SDK prefers to
    # the environment: an endpoint variable left pointing elsewhere neither matters nor changes.
    for var in ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"):
        monkeypatch.setenv(var, "https://127.0.0.1:9")
    pipe = f"{fresh_table}-STREAMING"
    client = backend.create_client("fm_env", pipe)
    channel, _ = client.open_channel("ch")
    append(channel, 1, BURST)
    client.close()
    assert os.environ["AWS_ENDPOINT_URL_S3"] == "https://127.0.0.1:9"
    assert fragments_loaded(local_home, pipe, "ch") >= 1
    assert ids(backend, fresh_table) == list(range(1, BURST + 1))


def test_file_mode_across_a_service_restart(local_home, fresh_table):
    # The session's own service is restarted: the SDK's S3 client trusts only the CA it met first
    # in a process, so a service with a home (and CA) of its own could not take uploads here.
    pipe = f"{fresh_table}-STREAMING"
    client = LocalBackend(local_home).create_client("fm_restart", pipe)
    channel, _ = client.open_channel("ch")
    append(channel, 1, BURST)
    assert fragments_loaded(local_home, pipe, "ch") >= 1
    client.close()
    port = service.status(local_home).port

    assert service.stop(local_home)
    assert service.start(local_home).port == port
    assert fragments_loaded(local_home, pipe, "ch") == 0  # a fresh service process

    backend = LocalBackend(local_home)
    client = backend.create_client("fm_restart", pipe)
    channel, status = client.open_channel("ch")
    assert status.latest_committed_offset_token == str(BURST)
    append(channel, BURST + 1, 2 * BURST)
    assert fragments_loaded(local_home, pipe, "ch") >= 1
    client.close()
    assert ids(backend, fresh_table) == list(range(1, 2 * BURST + 1))
    assert committed(backend, fresh_table) == [["ch", str(2 * BURST), 2 * BURST, 0]]
    assert stage_files(local_home) == []


# ---- aws-chunked bodies -------------------------------------------------------------------


def _chunked(data: bytes, size: int, signed: bool, trailer: str = "") -> bytes:
    out = b""
    for i in range(0, len(data), size):
        chunk = data[i : i + size]
        ext = b";chunk-signature=" + b"ab" * 32 if signed else b""
        out += b"%x%s\r\n%s\r\n" % (len(chunk), ext, chunk)
    return out + (b"0;chunk-signature=" + b"cd" * 32 if signed else b"0") + b"\r\n" + trailer.encode() + b"\r\n"


def _crc(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


@pytest.mark.parametrize("signed", [True, False])
def test_aws_chunked_bodies_decode_with_their_trailers(signed):
    data = bytes(range(256)) * 300
    body = _chunked(data, 8192, signed, f"x-amz-checksum-crc32:{_crc(data)}\r\nx-amz-trailer-signature:ff")
    decoded, trailers = decode_aws_chunked(body)
    assert decoded == data
    assert trailers == {"x-amz-checksum-crc32": _crc(data), "x-amz-trailer-signature": "ff"}
    check_crc32(decoded, trailers["x-amz-checksum-crc32"])
    with pytest.raises(ServiceError, match="x-amz-checksum-crc32"):
        check_crc32(decoded[:-1], trailers["x-amz-checksum-crc32"])


def test_malformed_aws_chunked_bodies_are_refused():
    body = _chunked(b"x" * 100, 40, signed=True)
    with pytest.raises(ValueError, match="truncated"):
        decode_aws_chunked(body[:110])  # inside the first chunk
    with pytest.raises(ValueError, match="bad chunk-size line"):
        decode_aws_chunked(b"zz\r\nabc\r\n0\r\n\r\n")
    with pytest.raises(ValueError, match="inside a chunk-size line"):
        decode_aws_chunked(b"3\r\nabc\r\n")


def test_ctr_decryption_from_a_byte_offset():
    key, iv = os.urandom(32), os.urandom(16)
    plain = os.urandom(1000)
    encryptor = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()
    cipher = encryptor.update(plain) + encryptor.finalize()
    assert decrypt_ctr(cipher, key, iv) == plain
    assert decrypt_ctr(cipher[37:500], key, iv, 37) == plain[37:500]


# ---- registering fragments ------------------------------------------------------------------


@pytest.fixture
def offline(tmp_path):
    """A service's state without its HTTP server: store, stage, an open channel on table ORDERS."""
    home = ServiceHome.at(tmp_path / "home")
    home.ensure()
    store = open_store(home)
    svc = ServiceState(home, store)
    pipe = store.pipe("AUTOMATED_INTELLIGENCE", "RAW", "ORDERS-STREAMING")
    token, _ = store.open_channel(pipe, "ch", None)
    yield svc, pipe, token
    store.close()


def _upload(svc: ServiceState, pipe, rows: list[dict], name: str = "0.ndjson") -> dict:
    """Put one encrypted zstd NDJSON file on the stage as the SDK does; return its fragment."""
    plain = zstandard.ZstdCompressor().compress("".join(json.dumps(r) + "\n" for r in rows).encode())
    iv = os.urandom(16)
    encryptor = Cipher(algorithms.AES(svc.pipe_key(pipe)), modes.CTR(iv)).encryptor()
    data = encryptor.update(plain) + encryptor.finalize()
    path = svc.stage.new_location() + name
    svc.stage.put(
        path,
        _chunked(data, 4096, True, f"x-amz-checksum-crc32:{_crc(data)}"),
        {"content-encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data))},
    )
    return {
        "file_path": path,
        "file_length_bytes": len(data),
        "fragment_start_byte_offset": 0,
        "fragment_length_bytes": len(data),
        "fragment_row_count": len(rows),
        "iv_base64": base64.b64encode(iv).decode(),
        "fragment_start_offset_token": str(rows[0]["ORDER_ID"]),
        "fragment_end_offset_token": str(rows[-1]["ORDER_ID"]),
    }


def _state(svc: ServiceState, pipe):
    count = svc.store.cursor().execute(f"SELECT count(*) FROM {pipe.table_ref}").fetchone()[0]
    return count, svc.store.channel_statuses(pipe, ["ch"])["ch"]["last_committed_offset_token"]


def test_a_good_fragment_loads_and_its_upload_is_deleted(offline):
    svc, pipe, token = offline
    fragment = _upload(svc, pipe, [order(i) for i in range(1, 11)])
    next_token = load_fragments(svc, pipe, "ch", token, [fragment])
    assert next_token != token
    assert _state(svc, pipe) == (10, "10")
    assert not svc.stage.path_of(fragment["file_path"]).exists()
    assert list(svc.home.spool.glob("*.zst")) == []


@pytest.mark.parametrize(
    "spoil, status, message",
    [
        (lambda f: f | {"file_path": f["file_path"].replace("1.ndjson", "7.ndjson")}, 404, "no such file"),
        (lambda f: f | {"file_length_bytes": 1}, 400, "file_length_bytes is 1 but the upload holds"),
        (lambda f: f | {"fragment_row_count": 11}, 400, "declares 11 rows but holds 10"),
        (lambda f: f | {"fragment_length_bytes": 10**9}, 400, "beyond the file"),
    ],
    ids=["missing file", "wrong size", "wrong row count", "out of range"],
)
def test_a_bad_fragment_is_refused_and_nothing_is_loaded(offline, spoil, status, message):
    svc, pipe, token = offline
    good = _upload(svc, pipe, [order(i) for i in range(101, 106)], "0.ndjson")
    bad = _upload(svc, pipe, [order(i) for i in range(1, 11)], "1.ndjson")
    with pytest.raises(ServiceError, match=message) as caught:
        load_fragments(svc, pipe, "ch", token, [good, spoil(bad)])
    assert caught.value.status == status
    assert _state(svc, pipe) == (0, None)
    assert svc.stage.path_of(good["file_path"]).exists()  # kept: nothing was loaded
    # The same request with the bad fragment fixed goes through on the same token.
    load_fragments(svc, pipe, "ch", token, [good, bad])
    assert _state(svc, pipe) == (15, "10")


def test_a_stale_continuation_token_loads_nothing(offline):
    svc, pipe, token = offline
    fragment = _upload(svc, pipe, [order(1)])
    svc.store.open_channel(pipe, "ch", None)  # another writer reopens the channel
    with pytest.raises(ServiceError, match="continuation token .* is stale"):
        load_fragments(svc, pipe, "ch", token, [fragment])
    assert _state(svc, pipe) == (0, None)


def test_the_stage_refuses_prefixes_it_did_not_hand_out(offline, tmp_path):
    svc, _, _ = offline
    with pytest.raises(ServiceError, match="not handed out"):
        svc.stage.path_of("aidemo-stage/0123.forged/0.ndjson")
    with pytest.raises(ServiceError, match="not under a stage location"):
        svc.stage.path_of("other-bucket/x/0.ndjson")
    with pytest.raises(ServiceError, match="not under a stage location"):
        svc.stage.path_of(svc.stage.new_location() + "../../escape")
    other = Stage(tmp_path / "other", "another secret")
    with pytest.raises(ServiceError, match="not handed out"):
        svc.stage.path_of(other.new_location() + "0.ndjson")


def test_unregistered_uploads_are_swept_after_an_hour(offline):
    svc, pipe, _ = offline
    fresh = svc.stage.path_of(_upload(svc, pipe, [order(1)], "0.ndjson")["file_path"])
    old = svc.stage.path_of(_upload(svc, pipe, [order(2)], "1.ndjson")["file_path"])
    two_hours_ago = old.stat().st_mtime - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    assert svc.stage.sweep() == 1
    assert fresh.exists() and not old.exists()
