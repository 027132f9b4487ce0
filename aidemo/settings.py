"""Run settings in layers: ``config.properties``, then environment, then explicit arguments (later wins).

:class:`Settings` is a frozen, validated dataclass of the run settings (batch size, max client
lag, channel and pipe names, ...); :func:`load_settings` reads it. Every key has an
environment variable ``AIDEMO_<KEY>`` (upper case, dots become underscores, e.g.
``AIDEMO_MAX_CLIENT_LAG=5``). Every error is a :class:`~aidemo.errors.ConfigError` that names
the key and where the value came from (file and line, variable, or argument). Defaults and
bounds are those of :data:`aidemo.knobs.KNOBS`, which :class:`~aidemo.stream.options.StreamOptions`
shares.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aidemo.config import check_names, read_text
from aidemo.errors import ConfigError
from aidemo.knobs import RENAMED_KEYS, check_fields, knob_field, settings_env_var

SETTINGS_FILE = "config.properties"


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Run settings; field names are the ``config.properties`` keys with dots as underscores."""

    batch_size: int = knob_field("batch_size")
    max_client_lag: float = knob_field("max_client_lag")
    num_orders_per_batch: int = knob_field("num_orders_per_batch")
    num_customers: int = knob_field("num_customers")
    seed: int = knob_field("seed")
    order_dates: str = knob_field("order_dates")
    instances: int = knob_field("instances")
    orders_channel: str = knob_field("orders_channel")
    items_channel: str = knob_field("items_channel")
    orders_pipe: str = knob_field("orders_pipe")
    items_pipe: str = knob_field("items_pipe")

    def __post_init__(self) -> None:
        check_fields(self)


_KNOBS_BY_KEY = {f.metadata["knob"].key: f.metadata["knob"] for f in dataclasses.fields(Settings)}
#: The ``config.properties`` keys, in file order.
SETTINGS_KEYS = tuple(_KNOBS_BY_KEY)
_RENAMED_FIELDS = {old.replace(".", "_"): new.replace(".", "_") for old, new in RENAMED_KEYS.items()}


def _refuse_renamed(names: Mapping[str, Any], renamed: Mapping[str, str], prefix: str = "") -> None:
    for old in names:
        if old in renamed:
            raise ConfigError(f"{prefix}{old} is now called {renamed[old]}")


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
        _refuse_renamed((key,), RENAMED_KEYS, prefix=f"{where}: ")
        check_names((key,), SETTINGS_KEYS, "key", prefix=f"{where}: ")
        if key in lines:
            raise ConfigError(f"{where}: {key} is set twice (first on line {lines[key]})")
        knob = _KNOBS_BY_KEY[key]
        values[knob.name] = knob.rule.read(text, f"{where}: {key}")
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
    _refuse_renamed(overrides, _RENAMED_FIELDS)
    check_names(overrides, tuple(knob.name for knob in _KNOBS_BY_KEY.values()), "setting")
    _refuse_renamed(env, {settings_env_var(old): settings_env_var(new) for old, new in RENAMED_KEYS.items()})
    if path is not None:
        file = Path(path).expanduser()
        if not file.is_file():
            raise ConfigError(f"settings file {str(file)!r}: no such file")
    else:
        file = Path(SETTINGS_FILE)
    values = _read_properties(file) if file.is_file() else {}
    for knob in _KNOBS_BY_KEY.values():
        if knob.env in env:
            values[knob.name] = knob.rule.read(env[knob.env], knob.env)
    values.update({name: value for name, value in overrides.items() if value is not None})
    return Settings(**values)
