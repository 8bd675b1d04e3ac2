"""`hotline webhooks create|list|disable|test` against the test database and a real receiver."""

import json

from app.cli import main
from app.config import get_settings


async def test_create_list_test_disable(settings, monkeypatch, capsys, receiver, client):
    monkeypatch.setenv("HOTLINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("HOTLINE_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8")
    get_settings.cache_clear()
    try:
        import asyncio

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
