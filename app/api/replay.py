"""/api/v1/routing/replay: past tickets through proposed rule files; nothing is written."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from app.api.checked_route import CheckedRoute
from app.api.deps import NowDep, ReadSessionDep, require, require_json, runtime_of
from app.replay.render import CSV_COLUMNS, as_csv, as_dict
from app.replay.service import MAX_SAMPLES, ReplayService
from app.users.principal import Principal

router = APIRouter(route_class=CheckedRoute, tags=["routing"], dependencies=[Depends(require_json)])


class ReplayIn(BaseModel):
    """A proposal and the period to replay it over."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    files: dict[str, str | None] = Field(
        description="Proposed rule files: name relative to routing_rules/ (`rules.yaml`, "
        "`rules.d/<name>.yaml`, `sla.yaml`, `units.yaml`, `topics.yaml`, `areas/<name>.yaml`) "
        "-> the whole YAML text, or null to remove the file. Files not named stay as they "
        "are now; `{}` replays the current rules against themselves.",
        examples=[{"rules.yaml": "fallback: tong-dai-1022\nrules: []\n"}],
    )
    from_: str | None = Field(
        default=None,
        alias="from",
        description="First local date (YYYY-MM-DD), inclusive. Default: 29 days before `to`",
    )
    to: str | None = Field(default=None, description="Last local date, inclusive. Default: today")
    unit: str | None = Field(
        default=None, description="Only tickets routed to or from this unit, its assignments"
    )
    samples: int = Field(
        default=3, ge=0, le=MAX_SAMPLES, description="Tickets explained per changed cell"
    )
    sla: bool | None = Field(
        default=None,
        description="Run the SLA what-if; default: when the proposal includes sla.yaml",
    )
    format: Literal["json", "csv"] = Field(
        default="json", description="`csv`: one row per fact, columns " + ",".join(CSV_COLUMNS)
    )


@router.post(
    "/routing/replay",
    responses={
        200: {
            "description": "JSON, or CSV (UTF-8 with BOM) with `format: csv`",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        422: {"description": "Invalid parameters, or the proposal's file:line errors"},
    },
)
async def replay_rules(
    body: ReplayIn,
    request: Request,
    session: ReadSessionDep,  # reads history only: a replica may serve it
    now: NowDep,
    _: Annotated[Principal, require("rules:replay", "replay rule proposals")],
) -> Any:
    """Every ticket received in the period routed again, as of its own received_at, by the
    current rules and by the proposal (first decisions, from the facts each ticket holds now);
    with `sla.yaml` proposed, every assignment of the period re-planned under both SLA configs.

    Answers the changed tickets as a from -> to unit matrix, the rules whose match counts
    change, a few changed tickets per cell with both explanations, and per unit the on-time
    rates now and proposed. A proposal that does not load answers 422 with the same
    `file:line` errors as `hotline rules check` and replays nothing. Shape: docs/routing.md.
    """
    state = runtime_of(request)
    service = ReplayService(
        session=session,
        catalog=state.catalog,
        ruleset=state.rules.current,
        sla=state.sla,
        rules_dir=state.settings.rules_dir,
        now=now,
        reference_prefix=state.settings.reference_prefix,
        timezone=state.settings.timezone,
    )
    period = service.period(body.from_, body.to)
    proposal = service.proposal(
        body.files, lambda name, proposed: name if proposed else f"current {name}"
    )
    report = await service.replay(
        proposal, period, unit=body.unit, samples=body.samples, with_sla=body.sla
    )
    if body.format == "csv":
        return Response(
            as_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="replay.csv"'},
        )
    return as_dict(report, service.reference)
