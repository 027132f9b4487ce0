"""The local service driven by the real, unmodified snowpipe-streaming SDK."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket

import pytest
from snowflake.ingest.streaming import StreamingIngestClient, StreamingIngestError

from aidemo.backends.backend import LocalBackend
from aidemo.backends.keys import generate_key_pair
from aidemo.errors import StreamingError
from aidemo.local.process import service
from tests.helpers import ids, order, share_ca


def test_whole_lifecycle(backend, fresh_table):
    client = backend.create_client("lifecycle", f"{fresh_table}-STREAMING")
    channel, status = client.open_channel("ch_1")
    assert status.status_code == "SUCCESS"
    assert status.latest_committed_offset_token is None

    channel.append_row(order(1), "1")
    channel.append_rows([order(i) for i in range(2, 501)], "2", "500")
    channel.wait_for_flush(30)
    channel.wait_for_commit(lambda token: token == "500", 30)
    assert channel.get_latest_committed_offset_token() == "500"
    assert client.get_latest_committed_offset_tokens(["ch_1"]) == {"ch_1": "500"}
    st = client.get_channel_statuses(["ch_1"])["ch_1"]
    assert (st.rows_inserted_count, st.rows_parsed_count, st.rows_error_count) == (500, 500, 0)

    frame = backend.sql(f"SELECT * FROM RAW.{fresh_table} ORDER BY ORDER_ID")
    assert frame["ORDER_ID"].tolist() == list(range(1, 501))
    first = frame.iloc[0]
    assert first["CUSTOMER_ID"] == 1001
    assert first["ORDER_DATE"] == dt.datetime(2025, 1, 2, 10, 0)
    assert first["TOTAL_AMOUNT"] == 11.25 and first["SHIPPING_COST"] == 7.5

    # Close, reopen without a token: the committed token survives and the writer resumes after it.
    channel.close()
    channel, status = client.open_channel("ch_1")
    assert status.latest_committed_offset_token == "500"
    channel.append_rows([order(i) for i in range(501, 601)], "501", "600")
    channel.wait_for_commit(lambda token: token == "600", 30)
    assert ids(backend, fresh_table) == list(range(1, 601))

    # Opening with an explicit token sets the channel's committed token (that is what resets it).
    channel.close()
    channel, status = client.open_channel("ch_1", offset_token="42")
    assert status.latest_committed_offset_token == "42"

    channels = backend.sql(f'SHOW CHANNELS IN PIPE RAW."{fresh_table}-STREAMING"')
    assert channels[["name", "last_committed_offset_token"]].values.tolist() == [["ch_1", "42"]]
    client.drop_channel("ch_1")
    assert backend.sql(f'SHOW CHANNELS IN PIPE RAW."{fresh_table}-STREAMING"').empty
    client.close()
    assert client.is_closed()
    assert ids(backend, fresh_table) == list(range(1, 601))


def test_second_client_fences_the_first(backend, fresh_table):
    first = backend.create_client("fence_a", f"{fresh_table}-STREAMING")
    second = backend.create_client("fence_b", f"{fresh_table}-STREAMING")
    old, _ = first.open_channel("shared")
    old.append_row(order(1), "1")
    old.wait_for_commit(lambda token: token == "1", 30)

    new, status = second.open_channel("shared")
    assert status.latest_committed_offset_token == "1"
    with pytest.raises(StreamingIngestError, match="ERR_CHANNEL_HAS_INVALID_CONTINUATION_TOKEN"):
        old.append_row(order(2), "2")
        old.wait_for_flush(30)
        old.append_row(order(3), "3")  # the channel is invalid once the stale POST was refused
    new.append_row(order(2), "2")
    new.wait_for_commit(lambda token: token == "2", 30)
    assert ids(backend, fresh_table) == [1, 2]
    first.close()
    second.close()


def test_rows_that_do_not_fit_are_counted_and_the_rest_goes_in(backend, fresh_table):
    client = backend.create_client("bad_rows", f"{fresh_table}-STREAMING")
    channel, _ = client.open_channel("ch")
    channel.append_rows(
        [
            order(1),
            order(2, BOGUS=1),  # unknown column
            order(3, TOTAL_AMOUNT="lots"),  # wrong type
            {"CUSTOMER_ID": 7},  # NOT NULL ORDER_ID missing
            {k.lower(): v for k, v in order(5, ORDER_STATUS="Shipped").items()},  # names match case-insensitively
        ],
        "1",
        "5",
    )
    channel.wait_for_commit(lambda token: token == "5", 30)
    st = client.get_channel_statuses(["ch"])["ch"]
    assert (st.rows_parsed_count, st.rows_inserted_count, st.rows_error_count) == (5, 2, 3)
    assert st.last_error_offset_token_upper_bound == "5"
    assert st.last_error_message
    frame = backend.sql(f"SELECT ORDER_ID, ORDER_STATUS FROM RAW.{fresh_table} ORDER BY ORDER_ID")
    assert frame.values.tolist() == [[1, "Completed"], [5, "Shipped"]]

    channel.append_row(order(6, BOGUS=1), "6")
    channel.wait_for_commit(lambda token: token == "6", 30)
    st = client.get_channel_statuses(["ch"])["ch"]
    assert "BOGUS" in st.last_error_message and st.last_error_offset_token_upper_bound == "6"

    channel.append_row(order(7, TOTAL_AMOUNT="lots"), "7")
    channel.wait_for_commit(lambda token: token == "7", 30)
    st = client.get_channel_statuses(["ch"])["ch"]
    assert "TOTAL_AMOUNT" in st.last_error_message and st.rows_error_count == 5
    # A row the SDK cannot serialise never leaves the client.
    with pytest.raises(ValueError, match="serialize"):
        channel.append_row(order(8, CUSTOMER_ID=object()), "8")
    client.close()
    assert ids(backend, fresh_table) == [1, 5]


def test_a_bad_row_deep_in_a_big_batch_is_found(backend, fresh_table):
    """The fast path detects keys from the first rows; a key or value further on still counts as an error."""
    client = backend.create_client("deep_rows", f"{fresh_table}-STREAMING")
    channel, _ = client.open_channel("ch")
    rows = [order(i) for i in range(1, 5_001)]
    rows[3_999] = order(4_000, BOGUS=1)
    rows[4_499] = order(4_500, ORDER_STATUS="2025-01-01")  # date-like text stays text in a VARCHAR column
    channel.append_rows(rows, "1", "5000")
    channel.wait_for_commit(lambda token: token == "5000", 30)
    st = client.get_channel_statuses(["ch"])["ch"]
    client.close()
    assert (st.rows_parsed_count, st.rows_inserted_count, st.rows_error_count) == (5_000, 4_999, 1)
    assert "BOGUS" in st.last_error_message
    assert ids(backend, fresh_table) == [i for i in range(1, 5_001) if i != 4_000]
    status = backend.sql(f"SELECT ORDER_STATUS FROM RAW.{fresh_table} WHERE ORDER_ID = 4500")["ORDER_STATUS"][0]
    assert status == "2025-01-01"


def test_unknown_pipe_is_refused_with_its_name(backend):
    with pytest.raises(StreamingError, match="NO_SUCH_PIPE.*does not exist"):
        backend.create_client("nopipe", "NO_SUCH_PIPE")


def test_a_key_the_service_does_not_know_is_refused(backend):
    props = backend.client_properties() | {"private_key": generate_key_pair().private_key_pem}
    with pytest.raises(StreamingIngestError, match="the user does not exist or the key is not registered"):
        StreamingIngestClient("badkey", backend.database, backend.schema, "ORDERS_PIPE", properties=props)


def test_an_unknown_user_is_refused(backend):
    props = backend.client_properties() | {"user": "MALLORY"}
    # The same words as for an unknown key: a refusal does not tell which users exist.
    with pytest.raises(StreamingIngestError, match="the user does not exist or the key is not registered"):
        StreamingIngestClient("baduser", backend.database, backend.schema, "ORDERS_PIPE", properties=props)


def test_flush_tick_is_what_the_sdk_uses(backend, fresh_table):
    backend.set_flush_tick(f"{fresh_table}-STREAMING", 200)
    pipes = backend.sql(f"SHOW PIPES LIKE '{fresh_table}-STREAMING' IN SCHEMA RAW")
    assert pipes["flush_tick_ms"].tolist() == [200]
    with pytest.raises(Exception, match="flush tick must be"):
        backend.set_flush_tick(f"{fresh_table}-STREAMING", 0)


def test_committed_data_survives_a_restart(local_home, tmp_path):
    home = share_ca(local_home, tmp_path / "home")
    service.start(home)
    try:
        backend = LocalBackend(home)
        backend.sql("CREATE TABLE RAW.R (ORDER_ID NUMBER(38,0) NOT NULL)")
        client = backend.create_client("restart", "R-STREAMING")
        channel, _ = client.open_channel("ch")
        channel.append_rows([{"ORDER_ID": i} for i in range(1, 101)], "1", "100")
        channel.wait_for_commit(lambda token: token == "100", 30)
        client.close()
        port = service.status(home).port

        assert service.stop(home)
        assert service.status(home) is None
        info = service.start(home)
        assert info.port == port  # the same URL, so existing profiles keep working

        backend = LocalBackend(home)
        client = backend.create_client("restart", "R-STREAMING")
        channel, status = client.open_channel("ch")
        assert status.latest_committed_offset_token == "100"
        channel.append_rows([{"ORDER_ID": i} for i in range(101, 151)], "101", "150")
        channel.wait_for_commit(lambda token: token == "150", 30)
        client.close()
        assert backend.sql("SELECT ORDER_ID FROM RAW.R ORDER BY 1")["ORDER_ID"].tolist() == list(range(1, 151))
    finally:
        service.stop(home)


def test_the_service_replies_without_waiting_for_the_clients_ack():
    """Connections of the service's listening socket get TCP_NODELAY from asyncio, as uvicorn serves them."""
    listener = service._listen(0)

    async def accepted_nodelay() -> list[int]:
        seen: list[int] = []

        async def on_client(reader, writer):
            seen.append(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(on_client, sock=listener)
        reader, writer = await asyncio.open_connection(*listener.getsockname())
        await reader.read()
        writer.close()
        server.close()
        await server.wait_closed()
        return seen

    assert asyncio.run(accepted_nodelay()) == [1]
