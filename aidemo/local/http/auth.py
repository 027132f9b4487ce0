"""Authentication, in one place: who may call which route.

Snowpipe Streaming's routes (and the service's own) take ``Authorization: Bearer <token>`` with
``X-Snowflake-Authorization-Token-Type`` naming what the token is; each route says which types it
accepts with :func:`endpoint`. The connector's routes take ``Authorization: Snowflake
Token="<session token>"`` (:func:`session_token`, checked by
:class:`~aidemo.local.http.sessions.Sessions`) after a login with a key-pair JWT (:func:`login`).

A client first presents a key-pair JWT (RS256, ``iss = ACCOUNT.USER.SHA256:<fp>``,
``sub = ACCOUNT.USER``, times in milliseconds) signed with the user's private key; the
service checks it against the user's registered public key and trades it for a scoped
token (a JWT whose ``exp`` is in seconds) that later calls present as ``OAUTH``.
"""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass

import jwt
from starlette.requests import Request
from starlette.responses import Response

from aidemo.local.errors import AuthError, ConnectorError
from aidemo.local.http.replies import check_names, refusal
from aidemo.local.process.home import ACCOUNT
from aidemo.local.process.keys import fingerprint

log = logging.getLogger(__name__)

KEYPAIR_JWT = "KEYPAIR_JWT"
OAUTH = "OAUTH"

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


def principal(request: Request, secret: str, public_keys, *allowed: str) -> Principal:
    """Who sent ``request``: its Bearer token, of one of the ``allowed`` types, checked."""
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        raise AuthError("390101", "Authorization header is missing or not a Bearer token.")
    token = header[7:].strip()
    kind = request.headers.get("x-snowflake-authorization-token-type", OAUTH).upper()
    if kind not in allowed:
        raise AuthError("390101", f"Authorization token type {kind} is not accepted here.")
    if kind == KEYPAIR_JWT:
        return verify_keypair_jwt(token, ACCOUNT, public_keys())
    return verify_scoped_token(token, secret)


def endpoint(*allowed: str):
    """A handler ``(request, principal)`` behind the service's checks: names in its path, then (when
    ``allowed`` names token types) its caller; any failure answered as :func:`~aidemo.local.http.replies.refusal`
    says. With no ``allowed`` the route is open and ``principal`` is None."""

    def wrap(handler):
        @functools.wraps(handler)
        async def route(request: Request) -> Response:
            service = request.app.state.service
            try:
                check_names(request.url.path, request.path_params)
                caller = principal(request, service.secret, service.store.user_keys, *allowed) if allowed else None
                return await handler(request, caller)
            except Exception as exc:  # noqa: BLE001 - every failure gets a body the client can read
                return refusal(request, exc, str(service.home.root), service.note_disk_full)

        return route

    return wrap


def login(token: str, login_name: str | None, public_keys: dict[str, str]) -> Principal:
    """The connector's login: its key-pair JWT checked, and the login name it gives (if any) its user's."""
    try:
        found = verify_keypair_jwt(token, ACCOUNT, public_keys)
        if str(login_name or found.user).upper() != found.user:
            raise AuthError("390144", "login name does not match the JWT's user")
        return found
    except AuthError as exc:
        # The reason stays in the log: the reply must not tell which users exist.
        log.info("connector login refused: %s", exc.message)
        raise ConnectorError(
            "390144",
            "JWT token is invalid. Check the account, the user and that the private key is the "
            "one whose public key the local service has for that user (its profile.json).",
        ) from None


def session_token(request: Request) -> str:
    """The token of the connector's ``Authorization: Snowflake Token="..."``."""
    header = request.headers.get("authorization", "")
    prefix = 'snowflake token="'
    if not header.lower().startswith(prefix) or not header.endswith('"'):
        raise ConnectorError("390101", 'Authorization header must be Snowflake Token="<token>".')
    return header[len(prefix) : -1]
