"""Run settings in layers: ``config.properties``, then environment, then explicit arguments (later wins).

:class:`Settings` is a frozen, validated dataclass of the run settings (batch size, max client
lag, channel and pipe names, ...); :func:`load_settings` reads it. Every key has an
environment variable ``AIDEMO_<KEY>`` (upper case, dots become underscores, e.g.
``AIDEMO_MAX_CLIENT_LAG=5``). Every error is a :class:`~aidemo.errors.ConfigError` that names
the key and where the value came from (file and line, variable, or argument). The defaults and
bounds below are the kit's one definition of them.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aidemo.config import check_names, read_text
from aidemo.errors import ConfigError

SETTINGS_FILE = "config.properties"
ENV_PREFIX = "AIDEMO_"

# The run settings' defaults and bounds (config.properties documents them); the kit imports them from here.
DEFAULT_BATCH_SIZE = 10_000
BATCH_SIZE_RANGE = (1, 1_000_000)  # orders per append_rows call
DEFAULT_MAX_CLIENT_LAG = 60.0
MAX_CLIENT_LAG_RANGE = (0.1, 600.0)  # seconds
DEFAULT_ORDERS_PER_RUN = 100
DEFAULT_CUSTOMERS = 20_000
DEFAULT_SEED = 42
DEFAULT_INSTANCES = 1
MAX_INSTANCES = 1000
#: Channel name prefixes: a single stream writes ``orders_channel``, instance i of a parallel job
#: ``orders_channel_<i>``.
ORDERS_CHANNEL = "orders_channel"
ORDER_ITEMS_CHANNEL = "order_items_channel"
#: The pipes the channels write through (sql/03_pipes.sql creates them).
ORDERS_PIPE = "ORDERS_PIPE"
ORDER_ITEMS_PIPE = "ORDER_ITEMS_PIPE"


class _Rule:
    """How one setting is read from text and checked; ``description`` completes "must be ..."."""

    description = ""

    def parse(self, text: str) -> Any:
        return text

    def coerce(self, value: Any) -> Any:
        """The checked value; ValueError when it is not allowed."""
        raise NotImplementedError

    def check(self, value: Any, where: str) -> Any:
        try:
            return self.coerce(value)
        except ValueError:
            raise ConfigError(f"{where} must be {self.description}, got {value!r}") from None

    def read(self, text: str, where: str) -> Any:
        try:
            return self.coerce(self.parse(text))
        except ValueError:
            raise ConfigError(f"{where} must be {self.description}, got {text!r}") from None


class _Integer(_Rule):
    def __init__(self, low: int, high: int | None = None) -> None:
        self.low, self.high = low, high
        self.description = f"an integer >= {low}" if high is None else f"an integer between {low} and {high}"

    parse = staticmethod(int)

    def coerce(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(value)
        if value < self.low or (self.high is not None and value > self.high):
            raise ValueError(value)
        return value


class _Seconds(_Rule):
    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = low, high
        self.description = f"a number of seconds between {low:g} and {high:g}"

    parse = staticmethod(float)

    def coerce(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(value)
        if not self.low <= value <= self.high:  # also rejects NaN
            raise ValueError(value)
        return float(value)


class _Pattern(_Rule):
    def __init__(self, pattern: str, description: str) -> None:
        self.pattern, self.description = re.compile(pattern), description

    def coerce(self, value: Any) -> str:
        if not isinstance(value, str) or not self.pattern.fullmatch(value):
            raise ValueError(value)
        return value


_CHANNEL_PREFIX = _Pattern(r"[A-Za-z0-9_]+", "a non-empty name of letters, digits and underscores")
_IDENTIFIER = _Pattern(r"[A-Za-z_][A-Za-z0-9_$]*", "an unquoted Snowflake identifier such as ORDERS_PIPE")


def _setting(key: str, default: Any, rule: _Rule) -> Any:
    return field(default=default, metadata={"key": key, "rule": rule})


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Run settings; field names are the ``config.properties`` keys with dots as underscores."""

    orders_batch_size: int = _setting("orders.batch.size", DEFAULT_BATCH_SIZE, _Integer(*BATCH_SIZE_RANGE))
    max_client_lag: float = _setting("max.client.lag", DEFAULT_MAX_CLIENT_LAG, _Seconds(*MAX_CLIENT_LAG_RANGE))
    num_orders_per_batch: int = _setting("num.orders.per.batch", DEFAULT_ORDERS_PER_RUN, _Integer(1))
    num_customers: int = _setting("num.customers", DEFAULT_CUSTOMERS, _Integer(1))
    seed: int = _setting("seed", DEFAULT_SEED, _Integer(0))
    instances: int = _setting("instances", DEFAULT_INSTANCES, _Integer(1, MAX_INSTANCES))
    channel_prefix_orders: str = _setting("channel.prefix.orders", ORDERS_CHANNEL, _CHANNEL_PREFIX)
    channel_prefix_order_items: str = _setting("channel.prefix.order_items", ORDER_ITEMS_CHANNEL, _CHANNEL_PREFIX)
    orders_pipe: str = _setting("orders.pipe", ORDERS_PIPE, _IDENTIFIER)
    order_items_pipe: str = _setting("order_items.pipe", ORDER_ITEMS_PIPE, _IDENTIFIER)

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            object.__setattr__(self, f.name, f.metadata["rule"].check(getattr(self, f.name), f.name))


_SETTING_FIELDS = {f.metadata["key"]: f for f in dataclasses.fields(Settings)}
#: The ``config.properties`` keys, in file order.
SETTINGS_KEYS = tuple(_SETTING_FIELDS)


def settings_env_var(key: str) -> str:
    """The environment variable for a settings key: ``max.client.lag`` -> ``AIDEMO_MAX_CLIENT_LAG``."""
    return ENV_PREFIX + key.upper().replace(".", "_")


def _read_properties(path: Path) -> dict[str, Any]:
    """Settings from a Java-properties-style file: ``key=value`` lines, ``#``/``!`` comments."""
    values: dict[str, Any] = {}
    lines: dict[str, int] = {}
    for number, raw in enumerate(read_text(path).splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        key, sep, text = (part.strip() for part in line.partition("="))
        where = f"{path} line {number}"
        if not sep or not key:
            raise ConfigError(f"{where}: expected key=value, got {line!r}")
        check_names((key,), SETTINGS_KEYS, "key", prefix=f"{where}: ")
        if key in lines:
            raise ConfigError(f"{where}: {key} is set twice (first on line {lines[key]})")
        f = _SETTING_FIELDS[key]
        values[f.name] = f.metadata["rule"].read(text, f"{where}: {key}")
        lines[key] = number
    return values


def load_settings(
    path: str | os.PathLike | None = None, *, env: Mapping[str, str] | None = None, **overrides: Any
) -> Settings:
    """Run settings: ``path`` (default ``./config.properties`` if present, else built-in
    defaults), then ``AIDEMO_<KEY>`` environment variables, then ``overrides`` by field
    name (None values are ignored).
    """
    env = os.environ if env is None else env
    check_names(overrides, tuple(f.name for f in _SETTING_FIELDS.values()), "setting")
    if path is not None:
        file = Path(path).expanduser()
        if not file.is_file():
            raise ConfigError(f"settings file {str(file)!r}: no such file")
    else:
        file = Path(SETTINGS_FILE)
    values = _read_properties(file) if file.is_file() else {}
    for key, f in _SETTING_FIELDS.items():
        var = settings_env_var(key)
        if var in env:
            values[f.name] = f.metadata["rule"].read(env[var], var)
    values.update({name: value for name, value in overrides.items() if value is not None})
    return Settings(**values)
