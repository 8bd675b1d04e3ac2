"""`hotline webhooks create|list|disable|test` against the test database and a real receiver."""

import asyncio
import json
import os
import signal
import sys

from app.cli import main
from app.config import get_settings
from tests.conftest import create_ticket
from tests.outbox.support import subscribe


async def test_create_list_test_disable(settings, monkeypatch, capsys, receiver, client):
    monkeypatch.setenv("HOTLINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("HOTLINE_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8")
    get_settings.cache_clear()
    try:

        def run(*argv):
            return asyncio.get_running_loop().run_in_executor(None, main, list(argv))

        assert (
            await run("webhooks", "create", receiver.at("/cli"), "--event", "ticket.created") == 0
        )
        created = json.loads(capsys.readouterr().out.splitlines()[0])
        assert created["secret"].startswith("whsec_")
        assert await run("webhooks", "test", str(created["id"])) == 0
        out = capsys.readouterr().out
        assert "status=200" in out
        (got,) = receiver.of("/cli")
        assert json.loads(got.body)["type"] == "webhook.test"
        assert await run("webhooks", "disable", str(created["id"])) == 0
        assert await run("webhooks", "list") == 0
        assert "disabled (disabled by an administrator)" in capsys.readouterr().out
        assert await run("webhooks", "create", "ftp://x", "--event", "nope") == 2
        err = capsys.readouterr().out
        assert "Validation" in err or "error" in err
    finally:
        get_settings.cache_clear()


def _niceness(pid: int) -> int:
    """The process's nice value (field 19 of /proc/PID/stat, after the command's parentheses)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[16])


async def test_a_relay_process_of_its_own_sends_at_a_lower_priority_and_stops_cleanly(
    settings, client, admin, receiver
):
    """`hotline webhooks relay`: a real process beside the app (whose own relay is off, as in
    the tests' settings) delivers what intake queued, runs niced, and exits 0 on SIGTERM."""
    await subscribe(client, admin, receiver.at("/alone"), events=["ticket.created"])
    env = {
        **os.environ,
        "HOTLINE_DATABASE_URL": settings.database_url,
        "HOTLINE_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
        "HOTLINE_WEBHOOK_RELAY_SECONDS": "0.5",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app.cli", "webhooks", "relay", "--nice", "7", env=env
    )
    try:
        made = await create_ticket(client)
        async with asyncio.timeout(30):
            # Polled: the receiver is a plain recorder, another process does the sending.
            while not receiver.of("/alone"):  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        (got,) = receiver.of("/alone")
        assert json.loads(got.body)["data"]["ticket"]["reference"] == made["reference"]
        assert _niceness(process.pid) == _niceness(os.getpid()) + 7
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(20):
            assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert len(receiver.of("/alone")) == 1  # sent once
