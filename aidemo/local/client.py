"""A small client for the local service's own routes: SQL (Snowflake's SQL API shape) and flush tick."""

from __future__ import annotations

import datetime as dt
import json
import ssl
import urllib.error
import urllib.request

import pandas

from aidemo.errors import LocalServiceError, SqlError
from aidemo.keys import keypair_jwt
from aidemo.local.home import ACCOUNT, ROLE, USER
from aidemo.local.service import ServiceInfo

SQL_TIMEOUT_S = 600


class LocalClient:
    """Talks to a running local service with the local user's key pair."""

    def __init__(self, info: ServiceInfo):
        self.info = info
        self._context = ssl.create_default_context(cafile=str(info.home.ca_cert))

    def execute(self, statement: str, database: str | None = None, schema: str | None = None) -> dict:
        """POST /api/v2/statements; the raw reply (resultSetMetaData, data)."""
        body = {"statement": statement, "database": database, "schema": schema,
                "parameters": {"MULTI_STATEMENT_COUNT": "0"}}
        return self._post("/api/v2/statements", body, SqlError)

    def query(self, statement: str, database: str | None = None, schema: str | None = None) -> pandas.DataFrame:
        """Run a statement or script and return the (last) result as a DataFrame."""
        return to_frame(self.execute(statement, database, schema))

    def set_flush_tick(self, database: str, schema: str, pipe: str, milliseconds: int) -> None:
        self._post(f"/aidemo/v1/pipes/{database}/{schema}/{pipe}/flush-tick", {"ms": milliseconds}, LocalServiceError)

    def _post(self, path: str, body: dict, error: type[Exception]) -> dict:
        token = keypair_jwt(ACCOUNT, USER, self.info.home.user_key.read_text(), role=ROLE)
        request = urllib.request.Request(
            self.info.url + path, data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}",
                     "X-Snowflake-Authorization-Token-Type": "KEYPAIR_JWT"},
        )
        try:
            with urllib.request.urlopen(request, timeout=SQL_TIMEOUT_S, context=self._context) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read()).get("message", "")
            except ValueError:
                message = exc.reason
            raise error(message) from None
        except urllib.error.URLError as exc:
            raise LocalServiceError(f"the local service at {self.info.url} does not answer: {exc.reason}") from exc


def to_frame(reply: dict) -> pandas.DataFrame:
    """A SQL API reply (string cells, Snowflake row types) as a typed DataFrame."""
    row_type = reply.get("resultSetMetaData", {}).get("rowType", [])
    names = [c["name"] for c in row_type]
    frame = pandas.DataFrame(reply.get("data", []), columns=names, dtype=object)
    for column, meta in zip(names, row_type):
        frame[column] = _convert(frame[column], meta)
    return frame


def _convert(values: pandas.Series, meta: dict) -> pandas.Series:
    kind = meta.get("type")
    if kind == "fixed" and not meta.get("scale"):
        return pandas.to_numeric(values).astype("Int64")
    if kind in ("fixed", "real"):
        return pandas.to_numeric(values).astype("float64")
    if kind == "boolean":
        return values.map(lambda v: None if v is None else v.lower() == "true")
    if kind == "date":
        return values.map(lambda v: None if v is None else dt.date(1970, 1, 1) + dt.timedelta(days=int(v)))
    if kind and kind.startswith("timestamp"):
        nanos = values.map(lambda v: None if v is None else _nanos(v))
        return pandas.to_datetime(nanos, unit="ns", utc=kind != "timestamp_ntz")
    return values


def _nanos(text: str) -> int:
    seconds, _, fraction = text.partition(".")
    sign = -1 if seconds.startswith("-") else 1
    return int(seconds) * 10**9 + sign * int((fraction + "000000000")[:9])
