"""Intake's wake-up call to the relays: at most one NOTIFY per window per process, none owed
left unsent.

Every relay LISTENs (app.outbox.relay), one per worker process of every instance, and a
NOTIFY wakes each of them: its PostgreSQL backend reads the notification queue and sends the
message, its process reads and dispatches it. With one NOTIFY per ticket that was about 0.1 ms
of CPU per listener per ticket (docs/performance.md, "Intake since 2026-11-26"), growing with
the number of workers, to say what one NOTIFY a burst says as well: "there is work".

So PostgreSQL's one-statement intake (app.tickets.intake_pg) carries the NOTIFY only when this
process sent none in the last WINDOW_SECONDS (`claim`); a statement that went without one
`owe`s it, and a NOTIFY of its own is sent after the window, after that statement committed.
A lone ticket still wakes the relays at its commit; in a burst they are woken at most every
WINDOW_SECONDS, which is well inside the time a busy relay waits anyway
(HOTLINE_WEBHOOK_RELAY_DEFER_SECONDS). Should a process stop with a NOTIFY owed, the relays'
poll (HOTLINE_WEBHOOK_RELAY_SECONDS) finds the rows: a message is late, never lost.
"""

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable

log = logging.getLogger("hotline.webhooks")

# At most this often per process (and database) a NOTIFY from intake: ten a second wake the
# relays as promptly as a busy relay looks (it polls every 0.05 s while deferring, up to 2 s).
WINDOW_SECONDS = 0.1


class WakeUps:
    """The NOTIFYs one process sends to one database after intake statements.

    `clock`: monotonic seconds (time.monotonic; a test passes its own)."""

    def __init__(
        self, window: float = WINDOW_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.window = window
        self.clock = clock
        self.last = -math.inf  # when the last NOTIFY was sent or claimed
        self.pending = False  # a statement committed without NOTIFY since the last one
        self._task: asyncio.Task[None] | None = None

    def claim(self) -> bool:
        """Whether the next statement carries the NOTIFY itself: True when none was sent or
        claimed in the last window (it counts as sent now)."""
        now = self.clock()
        if now - self.last >= self.window:
            self.last = now
            return True
        return False

    def owe(self, send: Callable[[], Awaitable[None]]) -> None:
        """A statement committed without NOTIFY: `send()` (one NOTIFY) runs once the window
        since the last one has passed, after this call; one send covers every statement that
        owed one before it began."""
        self.pending = True
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._pay(send))

    async def _pay(self, send: Callable[[], Awaitable[None]]) -> None:
        while self.pending:
            await asyncio.sleep(max(0.0, self.last + self.window - self.clock()))
            # Cleared before sending: a statement that commits while this NOTIFY is on its
            # way owes another one, and this loop sends it.
            self.pending = False
            self.last = self.clock()
            try:
                await send()
            except Exception as exc:  # the database may be restarting: the relays' poll remains
                log.warning("intake's NOTIFY to the relays failed (%s)", type(exc).__name__)
