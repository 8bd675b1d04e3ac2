"""Unit, topic and area codes a client gives (filters, transfers, a ticket's topic), checked
against the catalog the same way for tickets and reports.

An unknown unit or topic is a field error naming it, with the closest codes as `suggestions`
(or where the codes are listed); an area text that does not read is the field error of
app.catalog.area_errors. The `*_error` functions return the error, for callers that collect
every problem of a request; the `check_*` functions raise ValidationFailed at the first.
"""

from typing import Any

from app.catalog.area_errors import area_error
from app.catalog.catalog import AreaConflict, AreaNotFound, Catalog
from app.errors import ValidationFailed, field_error

# Where a client finds the valid codes when nothing is spelt close to theirs.
LISTED_AT = {"unit": "GET /api/v1/units", "topic": "GET /api/v1/topics"}

Loc = list[str | int]


def _unknown(kind: str, code: str, loc: Loc, close: list[str]) -> dict[str, Any]:
    hint = f"; did you mean {', '.join(close)}?" if close else f"; see {LISTED_AT[kind]}"
    return field_error(loc, f"unknown {kind} '{code}'{hint}", suggestions=close)


def unit_error(catalog: Catalog, code: str, loc: Loc) -> dict[str, Any] | None:
    """None when `code` is a unit of the catalog, else the field error at `loc`."""
    if code in catalog.units:
        return None
    return _unknown("unit", code, loc, catalog.suggest_units(code))


def topic_error(catalog: Catalog, code: str, loc: Loc) -> dict[str, Any] | None:
    """None when `code` is a topic of the catalog, else the field error at `loc`."""
    if code in catalog.topics:
        return None
    return _unknown("topic", code, loc, catalog.suggest_topics(code))


def areas_meant(catalog: Catalog, text: str, loc: Loc) -> tuple[set[str], dict[str, Any] | None]:
    """Every current area code `text` (a code, a name or a former name) may mean, with all
    under them, and no error; or no codes and the field error at `loc` (an unknown part, or
    parts that disagree)."""
    try:
        return catalog.areas_meant(text), None
    except (AreaNotFound, AreaConflict) as exc:
        return set(), area_error(loc, exc)


def check_unit(catalog: Catalog, code: str, loc: Loc) -> str:
    """`code` when it is a unit of the catalog; raises ValidationFailed otherwise."""
    error = unit_error(catalog, code, loc)
    if error is not None:
        raise ValidationFailed([error])
    return code


def check_topic(catalog: Catalog, code: str, loc: Loc) -> str:
    """`code` when it is a topic of the catalog; raises ValidationFailed otherwise."""
    error = topic_error(catalog, code, loc)
    if error is not None:
        raise ValidationFailed([error])
    return code


def check_areas(catalog: Catalog, texts: list[str], loc: Loc) -> set[str]:
    """The union of areas_meant over `texts`; raises ValidationFailed at the first that does
    not read."""
    out: set[str] = set()
    for text in texts:
        codes, error = areas_meant(catalog, text, loc)
        if error is not None:
            raise ValidationFailed([error])
        out |= codes
    return out
