"""Running the local service: in the foreground, detached, and finding or stopping it.

One service per home directory serves every user of the local backend (notebook
kernels, CLI commands, parallel workers); ``service.json`` and ``service.pid`` in the
home say where it listens. It binds 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import logging.handlers
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from aidemo.local.errors import LocalServiceError
from aidemo.local.process.home import DATABASE, USER, ServiceHome

START_TIMEOUT_S = 60.0
LOG_BYTES = 1 << 20  # service.log is rotated at this size, keeping LOG_BACKUPS older files
LOG_BACKUPS = 3
STOP_TIMEOUT_S = 20.0
GONE_AFTER_S = 10.0  # a service down this long is gone, not restarting


@dataclass(frozen=True)
class ServiceInfo:
    """Where a running service listens."""

    home: ServiceHome
    pid: int
    port: int

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def sdk_properties(self) -> dict[str, str]:
        return self.home.sdk_properties(self.port)


def serve(home: ServiceHome, log_file: str | None = None) -> None:
    """Run the service in this process until SIGINT or SIGTERM; log to ``log_file`` (rotated) if given."""
    from aidemo.local.http.app import build_app
    from aidemo.local.http.state import ServiceState
    from aidemo.local.process.bootstrap import open_store
    from aidemo.local.storage.stage import remove_leftovers

    os.umask(0o077)  # everything the service and DuckDB create is private to the user
    if log_file:
        size = int(os.environ.get("AIDEMO_LOCAL_LOG_BYTES", LOG_BYTES))
        handler = logging.handlers.RotatingFileHandler(log_file, maxBytes=size, backupCount=LOG_BACKUPS)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        logging.getLogger().handlers[:] = [handler]
    with _home_errors(home):
        home.ensure()
    removed = remove_leftovers(home.spool)
    if removed:
        logging.getLogger("aidemo.local").info("removed %d files a previous run left in the spool", removed)
    sock = _bind(home)
    port = sock.getsockname()[1]
    store = open_store(home)
    service = ServiceState(home, store)
    config = uvicorn.Config(
        build_app(service),
        ssl_certfile=str(home.server_cert),
        ssl_keyfile=str(home.server_key),
        log_level=os.environ.get("AIDEMO_LOCAL_LOG_LEVEL", "warning"),
        access_log=False,
        log_config=None,  # uvicorn logs through the root logger: to service.log, rotated, or the console
        timeout_keep_alive=30,
    )
    server = uvicorn.Server(config)
    home.port_file.write_text(str(port))
    home.write_profile(port)
    home.state.write_text(json.dumps({"pid": os.getpid(), "port": port, "database": DATABASE, "user": USER}))
    home.pid.write_text(str(os.getpid()))
    logging.getLogger("aidemo.local").info("serving %s on https://127.0.0.1:%d", home.root, port)
    try:
        server.run(sockets=[sock])
    finally:
        for path in (home.state, home.pid):
            path.unlink(missing_ok=True)
        store.close()


def status(home: ServiceHome) -> ServiceInfo | None:
    """The running service of this home, or None (a stale pid file is ignored)."""
    try:
        state = json.loads(home.state.read_text())
    except (FileNotFoundError, ValueError):
        return None
    info = ServiceInfo(home, int(state["pid"]), int(state["port"]))
    if not _alive(info.pid):
        return None
    try:
        reply = health(info)
    except OSError:
        return None
    return info if reply.get("pid") == info.pid else None


def health(info: ServiceInfo) -> dict:
    """The running service's health reply: pid, start time, file fragments loaded, disk space."""
    return _get_json(info, "/aidemo/v1/health", timeout=5)


def start(home: ServiceHome) -> ServiceInfo:
    """Start the service detached (or return the one already running) and wait until it answers."""
    with _home_errors(home), _start_lock(home):
        info = status(home)
        if info:
            return info
        home.ensure()
        with os.fdopen(os.open(home.console, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:
            # Run from the home: a folder named like one of the kit's packages in the caller's working
            # directory would shadow it (``-m`` puts the working directory first on sys.path).
            proc = subprocess.Popen(
                [sys.executable, "-m", "aidemo.local", "--home", str(home.root), "--log", str(home.log)],
                cwd=home.root,
                env=_child_env(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise LocalServiceError(
                    f"the local service exited with code {proc.returncode} while starting; "
                    f"{home.console} ends with:\n{_tail(home.console)}"
                )
            info = status(home)
            if info and info.pid == proc.pid:
                return info
            time.sleep(0.1)
        proc.terminate()
        raise LocalServiceError(f"the local service did not answer within {START_TIMEOUT_S:.0f} s; see {home.log}")


def check_running(home: ServiceHome, patience_s: float = GONE_AFTER_S) -> None:
    """Raise :class:`LocalServiceError` if the service of ``home`` stays down for ``patience_s``
    (a restart, which takes a few seconds, is waited out)."""
    deadline = time.monotonic() + patience_s
    while status(home) is None:
        if time.monotonic() >= deadline:
            raise LocalServiceError(
                f"the local service of {home.root} is not running (it was stopped or killed): start it with "
                f"`aidemo local start --detach --home {home.root}`, then rerun to resume"
            )
        time.sleep(0.5)


def ensure_running(home: ServiceHome | None = None) -> ServiceInfo:
    """The running service of ``home`` (default: $AIDEMO_HOME or ./.aidemo), started if needed."""
    home = home or ServiceHome.at()
    return status(home) or start(home)


def stop(home: ServiceHome) -> bool:
    """Stop the service of this home by its pid; False if none was running."""
    info = status(home)
    if info is None:
        return False
    os.kill(info.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while time.monotonic() < deadline:
        if not _alive(info.pid):
            return True
        time.sleep(0.1)
    os.kill(info.pid, signal.SIGKILL)
    return True


def _bind(home: ServiceHome) -> socket.socket:
    # Reuse the last port when it is free so that clients holding the old URL survive a restart.
    with contextlib.suppress(FileNotFoundError, ValueError):
        port = int(home.port_file.read_text())
        try:
            return _listen(port)
        except OSError:
            pass
    return _listen(0)


def _listen(port: int) -> socket.socket:
    # IPPROTO_TCP, not the default 0: asyncio sets TCP_NODELAY only on connections of a socket that says
    # it is TCP. Without it a reply written in two pieces (headers, body) waits for the client's delayed
    # ACK, about 40 ms on every request.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.close()
        raise
    sock.listen(512)
    return sock


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours counts as gone.
    with contextlib.suppress(OSError, ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    return True


def _get_json(info: ServiceInfo, path: str, timeout: float) -> dict:
    context = ssl.create_default_context(cafile=str(info.home.ca_cert))
    with urllib.request.urlopen(info.url + path, timeout=timeout, context=context) as resp:
        return json.loads(resp.read())


def _child_env() -> dict[str, str]:
    # The package's own location first, so that the child imports this very kit from any directory.
    root = str(Path(__file__).resolve().parents[3])
    path = os.environ.get("PYTHONPATH")
    return os.environ | {"PYTHONPATH": root + (os.pathsep + path if path else "")}


@contextlib.contextmanager
def _home_errors(home: ServiceHome):
    """Report a home that cannot be written as one clear error instead of a traceback."""
    try:
        yield
    except PermissionError as exc:
        raise LocalServiceError(
            f"cannot write the local service's home {home.root} ({exc.strerror}): "
            "make it writable or set AIDEMO_HOME to a folder you can write"
        ) from None
    except OSError as exc:
        if exc.errno not in (errno.EROFS, errno.ENOSPC, errno.EDQUOT):
            raise
        raise LocalServiceError(
            f"cannot write the local service's home {home.root} ({exc.strerror}): "
            "free some space, make it writable or set AIDEMO_HOME elsewhere"
        ) from None


@contextlib.contextmanager
def _start_lock(home: ServiceHome):
    home.root.mkdir(parents=True, exist_ok=True, mode=0o700)
    with os.fdopen(os.open(home.lock, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _tail(path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"
