"""Sign-in throttling after OWASP's authentication cheat sheet: slow guessing down, lock nobody out.

Two counters, both rows of `login_throttle` that every app instance shares:

- per (username, client address): `max_failures` failures in the window are free; after that
  each failure blocks the pair for twice as long as the one before (30 s, 1 min, 2 min ...)
  up to `max_delay`. A stranger's guesses slow down only the stranger's own address: the owner,
  signing in from anywhere else, is not affected.
- per client address, across usernames: `address_limit` failures in the window, then that
  address gets 429 until the window ends. Networks in `exempt` (a switchboard behind one
  address) skip this counter.

Atomicity: the pair's row is created if missing (insert, conflict ignored) and then locked
(SELECT ... FOR UPDATE on PostgreSQL; SQLite's transactions take the write lock up front), so
concurrent attempts for one pair are decided one after the other and the number of password
checks is bounded. The address counter is one upsert statement. Flushes only; the caller commits.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from ipaddress import IPv4Network, IPv6Network

from sqlalchemy import case, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import AppError
from app.networks import in_networks
from app.users.models import LoginThrottle

FIRST_DELAY = timedelta(seconds=30)


class TooManyAttempts(AppError):
    status, title, slug = 429, "Too many failed sign-ins", "login-throttled"


@dataclass(frozen=True)
class ThrottlePolicy:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    max_delay: timedelta = timedelta(minutes=15)
    address_limit: int = 100
    exempt: tuple[IPv4Network | IPv6Network, ...] = ()

    def delay(self, failures: int) -> timedelta:
        """How long the pair waits after its `failures`-th failure in the window."""
        if failures < self.max_failures:
            return timedelta(0)
        doublings = min(failures - self.max_failures, 20)
        return min(self.max_delay, FIRST_DELAY * 2**doublings)


def pair_key(username: str, address: str) -> str:
    return f"u:{username} a:{address}"


def address_key(address: str) -> str:
    return f"a:{address}"


def _insert(session: AsyncSession):  # type: ignore[no-untyped-def]
    return (pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert)(
        LoginThrottle
    )


def _refuse(until: datetime, now: datetime, detail: str) -> TooManyAttempts:
    seconds = max(1, int((until - now).total_seconds() + 0.999))
    return TooManyAttempts(
        f"{detail}; try again in {seconds} seconds.", retry_after_seconds=seconds
    )


async def admit(
    session: AsyncSession, *, username: str, address: str, policy: ThrottlePolicy, now: datetime
) -> LoginThrottle:
    """The locked pair row when this attempt may check a password; TooManyAttempts (429 with
    Retry-After) while the pair is blocked or the address is over its limit."""
    if not in_networks(address, policy.exempt):
        row = await session.get(LoginThrottle, address_key(address))
        if (
            row is not None
            and row.failures >= policy.address_limit
            and now - row.window_started_at < policy.window
        ):
            raise _refuse(
                row.window_started_at + policy.window,
                now,
                "Too many failed sign-ins from this address",
            )
    key = pair_key(username, address)
    await session.execute(
        _insert(session)
        .values(key=key, failures=0, window_started_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    stmt = select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()
    pair = (await session.scalars(stmt.execution_options(populate_existing=True))).one()
    if now - pair.window_started_at >= policy.window:
        pair.failures, pair.window_started_at, pair.blocked_until = 0, now, None
    if pair.blocked_until is not None and now < pair.blocked_until:
        raise _refuse(pair.blocked_until, now, "Too many failed sign-ins for this username")
    return pair


async def record_failure(
    session: AsyncSession,
    pair: LoginThrottle,
    *,
    address: str,
    policy: ThrottlePolicy,
    now: datetime,
) -> None:
    """Count a failed attempt for the pair (and its address, unless exempt)."""
    pair.failures += 1
    delay = policy.delay(pair.failures)
    pair.blocked_until = now + delay if delay else None
    if not in_networks(address, policy.exempt):
        stale = LoginThrottle.window_started_at <= now - policy.window
        await session.execute(
            _insert(session)
            .values(key=address_key(address), failures=1, window_started_at=now)
            .on_conflict_do_update(
                index_elements=["key"],
                set_={
                    "failures": case((stale, 1), else_=LoginThrottle.failures + 1),
                    "window_started_at": case((stale, now), else_=LoginThrottle.window_started_at),
                },
            )
        )
    await session.flush()


async def record_success(session: AsyncSession, pair: LoginThrottle) -> None:
    """A correct password clears the pair's failures (not the address's)."""
    await session.delete(pair)
    await session.flush()
