"""The local service's home directory: keys, certificates, profile, state and data.

Layout (created on first use)::

    ca.pem, ca.key             the service's certificate authority
    server.pem, server.key     its TLS certificate for 127.0.0.1 / localhost
    trust.pem                  system CA bundle + ca.pem, given to the SDK as SSL_CERT_FILE
    user.p8                    the local user's RSA private key (PKCS#8)
    token.secret               signs the scoped tokens the service hands out
    connector-sessions.json    the connector's open sessions (token hashes, USE context)
    profile.json               the SDK properties a client needs (written on each start)
    service.json, service.pid  port and pid of the running service
    port                       the last port, reused so clients survive a restart
    warehouse.duckdb           all tables, pipes and channels
    spool/                     request bodies while they are loaded
    spool/stage/               file-mode uploads until they are registered and loaded
    spool/duckdb/              DuckDB's spill files while a load needs more than its memory limit
    service.log                the service's log when detached
"""

from __future__ import annotations

import json
import os
import secrets
import ssl
from dataclasses import dataclass
from pathlib import Path

from aidemo.keys import generate_key_pair, public_key_of
from aidemo.local import pki

ACCOUNT = "AIDEMO_LOCAL"
USER = "AIDEMO"
ROLE = "AUTOMATED_INTELLIGENCE"
DATABASE = "AUTOMATED_INTELLIGENCE"
SCHEMA = "RAW"


def default_home() -> Path:
    """``$AIDEMO_HOME`` or ``.aidemo/`` in the working directory."""
    return Path(os.environ.get("AIDEMO_HOME") or ".aidemo").absolute()


@dataclass(frozen=True)
class ServiceHome:
    """Paths of one local service's home directory."""

    root: Path

    @classmethod
    def at(cls, root: str | os.PathLike | None = None) -> "ServiceHome":
        return cls(Path(root).absolute() if root else default_home())

    def __getattr__(self, name: str) -> Path:
        try:
            return self.root / _FILES[name]
        except KeyError:
            raise AttributeError(name) from None

    def ensure(self) -> None:
        """Create the directory and its keys and certificates if they are missing."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.spool.mkdir(exist_ok=True)
        if not (self.ca_cert.exists() and self.ca_key.exists()):
            cert, key = pki.make_ca()
            _write_private(self.ca_key, key)
            self.ca_cert.write_text(cert)
            self.server_cert.unlink(missing_ok=True)
        if not (self.server_cert.exists() and self.server_key.exists()):
            cert, key = pki.make_server_cert(self.ca_cert.read_text(), self.ca_key.read_text())
            _write_private(self.server_key, key)
            self.server_cert.write_text(cert)
        self.trust_bundle.write_text(_system_bundle() + "\n" + self.ca_cert.read_text())
        if not self.user_key.exists():
            _write_private(self.user_key, generate_key_pair().private_key_pem)
        if not self.token_secret.exists():
            _write_private(self.token_secret, secrets.token_hex(32))

    def copy_ca_from(self, other: "ServiceHome") -> None:
        """Use the CA of another home (before this one's first start).

        The SDK loads its S3 client's trust roots once per process, so every local service
        that one process sends file-mode uploads to must share a CA.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        other.ensure()
        for name in ("ca_cert", "ca_key"):
            getattr(self, name).write_bytes(getattr(other, name).read_bytes())

    def user_public_key(self) -> str:
        return public_key_of(self.user_key.read_text())

    def sdk_properties(self, port: int) -> dict[str, str]:
        """What a client of the service at ``port`` passes to the SDK (also written to profile.json)."""
        return {
            "account": ACCOUNT,
            "user": USER,
            "url": f"https://127.0.0.1:{port}",
            "private_key": self.user_key.read_text(),
            "role": ROLE,
            "database": DATABASE,
            "schema": SCHEMA,
        }

    def write_profile(self, port: int) -> None:
        _write_private(self.profile, json.dumps(self.sdk_properties(port), indent=2))


_FILES = {
    "ca_cert": "ca.pem",
    "ca_key": "ca.key",
    "server_cert": "server.pem",
    "server_key": "server.key",
    "trust_bundle": "trust.pem",
    "user_key": "user.p8",
    "token_secret": "token.secret",
    "connector_sessions": "connector-sessions.json",
    "profile": "profile.json",
    "state": "service.json",
    "pid": "service.pid",
    "database": "warehouse.duckdb",
    "spool": "spool",
    "stage": "spool/stage",
    "log": "service.log",
    "lock": "start.lock",
    "port_file": "port",
}


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def _system_bundle() -> str:
    # Keep the system roots so that SSL_CERT_FILE does not break other HTTPS in the process.
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile, "/etc/ssl/certs/ca-certificates.crt"):
        if candidate and Path(candidate).is_file():
            return Path(candidate).read_text()
    return ""
