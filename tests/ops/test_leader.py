"""The periodic-work leader: one at a time, and a dead or frozen one replaced in bounded time.

The other candidate is a real process (python -m app.leader's test entry below), killed with
SIGKILL or frozen with SIGSTOP, as an instance would be.
"""

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from app.config import Settings
from app.leader import Leadership

CANDIDATE = """
import asyncio, sys
from app.leader import Leadership

async def main():
    leadership = Leadership(sys.argv[1], retry=0.2, idle_timeout=float(sys.argv[2]))
    task = asyncio.create_task(leadership.run())
    while not leadership.is_leader:
        await asyncio.sleep(0.05)
    print("leading", flush=True)
    await task

asyncio.run(main())
"""


@pytest.fixture
def other_instance(settings: Settings) -> Iterator[subprocess.Popen[str] | None]:
    """A candidate in another process that leads (idle timeout 2 s); None on SQLite, which
    has one instance by construction (production refuses SQLite)."""
    if settings.is_sqlite:
        yield None
        return
    process = subprocess.Popen(
        [sys.executable, "-c", CANDIDATE, settings.direct_url, "2"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "leading"
        yield process
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGCONT)
            process.kill()
        process.wait()


async def _leads_within(leadership: Leadership, seconds: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if leadership.is_leader:
            return time.monotonic() - started
        await asyncio.sleep(0.05)
    return None


async def test_a_lone_candidate_leads(settings):
    leadership = Leadership(settings.direct_url, retry=0.2)
    task = asyncio.create_task(leadership.run())
    try:
        assert await _leads_within(leadership, 3.0) is not None
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _candidate(settings: Settings) -> tuple[Leadership, asyncio.Task[None]]:
    here = Leadership(settings.direct_url, retry=0.2, idle_timeout=5)
    return here, asyncio.create_task(here.run())


async def test_a_killed_leader_is_replaced_within_the_retry_interval(settings, other_instance):
    if other_instance is None:  # SQLite: the one process leads from the start
        here = Leadership(settings.direct_url)
        await here.run()
        assert here.is_leader
        return
    here, task = await _candidate(settings)
    try:
        assert await _leads_within(here, 1.0) is None, "two leaders at once"
        os.kill(other_instance.pid, signal.SIGKILL)
        took = await _leads_within(here, 3.0)
        assert took is not None and took < 3.0
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert not here.is_leader  # gave the lock back when it stopped


async def test_a_frozen_leader_is_cut_off_by_idle_session_timeout(settings, other_instance):
    if other_instance is None:  # SQLite: nothing can freeze a lock it does not take
        assert Leadership(settings.direct_url).is_leader
        return
    here, task = await _candidate(settings)
    try:
        assert await _leads_within(here, 1.0) is None
        os.kill(other_instance.pid, signal.SIGSTOP)  # alive, socket open, silent
        # Bound: the frozen one's idle timeout (2 s) + our retry (0.2 s), plus slack.
        took = await _leads_within(here, 5.0)
        assert took is not None
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
