"""A report's parameters, checked against the catalog and the caller's scope.

Errors name the parameter alone (`["unit"]`, `["group_by"]`): where it came from (a query
string, a form, a command option) is the caller's to say; app.api.reports places them in the
query. Unit, topic and area codes are checked by app.catalog.codes, as for tickets.
"""

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from app.catalog import codes
from app.catalog.catalog import Catalog
from app.errors import Forbidden, ValidationFailed, field_error
from app.reports.period import utc_bounds, utc_offset_minutes
from app.reports.source import GROUP_KEYS, Grouping, Scope
from app.tickets.schemas import Channel, Priority
from app.users.principal import Principal

PRIORITIES = [p.value for p in Priority]
CHANNELS = [c.value for c in Channel]


@dataclass
class ReportFilters:
    """The report's filters as given (codes, names or values; lists may be comma-separated)."""

    units: Sequence[str] = ()
    unit_kinds: Sequence[str] = ()
    areas: Sequence[str] = ()
    topics: Sequence[str] = ()
    priorities: Sequence[str] = ()
    channels: Sequence[str] = ()


def split_values(values: Iterable[str] | None) -> list[str]:
    """['unit,topic', 'day'] -> ['unit', 'topic', 'day']: repeated and comma-separated both."""
    return [v.strip() for value in values or () for v in value.split(",") if v.strip()]


def _did_you_mean(text: str, choices: Sequence[str]) -> list[str]:
    return difflib.get_close_matches(text, list(choices), n=3, cutoff=0.5)


def _unknown(loc: list[str | int], what: str, text: str, choices: Sequence[str]) -> dict[str, Any]:
    close = _did_you_mean(text, choices)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return field_error(
        loc,
        f"unknown {what} '{text}'{hint} (one of: {', '.join(choices)})"
        if len(choices) <= 12
        else f"unknown {what} '{text}'{hint}",
        suggestions=close,
    )


def check_scope(
    catalog: Catalog,
    principal: Principal,
    date_from: date,
    date_to: date,
    filters: ReportFilters,
    *,
    now: datetime,
    timezone: str,
) -> Scope:
    """The Scope of a report over the local dates [date_from, date_to] as of `now` (UTC).

    Raises ValidationFailed listing every unknown unit, unit kind, area, topic, priority or
    channel; Forbidden when a unit agent asks for units not theirs (a unit agent with no unit
    filter gets their own units).
    """
    errors: list[dict[str, Any]] = []
    units = split_values(filters.units)
    errors += [e for e in (codes.unit_error(catalog, c, ["unit"]) for c in units) if e]
    kinds = split_values(filters.unit_kinds)
    known_kinds = sorted({u.kind for u in catalog.units.values()})
    errors += [
        _unknown(["unit_kind"], "unit kind", k, known_kinds) for k in kinds if k not in known_kinds
    ]
    areas: set[str] = set()
    for text in split_values(filters.areas):
        meant, error = codes.areas_meant(catalog, text, ["area"])
        areas |= meant
        errors += [error] if error else []
    topics: set[str] = set()
    for code in split_values(filters.topics):
        error = codes.topic_error(catalog, code, ["topic"])
        if error is None:
            topics |= catalog.topic_subtree(code)
        else:
            errors.append(error)
    priorities = split_values(filters.priorities)
    errors += [
        _unknown(["priority"], "priority", p, PRIORITIES) for p in priorities if p not in PRIORITIES
    ]
    channels = split_values(filters.channels)
    errors += [_unknown(["channel"], "channel", c, CHANNELS) for c in channels if c not in CHANNELS]
    if errors:
        raise ValidationFailed(errors)
    scoped: list[str] | None = sorted(set(units)) if units else None
    if principal.scoped_to_units:
        outside = sorted(set(units) - principal.units)
        if outside:
            mine = ", ".join(sorted(principal.units)) or "none"
            raise Forbidden(
                f"You can see reports on your own units only ({mine}), not {', '.join(outside)}."
            )
        scoped = sorted(set(units) or principal.units)
    start, end = utc_bounds(date_from, date_to, timezone)
    return Scope(
        start=start,
        end=end,
        now=now,
        timezone=timezone,
        utc_offset_minutes=utc_offset_minutes(timezone, start),
        units=scoped,
        unit_kinds=sorted(set(kinds)),
        areas=sorted(areas),
        topics=sorted(topics),
        priorities=sorted(set(priorities)),
        channels=sorted(set(channels)),
    )


def _depths(catalog: Catalog, kind: str) -> dict[str, int]:
    """Depth (1 = root) of every area or topic."""
    if kind == "area":
        return {c: len(catalog.area_ancestors(c)) for c in catalog.areas}
    return {c: len(catalog.topic_ancestors(c)) for c in catalog.topics}


def _level(
    catalog: Catalog, kind: str, text: str | None, errors: list[dict[str, Any]]
) -> int | None:
    """The depth a level names: a number (1 = top) or, for areas, a level name ('xa')."""
    if text is None or not text.strip():
        return None
    value = text.strip().lower()
    depths = _depths(catalog, kind)
    deepest = max(depths.values(), default=1)
    names: dict[str, int] = {}
    if kind == "area":
        for code, depth in depths.items():
            level_name = catalog.areas[code].level
            names[level_name] = min(depth, names.get(level_name, depth))
    if value.isdigit() and 1 <= int(value) <= deepest:
        return int(value)
    if value in names:
        return names[value]
    choices = [str(d) for d in range(1, deepest + 1)] + sorted(names)
    errors.append(_unknown([f"{kind}_level"], f"{kind} level", value, choices))
    return None


def check_grouping(
    catalog: Catalog,
    group_by: Iterable[str] | None,
    area_level: str | None,
    topic_level: str | None,
) -> Grouping:
    """The Grouping asked for (default: by unit); ValidationFailed for an unknown key or level,
    or a level given without its key."""
    errors: list[dict[str, Any]] = []
    keys: list[str] = []
    for key in split_values(group_by) or ["unit"]:
        key = key.lower()
        if key not in GROUP_KEYS:
            errors.append(_unknown(["group_by"], "group_by value", key, GROUP_KEYS))
        elif key not in keys:
            keys.append(key)
    levels = {}
    for kind, text in (("area", area_level), ("topic", topic_level)):
        levels[kind] = _level(catalog, kind, text, errors)
        if text and kind not in keys:
            errors.append(
                field_error(
                    [f"{kind}_level"],
                    f"{kind}_level applies to group_by={kind}; add {kind} to group_by",
                )
            )
    if errors:
        raise ValidationFailed(errors)
    return Grouping(keys=tuple(keys), area_level=levels["area"], topic_level=levels["topic"])
