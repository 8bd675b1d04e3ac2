"""Intake's NOTIFY to the relays: at most one per window, and one after every statement that
went without (app.outbox.wakeup)."""

import asyncio

from app.outbox.wakeup import WakeUps


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_first_statement_of_a_window_carries_the_notify_and_the_rest_do_not():
    clock = Clock()
    wake = WakeUps(window=1.0, clock=clock)
    assert wake.claim() is True
    clock.now += 0.5
    assert wake.claim() is False
    clock.now += 0.5
    assert wake.claim() is True  # a full window since the last one
    clock.now += 0.75
    assert wake.claim() is False


async def test_a_statement_without_notify_is_followed_by_one_after_the_window():
    wake = WakeUps(window=0.05)
    sent: list[float] = []

    async def send() -> None:
        sent.append(asyncio.get_running_loop().time())

    assert wake.claim() is True
    started = asyncio.get_running_loop().time()
    for _ in range(5):  # a burst: each committed without NOTIFY
        assert wake.claim() is False
        wake.owe(send)
    await asyncio.sleep(0.2)
    assert len(sent) == 1  # one NOTIFY covers the burst
    assert sent[0] - started >= 0.04
    # Later: owed again, sent again.
    wake.owe(send)
    await asyncio.sleep(0.2)
    assert len(sent) == 2


async def test_a_statement_that_commits_while_the_notify_is_on_its_way_gets_another():
    wake = WakeUps(window=0.01)
    sent = 0
    sending = asyncio.Event()
    release = asyncio.Event()

    async def slow_send() -> None:
        nonlocal sent
        sending.set()
        await release.wait()
        sent += 1

    wake.claim()
    wake.owe(slow_send)
    await sending.wait()
    wake.owe(slow_send)  # committed after the first NOTIFY began: it may not cover this one
    release.set()
    await asyncio.sleep(0.1)
    assert sent == 2


async def test_a_failed_notify_is_logged_and_the_next_debt_still_paid(caplog):
    wake = WakeUps(window=0.01)
    calls = 0

    async def failing() -> None:
        nonlocal calls
        calls += 1
        raise ConnectionError("database restarting")

    wake.claim()
    wake.owe(failing)
    await asyncio.sleep(0.05)
    assert calls == 1 and "NOTIFY to the relays failed (ConnectionError)" in caplog.text
    wake.owe(failing)
    await asyncio.sleep(0.05)
    assert calls == 2
