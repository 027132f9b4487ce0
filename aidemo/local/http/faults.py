"""Faults on demand: the local service misbehaves like a real one, switched on at run time.

A fault is a :class:`FaultSpec`; the service keeps the active ones in :class:`FaultInjector`, whose
ASGI middleware applies the request faults to the SDK's traffic (never to the SQL API or
the ``/aidemo`` routes) and whose store hooks delay commits and reject rows. Every fault
is logged and counted; the counts survive a restart of the service (``faults.json`` in its
home). Whether a request is hit is drawn from a random generator seeded by the spec, so a
mix of faults is reproducible.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import random
import re
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from aidemo.local.errors import ConfigError
from aidemo.local.process.home import write_private

log = logging.getLogger("aidemo.local")

KINDS = {
    "throttle": "ingestion requests (rows, file fragments) answered 429 ReceiverSaturated",
    "error": "requests answered with a transient 5xx before they are handled",
    "slow": "requests answered `delay` seconds late",
    "drop": "connections closed without an answer after the request was handled (the answer is lost)",
    "invalidate": "a channel fenced under its writer: its next request is refused as stale",
    "delay_commits": "rows accepted at once but committed `delay` seconds later",
    "stall_commits": "rows accepted but nothing committed until the fault ends",
    "reject_rows": "every row a channel sends is rejected (rows_error_count grows)",
    "restart": "the service stopped and started again (same home, same port); done by the client",
}
REQUEST_KINDS = ("throttle", "error", "slow", "drop")
TARGETS = ("rows", "all")  # ingestion requests only, or every SDK request
STATE_FILE = "faults.json"
RECENT = 50
_RETRIED = re.compile(rb"(?:^|&)retryCount=[1-9]")


@dataclass(frozen=True)
class FaultSpec:
    """One fault: what, for how long, and which requests or channels it hits."""

    kind: str
    seconds: float | None = None  # how long it stays on; None: until cleared (or ``count`` is reached)
    rate: float = 1.0  # share of the matching requests it hits
    count: int | None = None  # hit at most this many requests
    delay: float = 1.0  # slow: seconds added to an answer; delay_commits: seconds a commit waits
    status: int = 503  # error: the 5xx status
    channel: str | None = None  # invalidate, reject_rows, delay/stall_commits: one channel (None: every channel)
    target: str | None = None  # request faults: "rows" or "all" (default: rows for throttle, else all)
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"fault kind must be one of {', '.join(KINDS)}; got {self.kind!r}")
        if self.seconds is not None and not 0 < self.seconds <= 3600:
            raise ConfigError(f"fault seconds must be between 0 and 3600 (or omitted), got {self.seconds!r}")
        if not 0 < self.rate <= 1:
            raise ConfigError(f"fault rate must be a share of requests in (0, 1], got {self.rate!r}")
        if self.count is not None and (not isinstance(self.count, int) or self.count < 1):
            raise ConfigError(f"fault count must be a positive integer (or omitted), got {self.count!r}")
        if not 0 <= self.delay <= 600:
            raise ConfigError(f"fault delay must be between 0 and 600 seconds, got {self.delay!r}")
        if not isinstance(self.status, int) or not 500 <= self.status <= 599:
            raise ConfigError(f"fault status must be a 5xx HTTP status, got {self.status!r}")
        if self.target is not None and self.target not in TARGETS:
            raise ConfigError(f"fault target must be one of {', '.join(TARGETS)}, got {self.target!r}")
        if not isinstance(self.seed, int):
            raise ConfigError(f"fault seed must be an integer, got {self.seed!r}")

    @classmethod
    def from_dict(cls, body: dict) -> FaultSpec:
        if not isinstance(body, dict):
            raise ConfigError('a fault must be a JSON object such as {"kind": "throttle", "seconds": 2}')
        unknown = set(body) - set(cls.__dataclass_fields__)
        if unknown:
            raise ConfigError(
                f"unknown fault parameter(s) {', '.join(sorted(unknown))}; known: {', '.join(cls.__dataclass_fields__)}"
            )
        if "kind" not in body:
            raise ConfigError(f"a fault needs a kind, one of {', '.join(KINDS)}")
        return cls(**body)

    def applies_to(self, method: str, path: str) -> bool:
        """Whether a request is one this fault applies to."""
        if self.kind not in REQUEST_KINDS or not _is_sdk(path):
            return False
        target = self.target or ("rows" if self.kind == "throttle" else "all")
        return target == "all" or (method == "POST" and path.endswith(("/rows", "/filebuffer")))


class _Active:
    def __init__(self, spec: FaultSpec, number: int):
        self.spec = spec
        self.until = time.monotonic() + spec.seconds if spec.seconds else None
        self.rng = random.Random(f"{spec.seed}/{spec.kind}/{number}")
        self.hits = 0

    def live(self, now: float) -> bool:
        return (self.until is None or now < self.until) and (self.spec.count is None or self.hits < self.spec.count)

    def view(self, now: float) -> dict:
        left = None if self.until is None else round(max(0.0, self.until - now), 3)
        return asdict(self.spec) | {"hits": self.hits, "seconds_left": left}


class FaultInjector:
    """The active faults of one service, their counts, the SDK's retries and a log of the latest hits."""

    def __init__(self, store, home_root: Path):
        self._store = store
        self._state = home_root / STATE_FILE
        self._lock = threading.Lock()
        self._active: list[_Active] = []
        self._numbered = 0
        saved = self._load()
        self.counts: collections.Counter = collections.Counter(
            {k: v for k, v in saved.get("counts", {}).items() if k in KINDS and isinstance(v, int)}
        )
        self.sdk_retries = int(saved.get("sdk_retries", 0))  # requests the SDK sent again (retryCount > 0)
        self.recent: collections.deque = collections.deque(maxlen=RECENT)
        store.commit_hold = self.commit_hold
        store.rejection = self.rejection

    def set(self, spec: FaultSpec) -> dict:
        """Switch a fault on (``invalidate`` acts at once); returns the status."""
        if spec.kind == "restart":
            raise ConfigError(
                "a restart is done by the client (it stops and starts the service): "
                "use FaultControl.restart() or `aidemo local fault restart`"
            )
        if spec.kind == "invalidate":
            fenced = self._store.fence_channels(spec.channel)
            if spec.channel and not fenced:
                raise ConfigError(f"no channel named {spec.channel!r} to invalidate")
            for name in fenced:
                self._hit(spec.kind, f"channel {name}")
            return self.status()
        with self._lock:
            self._numbered += 1
            self._active.append(_Active(spec, self._numbered))
        log.warning("fault on: %s", spec)
        return self.status()

    def clear(self, kind: str | None = None) -> dict:
        """Switch off every fault (or those of one kind); held commits go at once."""
        with self._lock:
            self._active = [a for a in self._active if kind is not None and a.spec.kind != kind]
        self._store.release_commits()
        log.warning("faults cleared: %s", kind or "all")
        return self.status()

    def status(self) -> dict:
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            active = [a.view(now) for a in self._active]
            counts = dict(self.counts)
            recent = list(self.recent)
            retries = self.sdk_retries
        self.save()
        return {"active": active, "counts": counts, "sdk_retries": retries, "recent": recent}

    def save(self) -> None:
        """Keep the counts in the home, so that they survive a restart."""
        with self._lock:
            text = json.dumps({"counts": dict(self.counts), "sdk_retries": self.sdk_retries})
        self._state.write_text(text)

    # ---- what the middleware and the store ask ----------------------------------------

    def pick(self, method: str, path: str, query: bytes = b"") -> FaultSpec | None:
        """The fault that hits this request, if any (counted and logged)."""
        now = time.monotonic()
        with self._lock:
            if _is_sdk(path) and _RETRIED.search(query):
                self.sdk_retries += 1
            self._expire(now)
            for active in self._active:
                if active.spec.applies_to(method, path) and active.rng.random() < active.spec.rate:
                    active.hits += 1
                    spec = active.spec
                    break
            else:
                return None
        self._hit(spec.kind, f"{method} {path}")
        return spec

    def commit_hold(self, channel: str) -> float:
        """Seconds a batch of ``channel`` accepted now waits before it commits."""
        now = time.monotonic()
        hold = 0.0
        with self._lock:
            self._expire(now)
            for active in self._active:
                if active.spec.channel not in (None, channel):
                    continue
                if active.spec.kind == "delay_commits":
                    hold = max(hold, active.spec.delay)
                elif active.spec.kind == "stall_commits":
                    hold = max(hold, active.until - now if active.until else float("inf"))
                else:
                    continue
                active.hits += 1
                kind = active.spec.kind
        if hold:
            self._hit(kind, f"commit held {hold:.2f} s on channel {channel}")
        return hold

    def rejection(self, channel: str) -> str | None:
        """Why the rows of ``channel`` are rejected now, or None."""
        with self._lock:
            self._expire(time.monotonic())
            for active in self._active:
                if active.spec.kind == "reject_rows" and active.spec.channel in (None, channel):
                    active.hits += 1
                    break
            else:
                return None
        self._hit("reject_rows", f"channel {channel}")
        return f"Row rejected by the injected fault reject_rows on channel {channel}"

    def _expire(self, now: float) -> None:
        ended = [a for a in self._active if not a.live(now)]
        if ended:
            self._active = [a for a in self._active if a.live(now)]
            if any(a.spec.kind == "stall_commits" for a in ended):
                self._store.release_commits()
            for a in ended:
                log.warning("fault off: %s after %d hits", a.spec.kind, a.hits)

    def _hit(self, kind: str, what: str) -> None:
        with self._lock:
            self.counts[kind] += 1
            self.recent.append({"at": round(time.time(), 3), "kind": kind, "what": what})
        log.warning("fault %s: %s", kind, what)

    def _load(self) -> dict:
        return _read_state(self._state)


def record_restart(home_root: Path) -> None:
    """Count a restart in the stopped service's state file (the next start reads it)."""
    path = home_root / STATE_FILE
    state = _read_state(path)
    counts = state.setdefault("counts", {})
    counts["restart"] = counts.get("restart", 0) + 1
    write_private(path, json.dumps(state))


def _read_state(path: Path) -> dict:
    try:
        state = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return {}
    return state if isinstance(state, dict) and isinstance(state.get("counts", {}), dict) else {}


class FaultMiddleware:
    """ASGI middleware applying the request faults (throttle, error, slow, drop)."""

    def __init__(self, app, injector: FaultInjector):
        self.app = app
        self.injector = injector

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        spec = self.injector.pick(scope["method"], scope["path"], scope["query_string"])
        if spec is None:
            return await self.app(scope, receive, send)
        if spec.kind == "slow":
            await asyncio.sleep(spec.delay)
            return await self.app(scope, receive, send)
        if spec.kind == "throttle":
            return await _answer(
                send,
                429,
                "ERR_RECEIVER_SATURATED",
                "Too many requests: the receiver is saturated, retry later (injected fault throttle).",
            )
        if spec.kind == "error":
            return await _answer(
                send,
                spec.status,
                "ERR_SERVICE_UNAVAILABLE",
                f"The service is temporarily unavailable (injected fault error {spec.status}).",
            )

        # drop: handle the request, then close the connection instead of answering.
        async def swallow(message):
            pass

        await self.app(scope, receive, swallow)
        _abort(send)
        await asyncio.sleep(0)  # let the server see the connection is gone before it would answer 500


async def _answer(send, status: int, code: str, message: str) -> None:
    body = json.dumps({"code": code, "message": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _abort(send) -> None:
    # uvicorn's send is a method of the request's cycle, which holds the connection's transport.
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise RuntimeError("cannot drop a connection: the server does not expose its transport")
    transport.abort()


def _is_sdk(path: str) -> bool:
    from aidemo.local.storage.stage import BUCKET

    return path.startswith("/v2/streaming/") or path == "/oauth/token" or path.startswith(f"/{BUCKET}/")


def describe(status: dict) -> str:
    """A fault status (as the service returns it) in a few lines of text."""
    lines = []
    for a in status.get("active", []):
        left = "until cleared" if a["seconds_left"] is None else f"{a['seconds_left']:.1f} s left"
        lines.append(f"on: {a['kind']} ({left}, {a['hits']} hits)")
    counts = ", ".join(f"{k} {v}" for k, v in sorted(status.get("counts", {}).items()))
    return "\n".join((lines or ["on: none"]) + [f"counts: {counts or 'none'}"])
