"""Which process does the periodic work: the holder of one PostgreSQL session advisory lock.

Every worker of every instance is a candidate. Each keeps one connection on the direct URL
(a transaction pooler would hand the lock's session to strangers) and tries
pg_try_advisory_lock every `retry` seconds; the one that gets it leads until its connection
ends. The lock then goes with the connection, so a dead leader's work is taken over:

- killed or crashed: the kernel closes its socket, PostgreSQL ends the session at once, and a
  candidate takes the lock within `retry` seconds;
- frozen (stopped, swapped out, a hung event loop) with its socket still open: the session is
  opened with idle_session_timeout, which PostgreSQL enforces; a live leader proves itself
  with a query every third of it, a frozen one is cut off and replaced within
  `idle_timeout + retry` seconds.

Leadership makes the periodic work cheap (one process scans instead of all); it is not what
makes it correct: the SLA scan still claims each warning and breach with row locks, so a
moment of two leaders (a lost connection noticed late) writes nothing twice.

SQLite has a single instance by construction: there the process always leads.
"""

import asyncio
import contextlib
import logging
from typing import Any

from sqlalchemy.engine import make_url

from app import metrics

# pg_try_advisory_lock's key: any constant the application uses for nothing else ("1022-17").
LOCK_KEY = 1022_0017
LEADER_NAME = "hotline-periodic-leader"  # its application_name in pg_stat_activity
log = logging.getLogger("hotline.leader")


class Leadership:
    """Candidate for the periodic-work lock; `is_leader` says whether this process holds it."""

    def __init__(self, direct_url: str, *, retry: float = 5.0, idle_timeout: float = 30.0):
        self.sqlite = direct_url.startswith("sqlite")
        self.dsn = (
            None
            if self.sqlite
            else make_url(direct_url)
            .set(drivername="postgresql")
            .render_as_string(hide_password=False)
        )
        self.retry = retry
        self.idle_timeout = idle_timeout
        self.is_leader = self.sqlite
        self.changed = asyncio.Event()  # set on every change of is_leader

    def _set(self, leading: bool) -> None:
        if leading != self.is_leader:
            self.is_leader = leading
            metrics.LEADER.set(1 if leading else 0)
            log.info("periodic work: %s", "this process leads" if leading else "no longer leads")
            self.changed.set()

    async def run(self) -> None:
        """Compete for the lock until cancelled (returns at once on SQLite)."""
        if self.sqlite:
            metrics.LEADER.set(1)
            return
        import asyncpg

        heartbeat = max(self.idle_timeout / 3, 0.2)
        while True:
            connection: Any = None
            try:
                connection = await asyncpg.connect(
                    self.dsn,
                    timeout=10,
                    server_settings={
                        "application_name": LEADER_NAME,
                        "idle_session_timeout": str(int(self.idle_timeout * 1000)),
                    },
                )
                while True:
                    # asyncio.timeout, not wait_for: on Python 3.11 wait_for can lose a
                    # cancellation (shutdown) that arrives as the query ends.
                    if self.is_leader:
                        async with asyncio.timeout(heartbeat):
                            await connection.fetchval("SELECT 1")
                        await asyncio.sleep(heartbeat)
                    else:
                        async with asyncio.timeout(heartbeat):
                            got = await connection.fetchval(
                                "SELECT pg_try_advisory_lock($1)", LOCK_KEY
                            )
                        self._set(bool(got))
                        await asyncio.sleep(heartbeat if got else min(self.retry, heartbeat))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database restarting, the session cut off
                log.warning("periodic-work lock connection lost (%s); retrying", exc)
            finally:
                self._set(False)
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await connection.close(timeout=2)
            await asyncio.sleep(self.retry)
