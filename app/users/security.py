"""Passwords (argon2), signed access/refresh tokens (JWT) and API key secrets."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified against when the username does not exist, so that timing does not tell.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
ALGORITHM = "HS256"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    kind: str  # "access", "refresh" or "console"
    version: int = 0  # a console session's console_session_version (0 when not signed in)


class InvalidToken(Exception):
    pass


def issue_token(
    user_id: int,
    kind: str,
    secret: str,
    now: datetime,
    lifetime: timedelta,
    version: int | None = None,
) -> str:
    """A signed token of `kind` for `user_id`, valid for `lifetime` from `now`; `version`: the
    user's console_session_version, signed in as claim "ver" (console sessions)."""
    payload: dict[str, Any] = {"sub": str(user_id), "typ": kind, "iat": now, "exp": now + lifetime}
    if version is not None:
        payload["ver"] = version
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


@lru_cache(maxsize=4096)
def _verified(token: str, secret: str) -> tuple[float, str, str, Any]:
    """(exp, sub, typ, ver) of a well-signed token (ver None without one). Cached: a client sends the same token with every
    request for its whole lifetime, and the same string always verifies the same way."""
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["exp", "sub", "typ"], "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken("the token is malformed or its signature is wrong") from exc
    return payload["exp"], payload["sub"], payload["typ"], payload.get("ver")


def read_token(token: str, secret: str, expected_kind: str, now: datetime) -> TokenClaims:
    exp, sub, kind, version = _verified(token, secret)
    # Expiry is checked against the app's clock, not the wall clock, so that tests can move time.
    if exp <= now.timestamp():
        raise InvalidToken("the token has expired; sign in again or refresh it")
    if kind != expected_kind:
        raise InvalidToken(f"a {kind} token cannot be used here")
    # We only ever sign a user id as a decimal string; anything else is not our token.
    if not (isinstance(sub, str) and sub.isascii() and sub.isdecimal() and len(sub) <= 9):
        raise InvalidToken("the token does not name a user")
    if version is None:
        version = 0  # signed before versions were (the column's first value)
    if not isinstance(version, int) or isinstance(version, bool):
        raise InvalidToken("the token's session version is not a number")
    return TokenClaims(user_id=int(sub), kind=kind, version=version)


def new_api_key() -> tuple[str, str, str]:
    """(full key shown once, public prefix, hash of the secret)."""
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    return f"hk_{prefix}_{secret}", prefix, hash_api_secret(secret)


def hash_api_secret(secret: str) -> str:
    # Keys are 256 random bits: a fast hash is enough and keeps every request cheap.
    return hashlib.sha256(secret.encode()).hexdigest()


def split_api_key(key: str) -> tuple[str, str] | None:
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != "hk" or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]
