"""A small client for the local service's own routes: flush tick and faults (SQL goes through the connector)."""

from __future__ import annotations

import json
import os
import signal
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request

from aidemo.local.errors import ConfigError, LocalServiceError
from aidemo.local.http.faults import KINDS, FaultSpec, record_restart
from aidemo.local.process import service
from aidemo.local.process.home import ACCOUNT, ROLE, USER
from aidemo.local.process.keys import keypair_jwt
from aidemo.local.process.service import ServiceInfo

SQL_TIMEOUT_S = 600


class LocalClient:
    """Talks to a running local service with the local user's key pair."""

    def __init__(self, info: ServiceInfo):
        self.info = info
        self._context = ssl.create_default_context(cafile=str(info.home.ca_cert))

    def set_flush_tick(self, database: str, schema: str, pipe: str, milliseconds: int) -> None:
        path = f"/aidemo/v1/pipes/{database}/{schema}/{pipe}/flush-tick"
        self._request(path, {"ms": milliseconds}, LocalServiceError)

    @property
    def faults(self) -> FaultControl:
        """Switch the service's injected faults on and off (see :mod:`aidemo.local.http.faults`)."""
        return FaultControl(self)

    def _request(self, path: str, body: dict | None, error: type[Exception], method: str = "POST") -> dict:
        token = keypair_jwt(ACCOUNT, USER, self.info.home.user_key.read_text(), role=ROLE)
        request = urllib.request.Request(
            self.info.url + path,
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {token}",
                "X-Snowflake-Authorization-Token-Type": "KEYPAIR_JWT",
            },
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
            service.check_running(self.info.home, patience_s=0)
            raise LocalServiceError(f"the local service at {self.info.url} does not answer: {exc.reason}") from exc


class FaultControl:
    """The faults of one local service: ``set("throttle", seconds=2)``, ``clear()``, ``status()``, ``restart()``."""

    def __init__(self, client: LocalClient):
        self.client = client

    def set(self, kind: str, **params) -> dict:
        """Switch a fault on (parameters of :class:`~aidemo.local.http.faults.FaultSpec`); returns the status."""
        spec = FaultSpec.from_dict({"kind": kind, **params})  # refuse bad values before sending them
        if spec.kind == "restart":
            return self.restart()
        body = {k: v for k, v in vars(spec).items() if v is not None}
        return self.client._request("/aidemo/v1/faults", body, ConfigError)

    def clear(self, kind: str | None = None) -> dict:
        """Switch every fault off (or those of one kind); held commits go at once."""
        if kind is not None and kind not in KINDS:
            raise ConfigError(f"fault kind must be one of {', '.join(KINDS)}; got {kind!r}")
        query = f"?{urllib.parse.urlencode({'kind': kind})}" if kind else ""
        return self.client._request("/aidemo/v1/faults" + query, None, LocalServiceError, method="DELETE")

    def status(self) -> dict:
        """Active faults (with hits and seconds left), counts per kind, and the latest hits."""
        return self.client._request("/aidemo/v1/faults", None, LocalServiceError, method="GET")

    def counts(self) -> dict[str, int]:
        """Faults injected so far, per kind (kept across restarts)."""
        return self.status()["counts"]

    def restart(self, downtime: float = 0.0, kill: bool = False) -> dict:
        """Stop the service and start it again on the same home and port (clients reconnect).

        ``kill`` stops it with SIGKILL, as a crash would: rows it accepted but had not committed
        yet (delayed or stalled commits) are lost, and their writers replay them.
        """
        home, port = self.client.info.home, self.client.info.port
        running = service.status(home)
        if kill and running:
            os.kill(running.pid, signal.SIGKILL)
            while service.status(home):
                time.sleep(0.05)
        else:
            service.stop(home)
        record_restart(home.root)
        time.sleep(downtime)
        self.client.info = service.start(home)
        if self.client.info.port != port:
            raise LocalServiceError(
                f"the local service came back on port {self.client.info.port}, not {port} "
                "(the port was taken meanwhile): clients holding the old URL cannot reconnect"
            )
        return self.status()
