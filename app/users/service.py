"""Sign-in, token refresh, API keys and user administration. Flushes only; callers commit."""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, NotFound, Unauthorized, ValidationFailed, field_error
from app.users import security, throttle
from app.users.models import ApiKey, User, UserUnit
from app.users.permissions import Role
from app.users.principal import Principal
from app.users.principal_cache import announce
from app.users.throttle import ThrottlePolicy


@dataclass(frozen=True)
class AuthPolicy:
    secret_key: str
    access_lifetime: timedelta
    refresh_lifetime: timedelta
    throttle: ThrottlePolicy


USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")


def normalize_username(username: str) -> str:
    return username.strip().lower()


async def authenticate(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    address: str,
    policy: AuthPolicy,
    now: datetime,
) -> User:
    """The user for a correct password, else Unauthorized (401); TooManyAttempts (429) while
    this username is throttled from this client address, or the address is (app.users.throttle).
    Failures are counted for unknown usernames too, so that the answers do not tell them apart.
    """
    name = normalize_username(username)
    pair = await throttle.admit(
        session, username=name, address=address, policy=policy.throttle, now=now
    )
    user = (await session.scalars(select(User).where(User.username == name))).one_or_none()
    ok = security.verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        await throttle.record_failure(
            session, pair, address=address, policy=policy.throttle, now=now
        )
        # Same answer whether the user exists, is disabled or the password is wrong.
        raise Unauthorized("Wrong username or password.")
    await throttle.record_success(session, pair)
    return user


def issue_tokens(user_id: int, policy: AuthPolicy, now: datetime) -> dict[str, object]:
    """A fresh access + refresh token pair for the user."""
    return {
        "access_token": security.issue_token(
            user_id, "access", policy.secret_key, now, policy.access_lifetime
        ),
        "refresh_token": security.issue_token(
            user_id, "refresh", policy.secret_key, now, policy.refresh_lifetime
        ),
        "token_type": "bearer",
        "expires_in": int(policy.access_lifetime.total_seconds()),
    }


async def principal_for_user(session: AsyncSession, *, user_id: int) -> Principal | None:
    """The active user behind a token, with units; None once disabled or deleted.

    One round trip on the session's connection: it runs for every caller not in the cache
    (app.users.principal_cache), and on every request on SQLite.
    """
    stmt = (
        select(User.username, User.role, User.console_session_version, UserUnit.unit_code)
        .outerjoin(UserUnit, UserUnit.user_id == User.id)
        .where(User.id == user_id, User.active.is_(True))
    )
    rows = (await (await session.connection()).execute(stmt)).all()
    if not rows:
        return None
    units = frozenset(row[3] for row in rows if row[3] is not None)
    username, role, version = rows[0][:3]
    return Principal(
        username=username,
        role=role,
        units=units,
        user_id=user_id,
        console_session_version=version,
    )


async def end_console_sessions(session: AsyncSession, *, user_id: int) -> None:
    """Revoke every console session cookie of the user signed so far (sign-out): their
    console_session_version goes up by one, and every process forgets the cached caller when
    the transaction commits (announce). The caller forgets it in its own process."""
    await session.execute(
        update(User)
        .where(User.id == user_id)
        .values(console_session_version=User.console_session_version + 1)
    )
    await announce(session, user_id=user_id)


async def principal_for_api_key(
    session: AsyncSession, *, key: str, now: datetime
) -> Principal | None:
    parts = security.split_api_key(key)
    if parts is None:
        return None
    prefix, secret = parts
    row = (await session.scalars(select(ApiKey).where(ApiKey.prefix == prefix))).one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    if row.secret_hash != security.hash_api_secret(secret):
        return None
    # Record use at most once a minute: a write on every request would serialise integrations.
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        await session.execute(update(ApiKey).where(ApiKey.id == row.id).values(last_used_at=now))
    return Principal(
        username=f"apikey:{row.name}", role=row.role, units=frozenset(row.units), api_key_id=row.id
    )


# -- administration ------------------------------------------------------------------------


def _check_role_units(role: str, units: list[str], known_units: set[str]) -> None:
    try:
        Role(role)
    except ValueError as exc:
        roles = ", ".join(r.value for r in Role)
        raise ValidationFailed(
            [field_error(["role"], f"unknown role '{role}'; one of {roles}")]
        ) from exc
    if role == Role.UNIT_AGENT and not units:
        raise ValidationFailed([field_error(["units"], "a unit agent needs at least one unit")])
    unknown = [u for u in units if u not in known_units]
    if unknown:
        raise ValidationFailed([field_error(["units"], f"unknown unit(s): {', '.join(unknown)}")])


async def create_user(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    role: str,
    units: list[str],
    full_name: str | None,
    known_units: set[str],
    now: datetime,
) -> User:
    name = normalize_username(username)
    if not USERNAME.match(name):
        raise ValidationFailed(
            [field_error(["username"], "use lower-case ASCII letters, digits, '.', '-' or '_'")]
        )
    if len(password) < 8:
        raise ValidationFailed([field_error(["password"], "at least 8 characters")])
    _check_role_units(role, units, known_units)
    if (await session.scalars(select(User.id).where(User.username == name))).first():
        raise Conflict(f"A user named '{name}' exists already.")
    user = User(
        username=name,
        full_name=full_name,
        role=role,
        password_hash=security.hash_password(password),
        created_at=now,
    )
    session.add(user)
    await session.flush()
    for unit in sorted(set(units)):
        session.add(UserUnit(user_id=user.id, unit_code=unit))
    await session.flush()
    return user


async def list_users(session: AsyncSession) -> list[tuple[User, list[str]]]:
    users = (await session.scalars(select(User).order_by(User.username))).all()
    links = (await session.execute(select(UserUnit.user_id, UserUnit.unit_code))).all()
    units: dict[int, list[str]] = {}
    for user_id, unit in links:
        units.setdefault(user_id, []).append(unit)
    return [(u, sorted(units.get(u.id, []))) for u in users]


async def set_active(session: AsyncSession, *, username: str, active: bool) -> User:
    name = normalize_username(username)
    user = (await session.scalars(select(User).where(User.username == name))).one_or_none()
    if user is None:
        raise NotFound(f"No user '{name}'.")
    user.active = active
    await session.flush()
    await announce(session, user_id=user.id)
    return user


async def create_api_key(
    session: AsyncSession,
    *,
    name: str,
    role: str,
    units: list[str],
    created_by: str,
    known_units: set[str],
    now: datetime,
) -> tuple[ApiKey, str]:
    """The stored key and the full secret, which is shown this once and never again."""
    if role == Role.ADMIN:
        raise ValidationFailed([field_error(["role"], "API keys cannot be admins")])
    _check_role_units(role, units, known_units)
    full, prefix, secret_hash = security.new_api_key()
    key = ApiKey(
        name=name,
        prefix=prefix,
        secret_hash=secret_hash,
        role=role,
        units=sorted(set(units)),
        created_by=created_by,
        created_at=now,
    )
    session.add(key)
    await session.flush()
    return key, full


async def list_api_keys(session: AsyncSession) -> list[ApiKey]:
    return list((await session.scalars(select(ApiKey).order_by(ApiKey.id))).all())


async def revoke_api_key(session: AsyncSession, *, key_id: int, now: datetime) -> ApiKey:
    key = await session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(f"No API key {key_id}.")
    if key.revoked_at is None:
        key.revoked_at = now
        await session.flush()
        await announce(session, api_key_id=key.id)
    return key
