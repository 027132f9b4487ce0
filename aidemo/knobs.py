"""A run's knobs in one table: name, default, bounds, ``config.properties`` key and command-line flag.

Each :class:`Knob` is read and checked by its :class:`Rule`. :class:`~aidemo.settings.Settings`
holds the knobs with a ``config.properties`` key and :class:`~aidemo.stream.options.StreamOptions` the
stream's knobs; both take their defaults and checks from :data:`KNOBS`, so a knob has one name
everywhere: field ``batch_size``, key ``batch.size``, variable ``AIDEMO_BATCH_SIZE``, flag
``--batch-size``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from aidemo.data.dates import DEFAULT_ORDER_DATES, LIVE_WINDOW_MINUTES, ORDER_DATE_MODES
from aidemo.errors import ConfigError

ENV_PREFIX = "AIDEMO_"

DEFAULT_CUSTOMERS = 20_000
DEFAULT_SEED = 42
#: Channel name prefixes: a single stream writes ``orders_channel``, instance i of a parallel job
#: ``orders_channel_<i>``.
ORDERS_CHANNEL = "orders_channel"
ORDER_ITEMS_CHANNEL = "order_items_channel"
#: The pipes the channels write through (sql/03_pipes.sql creates them).
ORDERS_PIPE = "ORDERS_PIPE"
ORDER_ITEMS_PIPE = "ORDER_ITEMS_PIPE"


class Rule:
    """How one knob is read from text and checked; ``description`` completes "must be ..."."""

    description = ""
    parse: Any = str  # text -> value (ValueError when it is not one)

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


class Integer(Rule):
    parse = staticmethod(int)

    def __init__(self, low: int, high: int | None = None) -> None:
        self.low, self.high = low, high
        self.description = f"an integer >= {low}" if high is None else f"an integer between {low} and {high}"

    def coerce(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(value)
        if value < self.low or (self.high is not None and value > self.high):
            raise ValueError(value)
        return value


class Seconds(Rule):
    """Seconds between ``low`` and ``high``; ``high`` None: any number above ``low`` (exclusive)."""

    parse = staticmethod(float)

    def __init__(self, low: float, high: float | None = None, *, unit: str = "seconds") -> None:
        self.low, self.high = low, high
        self.description = (
            f"a positive number of {unit}" if high is None else f"a number of {unit} between {low:g} and {high:g}"
        )

    def coerce(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(value)
        inside = value > self.low if self.high is None else self.low <= value <= self.high  # False for NaN
        if not inside:
            raise ValueError(value)
        return float(value)


class Optional(Rule):
    """None (not set) or a value of ``rule``."""

    def __init__(self, rule: Rule) -> None:
        self.rule, self.parse = rule, rule.parse
        self.description = rule.description

    def coerce(self, value: Any) -> Any:
        return None if value is None else self.rule.coerce(value)


class Pattern(Rule):
    def __init__(self, pattern: str, description: str) -> None:
        self.pattern, self.description = re.compile(pattern), description

    def coerce(self, value: Any) -> str:
        if not isinstance(value, str) or not self.pattern.fullmatch(value):
            raise ValueError(value)
        return value


class Choice(Rule):
    """One of ``choices``."""

    def __init__(self, choices: tuple[str, ...], description: str) -> None:
        self.choices, self.description = choices, description

    def coerce(self, value: Any) -> str:
        if not isinstance(value, str) or value not in self.choices:
            raise ValueError(value)
        return value


ORDER_DATES = Choice(
    ORDER_DATE_MODES,
    f"one of {', '.join(ORDER_DATE_MODES)} (live: the {LIVE_WINDOW_MINUTES} minutes before the job started; "
    "year: the 365 days before it; fixed: 2024, the same rows every run)",
)
CHANNEL_PREFIX = Pattern(r"[A-Za-z0-9_]+", "a non-empty name of letters, digits and underscores")
IDENTIFIER = Pattern(r"[A-Za-z_][A-Za-z0-9_$]*", "an unquoted Snowflake identifier such as ORDERS_PIPE")


@dataclass(frozen=True)
class Knob:
    """One knob. ``key``: its ``config.properties`` key (None: not in the file); ``stream``: one of
    :class:`~aidemo.stream.options.StreamOptions`' fields (else a run setting only)."""

    name: str
    default: Any
    rule: Rule
    help: str
    key: str | None = None
    stream: bool = True

    @property
    def env(self) -> str | None:
        """Its environment variable, ``AIDEMO_<KEY>`` (None without a key)."""
        return None if self.key is None else settings_env_var(self.key)

    @property
    def flag(self) -> str:
        """The command-line flag of a stream knob: ``batch_size`` -> ``--batch-size``."""
        return "--" + self.name.replace("_", "-")


def settings_env_var(key: str) -> str:
    """The environment variable for a settings key: ``max.client.lag`` -> ``AIDEMO_MAX_CLIENT_LAG``."""
    return ENV_PREFIX + key.upper().replace(".", "_")


#: Every knob, by name; ``config.properties`` documents the ones with a key, in this order.
KNOBS: dict[str, Knob] = {
    knob.name: knob
    for knob in (
        Knob("batch_size", 10_000, Integer(1, 1_000_000), "orders per append_rows call", "batch.size"),
        Knob(
            "max_client_lag", 60.0, Seconds(0.1, 600.0), "seconds rows may wait in the kit's buffer", "max.client.lag"
        ),
        Knob("num_orders_per_batch", 100, Integer(1), "orders of one run", "num.orders.per.batch", stream=False),
        Knob("num_customers", DEFAULT_CUSTOMERS, Integer(1), "customers loaded", "num.customers", stream=False),
        Knob("seed", DEFAULT_SEED, Integer(0), "generator seed", "seed", stream=False),
        Knob(
            "order_dates",
            DEFAULT_ORDER_DATES,
            ORDER_DATES,
            "how a new job dates its orders: live, year or fixed (a resumed job keeps its own)",
            "order.dates",
        ),
        Knob("instances", 1, Integer(1, 1000), "instances of a parallel job", "instances", stream=False),
        Knob(
            "orders_channel", ORDERS_CHANNEL, CHANNEL_PREFIX, "orders channel; instance i adds _<i>", "orders.channel"
        ),
        Knob(
            "items_channel", ORDER_ITEMS_CHANNEL, CHANNEL_PREFIX, "items channel; instance i adds _<i>", "items.channel"
        ),
        Knob("orders_pipe", ORDERS_PIPE, IDENTIFIER, "pipe of the orders channel", "orders.pipe"),
        Knob("items_pipe", ORDER_ITEMS_PIPE, IDENTIFIER, "pipe of the items channel", "items.pipe"),
        Knob(
            "rate",
            None,
            Optional(Seconds(0, unit="orders per second")),
            "orders per second per instance (default: as fast as possible)",
        ),
        Knob("commit_timeout", 300.0, Seconds(0), "seconds to wait for the last commit"),
        Knob("max_retries", 8, Integer(0), "retries of a refused append or reopen"),
        Knob("max_error_rows", 0, Integer(0), "rows the service may reject before the stream fails"),
        Knob("max_in_flight", 300_000, Integer(1_000, 10_000_000), "rows per channel not yet committed"),
        Knob("stall_reopen", 30.0, Seconds(0), "seconds commits may stand still before a reopen"),
    )
}

#: Keys an earlier ``config.properties`` used, and the keys that replaced them.
RENAMED_KEYS = {
    "orders.batch.size": "batch.size",
    "channel.prefix.orders": "orders.channel",
    "channel.prefix.order_items": "items.channel",
    "order_items.pipe": "items.pipe",
}


def knob_field(name: str) -> Any:
    """A dataclass field for knob ``name``: its default, and the knob in its metadata."""
    knob = KNOBS[name]
    return field(default=knob.default, metadata={"knob": knob})


def check_fields(instance: Any) -> None:
    """Check (and coerce) every knob field of a frozen dataclass ``instance`` by its rule."""
    for f in instance.__dataclass_fields__.values():
        if "knob" in f.metadata:
            object.__setattr__(instance, f.name, f.metadata["knob"].rule.check(getattr(instance, f.name), f.name))


def knob_environment(**values: Any) -> dict[str, str]:
    """``AIDEMO_<KEY>`` variables under which a child process's settings read ``values`` (knob names)."""
    unknown = [name for name in values if name not in KNOBS or KNOBS[name].env is None]
    if unknown:
        raise ConfigError(f"no environment variable for {', '.join(unknown)}")
    return {KNOBS[name].env: str(value) for name, value in values.items() if value is not None}
