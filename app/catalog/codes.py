"""Unit, topic and area codes a client gives (filters, transfers, a ticket's topic), checked
against the catalog one way for tickets and reports.

An unknown unit or topic is a field error naming it, with the closest codes as `suggestions`;
when none is close it carries `catalog_list` ("units" or "topics"), the list a client can
look in, and the adapter says where that list is (app.api.problems.pointing_to_lists):
this module knows no URL. An area text that does not read is the field error of
app.catalog.area_errors. The `*_error` functions return the error, for callers that collect
every problem of a request; the `check_*` functions raise at the first.
"""

from typing import Any

from app.catalog.area_errors import area_error
from app.catalog.catalog import AreaConflict, AreaNotFound, Catalog
from app.errors import ValidationFailed, field_error

Loc = list[str | int]


def unknown_code(kind: str, code: str, loc: Loc, close: list[str]) -> dict[str, Any]:
    """The field error for `code`, unknown as a `kind` ("unit" or "topic"), at `loc`."""
    if close:
        return field_error(
            loc, f"unknown {kind} '{code}'; did you mean {', '.join(close)}?", suggestions=close
        )
    return field_error(loc, f"unknown {kind} '{code}'", suggestions=[], catalog_list=f"{kind}s")


class UnknownCode(ValidationFailed):
    """A topic or unit code the catalog does not have (raised by check_unit, check_topic)."""

    def __init__(self, loc: Loc, kind: str, code: str, close: list[str]):
        self.kind, self.code, self.suggestions = kind, code, close
        super().__init__([unknown_code(kind, code, loc, close)])


def unit_error(catalog: Catalog, code: str, loc: Loc) -> dict[str, Any] | None:
    """None when `code` is a unit of the catalog, else the field error at `loc`."""
    if code in catalog.units:
        return None
    return unknown_code("unit", code, loc, catalog.suggest_units(code))


def topic_error(catalog: Catalog, code: str, loc: Loc) -> dict[str, Any] | None:
    """None when `code` is a topic of the catalog, else the field error at `loc`."""
    if code in catalog.topics:
        return None
    return unknown_code("topic", code, loc, catalog.suggest_topics(code))


def areas_meant(catalog: Catalog, text: str, loc: Loc) -> tuple[set[str], dict[str, Any] | None]:
    """Every current area code `text` (a code, a name or a former name) may mean, with all
    under them, and no error; or no codes and the field error at `loc` (an unknown part, or
    parts that disagree)."""
    try:
        return catalog.areas_meant(text), None
    except (AreaNotFound, AreaConflict) as exc:
        return set(), area_error(loc, exc)


def check_unit(catalog: Catalog, code: str, loc: Loc) -> str:
    """`code` when it is a unit of the catalog; raises UnknownCode otherwise."""
    if code not in catalog.units:
        raise UnknownCode(loc, "unit", code, catalog.suggest_units(code))
    return code


def check_topic(catalog: Catalog, code: str, loc: Loc) -> str:
    """`code` when it is a topic of the catalog; raises UnknownCode otherwise."""
    if code not in catalog.topics:
        raise UnknownCode(loc, "topic", code, catalog.suggest_topics(code))
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
