"""RSA key pairs for Snowflake key-pair authentication.

Snowflake wants an RSA private key in PKCS#8 PEM on the client and the public key's
base64 body on the user (``ALTER USER ... SET RSA_PUBLIC_KEY='...'``); it shows the
key's fingerprint as ``RSA_PUBLIC_KEY_FP`` = ``SHA256:`` + base64(sha256(SPKI DER)).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from aidemo.local.errors import KeyPairError


@dataclass(frozen=True)
class KeyPair:
    """A PKCS#8 private key (PEM text) and what Snowflake needs of its public half."""

    private_key_pem: str
    public_key_pem: str

    @property
    def public_key_body(self) -> str:
        """The public key without PEM armour, as ``ALTER USER ... SET RSA_PUBLIC_KEY`` wants it."""
        return public_key_body(self.public_key_pem)

    @property
    def fingerprint(self) -> str:
        """``SHA256:<base64>``, as Snowflake shows in ``RSA_PUBLIC_KEY_FP``."""
        return fingerprint(self.public_key_pem)

    def alter_user_sql(self, user: str) -> str:
        """The statement that registers this key for ``user`` on a real account."""
        return f"ALTER USER {user} SET RSA_PUBLIC_KEY='{self.public_key_body}';"

    def __repr__(self) -> str:
        return f"KeyPair(fingerprint={self.fingerprint!r}, private_key=<hidden>)"


def generate_key_pair(passphrase: str | None = None, bits: int = 2048) -> KeyPair:
    """Make a new RSA key pair; the private key is encrypted when ``passphrase`` is given."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    encryption = (
        serialization.BestAvailableEncryption(passphrase.encode()) if passphrase else serialization.NoEncryption()
    )
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption).decode()
    return KeyPair(private_pem, _public_pem(key))


def load_private_key(pem: str | bytes, passphrase: str | None = None) -> rsa.RSAPrivateKey:
    """Read a PEM private key, saying what is wrong when it cannot be read."""
    data = pem.encode() if isinstance(pem, str) else pem
    if b"-----BEGIN" not in data:
        raise KeyPairError(
            "private_key is not PEM text: paste the whole key including the "
            "'-----BEGIN PRIVATE KEY-----' and '-----END PRIVATE KEY-----' lines"
        )
    try:
        key = serialization.load_pem_private_key(data, password=passphrase.encode() if passphrase else None)
    except TypeError as exc:
        if passphrase:
            raise KeyPairError("the private key is not encrypted: remove private_key_passphrase") from exc
        raise KeyPairError(
            "the private key is encrypted: set private_key_passphrase "
            "(or the environment variable PRIVATE_KEY_PASSPHRASE)"
        ) from exc
    except ValueError as exc:
        hint = "wrong passphrase, or " if passphrase else ""
        raise KeyPairError(f"cannot read the private key ({hint}damaged PEM): {exc}") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyPairError("the private key is not an RSA key; Snowflake key-pair auth needs RSA")
    return key


def unencrypted_pkcs8(pem: str, passphrase: str | None = None) -> str:
    """The key as unencrypted PKCS#8 PEM text, the form the SDK's ``private_key`` property takes."""
    return (
        load_private_key(pem, passphrase)
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )


def public_key_of(private_pem: str, passphrase: str | None = None) -> str:
    """The PEM public key that belongs to a private key."""
    return _public_pem(load_private_key(private_pem, passphrase))


def public_key_body(public_pem: str) -> str:
    """The base64 body of a PEM public key (no BEGIN/END lines, no newlines)."""
    return "".join(line for line in public_pem.strip().splitlines() if not line.startswith("-----"))


def fingerprint(public_pem: str) -> str:
    """``SHA256:`` + base64 of the SHA-256 of the key's SubjectPublicKeyInfo DER."""
    der = base64.b64decode(public_key_body(public_pem))
    return "SHA256:" + base64.b64encode(hashlib.sha256(der).digest()).decode()


def _public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def keypair_jwt(
    account: str,
    user: str,
    private_key_pem: str,
    *,
    role: str | None = None,
    passphrase: str | None = None,
    lifetime_s: int = 3540,
) -> str:
    """A key-pair JWT as Snowflake's SQL API and the SDK send it (RS256, times in milliseconds)."""
    import time

    import jwt

    key = load_private_key(private_key_pem, passphrase)
    qualified = f"{account.upper()}.{user.upper()}"
    now_ms = int(time.time() * 1000)
    claims = {
        "iss": f"{qualified}.{fingerprint(_public_pem(key))}",
        "sub": qualified,
        "iat": now_ms,
        "exp": now_ms + lifetime_s * 1000,
    }
    if role:
        claims["scp"] = f"session:role:{role}"
    return jwt.encode(claims, key, algorithm="RS256")
