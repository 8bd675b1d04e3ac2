"""Helpers shared by the outbox tests: a relay clock the test moves, and subscribing."""

from datetime import UTC, datetime


class Clock:
    """A relay's clock (`relay.clock = Clock()`): `now` stays put until the test moves it."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


async def subscribe(client, admin, url, **extra):
    """POST /webhooks as `admin` (headers); the created subscription (201 asserted)."""
    r = await client.post("/webhooks", json={"url": url, **extra}, headers=admin)
    assert r.status_code == 201, r.text
    return r.json()
