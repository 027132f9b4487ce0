"""Authentication as Snowflake does it for Snowpipe Streaming.

A client first presents a key-pair JWT (RS256, ``iss = ACCOUNT.USER.SHA256:<fp>``,
``sub = ACCOUNT.USER``, times in milliseconds) signed with the user's private key; the
service checks it against the user's registered public key and trades it for a scoped
token (a JWT whose ``exp`` is in seconds) that later calls present as ``OAUTH``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt

from aidemo.local.errors import AuthError
from aidemo.local.process.keys import fingerprint

SCOPED_TOKEN_TTL_S = 3600
MAX_JWT_LIFETIME_S = 3600
CLOCK_SKEW_S = 60
_NOT_AUTHENTICATED = "JWT token is invalid: the user does not exist or the key is not registered for it."


@dataclass(frozen=True)
class Principal:
    user: str
    role: str | None


def verify_keypair_jwt(token: str, account: str, public_keys: dict[str, str]) -> Principal:
    """Check a key-pair JWT against the registered public keys (user name -> PEM).

    As Snowflake does: ``iat`` and ``exp`` are required, the token may live at most an hour
    (``exp - iat``), must not be expired or issued in the future (beyond a minute of clock
    skew). Times may be in milliseconds (the SDK) or seconds (the connector). Every refusal that
    involves the user or key says the same thing, so that it does not tell which users exist.
    """
    try:
        claims = jwt.decode(token, options={"verify_signature": False, "verify_exp": False})
    except jwt.PyJWTError as exc:
        raise AuthError("390144", f"JWT token is invalid: {exc}") from exc
    issuer = str(claims.get("iss", ""))
    parts = issuer.split(".")
    if len(parts) != 3 or not parts[2].startswith("SHA256:"):
        raise AuthError("390144", "JWT token is invalid: issuer is not ACCOUNT.USER.SHA256:<public key fingerprint>")
    acct, user, fp = parts
    if acct.upper() != account.upper():
        raise AuthError("390144", f"JWT token is invalid: the account in its issuer is not {account!r}")
    if str(claims.get("sub", "")).upper() != f"{acct}.{user}".upper():
        raise AuthError("390144", "JWT token is invalid: subject does not match issuer")
    exp, iat = _seconds(claims.get("exp")), _seconds(claims.get("iat"))
    if exp is None or iat is None:
        raise AuthError("390144", "JWT token is invalid: it needs numeric 'iat' and 'exp' claims")
    if exp - iat > MAX_JWT_LIFETIME_S:
        raise AuthError(
            "390144", f"JWT token is invalid: it lives {exp - iat:.0f} s; at most {MAX_JWT_LIFETIME_S} s are allowed"
        )
    now = time.time()
    if exp < now - CLOCK_SKEW_S:
        raise AuthError("390144", "JWT token is invalid: expired")
    if iat > now + CLOCK_SKEW_S:
        raise AuthError("390144", "JWT token is invalid: issued in the future")
    public_pem = public_keys.get(user.upper())
    if public_pem is None or fingerprint(public_pem) != fp:
        raise AuthError("390144", _NOT_AUTHENTICATED)
    try:
        jwt.decode(
            token,
            public_pem,
            algorithms=["RS256"],
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
    except jwt.PyJWTError as exc:
        raise AuthError("390144", _NOT_AUTHENTICATED) from exc
    scope = str(claims.get("scp", ""))
    role = scope.split(":", 2)[2] if scope.startswith("session:role:") else None
    return Principal(user.upper(), role)


def issue_scoped_token(secret: str, principal: Principal, scope: str, ttl_s: int = SCOPED_TOKEN_TTL_S) -> str:
    now = int(time.time())
    claims = {"sub": principal.user, "role": principal.role, "scope": scope, "iat": now, "exp": now + ttl_s}
    return jwt.encode(claims, secret, algorithm="HS256")


def verify_scoped_token(token: str, secret: str) -> Principal:
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"])
    except jwt.ExpiredSignatureError as exc:
        raise AuthError("390114", "Authentication token has expired. The user must authenticate again.") from exc
    except jwt.PyJWTError as exc:
        raise AuthError("390104", f"Authentication token is invalid: {exc}") from exc
    if not isinstance(claims.get("sub"), str):
        raise AuthError("390104", "Authentication token is invalid: it names no user")
    return Principal(claims["sub"], claims.get("role"))


def _seconds(value) -> float | None:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    # The SDK sends milliseconds, the connector seconds: 10**11 s is the year 5138, 10**11 ms 1973.
    return value / 1000 if value >= 10**11 else float(value)
