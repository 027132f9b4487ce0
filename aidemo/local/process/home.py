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
    databases/<NAME>.duckdb    one file per database: its schemas, tables, pipes and channels
                               (an older home's warehouse.duckdb moves there on start)
    spool/                     request bodies while they are loaded
    spool/stage/               file-mode uploads until they are registered and loaded
    spool/stages/              internal stages (PUT, GET, LIST, COPY INTO), see aidemo.local.storage.stages
    spool/duckdb/              DuckDB's spill files while a load needs more than its memory limit
    service.log                the service's log when detached (rotated: service.log.1 ...)
    service.out                what the detached service printed (a crash's traceback)

The home is private to its user: the directory is 0700 and every file 0600, all written through
:func:`write_private` (and the service runs with umask 077). :meth:`ServiceHome.ensure` creates
it under an exclusive lock, each file written whole (temporary file, then rename), and checks
that the certificates fit together, replacing a pair that does not.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import secrets
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from aidemo.local.errors import LocalError
from aidemo.local.process import pki
from aidemo.local.process.keys import generate_key_pair, public_key_of

ACCOUNT = "AIDEMO_LOCAL"
USER = "AIDEMO"
ROLE = "AUTOMATED_INTELLIGENCE"
DATABASE = "AUTOMATED_INTELLIGENCE"
SCHEMA = "RAW"
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600

log = logging.getLogger("aidemo.local")


def default_home() -> Path:
    """``$AIDEMO_HOME`` or ``.aidemo/`` in the working directory."""
    return Path(os.environ.get("AIDEMO_HOME") or ".aidemo").absolute()


class _File:
    """A path in the home: ``home.ca_cert`` is ``home.root / "ca.pem"``."""

    def __init__(self, name: str):
        self.name = name

    def __get__(self, home: ServiceHome | None, owner: type | None = None):
        return self if home is None else home.root / self.name


@dataclass(frozen=True)
class ServiceHome:
    """Paths of one local service's home directory."""

    root: Path

    @classmethod
    def at(cls, root: str | os.PathLike | None = None) -> ServiceHome:
        return cls(Path(root).absolute() if root else default_home())

    # The files of the home (the module docstring says what each holds).
    ca_cert = _File("ca.pem")
    ca_key = _File("ca.key")
    server_cert = _File("server.pem")
    server_key = _File("server.key")
    trust_bundle = _File("trust.pem")
    user_key = _File("user.p8")
    token_secret = _File("token.secret")
    connector_sessions = _File("connector-sessions.json")
    profile = _File("profile.json")
    state = _File("service.json")
    pid = _File("service.pid")
    database = _File("warehouse.duckdb")
    spool = _File("spool")
    stage = _File("spool/stage")
    stages = _File("spool/stages")
    log = _File("service.log")
    console = _File("service.out")
    lock = _File("start.lock")
    port_file = _File("port")

    def ensure(self) -> None:
        """Create the home and its keys and certificates, or repair them; safe to run concurrently."""
        with self.locked():
            self._ensure()

    @contextlib.contextmanager
    def locked(self):
        """Hold the home's creation lock (a lock on the directory itself) while it is set up."""
        self.root.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
        fd = os.open(self.root, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _ensure(self) -> None:
        self.root.chmod(PRIVATE_DIR)
        self.spool.mkdir(exist_ok=True, mode=PRIVATE_DIR)
        if not pki.ca_pair_ok(_read(self.ca_cert), _read(self.ca_key)):
            if self.ca_cert.exists():
                log.warning("%s: ca.pem and ca.key do not belong together; made a new CA", self.root)
            cert, key = pki.make_ca()
            write_private(self.ca_key, key)
            write_private(self.ca_cert, cert)
        if not pki.server_pair_ok(_read(self.ca_cert), _read(self.server_cert), _read(self.server_key)):
            if self.server_cert.exists():
                log.warning(
                    "%s: server.pem is not signed by ca.pem or does not fit server.key; made a new one", self.root
                )
            cert, key = pki.make_server_cert(self.ca_cert.read_text(), self.ca_key.read_text())
            write_private(self.server_key, key)
            write_private(self.server_cert, cert)
        bundle = _system_bundle() + "\n" + self.ca_cert.read_text()
        if _read(self.trust_bundle) != bundle:
            write_private(self.trust_bundle, bundle)
        if not _loads(self.user_key):
            write_private(self.user_key, generate_key_pair().private_key_pem)
        if len(_read(self.token_secret)) < 64:
            write_private(self.token_secret, secrets.token_hex(32))
        for path in self.root.iterdir():  # homes made before files were private, or copied in
            mode = PRIVATE_DIR if path.is_dir() else PRIVATE_FILE
            if path.stat().st_mode & 0o777 != mode:
                path.chmod(mode)

    def copy_ca_from(self, other: ServiceHome) -> None:
        """Use the CA of another home (before this one's first start).

        The SDK loads its S3 client's trust roots once per process, so every local service
        that one process sends file-mode uploads to must share a CA.
        """
        other.ensure()
        with self.locked():
            for name in ("ca_key", "ca_cert"):
                write_private(getattr(self, name), getattr(other, name).read_text())
            self._ensure()  # a server certificate signed by another CA is replaced

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
        """profile.json: the SDK's properties, and ``"backend": "local"`` for the kit (the SDK ignores it)."""
        write_private(self.profile, json.dumps({"backend": "local", **self.sdk_properties(port)}, indent=2))


def write_private(path: Path, data: str | bytes) -> None:
    """Write a file of the home whole and private (0600): a temporary file renamed over ``path``."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # mkstemp makes it 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except (FileNotFoundError, UnicodeDecodeError):
        return ""


def _loads(key_path: Path) -> bool:
    try:
        public_key_of(key_path.read_text())
    except (OSError, ValueError, LocalError):
        return False
    return True


def _system_bundle() -> str:
    # Keep the system roots so that SSL_CERT_FILE does not break other HTTPS in the process.
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile, "/etc/ssl/certs/ca-certificates.crt"):
        if candidate and Path(candidate).is_file():
            return Path(candidate).read_text()
    return ""
