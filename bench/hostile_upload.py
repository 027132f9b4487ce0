"""What an unauthenticated 256 MB stage upload costs the local service: its RSS before and after.

Usage: ``python bench/hostile_upload.py [MB]``. Starts a service in a temporary home, sends one
``PUT /aidemo-stage/<forged prefix>/0.ndjson`` with a body of MB megabytes (default 256) and no
credential, and prints the answer with the service's resident memory (VmRSS) before and after
and its peak (VmHWM).
"""

from __future__ import annotations

import argparse
import contextlib
import re
import socket
import ssl
import tempfile
from pathlib import Path

from aidemo.local.process import service
from aidemo.local.process.home import ServiceHome

CHUNK = 1 << 20


def memory_mb(pid: int) -> dict[str, float]:
    status = Path(f"/proc/{pid}/status").read_text()
    return {k: int(re.search(rf"{k}:\s+(\d+) kB", status).group(1)) / 1024 for k in ("VmRSS", "VmHWM")}


def upload(info: service.ServiceInfo, megabytes: int) -> str:
    """Send the forged upload; returns the status line (the server may answer before the body is in)."""
    context = ssl.create_default_context(cafile=str(info.home.ca_cert))
    with context.wrap_socket(socket.create_connection(("127.0.0.1", info.port)), server_hostname="127.0.0.1") as sock:
        head = (
            f"PUT /aidemo-stage/0123.forged/0.ndjson HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Length: {megabytes * CHUNK}\r\n\r\n"
        )
        sent = 0
        with contextlib.suppress(OSError):
            sock.sendall(head.encode())
            for _ in range(megabytes):
                sock.sendall(b"x" * CHUNK)
                sent += 1
        sock.settimeout(60)
        try:
            reply = sock.recv(65536).decode(errors="replace")
        except OSError as exc:
            reply = f"(no answer: {exc})"
        return f"{reply.splitlines()[0] if reply else '(connection closed)'}; {sent} of {megabytes} MB sent"


def main(megabytes: int) -> None:
    with tempfile.TemporaryDirectory(prefix="aidemo-hostile-") as root:
        home = ServiceHome.at(root)
        info = service.start(home)
        try:
            before = memory_mb(info.pid)
            answer = upload(info, megabytes)
            after = memory_mb(info.pid)
        finally:
            service.stop(home)
    print(f"unauthenticated {megabytes} MB PUT to the stage: {answer}")
    print(
        f"service RSS before {before['VmRSS']:.0f} MB, after {after['VmRSS']:.0f} MB, "
        f"peak {after['VmHWM']:.0f} MB (peak before: {before['VmHWM']:.0f} MB)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="What an unauthenticated stage upload costs the local service.")
    parser.add_argument("megabytes", nargs="?", type=int, default=256, help="the body's size (default: 256)")
    main(parser.parse_args().megabytes)
