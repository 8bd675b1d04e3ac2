"""Admin pages: users, API keys, and the routing rules and SLA configuration in force."""

from fastapi import APIRouter
from starlette.responses import Response

from app.console.deps import ConsoleDep, ConsoleRoute
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
        },
    )
