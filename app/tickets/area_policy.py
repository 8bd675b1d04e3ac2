"""When an area text fits several current areas: proceed, ask, or send to triage. Pure.

A wrong guess sends a ticket to the wrong ward committee with no error; a question costs time
on a live call. So an ambiguous area is a question only when the answer changes the decision:
- every candidate routes to the same unit under the same SLA policy (clean water, power and
  police are city-wide): intake proceeds, the ticket keeps its candidates and the unit confirms
  the area later (PATCH, or the `confirm-area` action);
- the candidates route differently and someone can answer (an operator on the line, a client
  offering a pick list): 422 with the candidates;
- the candidates route differently and nobody can answer (UNATTENDED_CHANNELS, and any
  re-routing after intake): the triage unit gets the ticket with its candidates, never a guess.
"""

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from app.catalog.area_errors import ambiguity_error, candidates_out
from app.catalog.resolver import AreaResolution
from app.errors import ValidationFailed
from app.routing.schema import Decision, Router, TicketFacts

# Channels through which tickets arrive with no operator on the line to ask: Open311 requests
# from citizen apps and web forms. A future inbound channel that files tickets by itself (an
# email or Zalo gateway) belongs here too.
UNATTENDED_CHANNELS = frozenset({"open311"})


def same_decision(decisions: Sequence[Decision]) -> bool:
    """Whether the candidates lead to one unit under one SLA policy (and priority)."""
    return len({(d.unit, d.sla_policy, d.priority) for d in decisions}) == 1


def decide_over_candidates(
    router: Router,
    facts: TicketFacts,
    codes: Sequence[str],
    exclude: frozenset[str],
    *,
    triage_unit: str,
) -> tuple[Decision, bool]:
    """(the decision, whether every candidate agreed). When they disagree the decision is the
    triage unit's (or no unit, when triage is excluded too)."""
    decisions = [router(replace(facts, area=code), exclude) for code in codes]
    if same_decision(decisions):
        # Units informed by area (a ward committee told of a flood) differ per candidate:
        # inform every candidate's rather than guess one.
        first = decisions[0]
        co_handlers = tuple(dict.fromkeys(u for d in decisions for u in d.co_handlers))
        tags = tuple(dict.fromkeys(t for d in decisions for t in d.tags))
        return replace(first, co_handlers=co_handlers, tags=tags), True
    version = decisions[0].ruleset_version
    unit = None if triage_unit in exclude else triage_unit
    return Decision(unit, None, version, tags=("dia-ban-chua-ro",)), False


def decide_intake(
    router: Router,
    facts: TicketFacts,
    resolution: AreaResolution,
    exclude: frozenset[str],
    *,
    triage_unit: str,
    attended: bool,
    loc: list[str | int],
) -> tuple[Decision, str]:
    """(decision, outcome for stored_resolution) for a ticket whose area is ambiguous; raises
    ValidationFailed (422 with the pick list) when the candidates route differently and
    someone can be asked."""
    codes = [c.code for c in resolution.candidates]
    decision, agreed = decide_over_candidates(
        router, facts, codes, exclude, triage_unit=triage_unit
    )
    if not agreed and attended:
        raise ValidationFailed([ambiguity_error(loc, resolution)])
    return decision, "same_route" if agreed else "triage"


def stored_resolution(
    resolution: AreaResolution, *, outcome: str, field: str = "area"
) -> dict[str, Any]:
    """What the ticket keeps about how its area was read.

    outcome: "resolved" (one area), "same_route" (candidates kept, every one routes alike),
    "triage" (candidates kept, sent to the triage unit) or "confirmed" (a person chose one).
    field: "area", or "address" when the area was taken from the street address.
    """
    return {
        "field": field,
        "input": resolution.text,
        "how": resolution.how,
        "read_as": list(resolution.read_as),
        "outcome": outcome,
        "candidates": candidates_out(resolution) if resolution.ambiguous else [],
    }


def stored_candidates(stored: dict[str, Any] | None) -> list[str]:
    """The candidate codes a ticket still waits to have confirmed (none once it has one area)."""
    if not stored or stored.get("outcome") not in ("same_route", "triage"):
        return []
    return [c["code"] for c in stored.get("candidates", [])]
