"""Admin pages: users, API keys, webhook subscriptions with their delivery logs, and the
routing rules and SLA configuration in force."""

from fastapi import APIRouter
from starlette.responses import Response

from app.console.deps import ConsoleDep, ConsoleRoute
from app.outbox import subscriptions as subs
from app.users.service import list_api_keys, list_users

router = APIRouter(route_class=ConsoleRoute)


@router.get("/admin")
async def admin_home(console: ConsoleDep) -> Response:
    """Users and their units, API keys (never their secrets), the ruleset and SLA versions in
    force with their rules, policies and calendars. Read-only: changes go through the API/CLI."""
    console.require("users:manage", "quản trị người dùng")
    state = console.runtime
    live = state.rules
    sla = state.sla
    calendars = [
        {
            "code": cal.code,
            "tz": cal.tz,
            "always_open": cal.always_open,
            "weekly": {
                day: ", ".join(f"{start:%H:%M}–{end:%H:%M}" for start, end in periods)
                for day, periods in sorted(cal.weekly.items())
            },
        }
        for cal in sla.calendars.values()
    ]
    return console.page(
        "admin.html",
        {
            "title": "Quản trị",
            "users": await list_users(console.session),
            "keys": await list_api_keys(console.session),
            "ruleset": live.current,
            "loaded_at": live.loaded_at,
            "sla": sla,
            "calendars": calendars,
            "webhooks": await subs.list_all(console.session),
        },
    )


DELIVERIES_SHOWN = 50


@router.get("/admin/webhooks/{webhook_id}")
async def webhook_log(webhook_id: int, console: ConsoleDep) -> Response:
    """One subscription and its newest deliveries (DELIVERIES_SHOWN), each with its attempts,
    as GET /api/v1/webhooks/{id}/deliveries lists them; never the signing secret."""
    console.require("webhooks:read", "xem webhook")
    endpoint = await subs.get(console.session, webhook_id)
    page, more = await subs.deliveries(
        console.session, endpoint, before=None, limit=DELIVERIES_SHOWN
    )
    rows = [(d, subs.delivery_state(d), attempts) for d, attempts in page]
    return console.page(
        "webhook_log.html",
        {"title": f"Webhook {endpoint.id}", "hook": endpoint, "rows": rows, "more": more},
    )
