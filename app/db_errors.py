"""Which exceptions mean the database cannot be reached (503 and retry), not a bug (500).

Used by the API's failsafe, the CLI and the periodic jobs alike.
"""

import sqlite3

import asyncpg
import sqlalchemy.exc

# The server went away, restarted, refused or ran out of connections, the database was
# dropped, or the pool timed out: the client can retry, so these answer 503 rather than 500.
# Both the ORM's errors and the driver's are recognised: intake calls asyncpg directly on
# PostgreSQL, and a connection killed mid-statement surfaces there as "connection is closed"
# (InterfaceError), "cannot switch to state 12" (InternalClientError) or "connection does not
# exist" (ConnectionDoesNotExistError).
_UNAVAILABLE = (
    OSError,  # refused, reset, unreachable, timed out (TimeoutError is an OSError)
    sqlalchemy.exc.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.InvalidCatalogNameError,  # the database itself is gone
)
# SQLite's OperationalError covers syntax errors too: only these messages mean "unavailable".
_SQLITE_UNAVAILABLE = ("unable to open database", "database is locked", "disk i/o error")


def _unavailable_one(exc: BaseException) -> bool:
    if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, sqlite3.OperationalError):
        return str(exc).lower().startswith(_SQLITE_UNAVAILABLE)
    return isinstance(exc, _UNAVAILABLE)


def database_unavailable(exc: BaseException) -> bool:
    """Whether `exc`, or an error that caused it, says the database cannot be reached."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if _unavailable_one(current):
            return True
        orig = getattr(current, "orig", None)
        pending += [orig if isinstance(orig, BaseException) else None]
        pending += [current.__cause__, current.__context__]
    return False
