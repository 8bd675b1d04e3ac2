"""/api/v1/areas, /topics, /units: the reference data operators pick from."""

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from app.api.checked_route import CheckedRoute
from app.api.deps import CatalogDep, require

router = APIRouter(
    route_class=CheckedRoute,
    tags=["reference"],
    dependencies=[require("reference:read", "read reference data")],
)


class AreaItem(BaseModel):
    code: str
    name: str
    level: str
    parent: str | None
    matched: str | None = None
    former: bool = False


class TopicItem(BaseModel):
    code: str
    name: str
    parent: str | None
    description: str | None
    open311_service_code: str


class UnitItem(BaseModel):
    code: str
    name: str
    kind: str
    areas: list[str]
    escalation: str | None


@router.get("/areas", response_model=list[AreaItem])
async def list_areas(
    catalog: CatalogDep,
    q: Annotated[
        str | None, Query(description="Name, former name or code; accents optional")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
) -> list[AreaItem]:
    """Autocomplete for areas: best match first, former (pre-2025) names resolve to current areas."""
    if not q:
        return [
            AreaItem(code=a.code, name=a.name, level=a.level, parent=a.parent)
            for a in sorted(catalog.areas.values(), key=lambda a: (a.parent is not None, a.name))
        ][:limit]
    return [
        AreaItem(
            code=m.area.code,
            name=m.area.name,
            level=m.area.level,
            parent=m.area.parent,
            matched=m.matched,
            former=m.former,
        )
        for m in catalog.search_areas(q, limit)
    ]


@router.get("/topics", response_model=list[TopicItem])
async def list_topics(catalog: CatalogDep) -> list[TopicItem]:
    """The topic catalogue, parents before their children."""
    return [
        TopicItem(
            code=t.code,
            name=t.name,
            parent=t.parent,
            description=t.description,
            open311_service_code=t.code,
        )
        for t in catalog.topics.values()
    ]


@router.get("/units", response_model=list[UnitItem])
async def list_units(
    catalog: CatalogDep,
    kind: Annotated[str | None, Query()] = None,
    area: Annotated[str | None, Query(description="Units serving this area code")] = None,
) -> list[UnitItem]:
    """Responding units, optionally of one kind or serving one area."""
    units = (
        catalog.units_serving(area, kind)
        if area
        else [u for u in catalog.units.values() if kind in (None, u.kind)]
    )
    return [
        UnitItem(
            code=u.code, name=u.name, kind=u.kind, areas=list(u.areas), escalation=u.escalation
        )
        for u in units
    ]
