"""/api/v1/webhooks: subscriptions, their delivery log, tests, retries and replays.

Admins manage subscriptions; supervisors may read them and their delivery logs (an endpoint
disabled by the relay shows `enabled: false` with its `disabled_reason`). docs/webhooks.md.
"""

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import AnyHttpUrl, BaseModel, Field

from app.api.checked_route import CheckedRoute
from app.api.deps import CatalogDep, NowDep, SessionDep, require, require_json, runtime_of
from app.outbox import subscriptions as subs
from app.outbox.capture import notify
from app.outbox.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.outbox.ssrf import parse_networks
from app.timefmt import InstantIn, InstantOut
from app.users.principal import Principal

router = APIRouter(
    route_class=CheckedRoute,
    prefix="/webhooks",
    tags=["webhooks"],
    dependencies=[Depends(require_json)],
)
Manage = Annotated[Principal, require("webhooks:manage", "manage webhooks")]
Read = Annotated[Principal, require("webhooks:read", "read webhooks")]


class WebhookIn(BaseModel):
    url: AnyHttpUrl = Field(description="Where messages are POSTed (http or https).")
    events: list[str] = Field(
        default_factory=list, description="Message types wanted; empty: every type."
    )
    units: list[str] | None = Field(
        default=None,
        description="Unit codes: only tickets these units are or were assigned to, co-handle, "
        "or are escalated to. Omitted: every unit.",
    )
    description: str | None = Field(default=None, max_length=500)


class WebhookPatch(BaseModel):
    url: AnyHttpUrl | None = None
    events: list[str] | None = None
    units: list[str] | None = None
    description: str | None = Field(default=None, max_length=500)
    enabled: bool | None = None


class WebhookOut(BaseModel):
    id: int
    url: str
    events: list[str]
    units: list[str] | None
    description: str | None
    enabled: bool
    disabled_reason: str | None
    failing_since: InstantOut | None
    created_by: str
    created_at: InstantOut
    updated_at: InstantOut


class WebhookCreated(WebhookOut):
    secret: str = Field(description="The signing secret (whsec_…). Shown only in this response.")


class SecretRotated(BaseModel):
    id: int
    secret: str = Field(description="The new signing secret. Shown only in this response.")
    previous_secret_valid_until: InstantOut = Field(
        description="Until then both secrets sign each message (two v1 signatures)."
    )


class Queued(BaseModel):
    queued: int
    message_id: str | None = None


class AttemptOut(BaseModel):
    at: InstantOut
    status: int | None = Field(description="The receiver's HTTP status; null: no answer.")
    latency_ms: int | None
    error: str | None


class DeliveryOut(BaseModel):
    message_id: str
    type: str
    created_at: InstantOut
    state: Literal["pending", "delivered", "failed", "parked"]
    next_attempt_at: InstantOut | None
    attempts: list[AttemptOut]


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: int | None = Field(description="Pass as `before` for the next (older) page.")


def _out(e: WebhookEndpoint) -> dict[str, object]:
    return WebhookOut.model_validate(e, from_attributes=True).model_dump()


def _check(request: Request, catalog: CatalogDep, body: WebhookIn | WebhookPatch) -> None:
    subs.check_fields(
        url=str(body.url) if body.url is not None else None,
        events=body.events,
        units=body.units,
        known_units=set(catalog.units),
        allowed=parse_networks(runtime_of(request).settings.webhook_allowed_networks),
    )


@router.post("", response_model=WebhookCreated, status_code=201)
async def create_webhook(
    body: WebhookIn,
    request: Request,
    admin: Manage,
    session: SessionDep,
    catalog: CatalogDep,
    now: NowDep,
) -> WebhookCreated:
    """Subscribe a URL to message types (and optionally units); the secret is shown once."""
    _check(request, catalog, body)
    endpoint = await subs.create(
        session,
        url=str(body.url),
        events=body.events,
        units=body.units,
        description=body.description,
        actor=admin.username,
        now=now,
    )
    return WebhookCreated(**_out(endpoint), secret=endpoint.secret)


@router.get("", response_model=list[WebhookOut])
async def list_webhooks(_: Read, session: SessionDep) -> list[WebhookOut]:
    """Every subscription (without secrets)."""
    return [WebhookOut(**_out(e)) for e in await subs.list_all(session)]


@router.get("/{webhook_id}", response_model=WebhookOut)
async def get_webhook(webhook_id: int, _: Read, session: SessionDep) -> WebhookOut:
    """One subscription (without its secret)."""
    return WebhookOut(**_out(await subs.get(session, webhook_id)))


@router.patch("/{webhook_id}", response_model=WebhookOut)
async def patch_webhook(
    webhook_id: int,
    body: WebhookPatch,
    request: Request,
    _: Manage,
    session: SessionDep,
    catalog: CatalogDep,
    now: NowDep,
) -> WebhookOut:
    """Change url, events, units, description or enabled (fields not sent stay as they are)."""
    _check(request, catalog, body)
    changes = body.model_dump(exclude_unset=True)
    if "url" in changes:
        changes["url"] = str(body.url)
    endpoint = await subs.change(session, await subs.get(session, webhook_id), changes, now)
    return WebhookOut(**_out(endpoint))


@router.delete("/{webhook_id}", status_code=204)
async def delete_webhook(webhook_id: int, _: Manage, session: SessionDep) -> Response:
    """Delete a subscription and its delivery log."""
    await subs.remove(session, await subs.get(session, webhook_id))
    return Response(status_code=204)


@router.post("/{webhook_id}/rotate-secret", response_model=SecretRotated)
async def rotate_secret(
    webhook_id: int, request: Request, _: Manage, session: SessionDep, now: NowDep
) -> SecretRotated:
    """A new secret; the old one keeps signing beside it for HOTLINE_WEBHOOK_SECRET_GRACE_HOURS."""
    grace = timedelta(hours=runtime_of(request).settings.webhook_secret_grace_hours)
    endpoint = await subs.rotate(session, await subs.get(session, webhook_id), now=now, grace=grace)
    return SecretRotated(
        id=endpoint.id,
        secret=endpoint.secret,
        previous_secret_valid_until=endpoint.previous_secret_until,
    )


@router.post("/{webhook_id}/test", response_model=Queued, status_code=202)
async def test_webhook(webhook_id: int, _: Manage, session: SessionDep, now: NowDep) -> Queued:
    """Queue a `webhook.test` message to this endpoint now."""
    message_id = await subs.queue_test(session, await subs.get(session, webhook_id), now)
    await notify(await session.connection())
    return Queued(queued=1, message_id=message_id)


@router.get("/{webhook_id}/deliveries", response_model=DeliveryPage)
async def list_deliveries(
    webhook_id: int,
    _: Read,
    session: SessionDep,
    before: Annotated[int | None, Query(description="Cursor from the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DeliveryPage:
    """The endpoint's messages, newest first, each with its attempts (time, HTTP status,
    latency in ms, error), newest first."""
    endpoint = await subs.get(session, webhook_id)
    page, cursor = await subs.deliveries(session, endpoint, before=before, limit=limit)
    return DeliveryPage(items=[_delivery(d, a) for d, a in page], next_cursor=cursor)


def _delivery(d: WebhookDelivery, attempts: list[WebhookAttempt]) -> DeliveryOut:
    return DeliveryOut(
        message_id=d.message_id,
        type=d.type,
        created_at=d.created_at,
        state=subs.delivery_state(d),
        next_attempt_at=d.next_attempt_at,
        attempts=[AttemptOut.model_validate(a, from_attributes=True) for a in attempts],
    )


@router.post("/{webhook_id}/deliveries/{message_id}/retry", response_model=Queued, status_code=202)
async def retry_delivery(
    webhook_id: int, message_id: str, _: Manage, session: SessionDep, now: NowDep
) -> Queued:
    """Send one message again now, with the same webhook-id and body."""
    count = await subs.requeue(
        session, await subs.get(session, webhook_id), now=now, message_id=message_id
    )
    await notify(await session.connection())
    return Queued(queued=count, message_id=message_id)


@router.post("/{webhook_id}/replay", response_model=Queued, status_code=202)
async def replay(
    webhook_id: int,
    _: Manage,
    session: SessionDep,
    now: NowDep,
    since: Annotated[InstantIn, Query(description="ISO 8601 instant with offset.")],
) -> Queued:
    """Send again every message recorded for this endpoint since `since` (delivered or not)."""
    count = await subs.requeue(session, await subs.get(session, webhook_id), now=now, since=since)
    await notify(await session.connection())
    return Queued(queued=count)
