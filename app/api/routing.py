"""/api/v1/routing: explain a decision, show the running ruleset; /admin/rules/reload."""

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from app.api.checked_route import CheckedRoute
from app.api.deps import NowDep, require, require_json, runtime_of, ticket_service
from app.api.service_errors import speaking_http
from app.errors import AppError
from app.tickets.schemas import TicketCreate
from app.tickets.service import TicketService
from app.tickets.sla_reload import reload_sla
from app.timefmt import InstantOut
from app.users.principal import Principal

router = APIRouter(route_class=CheckedRoute, tags=["routing"], dependencies=[Depends(require_json)])


class ExplainIn(TicketCreate):
    """A ticket as it would be created; nothing is stored."""

    exclude_units: list[str] = Field(
        default_factory=list, description="Units that already rejected it (re-routing)"
    )


class RulesOut(BaseModel):
    version: str
    loaded_at: InstantOut
    timezone: str
    fallback: str
    files: list[str]
    warnings: list[str]
    rules: list[dict[str, Any]]


class ReloadOut(BaseModel):
    changed: bool
    version: str
    warnings: list[str]
    sla_changed: bool = False
    sla_version: str = ""
    replanned: int = Field(0, description="Open assignments whose due or warning moved")


def _relative(value: Any, rules_dir: Path) -> Any:
    """`value` with the rules folder's server path cut from every string: clients see
    'rules.yaml:12', never where the server keeps its files."""
    if isinstance(value, str):
        for root in {str(rules_dir), str(rules_dir.resolve())}:
            value = value.replace(root.rstrip("/") + "/", "")
        return value
    if isinstance(value, dict):
        return {k: _relative(v, rules_dir) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_relative(v, rules_dir) for v in value]
    return value


class RulesInvalid(AppError):
    status, title, slug = 422, "Invalid ruleset", "invalid-ruleset"


@router.post("/routing/explain")
async def explain_routing(
    body: ExplainIn,
    request: Request,
    service: Annotated[TicketService, ticket_service("routing:explain", "explain routing")],
) -> dict[str, Any]:
    """Which unit a ticket would go to and why: every rule tried, and the first condition that
    failed for each. Area names resolve as at intake."""
    with speaking_http():
        facts = service.intake_facts(body)
    explanation = runtime_of(request).rules.current.explain(facts, frozenset(body.exclude_units))
    return _relative(explanation.as_dict(), runtime_of(request).settings.rules_dir)


@router.get("/routing/rules", response_model=RulesOut)
async def running_rules(
    request: Request, _: Annotated[Principal, require("reference:read", "read the rules")]
) -> RulesOut:
    """The ruleset this instance is running: version, load time, warnings and rules in order."""
    live = runtime_of(request).rules
    described = _relative(live.current.describe(), runtime_of(request).settings.rules_dir)
    return RulesOut(**described, loaded_at=live.loaded_at)


@router.post("/admin/rules/reload", response_model=ReloadOut)
async def reload_rules(
    request: Request,
    now: NowDep,
    _: Annotated[Principal, require("rules:reload", "reload the rules")],
) -> ReloadOut:
    """Load routing_rules/ (rules, then sla.yaml) again. An invalid ruleset or sla.yaml is
    refused (422, with file and line of each error) and the running one keeps serving. A new
    sla.yaml re-plans the open assignments whose future due or warning instants it moves."""
    state = runtime_of(request)
    result = state.rules.reload(now)
    rules_dir = state.settings.rules_dir

    if result.errors:
        raise RulesInvalid(
            f"The rule files have {len(result.errors)} error(s); still serving {result.version}.",
            errors=[_relative(str(e), rules_dir) for e in result.errors],
            running_version=result.version,
        )
    sla, replanned = await reload_sla(state, now)
    if sla.errors:
        raise RulesInvalid(
            f"sla.yaml has {len(sla.errors)} error(s); still serving SLA {sla.version}.",
            errors=[_relative(str(e), rules_dir) for e in sla.errors],
            running_version=result.version,
            running_sla_version=sla.version,
        )
    return ReloadOut(
        changed=result.changed,
        version=result.version,
        warnings=[_relative(str(w), rules_dir) for w in result.warnings],
        sla_changed=sla.changed,
        sla_version=sla.version,
        replanned=replanned,
    )
