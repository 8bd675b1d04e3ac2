"""/api/v1: citizen follow-up recorded by operators (a callback), and the satisfaction report."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel

from app.api.checked_route import CheckedRoute
from app.api.deps import (
    CatalogDep,
    NowDep,
    SessionDep,
    SettingsDep,
    require,
    require_json,
    ticket_service,
)
from app.api.etags import etag
from app.open311 import repository as repo
from app.open311.feedback import FeedbackIn, FeedbackRead, FeedbackService
from app.reports.period import local_dates, utc_bounds
from app.tickets.service import TicketService
from app.users.principal import Principal

router = APIRouter(
    route_class=CheckedRoute, tags=["follow-up"], dependencies=[Depends(require_json)]
)

PROBLEMS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such ticket", "content": {"application/problem+json": {}}},
    409: {
        "description": "Not resolved, or this resolution already has its feedback",
        "content": {"application/problem+json": {}},
    },
    422: {"description": "Invalid input", "content": {"application/problem+json": {}}},
}


@router.post("/tickets/{ticket_id}/feedback", response_model=FeedbackRead, responses=PROBLEMS)
async def record_feedback(
    ticket_id: str,
    body: FeedbackIn,
    service: Annotated[
        TicketService, ticket_service("tickets:feedback", "record citizens' feedback")
    ],
    response: Response,
) -> FeedbackRead:
    """An operator records the citizen's answer from a callback after a resolution:
    {fixed: yes|no|partly, rating: 1-5, comment}. Once per resolution (409 after); "no" reopens
    the ticket for the unit that resolved it with the comment as the reason."""
    ticket = await service.load(ticket_id, for_update=True)
    read = await FeedbackService(service).record(ticket, body, channel="callback")
    response.headers["ETag"] = etag(ticket)
    return read


class UnitSatisfaction(BaseModel):
    unit_code: str
    unit_name: str
    answers: int
    fixed: int
    partly: int
    not_fixed: int
    fixed_pct: float  # answers saying "yes", of all answers, in %
    mean_rating: float | None  # 1-5, over the answers that gave one
    reopen_rate: float  # re-check: answers saying "no" (each reopened the ticket), in %


class SatisfactionReport(BaseModel):
    date_from: date
    date_to: date
    units: list[UnitSatisfaction]


@router.get("/reports/satisfaction", response_model=SatisfactionReport)
async def satisfaction_report(
    session: SessionDep,
    now: NowDep,
    catalog: CatalogDep,
    settings: SettingsDep,
    user: Annotated[Principal, require("reports:read", "read reports")],
    date_from: Annotated[str | None, Query(alias="from", description="Local date")] = None,
    date_to: Annotated[str | None, Query(alias="to", description="Local date")] = None,
) -> SatisfactionReport:
    """Citizens' feedback per unit for feedback recorded from..to (local dates, default the
    last 30 days): answers, % fixed, mean rating, and the re-check reopen rate. Agents see
    their own units' rows."""
    timezone = settings.timezone
    start, end = local_dates(date_from, date_to, now=now, timezone=timezone)
    since, until = utc_bounds(start, end, timezone)
    rows = await repo.satisfaction(session, since=since, until=until)
    if user.scoped_to_units:
        rows = [r for r in rows if r["unit"] in user.units]
    return SatisfactionReport(
        date_from=start,
        date_to=end,
        units=[_unit_row(r, catalog.units.get(r["unit"])) for r in rows],
    )


def _unit_row(row: dict[str, Any], unit: Any) -> UnitSatisfaction:
    answers = int(row["answers"])
    return UnitSatisfaction(
        unit_code=row["unit"],
        unit_name=unit.name if unit else row["unit"],
        answers=answers,
        fixed=int(row["fixed"]),
        partly=int(row["partly"]),
        not_fixed=int(row["not_fixed"]),
        fixed_pct=round(100 * int(row["fixed"]) / answers, 1),
        mean_rating=round(float(row["mean_rating"]), 2) if row["ratings"] else None,
        reopen_rate=round(100 * int(row["not_fixed"]) / answers, 1),
    )
