"""How long each step of a graceful stop (SIGTERM) may take, and the helpers that bound them.

A stop runs in this order, each step bounded, so that a worker always exits:

1. uvicorn stops accepting, lets in-flight requests finish for up to REQUESTS_SECONDS, then
   cancels what is left (its `timeout_graceful_shutdown`, set by `hotline serve`:
   app.commands.server);
2. the lifespan cancels the background loops and waits up to BACKGROUND_SECONDS for them
   (`stop_tasks`); a loop still running then is abandoned and named in the log;
3. it closes the relay's HTTP client and the database pools within CLOSE_SECONDS (`within`);
4. a watchdog (app.uvicorn_runner) ends the worker WATCHDOG_SECONDS after the stop began, with
   every thread's stack in the log, should anything still hold it.

The sum stays under the 30 s the cluster drill allows, and under `stop_grace_period` in
docker-compose.yml (after which the container is killed). Requests here take milliseconds; a
request still running after 10 s is a stuck one, not one worth waiting for.
"""

import asyncio
import logging
from collections.abc import Awaitable, Iterable

REQUESTS_SECONDS = 10
BACKGROUND_SECONDS = 5.0
CLOSE_SECONDS = 5.0
WATCHDOG_SECONDS = REQUESTS_SECONDS + BACKGROUND_SECONDS + CLOSE_SECONDS + 5

log = logging.getLogger("hotline.shutdown")


async def stop_tasks(tasks: Iterable[asyncio.Task[object]], seconds: float) -> list[str]:
    """Cancel `tasks` and wait up to `seconds` for them to end; returns the names of those
    still running then (abandoned, and logged as an error), [] when all ended."""
    tasks = list(tasks)
    for task in tasks:
        task.cancel()
    if not tasks:
        return []
    _, pending = await asyncio.wait(tasks, timeout=seconds)
    abandoned = sorted(task.get_name() for task in pending)
    if abandoned:
        log.error(
            "background work still running %.0f s after it was cancelled, abandoned: %s",
            seconds,
            ", ".join(abandoned),
        )
    return abandoned


async def within(step: Awaitable[object], seconds: float, what: str) -> bool:
    """Await `step` for up to `seconds`; past that, cancel it and log `what` as abandoned.
    Returns whether it finished in time."""
    try:
        async with asyncio.timeout(seconds):
            await step
    except TimeoutError:
        log.error("%s took over %.0f s during shutdown, abandoned", what, seconds)
        return False
    return True
