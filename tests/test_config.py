"""Configuration layers (aidemo.config, aidemo.settings): file, then environment, then explicit arguments."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from pathlib import Path

import pytest

from aidemo.backends.keys import load_private_key
from aidemo.config import PROFILE_KEYS, Profile, find_profile, load_profile
from aidemo.data.dates import utc_now
from aidemo.errors import ConfigError, KeyPairError
from aidemo.settings import SETTINGS_KEYS, Settings, load_settings, settings_env_var
from aidemo.stream.offsets import parse_order_dates, parse_order_token

REPO = Path(__file__).resolve().parents[1]


def write_json(path: Path, data) -> Path:
    path.write_text(json.dumps(data, indent=2))
    return path


def account_profile(pair, **extra) -> dict:
    """A real-account profile.json (no backend key, as the seed's profiles are)."""
    return {"account": "myorg-acct", "user": "STREAMER", "private_key": pair.private_key_pem, **extra}


def write_properties(directory: Path, *lines: str) -> Path:
    path = directory / "config.properties"
    path.write_text("\n".join(lines) + "\n")
    return path


# --------------------------------------------------------------------------- settings


def test_defaults_without_a_file(in_empty_dir):
    settings = load_settings(env={})
    assert settings == Settings()
    assert settings.batch_size == 10_000
    assert settings.max_client_lag == 60.0
    assert settings.num_orders_per_batch == 100
    assert (settings.num_customers, settings.seed, settings.instances) == (20_000, 42, 1)
    assert (settings.orders_channel, settings.items_channel) == (
        "orders_channel",
        "order_items_channel",
    )
    assert (settings.orders_pipe, settings.items_pipe) == ("ORDERS_PIPE", "ORDER_ITEMS_PIPE")
    assert settings.order_dates == "live"  # a dashboard beside the stream sees the orders landing


def test_repo_config_properties_documents_every_key_with_its_default():
    path = REPO / "config.properties"
    assert load_settings(path, env={}) == Settings()
    lines = path.read_text().splitlines()
    assigned = [line.split("=")[0] for line in lines if "=" in line and line[0] not in "#!"]
    assert sorted(assigned) == sorted(SETTINGS_KEYS)


def test_field_names_are_keys_with_underscores():
    assert [f.name for f in dataclasses.fields(Settings)] == [key.replace(".", "_") for key in SETTINGS_KEYS]


def test_properties_syntax(tmp_path):
    path = write_properties(
        tmp_path,
        "# a comment",
        "! another comment",
        "",
        "   batch.size = 250   ",
        "max.client.lag=2.5",
        "orders.channel=demo_orders",
    )
    settings = load_settings(path, env={})
    assert settings.batch_size == 250
    assert settings.max_client_lag == 2.5
    assert settings.orders_channel == "demo_orders"
    assert settings.seed == 42  # untouched keys keep their defaults


def test_default_file_is_read_from_the_working_directory(in_empty_dir):
    write_properties(in_empty_dir, "instances=4")
    assert load_settings(env={}).instances == 4


def test_settings_precedence_file_env_arguments(tmp_path):
    path = write_properties(tmp_path, "batch.size=500", "max.client.lag=30", "seed=7")
    env = {"AIDEMO_BATCH_SIZE": "600", "AIDEMO_MAX_CLIENT_LAG": "5"}

    from_file = load_settings(path, env={})
    assert (from_file.batch_size, from_file.max_client_lag, from_file.seed) == (500, 30.0, 7)

    from_env = load_settings(path, env=env)
    assert (from_env.batch_size, from_env.max_client_lag, from_env.seed) == (600, 5.0, 7)

    from_args = load_settings(path, env=env, batch_size=700, max_client_lag=None)
    assert (from_args.batch_size, from_args.max_client_lag, from_args.seed) == (700, 5.0, 7)


def test_every_key_has_an_environment_variable(in_empty_dir):
    assert settings_env_var("max.client.lag") == "AIDEMO_MAX_CLIENT_LAG"
    assert settings_env_var("items.channel") == "AIDEMO_ITEMS_CHANNEL"
    env = {
        "AIDEMO_BATCH_SIZE": "11",
        "AIDEMO_MAX_CLIENT_LAG": "0.5",
        "AIDEMO_NUM_ORDERS_PER_BATCH": "12",
        "AIDEMO_NUM_CUSTOMERS": "13",
        "AIDEMO_SEED": "0",
        "AIDEMO_ORDER_DATES": "year",
        "AIDEMO_INSTANCES": "14",
        "AIDEMO_ORDERS_CHANNEL": "o",
        "AIDEMO_ITEMS_CHANNEL": "i",
        "AIDEMO_ORDERS_PIPE": "P1",
        "AIDEMO_ITEMS_PIPE": "P2",
    }
    assert sorted(env) == sorted(settings_env_var(key) for key in SETTINGS_KEYS)
    assert load_settings(env=env) == Settings(
        batch_size=11,
        max_client_lag=0.5,
        num_orders_per_batch=12,
        num_customers=13,
        seed=0,
        order_dates="year",
        instances=14,
        orders_channel="o",
        items_channel="i",
        orders_pipe="P1",
        items_pipe="P2",
    )


def test_bad_value_names_file_line_and_key(in_empty_dir):
    write_properties(in_empty_dir, "# settings", "seed=1", "batch.size=0")
    with pytest.raises(ConfigError) as info:
        load_settings(env={})
    assert str(info.value) == ("config.properties line 3: batch.size must be an integer between 1 and 1000000, got '0'")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("batch.size=1000001", "batch.size must be an integer between 1 and 1000000, got '1000001'"),
        ("batch.size=1.5", "batch.size must be an integer between 1 and 1000000, got '1.5'"),
        ("max.client.lag=0.05", "max.client.lag must be a number of seconds between 0.1 and 600, got '0.05'"),
        ("max.client.lag=601", "max.client.lag must be a number of seconds between 0.1 and 600, got '601'"),
        ("max.client.lag=soon", "max.client.lag must be a number of seconds between 0.1 and 600, got 'soon'"),
        ("max.client.lag=nan", "max.client.lag must be a number of seconds between 0.1 and 600, got 'nan'"),
        ("num.orders.per.batch=0", "num.orders.per.batch must be an integer >= 1, got '0'"),
        ("num.customers=-5", "num.customers must be an integer >= 1, got '-5'"),
        ("seed=-1", "seed must be an integer >= 0, got '-1'"),
        ("instances=1001", "instances must be an integer between 1 and 1000, got '1001'"),
        ("order.dates=now", "order.dates must be one of live, year, fixed (live: the 15 minutes before the job"),
        ("order.dates=Live", "order.dates must be one of live, year, fixed"),
        ("orders.channel=orders-channel", "orders.channel must be a non-empty name of letters"),
        ("items.channel=", "items.channel must be a non-empty name of letters"),
        ("orders.pipe=1PIPE", "orders.pipe must be an unquoted Snowflake identifier"),
        ("items.pipe=DB.RAW.PIPE", "items.pipe must be an unquoted Snowflake identifier"),
    ],
)
def test_bad_values_in_the_file(tmp_path, line, expected):
    path = write_properties(tmp_path, line)
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    assert str(info.value).startswith(f"{path} line 1: {expected}")


def test_unknown_key_suggests_the_closest(tmp_path):
    path = write_properties(tmp_path, "seed=1", "", "batch.sise=10")
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    message = str(info.value)
    assert message.startswith(f"{path} line 3: unknown key 'batch.sise'")
    assert "did you mean 'batch.size'?" in message
    for key in SETTINGS_KEYS:
        assert key in message


def test_unknown_key_without_a_close_match(tmp_path):
    path = write_properties(tmp_path, "colour=blue")
    with pytest.raises(ConfigError, match=r"line 1: unknown key 'colour'; valid keys: batch\.size,") as info:
        load_settings(path, env={})
    assert "did you mean" not in str(info.value)


def test_line_without_equals(tmp_path):
    path = write_properties(tmp_path, "seed=1", "instances 4")
    with pytest.raises(ConfigError, match=r"line 2: expected key=value, got 'instances 4'"):
        load_settings(path, env={})


def test_key_set_twice(tmp_path):
    path = write_properties(tmp_path, "seed=1", "# again", "seed=2")
    with pytest.raises(ConfigError, match=r"line 3: seed is set twice \(first on line 1\)"):
        load_settings(path, env={})


def test_bad_environment_value_names_the_variable(in_empty_dir):
    with pytest.raises(ConfigError) as info:
        load_settings(env={"AIDEMO_MAX_CLIENT_LAG": "0"})
    assert str(info.value) == "AIDEMO_MAX_CLIENT_LAG must be a number of seconds between 0.1 and 600, got '0'"
    with pytest.raises(ConfigError, match=r"^AIDEMO_INSTANCES must be an integer between 1 and 1000, got ''$"):
        load_settings(env={"AIDEMO_INSTANCES": ""})


def test_bad_argument_names_the_argument(in_empty_dir):
    with pytest.raises(ConfigError) as info:
        load_settings(env={}, batch_size=0)
    assert str(info.value) == "batch_size must be an integer between 1 and 1000000, got 0"


@pytest.mark.parametrize(
    ("arguments", "name"),
    [
        ({"batch_size": "500"}, "batch_size"),
        ({"instances": True}, "instances"),
        ({"seed": 1.0}, "seed"),
        ({"max_client_lag": float("inf")}, "max_client_lag"),
        ({"max_client_lag": "5"}, "max_client_lag"),
        ({"orders_channel": "a b"}, "orders_channel"),
        ({"orders_pipe": ""}, "orders_pipe"),
        ({"order_dates": "today"}, "order_dates"),
    ],
)
def test_settings_built_directly_are_validated(arguments, name):
    with pytest.raises(ConfigError, match=rf"^{name} must be "):
        Settings(**arguments)


def test_lag_accepts_an_integer_and_stores_a_float():
    lag = Settings(max_client_lag=5).max_client_lag
    assert lag == 5.0 and isinstance(lag, float)


def test_unknown_argument_suggests_the_closest(in_empty_dir):
    with pytest.raises(ConfigError, match=r"unknown setting 'max_lag' \(did you mean 'max_client_lag'\?\)"):
        load_settings(env={}, max_lag=5)


def test_missing_explicit_settings_file(tmp_path):
    with pytest.raises(ConfigError, match=r"settings file .*nowhere\.properties.*no such file"):
        load_settings(tmp_path / "nowhere.properties", env={})


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().seed = 1  # type: ignore[misc]


# --------------------------------------------------------------------------- profile: finding and backend


def test_no_profile_means_local(in_empty_dir):
    profile = load_profile(env={})
    assert (profile.backend, profile.source) == ("local", "default")
    assert (profile.database, profile.schema) == ("AUTOMATED_INTELLIGENCE", "RAW")
    assert profile.backend == "local"


def test_find_profile_order(in_empty_dir):
    assert find_profile(env={}) is None
    cwd_profile = write_json(in_empty_dir / "profile.json", {"backend": "local"})
    assert find_profile(env={}) == Path("profile.json")
    env_profile = write_json(in_empty_dir / "env.json", {"backend": "local"})
    assert find_profile(env={"AIDEMO_PROFILE": str(env_profile)}) == env_profile
    explicit = write_json(in_empty_dir / "explicit.json", {"backend": "local"})
    assert find_profile(explicit, env={"AIDEMO_PROFILE": str(env_profile)}) == explicit
    assert cwd_profile.exists()


def test_missing_profile_paths_are_errors(tmp_path):
    with pytest.raises(ConfigError, match=r"^profile file '.*missing\.json': no such file"):
        find_profile(tmp_path / "missing.json", env={})
    with pytest.raises(ConfigError, match=r"^AIDEMO_PROFILE '.*gone\.json': no such file"):
        load_profile(env={"AIDEMO_PROFILE": str(tmp_path / "gone.json")})


def test_real_account_profile_without_backend_is_snowflake(tmp_path, plain_keys):
    path = write_json(tmp_path / "profile.json", account_profile(plain_keys))
    profile = load_profile(path, env={})
    assert profile.backend == "snowflake"
    assert profile.source == str(path)
    assert profile.url == "https://myorg-acct.snowflakecomputing.com"


def test_profile_found_through_the_environment(tmp_path, plain_keys):
    path = write_json(tmp_path / "elsewhere.json", account_profile(plain_keys, role="R"))
    profile = load_profile(env={"AIDEMO_PROFILE": str(path)})
    assert (profile.backend, profile.role, profile.source) == ("snowflake", "R", str(path))


def test_local_backend_in_the_file(tmp_path, plain_keys):
    path = write_json(tmp_path / "profile.json", account_profile(plain_keys, backend="local"))
    assert load_profile(path, env={}).backend == "local"


def test_profile_precedence_file_env_arguments(tmp_path, plain_keys):
    path = write_json(tmp_path / "profile.json", account_profile(plain_keys, backend="snowflake", role="FILE_ROLE"))
    assert load_profile(path, env={}).backend == "snowflake"

    from_env = load_profile(path, env={"AIDEMO_BACKEND": "local"})
    assert (from_env.backend, from_env.role) == ("local", "FILE_ROLE")

    from_args = load_profile(path, env={"AIDEMO_BACKEND": "local"}, backend="snowflake", role="ARG_ROLE", user=None)
    assert (from_args.backend, from_args.role, from_args.user) == ("snowflake", "ARG_ROLE", "STREAMER")


def test_environment_backend_can_select_snowflake(tmp_path, plain_keys):
    path = write_json(tmp_path / "profile.json", account_profile(plain_keys, backend="local"))
    assert load_profile(path, env={"AIDEMO_BACKEND": "snowflake"}).backend == "snowflake"


def test_environment_names_the_database_and_schema_over_the_file(tmp_path, plain_keys):
    path = write_json(tmp_path / "profile.json", account_profile(plain_keys, database="FILE_DB"))
    assert (load_profile(path, env={}).database, load_profile(path, env={}).schema) == ("FILE_DB", "RAW")
    profile = load_profile(path, env={"AIDEMO_DATABASE": "ENV_DB", "AIDEMO_SCHEMA": "ENV_SCHEMA"})
    assert (profile.database, profile.schema) == ("ENV_DB", "ENV_SCHEMA")
    assert load_profile(path, env={"AIDEMO_DATABASE": "ENV_DB"}, database="ARG_DB").database == "ARG_DB"
    with pytest.raises(ConfigError, match=r"^AIDEMO_SCHEMA is set but empty: name the schema, or unset it$"):
        load_profile(path, env={"AIDEMO_SCHEMA": " "})


def test_bad_environment_backend_names_the_variable(in_empty_dir):
    with pytest.raises(ConfigError, match=r"^AIDEMO_BACKEND must be 'local' or 'snowflake', got 'Snowflake'$"):
        load_profile(env={"AIDEMO_BACKEND": "Snowflake"})


def test_snowflake_from_the_environment_needs_a_profile(in_empty_dir):
    with pytest.raises(ConfigError, match=r"AIDEMO_BACKEND is 'snowflake' but there is no profile.*template"):
        load_profile(env={"AIDEMO_BACKEND": "snowflake"})


def test_credentials_as_arguments_without_a_file(in_empty_dir, plain_keys):
    profile = load_profile(env={}, account="myorg-acct", user="U", private_key=plain_keys.private_key_pem)
    assert (profile.backend, profile.source) == ("snowflake", "arguments")


def test_unknown_profile_argument(in_empty_dir):
    with pytest.raises(ConfigError, match=r"unknown profile field 'acount' \(did you mean 'account'\?\)"):
        load_profile(env={}, acount="x")


# --------------------------------------------------------------------------- profile: validation


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"backend": "cloud"}, "backend must be 'local' or 'snowflake', got 'cloud'"),
        ({"account": None}, "the snowflake backend needs account"),
        ({"user": ""}, "the snowflake backend needs user"),
        ({"private_key": None, "user": None}, "the snowflake backend needs user, private_key"),
        ({"url": "http://myorg-acct.snowflakecomputing.com"}, "url must start with https://"),
        ({"url": "https://localhost"}, "url 'https://localhost' is not an account URL"),
        ({"url": "https://a.b.c/path"}, "url 'https://a.b.c/path' is not an account URL"),
        ({"account": "myorg-acct.snowflakecomputing.com"}, "account must be the account identifier"),
        ({"account": "https://myorg-acct"}, "account must be the account identifier"),
        ({"account": 12345}, "account must be a string or null, got 12345"),
        ({"database": ""}, "database must be a non-empty string, got ''"),
        ({"schema": None}, "schema must be a non-empty string, got None"),
    ],
)
def test_profile_errors_name_file_and_key(tmp_path, plain_keys, change, expected):
    data = {"backend": "snowflake", **account_profile(plain_keys)}
    for key, value in change.items():
        data[key] = value
    path = write_json(tmp_path / "profile.json", data)
    with pytest.raises(ConfigError) as info:
        load_profile(path, env={})
    assert str(info.value).startswith(f"{path}: {expected}")


def test_url_with_port_and_slash_is_accepted(tmp_path, plain_keys):
    url = "https://myorg-acct.eu-west-1.snowflakecomputing.com:443/"
    profile = load_profile(write_json(tmp_path / "p.json", account_profile(plain_keys, url=url)), env={})
    assert profile.url == url


def test_unknown_profile_keys_are_listed_with_suggestions(tmp_path, plain_keys):
    path = write_json(tmp_path / "profile.json", account_profile(plain_keys, acount="x", colour="blue"))
    with pytest.raises(ConfigError) as info:
        load_profile(path, env={})
    message = str(info.value)
    assert message.startswith(f"{path}: unknown keys 'acount' (did you mean 'account'?), 'colour';")
    for key in PROFILE_KEYS:
        assert key in message.split("valid keys:")[1]


def test_passphrase_does_not_belong_in_the_file(tmp_path, encrypted_keys):
    path = write_json(tmp_path / "profile.json", account_profile(encrypted_keys, private_key_passphrase="s3cret"))
    expected = rf"^{re.escape(str(path))}: keep the passphrase out of the file; set PRIVATE_KEY_PASSPHRASE"
    with pytest.raises(ConfigError, match=expected):
        load_profile(path, env={})


def test_malformed_json_names_line_and_column(tmp_path):
    path = tmp_path / "profile.json"
    path.write_text('{\n  "account": "a",\n  "user": "u"\n  "role": "r"\n}\n')
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(path))} line 4 column 3: invalid JSON: Expecting ','"):
        load_profile(path, env={})


def test_raw_line_breaks_in_the_key_get_a_hint(tmp_path, plain_keys):
    path = tmp_path / "profile.json"
    path.write_text('{"account": "a", "user": "u", "private_key": "' + plain_keys.private_key_pem + '"}')
    with pytest.raises(ConfigError, match=r"line 1 column \d+: invalid JSON: Invalid control character.*as \\n"):
        load_profile(path, env={})


@pytest.mark.parametrize(("content", "kind"), [("[1, 2]", "list"), ('"account"', "str"), ("null", "NoneType")])
def test_profile_must_be_an_object(tmp_path, content, kind):
    path = tmp_path / "profile.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(path))}: must be a JSON object .*got {kind}$"):
        load_profile(path, env={})


def test_direct_construction_is_validated_with_its_source(plain_keys):
    expected = r"^arguments: the snowflake backend needs account \(see profile\.json\.template\)$"
    with pytest.raises(ConfigError, match=expected):
        Profile(backend="snowflake", user="U", private_key=plain_keys.private_key_pem)
    with pytest.raises(ConfigError, match=r"^notebook: backend must be"):
        Profile(backend="remote", source="notebook")


def test_profile_is_frozen_and_replace_revalidates(plain_keys):
    profile = Profile(backend="snowflake", account="a-b", user="U", private_key=plain_keys.private_key_pem)
    with pytest.raises(dataclasses.FrozenInstanceError):
        profile.user = "other"  # type: ignore[misc]
    with pytest.raises(ConfigError, match="needs private_key"):
        dataclasses.replace(profile, private_key=None)


# --------------------------------------------------------------------------- profile: keys and secrets


def test_encrypted_key_with_passphrase_from_the_environment(tmp_path, encrypted_keys):
    path = write_json(tmp_path / "profile.json", account_profile(encrypted_keys))
    profile = load_profile(path, env={"PRIVATE_KEY_PASSPHRASE": "s3cret"})
    assert profile.private_key_passphrase == "s3cret"


def test_passphrase_argument_beats_the_environment(tmp_path, encrypted_keys):
    path = write_json(tmp_path / "profile.json", account_profile(encrypted_keys))
    profile = load_profile(path, env={"PRIVATE_KEY_PASSPHRASE": "wrong"}, private_key_passphrase="s3cret")
    assert profile.private_key_passphrase == "s3cret"


def test_encrypted_key_without_passphrase(tmp_path, encrypted_keys):
    path = write_json(tmp_path / "profile.json", account_profile(encrypted_keys))
    expected = rf"^{re.escape(str(path))}: the private key is encrypted: set private_key_passphrase"
    with pytest.raises(KeyPairError, match=expected):
        load_profile(path, env={})


def test_encrypted_key_with_wrong_passphrase(tmp_path, encrypted_keys):
    path = write_json(tmp_path / "profile.json", account_profile(encrypted_keys))
    with pytest.raises(KeyPairError, match=rf"^{re.escape(str(path))}: cannot read the private key \(wrong passphrase"):
        load_profile(path, env={"PRIVATE_KEY_PASSPHRASE": "nope"})


def test_key_that_is_not_pem(tmp_path):
    path = write_json(tmp_path / "profile.json", {"account": "a", "user": "u", "private_key": "rsa_key.p8"})
    with pytest.raises(KeyPairError, match=rf"^{re.escape(str(path))}: private_key is not PEM text"):
        load_profile(path, env={})


def test_local_profile_does_not_load_the_key(tmp_path):
    path = write_json(tmp_path / "profile.json", {"backend": "local", "private_key": "not a key"})
    assert load_profile(path, env={}).backend == "local"


def test_repr_and_str_hide_the_secrets(tmp_path, encrypted_keys):
    path = write_json(tmp_path / "profile.json", account_profile(encrypted_keys))
    profile = load_profile(path, env={"PRIVATE_KEY_PASSPHRASE": "s3cret"})
    body_lines = encrypted_keys.private_key_pem.splitlines()[1:-1]
    for text in (repr(profile), str(profile)):
        assert "private_key=<hidden>" in text and "private_key_passphrase=<hidden>" in text
        assert "s3cret" not in text and "PRIVATE KEY" not in text
        assert not any(line in text for line in body_lines)
        assert "myorg-acct" in text and str(path) in text


def test_sdk_properties(tmp_path, encrypted_keys):
    path = write_json(tmp_path / "profile.json", account_profile(encrypted_keys, role="STREAMING_ROLE"))
    properties = load_profile(path, env={"PRIVATE_KEY_PASSPHRASE": "s3cret"}).sdk_properties()
    assert set(properties) == {"account", "user", "url", "private_key", "role"}
    assert properties["account"] == "myorg-acct" and properties["user"] == "STREAMER"
    assert properties["url"] == "https://myorg-acct.snowflakecomputing.com"
    assert properties["role"] == "STREAMING_ROLE"
    assert properties["private_key"].startswith("-----BEGIN PRIVATE KEY-----")
    original = load_private_key(encrypted_keys.private_key_pem, "s3cret")
    assert load_private_key(properties["private_key"]).private_numbers() == original.private_numbers()


def test_sdk_properties_without_role(plain_keys):
    profile = Profile(
        backend="snowflake", account="a-b", user="U", url="https://a-b.x.y", private_key=plain_keys.private_key_pem
    )
    properties = profile.sdk_properties()
    assert "role" not in properties
    assert properties["url"] == "https://a-b.x.y"


def test_sdk_properties_of_a_profile_without_credentials(in_empty_dir):
    with pytest.raises(ConfigError, match=r"^default: SDK properties need account, user, private_key$"):
        load_profile(env={}).sdk_properties()


# --------------------------------------------------------------------------- the template


def test_template_keys_are_exactly_the_profile_keys():
    template = json.loads((REPO / "profile.json.template").read_text())
    assert sorted(template) == sorted(PROFILE_KEYS)
    assert template["backend"] == "snowflake"


def test_template_parses_with_a_real_key(tmp_path, plain_keys):
    template = json.loads((REPO / "profile.json.template").read_text())
    template["private_key"] = plain_keys.private_key_pem
    path = write_json(tmp_path / "profile.json", template)
    profile = load_profile(path, env={})
    assert profile.backend == "snowflake"
    assert (profile.database, profile.schema) == ("AUTOMATED_INTELLIGENCE", "RAW")
    assert profile.url == template["url"]
    assert profile.sdk_properties()["role"] == template["role"]


def test_template_as_is_fails_on_the_placeholder_key(tmp_path):
    path = tmp_path / "profile.json"
    path.write_text((REPO / "profile.json.template").read_text())
    with pytest.raises(KeyPairError, match=rf"^{re.escape(str(path))}: cannot read the private key"):
        load_profile(path, env={})


# ---- every config.properties key changes what the kit does


def test_stream_options_take_every_streaming_key_from_the_settings():
    from aidemo.stream.options import StreamOptions

    settings = load_settings(
        env={},
        batch_size=7,
        max_client_lag=3,
        orders_channel="o",
        items_channel="i",
        orders_pipe="P1",
        items_pipe="P2",
    )
    options = StreamOptions.from_settings(settings, rate=5.0)
    assert (options.batch_size, options.max_client_lag, options.rate) == (7, 3, 5.0)
    assert (options.orders_channel, options.items_channel, options.orders_pipe, options.items_pipe) == (
        "o",
        "i",
        "P1",
        "P2",
    )
    defaults = StreamOptions.from_settings(Settings())
    assert (defaults.orders_channel, defaults.items_channel, defaults.orders_pipe, defaults.items_pipe) == (
        "orders_channel",
        "order_items_channel",
        "ORDERS_PIPE",
        "ORDER_ITEMS_PIPE",
    )


def _with_pipes(backend, orders_pipe: str, items_pipe: str) -> None:
    """Pipes of other names on the same tables, made from sql/03_pipes.sql."""
    from aidemo.backends.scripts import sql_text

    script = sql_text("03_pipes.sql", backend)
    backend.sql(script.replace("ORDERS_PIPE", orders_pipe).replace("ORDER_ITEMS_PIPE", items_pipe))


def _channels(backend) -> dict[str, tuple[str, str]]:
    shown = backend.sql(f"SHOW CHANNELS IN SCHEMA {backend.database}.RAW")
    return {row["name"]: (row["parent_name"], row["last_committed_offset_token"]) for _, row in shown.iterrows()}


def test_a_stream_writes_the_channels_and_pipes_config_properties_names(demo_db, tmp_path, monkeypatch):
    from aidemo.cli import main

    _with_pipes(demo_db, "SHOP_ORDERS_PIPE", "SHOP_ITEMS_PIPE")
    (tmp_path / "config.properties").write_text(
        "orders.channel=shop_orders\nitems.channel=shop_items\n"
        "orders.pipe=SHOP_ORDERS_PIPE\nitems.pipe=SHOP_ITEMS_PIPE\nmax.client.lag=0.2\norder.dates=year\n"
    )
    monkeypatch.chdir(tmp_path)
    for name, value in demo_db.child_environment().items():  # where an aidemo process finds this database
        monkeypatch.setenv(name, value)
    started = utc_now()
    assert main(["stream", "5", "--no-progress"]) == 0
    channels = _channels(demo_db)
    assert set(channels) == {"shop_orders", "shop_items"}
    pipe, token = channels["shop_orders"]
    dates = parse_order_dates(token)
    assert (pipe, parse_order_token(token), dates.mode) == ("SHOP_ORDERS_PIPE", 5, "year")
    assert started <= dates.epoch <= utc_now()  # the job's start
    first = demo_db.sql("SELECT MIN(ORDER_DATE) AS D FROM RAW.ORDERS")["D"][0]
    assert first >= dates.epoch - dt.timedelta(days=365)
    assert channels["shop_items"][0] == "SHOP_ITEMS_PIPE"
    assert int(demo_db.sql("SELECT COUNT(*) AS N FROM RAW.ORDERS")["N"][0]) == 5


def test_parallel_runs_as_many_instances_as_config_properties_says(demo_db, tmp_path, monkeypatch):
    from aidemo.cli import main

    (tmp_path / "config.properties").write_text("instances=3\norders.channel=par_orders\nmax.client.lag=0.2\n")
    monkeypatch.chdir(tmp_path)
    for name, value in demo_db.child_environment().items():  # where an aidemo process finds this database
        monkeypatch.setenv(name, value)
    assert main(["parallel", "30", "--no-progress"]) == 0
    channels = _channels(demo_db)
    assert sorted(channels) == sorted(
        [f"par_orders_{i}" for i in range(3)] + [f"order_items_channel_{i}" for i in range(3)]
    )
    assert {pipe for pipe, _ in channels.values()} == {"ORDERS_PIPE", "ORDER_ITEMS_PIPE"}
    assert int(demo_db.sql("SELECT COUNT(*) AS N FROM RAW.ORDERS")["N"][0]) == 30
