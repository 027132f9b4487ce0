"""aidemo.backends.provision (`aidemo setup`): objects and customers on a backend of the test's own
(local, or a real account)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aidemo.backends.backend import LocalBackend
from aidemo.backends.provision import setup
from aidemo.data import customers as customer_module
from aidemo.data.customers import customer_segments, generate_customers
from aidemo.data.generator import InstanceSpec, order_batch
from aidemo.data.models import SEGMENTS
from aidemo.errors import ConfigError
from aidemo.settings import load_settings
from aidemo.stream.offsets import order_token
from tests.helpers import stream

SEED = 11
PIPES = ("ORDERS_PIPE", "ORDER_ITEMS_PIPE")


def customers(backend) -> pd.DataFrame:
    return backend.sql("SELECT * FROM CUSTOMERS ORDER BY CUSTOMER_ID").reset_index(drop=True)


def channels(backend) -> dict[str, str]:
    frame = backend.sql(f"SHOW CHANNELS IN SCHEMA {backend.database}.RAW")
    return dict(zip(frame["name"], frame["offset_token"]))


def test_setup_loads_the_generators_customers_once(own_backend):
    first = setup(own_backend, reset=True, num_customers=500, seed=SEED)
    assert (first.backend, first.reset, first.customers_loaded) == (own_backend.name, True, 500)
    assert first.tables == {"CUSTOMERS": 500, "ORDERS": 0, "ORDER_ITEMS": 0}
    assert first.pipes == tuple(sorted(PIPES)) and set(first.pipes_created) == set(PIPES)
    loaded = customers(own_backend)
    pd.testing.assert_frame_equal(loaded, generate_customers(SEED, 500), check_dtype=False)
    codes = customer_segments(SEED, loaded["CUSTOMER_ID"].to_numpy(dtype=np.int64))
    assert loaded["CUSTOMER_SEGMENT"].tolist() == [SEGMENTS[c].name for c in codes]
    assert set(loaded["CUSTOMER_SEGMENT"]) == {s.name for s in SEGMENTS}

    # A committed channel on one pipe, the other pipe gone: a second setup recreates only the
    # missing pipe, loads nothing and keeps the channel with its offset token.
    stream(
        own_backend,
        "ORDERS_PIPE",
        "orders_channel_0",
        order_batch(InstanceSpec.single(SEED, 500), 1, 5).order_rows(),
        order_token,
    ).close()
    own_backend.sql("DROP PIPE ORDER_ITEMS_PIPE")
    again = setup(own_backend, seed=SEED)
    assert (again.customers_loaded, again.pipes_created, again.reset) == (0, ("ORDER_ITEMS_PIPE",), False)
    assert again.tables == {"CUSTOMERS": 500, "ORDERS": 5, "ORDER_ITEMS": 0}
    assert channels(own_backend) == {"orders_channel_0": "order_5"}
    pd.testing.assert_frame_equal(customers(own_backend), loaded)
    assert "CUSTOMERS" in again.summary() and "ORDER_ITEMS_PIPE" in again.summary()

    with pytest.raises(ConfigError, match="CUSTOMERS already holds 500 customers, not 600.*reset"):
        setup(own_backend, num_customers=600)


def test_reset_drops_rows_channels_and_pipes(own_backend):
    setup(own_backend, reset=True, num_customers=300, seed=SEED)
    batch = order_batch(InstanceSpec.single(SEED, 300), 1, 20)
    stream(own_backend, "ORDERS_PIPE", "orders_channel_0", batch.order_rows(), order_token).close()
    stream(own_backend, "ORDERS-STREAMING", "default_pipe_channel", batch.order_rows(), order_token).close()
    before = own_backend.sql(f"SHOW PIPES IN SCHEMA {own_backend.database}.RAW")
    assert len(channels(own_backend)) == 2

    report = setup(own_backend, reset=True, num_customers=200, seed=SEED + 1)
    assert report.tables == {"CUSTOMERS": 200, "ORDERS": 0, "ORDER_ITEMS": 0}
    assert set(report.pipes_created) == set(PIPES) and report.customers_loaded == 200
    assert channels(own_backend) == {}
    after = own_backend.sql(f"SHOW PIPES IN SCHEMA {own_backend.database}.RAW")
    assert sorted(after["name"]) == sorted(PIPES)
    assert after["created_on"].min() > before["created_on"].max()
    pd.testing.assert_frame_equal(customers(own_backend), generate_customers(SEED + 1, 200), check_dtype=False)


def test_reset_of_a_database_that_does_not_exist_yet_creates_it(local_home):
    with LocalBackend(local_home, "PROVISION_FRESH") as backend:  # the first setup of a notebook's run
        report = setup(backend, reset=True, num_customers=10, seed=SEED)
        assert report.tables == {"CUSTOMERS": 10, "ORDERS": 0, "ORDER_ITEMS": 0}
        assert set(PIPES) <= set(report.pipes)


def test_reset_keeps_customers_of_the_same_seed_and_count_and_drops_the_rest(own_backend):
    setup(own_backend, reset=True, num_customers=300, seed=SEED)
    batch = order_batch(InstanceSpec.single(SEED, 300), 1, 20)
    stream(own_backend, "ORDERS_PIPE", "orders_channel_0", batch.order_rows(), order_token).close()
    stream(own_backend, "ORDERS-STREAMING", "default_pipe_channel", batch.order_rows(), order_token).close()
    own_backend.sql("UPDATE CUSTOMERS SET CITY = 'Kept' WHERE CUSTOMER_ID = 7")  # shows the rows were not reloaded

    report = setup(own_backend, reset=True, num_customers=300, seed=SEED)
    assert (report.customers_loaded, report.reset) == (0, True)
    assert report.tables == {"CUSTOMERS": 300, "ORDERS": 0, "ORDER_ITEMS": 0}
    assert set(report.pipes_created) == set(PIPES) and channels(own_backend) == {}
    assert own_backend.sql("SELECT CITY FROM CUSTOMERS WHERE CUSTOMER_ID = 7").iloc[0, 0] == "Kept"

    # Another seed (same count) is not the same customers: they are reloaded.
    other = setup(own_backend, reset=True, num_customers=300, seed=SEED + 1)
    assert other.customers_loaded == 300
    pd.testing.assert_frame_equal(customers(own_backend), generate_customers(SEED + 1, 300), check_dtype=False)


def test_names_with_quotes_and_backslashes_round_trip(own_backend, monkeypatch):
    def awkward(seed, count, first_id=1):
        frame = generate_customers(seed, count, first_id)
        frame.loc[0, "LAST_NAME"] = "O'Brien"
        frame.loc[1, "FIRST_NAME"] = "D'Arcy \\ Jr."
        frame.loc[2, "ADDRESS"] = '1 Quote "Lane"; DROP TABLE CUSTOMERS; --'
        return frame

    monkeypatch.setattr(customer_module, "generate_customers", awkward)
    setup(own_backend, reset=True, num_customers=10, seed=SEED)
    pd.testing.assert_frame_equal(customers(own_backend), awkward(SEED, 10), check_dtype=False)


def test_default_count_loads(own_backend):
    """The settings' customer count, exactly (bench/setup.py prints how long it takes)."""
    settings = load_settings()
    report = setup(own_backend, reset=True)
    assert report.customers_loaded == report.tables["CUSTOMERS"] == settings.num_customers
    pd.testing.assert_frame_equal(
        customers(own_backend), generate_customers(settings.seed, settings.num_customers), check_dtype=False
    )


@pytest.mark.parametrize("bad, key", [({"num_customers": 0}, "num_customers"), ({"seed": -1}, "seed")])
def test_bad_arguments_are_named(backend, bad, key):
    with pytest.raises(ConfigError, match=key):
        setup(backend, **bad)
