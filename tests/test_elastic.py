"""SDK 1.9.1's table mode and elastic channel, and the client's bulk calls, against the local service."""

from __future__ import annotations

import itertools
import threading

import pytest
from snowflake.ingest.streaming import StreamingIngestClient, StreamingIngestError

BIG = 12_000  # ~2 MB of NDJSON in one append: the SDK sends it in file mode
_names = itertools.count(1)


@pytest.fixture
def events(backend) -> str:
    """A fresh table RAW.EV_<n>(ID NUMBER NOT NULL, NAME VARCHAR)."""
    name = f"EV_{next(_names)}"
    backend.sql(f"CREATE TABLE RAW.{name} (ID NUMBER(38,0) NOT NULL, NAME VARCHAR)")
    return name


def table_client(backend, table: str, name: str) -> StreamingIngestClient:
    return StreamingIngestClient.from_table(
        name,
        backend.database,
        backend.schema,
        table,
        properties=backend.client_properties(),
    )


class Handlers:
    """Collects what the elastic channel's success and error handlers are given."""

    def __init__(self, channel):
        self.ok, self.failed = [], []
        self.lock = threading.Lock()
        channel.set_success_handler(self._ok)
        channel.set_error_handler(self._failed)

    def _ok(self, detail):
        with self.lock:
            self.ok.append(detail)

    def _failed(self, detail):
        with self.lock:
            self.failed.append(detail)

    def ok_tokens(self) -> list:
        with self.lock:
            return sorted(t for d in self.ok for t in d.append_tokens)


def rows(backend, table: str) -> list[tuple]:
    frame = backend.sql(f"SELECT ID, NAME FROM RAW.{table} ORDER BY ID")
    return list(frame.itertuples(index=False, name=None))


def test_elastic_channel_futures_handlers_and_rows(backend, events):
    client = table_client(backend, events, "el_rows")
    assert client.pipe_name == f"{events}-STREAMING"
    channel = client.get_elastic_channel()
    assert channel.channel_name == "ELASTIC" and client.get_elastic_channel() is channel
    handlers = Handlers(channel)

    first = channel.append_rows_with_wait([{"ID": i, "NAME": f"n{i}"} for i in range(1, 6)], "a")
    second = channel.append_row_with_wait({"ID": 6, "NAME": "six"}, "b")
    channel.append_row({"ID": 7, "NAME": "seven"}, "c")  # fire-and-forget: only the handler hears of it
    channel.append_rows([{"ID": 8, "NAME": "eight"}], None)  # untracked
    assert first.result(timeout=30) is None and second.result(timeout=30) is None
    big = channel.append_rows_with_wait([{"ID": 100 + i, "NAME": "x" * 150} for i in range(BIG)], "big")
    assert big.result(timeout=60) is None
    channel.wait_for_flush(30)

    expected = [(i, f"n{i}") for i in range(1, 6)] + [
        (6, "six"),
        (7, "seven"),
        (8, "eight"),
    ]
    expected += [(100 + i, "x" * 150) for i in range(BIG)]
    assert rows(backend, events) == expected
    assert handlers.ok_tokens() == ["a", "b", "big", "c"]
    assert all(d.request_id and d.retry_count == 0 for d in handlers.ok)
    assert handlers.failed == []
    status = client.get_channel_statuses(["ELASTIC"])["ELASTIC"]
    assert (status.rows_inserted_count, status.rows_error_count) == (8 + BIG, 0)
    client.close()
    assert channel.is_closed()


def test_a_rejected_row_is_counted_in_the_elastic_status(backend, events):
    # As in Snowflake, the acknowledgement means "durably received": a row the table rejects is
    # reported in the channel's status, and the append itself succeeds.
    client = table_client(backend, events, "el_bad_row")
    channel = client.get_elastic_channel()
    handlers = Handlers(channel)
    assert channel.append_row_with_wait({"ID": 1, "NAME": "good"}, "good").result(timeout=30) is None
    assert channel.append_row_with_wait({"ID": "not a number", "NAME": "bad"}, "bad").result(timeout=30) is None
    assert rows(backend, events) == [(1, "good")]
    status = client.get_channel_statuses(["ELASTIC"])["ELASTIC"]
    assert (
        status.rows_parsed_count,
        status.rows_inserted_count,
        status.rows_error_count,
    ) == (2, 1, 1)
    assert "ID" in status.last_error_message and "not a number" in status.last_error_message
    assert handlers.ok_tokens() == ["bad", "good"]
    client.close()


def test_a_refused_append_reaches_the_error_handler(backend, events):
    client = table_client(backend, events, "el_refused")
    channel = client.get_elastic_channel()
    handlers = Handlers(channel)
    assert channel.append_row_with_wait({"ID": 1, "NAME": "kept"}, "kept").result(timeout=30) is None
    backend.sql(f"DROP TABLE RAW.{events}")

    refused = channel.append_rows_with_wait([{"ID": 2, "NAME": "lost"}], "lost")
    with pytest.raises(StreamingIngestError, match=f"{events}-STREAMING"):
        refused.result(timeout=30)
    assert [d.append_tokens for d in handlers.failed] == [("lost",)]
    assert handlers.failed[0].request_id and isinstance(handlers.failed[0].error, StreamingIngestError)
    assert handlers.ok_tokens() == ["kept"]
    client.close(wait_for_flush=False)


def test_bulk_calls_of_a_table_mode_client(backend, events):
    client = table_client(backend, events, "el_bulk")
    names = [f"ch_{i}" for i in range(3)]
    channels = [client.open_channel(name)[0] for name in names]
    for n, channel in enumerate(channels):
        channel.append_rows(
            [{"ID": 10 * n + i, "NAME": channel.channel_name} for i in range(3)],
            "0",
            str(n),
        )
    client.initiate_flush()
    client.wait_for_flush(30)
    for n, channel in enumerate(channels):
        channel.wait_for_commit(lambda token, n=n: token == str(n), 30)

    assert client.get_latest_committed_offset_tokens(names + ["nope"]) == {
        "ch_0": "0",
        "ch_1": "1",
        "ch_2": "2",
        "nope": None,
    }
    statuses = client.get_channel_statuses(names + ["nope"])
    assert [statuses[name].rows_inserted_count for name in names] == [3, 3, 3]
    assert statuses["nope"].status_code == "ERR_CHANNEL_DOES_NOT_EXIST_OR_NOT_AUTHORIZED"
    client.drop_channel("ch_1")
    shown = backend.sql(f'SHOW CHANNELS IN PIPE RAW."{events}-STREAMING"')
    assert shown["name"].tolist() == ["ch_0", "ch_2"]
    with pytest.raises(StreamingIngestError, match="elastic"):
        client.drop_channel("ELASTIC")
    assert len(rows(backend, events)) == 9  # dropping a channel keeps what it committed
    client.close(wait_for_flush=True, timeout_seconds=30)
    assert client.is_closed() and all(channel.is_closed() for channel in channels)
