"""The connection profile, and what reading both configuration files shares.

Configuration comes in layers: file, then environment, then explicit arguments (later wins).
:class:`Profile` is the connection profile from ``profile.json`` (which backend, and for a real
account the key-pair credentials), a frozen, validated dataclass; no profile file means the
local backend. The run settings from ``config.properties`` are :mod:`aidemo.settings`.

Environment variables: ``AIDEMO_PROFILE`` (path of profile.json), ``AIDEMO_BACKEND``
(``local`` or ``snowflake``), ``AIDEMO_DATABASE`` and ``AIDEMO_SCHEMA`` (where the demo's objects
live) and ``PRIVATE_KEY_PASSPHRASE`` (the passphrase of an encrypted private key). Every error is a
:class:`~aidemo.errors.ConfigError` that names the key and where the value came from (file and
line, variable, or argument).
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aidemo.backends.keys import unencrypted_pkcs8
from aidemo.errors import ConfigError, KeyPairError

BACKENDS = ("local", "snowflake")
#: The keys a ``profile.json`` may hold (exactly those of ``profile.json.template``).
PROFILE_KEYS = ("backend", "account", "user", "url", "private_key", "database", "schema", "warehouse", "role")
PROFILE_FILE = "profile.json"
ENV_PROFILE = "AIDEMO_PROFILE"
ENV_BACKEND = "AIDEMO_BACKEND"
#: Profile keys the environment may override, by variable.
ENV_PROFILE_KEYS = {"AIDEMO_DATABASE": "database", "AIDEMO_SCHEMA": "schema"}
ENV_PASSPHRASE = "PRIVATE_KEY_PASSPHRASE"

# The account URL pattern of the Snowpipe Streaming SDK.
_ACCOUNT_URL = re.compile(r"^(https?://)?((([\w\d-]+)(\.[\w\d-]+){2,})(:(\d+))?)/?$")
_ACCOUNT = re.compile(r"[\w-]+(\.[\w-]+)*")
_CREDENTIALS = ("account", "user", "private_key")


def _did_you_mean(name: str, valid: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(valid), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_names(given: Iterable[str], valid: tuple[str, ...], what: str, prefix: str = "") -> None:
    """ConfigError naming each of ``given`` not in ``valid`` (with the closest valid name), listing the valid ones."""
    unknown = [name for name in given if name not in valid]
    if unknown:
        listed = ", ".join(repr(name) + _did_you_mean(name, valid) for name in unknown)
        plural = "s" if len(unknown) > 1 else ""
        raise ConfigError(f"{prefix}unknown {what}{plural} {listed}; valid {what}s: {', '.join(valid)}")


def read_text(path: Path) -> str:
    """The text of a configuration file; ConfigError if it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc


def _check_backend(value: object, where: str) -> str:
    if value not in BACKENDS:
        raise ConfigError(f"{where} must be 'local' or 'snowflake', got {value!r}")
    return value  # type: ignore[return-value]


@dataclass(frozen=True, kw_only=True, repr=False)
class Profile:
    """Where to stream: the local service, or a real Snowflake account with key-pair auth.

    ``url`` defaults to ``https://<account>.snowflakecomputing.com``. For the snowflake
    backend ``account``, ``user`` and ``private_key`` (PKCS#8 PEM text) are required and the
    key must load with ``private_key_passphrase``. ``source`` says where the values came from
    and starts every error message. ``repr()`` and ``str()`` hide the key and passphrase.
    """

    backend: str = "local"
    account: str | None = None
    user: str | None = None
    url: str | None = None
    private_key: str | None = None
    private_key_passphrase: str | None = None
    role: str | None = None
    database: str = "AUTOMATED_INTELLIGENCE"
    schema: str = "RAW"
    warehouse: str | None = None
    source: str = "arguments"

    def __post_init__(self) -> None:
        src = self.source
        _check_backend(self.backend, f"{src}: backend")
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "source" or (value is None and f.default is None):
                continue
            if not isinstance(value, str) or (f.name in ("database", "schema") and not value):
                raise ConfigError(f"{src}: {f.name} must be {_text_kind(f)}, got {value!r}")
        if self.account and (not _ACCOUNT.fullmatch(self.account) or "snowflakecomputing" in self.account):
            raise ConfigError(
                f"{src}: account must be the account identifier such as 'myorg-myaccount' "
                f"(the URL goes under url), got {self.account!r}"
            )
        if self.account and not self.url:
            object.__setattr__(self, "url", f"https://{self.account}.snowflakecomputing.com")
        if self.url is not None:
            self._check_url()
        if self.backend == "snowflake":
            missing = [key for key in _CREDENTIALS if not getattr(self, key)]
            if missing:
                raise ConfigError(
                    f"{src}: the snowflake backend needs {', '.join(missing)} (see profile.json.template)"
                )
            self._unencrypted_key()

    def _check_url(self) -> None:
        url = self.url or ""
        if not url.startswith("https://"):
            raise ConfigError(f"{self.source}: url must start with https://, got {url!r}")
        if not _ACCOUNT_URL.match(url):
            raise ConfigError(
                f"{self.source}: url {url!r} is not an account URL like 'https://<account>.snowflakecomputing.com'"
            )

    def _unencrypted_key(self) -> str:
        try:
            return unencrypted_pkcs8(self.private_key or "", self.private_key_passphrase)
        except KeyPairError as exc:
            raise KeyPairError(f"{self.source}: {exc}") from exc

    def sdk_properties(self) -> dict[str, str]:
        """The connection properties the Snowpipe Streaming SDK client takes.

        The private key is passed as unencrypted PKCS#8 PEM, since the SDK takes no passphrase.
        """
        missing = [key for key in _CREDENTIALS if not getattr(self, key)]
        if missing:
            raise ConfigError(f"{self.source}: SDK properties need {', '.join(missing)}")
        properties = {
            "account": str(self.account),
            "user": str(self.user),
            "url": str(self.url),
            "private_key": self._unencrypted_key(),
        }
        if self.role:
            properties["role"] = self.role
        return properties

    def __repr__(self) -> str:
        shown = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            secret = f.name in ("private_key", "private_key_passphrase") and value is not None
            shown.append(f"{f.name}=<hidden>" if secret else f"{f.name}={value!r}")
        return f"Profile({', '.join(shown)})"


def _text_kind(f: dataclasses.Field) -> str:
    return "a string or null" if f.default is None else "a non-empty string"


def find_profile(path: str | os.PathLike | None = None, env: Mapping[str, str] | None = None) -> Path | None:
    """The profile file to use: ``path``, else ``$AIDEMO_PROFILE``, else ``./profile.json`` if present.

    Returns None when there is none (the local backend). A path given explicitly or through
    the environment that does not exist is an error.
    """
    env = os.environ if env is None else env
    if path is not None:
        given, where = Path(path).expanduser(), "profile file"
    elif env.get(ENV_PROFILE):
        given, where = Path(env[ENV_PROFILE]).expanduser(), ENV_PROFILE
    else:
        default = Path(PROFILE_FILE)
        return default if default.is_file() else None
    if not given.is_file():
        raise ConfigError(f"{where} {str(given)!r}: no such file")
    return given


def _read_profile(path: Path) -> dict[str, Any]:
    text = read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        hint = r" (write the key's line breaks as \n)" if "control character" in exc.msg else ""
        where = f"{path} line {exc.lineno} column {exc.colno}"
        raise ConfigError(f"{where}: invalid JSON: {exc.msg}{hint}") from None
    if not isinstance(data, dict):
        raise ConfigError(f'{path}: must be a JSON object {{"key": value, ...}}, got {type(data).__name__}')
    if "private_key_passphrase" in data:
        raise ConfigError(f"{path}: keep the passphrase out of the file; set {ENV_PASSPHRASE} instead")
    check_names(data, PROFILE_KEYS, "key", prefix=f"{path}: ")
    return data


def load_profile(
    path: str | os.PathLike | None = None, *, env: Mapping[str, str] | None = None, **overrides: Any
) -> Profile:
    """The connection profile: profile file, then environment, then ``overrides`` (None ignored).

    No profile file gives the local backend (``source="default"``). A file without
    ``backend`` but with account, user or private_key means a real account (snowflake).
    ``AIDEMO_BACKEND``, ``AIDEMO_DATABASE`` and ``AIDEMO_SCHEMA`` override the file's values and
    ``PRIVATE_KEY_PASSPHRASE`` gives the key's passphrase; keyword overrides (any :class:`Profile`
    field but ``source``) win.
    """
    env = os.environ if env is None else env
    fields = tuple(f.name for f in dataclasses.fields(Profile) if f.name != "source")
    check_names(overrides, fields, "profile field")
    overrides = {key: value for key, value in overrides.items() if value is not None}
    found = find_profile(path, env)
    values = _read_profile(found) if found else {}
    if env.get(ENV_BACKEND):
        values["backend"] = _check_backend(env[ENV_BACKEND], ENV_BACKEND)
        if found is None and values["backend"] == "snowflake" and not overrides:
            raise ConfigError(
                f"{ENV_BACKEND} is 'snowflake' but there is no profile: copy profile.json.template "
                f"to {PROFILE_FILE} and fill it in, or set {ENV_PROFILE}"
            )
    for variable, key in ENV_PROFILE_KEYS.items():
        if variable in env:
            if not env[variable].strip():
                raise ConfigError(f"{variable} is set but empty: name the {key}, or unset it")
            values[key] = env[variable].strip()
    if env.get(ENV_PASSPHRASE):
        values["private_key_passphrase"] = env[ENV_PASSPHRASE]
    values.update(overrides)
    if "backend" not in values and any(key in values for key in _CREDENTIALS):
        values["backend"] = "snowflake"
    source = str(found) if found else ("arguments" if overrides else "default")
    return Profile(**values, source=source)
