"""A graceful stop ends: background loops stop when cancelled, each shutdown step is bounded,
and `hotline serve` under load exits after SIGTERM (app.shutdown, docs/operations.md).

The cluster drill saw a worker still up 30 s after SIGTERM: the outbox relay, cancelled just as
a NOTIFY woke it, lost the cancellation inside asyncio.wait_for (Python 3.11) and ran on, and
the lifespan waited for it without a bound.
"""

import asyncio
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from app.outbox.relay import Relay
from app.shutdown import stop_tasks, within
from tests.conftest import ticket_body

HOTLINE = str(Path(sys.executable).with_name("hotline"))


async def _until(condition, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


async def test_the_relay_stops_when_cancelled_as_a_notify_wakes_it(app):
    runtime = app.state.runtime
    settings = runtime.settings.model_copy(update={"webhook_relay_seconds": 60.0})
    relay = Relay(runtime.session_factory, settings, lambda session, principal: None)
    task = asyncio.create_task(relay.run())
    try:
        # Idle: its round done, waiting to be woken (the Event's waiters: no public view).
        await _until(lambda: bool(relay.wake._waiters) and not relay.wake.is_set())
        relay.wake.set()  # a NOTIFY from a commit elsewhere...
        task.cancel()  # ...in the same turn of the loop as the shutdown's cancel
        done, _ = await asyncio.wait({task}, timeout=20)
        assert task in done, "the relay ran on after it was cancelled"
        assert task.cancelled()
    finally:
        task.cancel()
        await asyncio.wait({task}, timeout=20)


async def test_a_loop_that_will_not_stop_is_abandoned_and_named(caplog):
    released = asyncio.Event()

    async def stubborn() -> None:
        while not released.is_set():
            with contextlib.suppress(asyncio.CancelledError):  # as a loop that loses it does
                await released.wait()

    held = asyncio.create_task(stubborn(), name="stubborn-loop")
    quiet = asyncio.create_task(asyncio.sleep(3600), name="quiet-loop")
    await asyncio.sleep(0)
    try:
        with caplog.at_level(logging.ERROR, logger="hotline.shutdown"):
            assert await stop_tasks([held, quiet], 0.2) == ["stubborn-loop"]
        assert quiet.cancelled()
        assert not held.done()
        assert "abandoned: stubborn-loop" in caplog.text
    finally:
        released.set()
        await held


async def test_a_step_past_its_bound_is_abandoned(caplog):
    never = asyncio.Event()
    with caplog.at_level(logging.ERROR, logger="hotline.shutdown"):
        assert not await within(never.wait(), 0.1, "closing the databases")
    assert "closing the databases took over" in caplog.text
    assert await within(asyncio.sleep(0), 5, "nothing")


WATCHDOG = """
import asyncio, logging, sys, threading, types
from app.uvicorn_runner import _watch

logging.basicConfig(stream=sys.stdout)
server = types.SimpleNamespace(should_exit=False)
threading.Thread(target=_watch, args=(server, asyncio.new_event_loop(), 0.2), daemon=True).start()
server.should_exit = True  # what uvicorn's SIGTERM handler does


def a_stop_that_never_ends():
    threading.Event().wait()


a_stop_that_never_ends()
"""


def test_the_watchdog_ends_a_stop_that_hangs_and_says_where():
    ended = subprocess.run(
        [sys.executable, "-c", WATCHDOG], capture_output=True, text=True, timeout=120
    )
    assert ended.returncode == 1
    assert "still stopping 0 s after the stop began; exiting now" in ended.stdout
    assert "in a_stop_that_never_ends" in ended.stdout  # the main thread's stack: where it hangs


def _port() -> int:
    """HOTLINE_TEST_SERVE_PORT when set (a range reserved for this run), else a free port."""
    if chosen := os.environ.get("HOTLINE_TEST_SERVE_PORT"):
        return int(chosen)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _load(base: str, headers: dict[str, str], stop: asyncio.Event) -> list[int | str]:
    """Intake from 8 clients until `stop` is set and the server stops answering; each
    outcome is a status or the name of a connection error."""
    outcomes: list[int | str] = []

    async def client_loop(c: httpx.AsyncClient) -> None:
        while not stop.is_set():
            try:
                r = await c.post("/api/v1/tickets", json=ticket_body(), headers=headers)
                outcomes.append(r.status_code)
            except httpx.HTTPError as exc:
                outcomes.append(type(exc).__name__)
                if stop.is_set():
                    return
                await asyncio.sleep(0.05)

    async with httpx.AsyncClient(base_url=base, timeout=60) as c:
        await asyncio.gather(*(client_loop(c) for _ in range(8)))
    return outcomes


def _serve(port: int, env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """`hotline serve` with 2 workers on `port`, its output in `log_path`."""
    with log_path.open("wb") as log_file:
        return subprocess.Popen(
            [HOTLINE, "serve", "--no-setup", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the workers get the signal too
        )


async def test_sigterm_under_load_stops_the_server(settings, client, auth, tmp_path):
    """`hotline serve` (2 workers, every background loop on a 1 s period) under intake load:
    SIGTERM, and the server exits 0 within its shutdown bound, nothing abandoned, every answer
    a 201. (`client` for its clean-up of the tickets made here.)"""
    port = _port()
    env = {
        **os.environ,
        "HOTLINE_ENV": "test",
        "HOTLINE_DATABASE_URL": settings.database_url,
        "HOTLINE_SECRET_KEY": settings.secret_key,
        "HOTLINE_RULES_DIR": str(settings.rules_dir),
        "HOTLINE_RULES_POLL_SECONDS": "1",
        "HOTLINE_SLA_SCAN_SECONDS": "1",
        "HOTLINE_METRICS_GAUGE_SECONDS": "1",
        "HOTLINE_WEBHOOK_RELAY_SECONDS": "1",
        "HOTLINE_LEADER_RETRY_SECONDS": "1",
        # Few connections: the test server's PostgreSQL is shared with the suite (and more).
        "HOTLINE_DB_POOL_SIZE": "2",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log_path = tmp_path / "serve.log"
    server = _serve(port, env, log_path)
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base) as probe:

            async def ready() -> bool:
                try:
                    return (await probe.get("/readyz", timeout=2)).status_code == 200
                except httpx.HTTPError:
                    return False

            deadline = time.monotonic() + 120
            while not await ready():
                assert server.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, log_path.read_text()
                await asyncio.sleep(0.3)

        stop = asyncio.Event()
        load = asyncio.create_task(_load(base, auth("operator"), stop))
        await asyncio.sleep(2)  # requests in flight, the loops running
        os.killpg(server.pid, signal.SIGTERM)
        stop.set()
        outcomes = await load
        # The bound, not a measurement: the stop's own limit (app.shutdown) plus slack.
        code = await asyncio.to_thread(server.wait, 90)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    log = log_path.read_text()
    assert code == 0, log
    statuses = [o for o in outcomes if isinstance(o, int)]
    assert statuses and set(statuses) == {201}, outcomes
    assert "abandoned" not in log and "exiting now" not in log, log
