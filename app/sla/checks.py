"""Checks over the whole of sla.yaml once every policy parsed: the default policy, shadowed
policies, odd targets, and a calendar for every unit.

Part of the SLA loader (app.sla.loader); errors and warnings go to its reader.
"""

from collections.abc import Collection
from typing import Protocol

from app.catalog.catalog import Catalog
from app.catalog.source import did_you_mean
from app.sla.calendar import Calendar
from app.sla.policy import Policy


class _Reporter(Protocol):
    catalog: Catalog

    def _policy(self, policy_id: str | None) -> None: ...
    def error(self, line: int | None, message: str) -> None: ...
    def warn(self, line: int | None, message: str) -> None: ...


def _units_matching(policy: Policy, catalog: Catalog) -> set[str]:
    """Units of the catalog that the policy's unit and unit_kind conditions accept."""
    when = policy.when
    return {
        u.code
        for u in catalog.units.values()
        if (when.unit is None or u.code in when.unit)
        and (when.unit_kind is None or u.kind in when.unit_kind)
    }


def _covers(earlier: Policy, later: Policy, catalog: Catalog) -> bool:
    """Every assignment `later` accepts is accepted by `earlier` (condition by condition)."""
    a, b = earlier.when, later.when
    if (a.unit is not None or a.unit_kind is not None) and not _units_matching(
        later, catalog
    ) <= _units_matching(earlier, catalog):
        return False
    if a.topic is not None:
        if b.topic is None:
            return False
        if not all(any(t in catalog.topic_subtree(x) for x in a.topic) for t in b.topic):
            return False
    for key in ("priority", "channel"):
        wanted, given = getattr(a, key), getattr(b, key)
        if wanted is not None and (given is None or not given <= wanted):
            return False
    return True


def check_order(reader: _Reporter, policies: list[Policy], calendars: dict[str, Calendar]) -> None:
    """The default comes last and alone; shadowed policies; odd targets."""
    catalog = reader.catalog
    # The default: the last policy, and only it, has no conditions.
    for policy in policies[:-1]:
        if policy.when.is_empty:
            reader._policy(policy.id)
            reader.error(
                policy.line,
                "only the last policy (the default) may have no conditions; "
                "every policy after this one could never match",
            )
    if policies and not policies[-1].when.is_empty:
        reader._policy(policies[-1].id)
        reader.error(
            policies[-1].line,
            "no default policy: the last policy must have no 'when', so that every "
            "assignment gets a policy",
        )
    # Shadowed or unsatisfiable policies (warnings: they do no harm, but surely are mistakes).
    for index, policy in enumerate(policies):
        reader._policy(policy.id)
        when = policy.when
        if (when.unit is not None or when.unit_kind is not None) and not _units_matching(
            policy, catalog
        ):
            reader.warn(policy.line, "can never match: none of its units is of its unit_kind")
            continue
        if when.is_empty:
            continue
        for earlier in policies[:index]:
            if _covers(earlier, policy, catalog):
                reader.warn(
                    policy.line,
                    f"never chosen by its conditions: policy {earlier.id} ({earlier.where}) "
                    "matches everything it matches (a routing rule may still name it)",
                )
                break
    # Targets: acknowledging should not take longer than resolving.
    for policy in policies:
        reader._policy(policy.id)
        usable = [policy.calendar] if policy.calendar else list(calendars)
        for code in usable:
            cal = calendars.get(code) if code else None
            if cal is None:
                continue
            if policy.acknowledge.seconds(cal) > policy.resolve.seconds(cal):
                reader.warn(
                    policy.line,
                    f"'acknowledge' ({policy.acknowledge}) is longer than 'resolve' "
                    f"({policy.resolve}) on calendar {code}",
                )
                break
    reader._policy(None)


def check_unit_calendars(
    reader: _Reporter,
    policies: list[Policy],
    calendars: Collection[str],
    default_calendar: str | None,
    line: int | None,
) -> None:
    """Every unit must end up on a defined calendar under every policy that can apply to it."""
    catalog = reader.catalog
    for unit in catalog.units.values():
        code = unit.calendar or default_calendar
        if code is None:
            if any(p.calendar is None for p in policies):
                reader.error(
                    line,
                    f"unit {unit.code} has no calendar in units.yaml and sla.yaml sets no "
                    "'default_calendar'",
                )
        elif code not in calendars:
            reader.error(
                line,
                f"unit {unit.code} uses calendar '{code}', which sla.yaml does not define"
                f"{did_you_mean(code, calendars)}",
            )
