"""One vocabulary for a stream's knobs: Settings and StreamOptions share names, defaults and bounds
(aidemo.knobs.KNOBS), earlier config keys are refused with their new names, and StreamOptions writes
its own flags and environment for a child process."""

from __future__ import annotations

import dataclasses

import pytest

from aidemo.cli import _parser, _settings_and_options
from aidemo.errors import ConfigError
from aidemo.knobs import KNOBS, RENAMED_KEYS, knob_environment
from aidemo.settings import SETTINGS_KEYS, Settings, load_settings
from aidemo.stream.options import StreamOptions

CHANGED = StreamOptions(
    batch_size=7,
    max_client_lag=0.5,
    rate=12.5,
    commit_timeout=9.0,
    max_retries=2,
    max_error_rows=3,
    max_in_flight=5_000,
    stall_reopen=4.0,
    order_dates="year",
    orders_channel="o",
    items_channel="i",
    orders_pipe="P1",
    items_pipe="P2",
)


def test_settings_and_options_are_the_table_s_knobs_with_one_default_and_rule_each():
    settings = {f.name: f for f in dataclasses.fields(Settings)}
    options = {f.name: f for f in dataclasses.fields(StreamOptions)}
    assert set(settings) == {name for name, knob in KNOBS.items() if knob.key}
    assert set(options) == {name for name, knob in KNOBS.items() if knob.stream}
    assert tuple(KNOBS[name].key for name in settings) == SETTINGS_KEYS
    for name in settings.keys() & options.keys():  # batch size, lag, channels, pipes
        assert settings[name].metadata["knob"] is options[name].metadata["knob"] is KNOBS[name]
        assert settings[name].default == options[name].default == KNOBS[name].default
    assert {f.name: f.default for f in options.values()} == dataclasses.asdict(StreamOptions())


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("batch_size", 0, "batch_size must be an integer between 1 and 1000000, got 0"),
        ("batch_size", True, "batch_size must be an integer between 1 and 1000000, got True"),
        ("max_client_lag", 0, "max_client_lag must be a number of seconds between 0.1 and 600, got 0"),
        ("orders_channel", "a b", "orders_channel must be a non-empty name of letters, digits and underscores"),
        ("items_pipe", "DB.RAW.P", "items_pipe must be an unquoted Snowflake identifier such as ORDERS_PIPE"),
    ],
)
def test_a_shared_knob_is_refused_by_both_with_the_same_words(name, value, message):
    for build in (Settings, StreamOptions):
        with pytest.raises(ConfigError) as info:
            build(**{name: value})
        assert str(info.value).startswith(message)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("rate", -1, "rate must be a positive number of orders per second, got -1"),
        ("rate", 0, "rate must be a positive number of orders per second, got 0"),
        ("stall_reopen", 0, "stall_reopen must be a positive number of seconds, got 0"),
        ("commit_timeout", -3, "commit_timeout must be a positive number of seconds, got -3"),
        ("max_retries", -1, "max_retries must be an integer >= 0, got -1"),
        ("max_error_rows", 1.5, "max_error_rows must be an integer >= 0, got 1.5"),
        ("max_in_flight", 999, "max_in_flight must be an integer between 1000 and 10000000, got 999"),
    ],
)
def test_the_stream_s_own_knobs_are_checked_by_the_table(name, value, message):
    with pytest.raises(ConfigError) as info:
        StreamOptions(**{name: value})
    assert str(info.value) == message


def test_rates_and_seconds_are_stored_as_floats():
    options = StreamOptions(rate=20, max_client_lag=5, stall_reopen=2)
    assert (options.rate, options.max_client_lag, options.stall_reopen) == (20.0, 5.0, 2.0)
    assert all(isinstance(v, float) for v in (options.rate, options.max_client_lag, options.stall_reopen))
    assert StreamOptions().rate is None


@pytest.mark.parametrize(("old", "new"), sorted(RENAMED_KEYS.items()))
def test_an_earlier_key_is_refused_with_the_name_that_replaced_it(tmp_path, old, new):
    path = tmp_path / "config.properties"
    path.write_text(f"seed=1\n{old}=5\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    assert str(info.value) == f"{path} line 2: {old} is now called {new}"
    old_var, new_var = (("AIDEMO_" + key.upper().replace(".", "_")) for key in (old, new))
    with pytest.raises(ConfigError) as info:
        load_settings(env={old_var: "5"})
    assert str(info.value) == f"{old_var} is now called {new_var}"
    old_field, new_field = old.replace(".", "_"), new.replace(".", "_")
    with pytest.raises(ConfigError) as info:
        load_settings(env={}, **{old_field: 5})
    assert str(info.value) == f"{old_field} is now called {new_field}"


def test_the_options_flags_bring_the_same_options_back_in_a_child(in_empty_dir):
    args = _parser().parse_args(["stream", "10", *CHANGED.to_arguments()])
    settings, options = _settings_and_options(args)
    assert options == CHANGED
    assert (settings.batch_size, settings.orders_channel, settings.items_pipe) == (7, "o", "P2")
    assert "--rate" not in StreamOptions().to_arguments()  # unset: as fast as possible


def test_the_options_environment_brings_the_settings_back_in_a_child(in_empty_dir):
    env = CHANGED.to_environment()
    assert env == {
        "AIDEMO_BATCH_SIZE": "7",
        "AIDEMO_MAX_CLIENT_LAG": "0.5",
        "AIDEMO_ORDER_DATES": "year",
        "AIDEMO_ORDERS_CHANNEL": "o",
        "AIDEMO_ITEMS_CHANNEL": "i",
        "AIDEMO_ORDERS_PIPE": "P1",
        "AIDEMO_ITEMS_PIPE": "P2",
    }
    read = StreamOptions.from_settings(load_settings(env=env))
    assert read == dataclasses.replace(
        StreamOptions(),
        **{name: getattr(CHANGED, name) for name, knob in KNOBS.items() if knob.stream and knob.key},
    )
    assert knob_environment(seed=3, num_customers=40) == {"AIDEMO_SEED": "3", "AIDEMO_NUM_CUSTOMERS": "40"}
    with pytest.raises(ConfigError, match="no environment variable for rate"):
        knob_environment(rate=1.0)
