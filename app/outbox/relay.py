"""The relay: fans the outbox out and sends due deliveries, in every instance.

Woken by NOTIFY on PostgreSQL (the outbox writers notify at commit) and by a poll otherwise;
on SQLite one instance runs it. Requests are signed per Standard Webhooks v1, time out after
HOTLINE_WEBHOOK_TIMEOUT_SECONDS, never follow redirects (3xx is a failure), and at most
HOTLINE_WEBHOOK_CONCURRENCY_PER_ENDPOINT run at once per endpoint in this instance.
"""

import asyncio
import contextlib
import logging
import random
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import metrics
from app.catalog.catalog import Catalog
from app.config import Settings
from app.db import transaction
from app.mail import sender as mail_sender
from app.outbox import delivery
from app.outbox.backlog import attempt_outcome
from app.outbox.capture import NOTIFY_CHANNEL
from app.outbox.fanout import fan_out
from app.outbox.models import MailMessage, OutboxMessage, WebhookAttempt, WebhookDelivery
from app.outbox.signing import headers
from app.outbox.ssrf import CheckedUrls, RefusedAddress, parse_networks

log = logging.getLogger("hotline.webhooks")

# While requests are in flight: how often the relay looks again, and the longest pause
# between two batches of one round (a round itself waits up to webhook_relay_defer_seconds).
BUSY_POLL = 0.05
BETWEEN_BATCHES = 0.2


def _retry_after(value: str | None) -> float | None:
    """Seconds the receiver asked us to wait (Retry-After: seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
        except (TypeError, ValueError):
            return None


class Relay:
    """One instance's relay. `service_for(session, principal)` gives a TicketService (bodies)."""

    def __init__(
        self,
        factory: async_sessionmaker[AsyncSession],
        settings: Settings,
        service_for: Callable[[AsyncSession, Any], Any],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        batch: int = 200,
        catalog: Catalog | None = None,
        busy: Callable[[], bool] = lambda: False,
    ) -> None:
        self.factory = factory
        self.settings = settings
        self.service_for = service_for
        self.clock = clock
        self.batch = batch
        self.catalog = catalog  # units' e-mail addresses (app.mail)
        # Whether this process serves requests now (app.activity.busy): the relay yields.
        self.busy = busy
        self.allowed = parse_networks(settings.webhook_allowed_networks)
        self.checked = CheckedUrls()
        self.rng = random.Random()
        self.wake = asyncio.Event()
        self._limits: dict[int, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(settings.webhook_concurrency_per_endpoint)
        )
        self._client: aiohttp.ClientSession | None = None

    @property
    def client(self) -> aiohttp.ClientSession:
        # aiohttp: about 0.3 ms of CPU per request where httpx spent 2-5 ms (bench/intake.py).
        if self._client is None:
            self._client = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.settings.webhook_timeout_seconds),
                connector=aiohttp.TCPConnector(limit=200),
            )
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def fan_out_all(self) -> int:
        """Fan out every pending outbox row; returns how many (their deliveries wait for
        send_due)."""
        return (await self._fan_out_all(send=False))[0]

    async def _fan_out_all(self, *, send: bool) -> tuple[int, int]:
        """Fan out every pending outbox row: (how many, attempts made). With `send`, each
        batch's deliveries that are due at once are written claimed and sent straight away
        (app.outbox.fanout: no second read of their bodies from the database), unless this
        process is serving requests at that moment."""
        total = sent = 0
        while True:
            # Not while requests are in flight: sending then would take the cores from them
            # (the deliveries are due at once, and send_due sends them after the burst).
            leased: list[delivery.Claimed] | None = [] if send and not self.busy() else None
            async with transaction(self.factory) as session:
                done = await fan_out(
                    session,
                    now=self.clock(),
                    service_for=lambda principal, s=session: self.service_for(s, principal),
                    batch=self.batch,
                    mail_catalog=self.catalog if self.mailing else None,
                    leased=leased,
                )
            if leased:
                await self._deliver(leased)
                sent += len(leased)
            total += done
            if done < self.batch:
                return total, sent
            await self._yield_to_requests(BETWEEN_BATCHES)

    @property
    def mailing(self) -> bool:
        """No SMTP host, no mail."""
        return bool(self.settings.smtp_host) and self.catalog is not None

    async def send_due(self) -> int:
        """Claim one batch of due deliveries, send them, record the outcomes; returns how many."""
        async with transaction(self.factory) as session:
            claimed = await delivery.claim(session, now=self.clock(), batch=self.batch)
        if claimed:
            await self._deliver(claimed)
        return len(claimed)

    async def _deliver(self, claimed: list[delivery.Claimed]) -> None:
        """Send claimed deliveries, grouped by endpoint, and record the outcomes."""
        by_endpoint: dict[int, list[delivery.Claimed]] = defaultdict(list)
        for c in claimed:
            by_endpoint[c.endpoint_id].append(c)
        groups = await asyncio.gather(*(self._send_group(g) for g in by_endpoint.values()))
        outcomes = [o for group in groups for o in group]
        for o in outcomes:
            if not o.skipped:
                metrics.WEBHOOK_ATTEMPTS.labels(attempt_outcome(o.status, o.error)).inc()
        async with transaction(self.factory) as session:
            disabled = await delivery.record(
                session,
                list(outcomes),
                now=self.clock(),
                disable_after=timedelta(hours=self.settings.webhook_disable_after_hours),
                rng=self.rng,
            )
        for endpoint_id, reason in disabled:
            log.warning("webhook endpoint %s disabled: %s", endpoint_id, reason)

    async def _send_group(self, claimed: list[delivery.Claimed]) -> list[delivery.Outcome]:
        """Send one endpoint's share of a batch. A failing endpoint gets one probe first, and
        the rest only if it succeeds; once an attempt fails, the requests not yet started are
        skipped (they wait for the endpoint's hold, app.outbox.delivery). Outcomes in the
        order claimed."""
        failed: set[int] = set()
        done: list[delivery.Outcome] = []
        if claimed[0].failing:
            done.append(await self._send(claimed[0], failed))
            claimed = claimed[1:]
        # As many workers as requests may run at once, taking the deliveries in turn: not a
        # task per delivery, most of them waiting on the endpoint's semaphore.
        outcomes: list[delivery.Outcome | None] = [None] * len(claimed)
        turns = iter(range(len(claimed)))

        async def worker() -> None:
            for i in turns:
                outcomes[i] = await self._send(claimed[i], failed)

        workers = min(len(claimed), self.settings.webhook_concurrency_per_endpoint)
        await asyncio.gather(*(worker() for _ in range(workers)))
        return done + [o for o in outcomes if o is not None]

    async def _send(self, c: delivery.Claimed, failed: set[int]) -> delivery.Outcome:
        async with self._limits[c.endpoint_id]:
            at = self.clock()
            if c.endpoint_id in failed:
                return delivery.Outcome(c, at, None, 0, None, skipped=True)
            result = await self._post(c, at)
            if result.endpoint_down:
                failed.add(c.endpoint_id)
            return result

    async def _post(self, c: delivery.Claimed, at: datetime) -> delivery.Outcome:
        """One request and what came of it (the caller holds the endpoint's slot)."""
        started = time.perf_counter()

        def outcome(status: int | None, error: str | None, retry: float | None = None) -> Any:
            latency = int((time.perf_counter() - started) * 1000)
            return delivery.Outcome(c, at, status, latency, error and error[:500], retry)

        try:
            await self.checked.check(c.url, self.allowed)
            async with self.client.post(
                c.url,
                data=c.body.encode(),
                headers=headers(c.message_id, datetime.now(UTC), c.body, c.secrets),
                allow_redirects=False,
            ) as response:
                await response.read()
        except RefusedAddress as exc:
            return outcome(None, f"refused: {exc}")
        except TimeoutError:
            return outcome(None, "timed out")
        except aiohttp.ClientError as exc:
            return outcome(None, f"{type(exc).__name__}: {exc}")
        status = response.status
        error = None if 200 <= status < 300 else f"HTTP {status}"
        return outcome(status, error, _retry_after(response.headers.get("retry-after")))

    async def run_once(self) -> tuple[int, int]:
        """Fan out, then send until nothing is due now: (messages fanned out, attempts made)."""
        fanned, sent = await self._fan_out_all(send=True)
        if self.mailing:
            while done := await mail_sender.send_due(
                self.factory, self.settings, self.catalog, self.clock(), self.rng
            ):
                sent += done
        while True:
            done = await self.send_due()
            sent += done
            if done == 0:
                return fanned, sent
            await self._yield_to_requests(BETWEEN_BATCHES)

    async def _yield_to_requests(self, seconds: float) -> None:
        """Wait while this process serves requests, at most `seconds` (and at most
        HOTLINE_WEBHOOK_RELAY_DEFER_SECONDS): the relay's work is CPU the requests would
        otherwise have, and waiting gathers messages into larger, cheaper batches."""
        seconds = min(seconds, self.settings.webhook_relay_defer_seconds)
        for _ in range(round(seconds / BUSY_POLL)):  # polled: requests come and go by the ms
            if not self.busy():
                return
            await asyncio.sleep(BUSY_POLL)

    async def purge(self) -> int:
        """Delete delivered or abandoned messages (and their attempts), and fanned-out outbox
        rows, older than the retention period; returns the deliveries deleted."""
        cutoff = self.clock() - timedelta(days=self.settings.webhook_retention_days)
        async with transaction(self.factory) as session:
            old = select(WebhookDelivery.id).where(
                WebhookDelivery.next_attempt_at.is_(None), WebhookDelivery.created_at < cutoff
            )
            await session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(old)))
            result = await session.execute(
                delete(WebhookDelivery).where(
                    WebhookDelivery.next_attempt_at.is_(None), WebhookDelivery.created_at < cutoff
                )
            )
            await session.execute(
                delete(MailMessage).where(
                    MailMessage.next_attempt_at.is_(None), MailMessage.created_at < cutoff
                )
            )
            await session.execute(
                delete(OutboxMessage).where(
                    OutboxMessage.dispatched_at.is_not(None), OutboxMessage.dispatched_at < cutoff
                )
            )
            return result.rowcount or 0

    async def run(self) -> None:
        """Until cancelled: work, then sleep until woken or the poll interval passes."""
        listener = None
        if not self.settings.is_sqlite:
            listener = asyncio.create_task(self._listen())
        last_purge = 0.0
        try:
            while True:
                self.wake.clear()
                try:
                    await self._yield_to_requests(self.settings.webhook_relay_defer_seconds)
                    await self.run_once()
                    if time.monotonic() - last_purge > 3600:
                        await self.purge()
                        last_purge = time.monotonic()
                except asyncio.CancelledError:
                    raise
                except Exception:  # the database may be restarting; try again later
                    log.exception("webhook relay round failed")
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for loses a cancellation
                # that arrives as the wait ends (a NOTIFY and SIGTERM together, under load),
                # and the relay then ran on, holding its worker up after SIGTERM.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.settings.webhook_relay_seconds):
                        await self.wake.wait()
        finally:
            if listener:
                listener.cancel()
                await asyncio.wait({listener}, timeout=2)  # it closes its connection
            await self.close()

    async def _listen(self) -> None:
        """LISTEN for outbox commits on the direct URL (LISTEN needs a session of its own, not a
        PgBouncer transaction); reconnects after a lost connection."""
        import asyncpg
        from sqlalchemy.engine import make_url

        url = make_url(self.settings.direct_url).set(drivername="postgresql")
        dsn = url.render_as_string(hide_password=False)
        while True:
            connection: Any = None
            try:
                connection = await asyncpg.connect(dsn)
                lost = asyncio.Event()
                connection.add_termination_listener(lambda _c, lost=lost: lost.set())
                await connection.add_listener(NOTIFY_CHANNEL, lambda *_: self.wake.set())
                self.wake.set()  # catch up on anything committed while not listening
                await lost.wait()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("webhook relay LISTEN down (%s); polling meanwhile", exc)
            finally:
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await connection.close(timeout=2)
            await asyncio.sleep(1.0)
