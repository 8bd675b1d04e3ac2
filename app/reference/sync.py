"""Copy the catalog into the reference tables: insert new, update changed, deactivate removed.

Rows are never deleted because tickets keep pointing at them.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.catalog import Catalog
from app.reference.models import AreaRow, TopicRow, UnitAreaRow, UnitRow


@dataclass
class SyncReport:
    inserted: int = 0
    updated: int = 0
    deactivated: int = 0

    def __str__(self) -> str:
        return f"{self.inserted} inserted, {self.updated} updated, {self.deactivated} deactivated"


async def _sync_table(
    session: AsyncSession, model: Any, wanted: dict[str, dict[str, Any]], report: SyncReport
) -> None:
    existing = {row.code: row for row in (await session.scalars(select(model))).all()}
    new_rows = [{"code": code, **values} for code, values in wanted.items() if code not in existing]
    if new_rows:
        # Parents first so that self-referencing foreign keys hold at every insert.
        await session.execute(insert(model), new_rows)
        report.inserted += len(new_rows)
    for code, row in existing.items():
        values = wanted.get(code)
        if values is None:
            if row.active:
                row.active = False
                report.deactivated += 1
            continue
        changed = {k: v for k, v in values.items() if getattr(row, k) != v}
        if changed:
            for key, value in changed.items():
                setattr(row, key, value)
            report.updated += 1
    await session.flush()


def _parents_first(items: dict[str, Any], parent_of: Any) -> dict[str, Any]:
    ordered: dict[str, Any] = {}

    def visit(code: str) -> None:
        if code in ordered or code not in items:
            return
        parent = parent_of(items[code])
        if parent:
            visit(parent)
        ordered[code] = items[code]

    for code in items:
        visit(code)
    return ordered


async def sync_catalog(session: AsyncSession, catalog: Catalog) -> SyncReport:
    """Make the reference tables match the catalog; flushes, the caller commits."""
    report = SyncReport()
    areas = _parents_first(catalog.areas, lambda a: a.parent)
    await _sync_table(
        session,
        AreaRow,
        {
            a.code: {
                "name": a.name,
                "level": a.level,
                "parent_code": a.parent,
                "official_code": a.official_code,
                "active": True,
            }
            for a in areas.values()
        },
        report,
    )
    topics = _parents_first(catalog.topics, lambda t: t.parent)
    await _sync_table(
        session,
        TopicRow,
        {
            t.code: {"name": t.name, "parent_code": t.parent, "active": True}
            for t in topics.values()
        },
        report,
    )
    # Escalation parents may come later in the file: insert units first, then link them.
    unit_values = {
        u.code: {"name": u.name, "kind": u.kind, "calendar": u.calendar, "active": True}
        for u in catalog.units.values()
    }
    await _sync_table(session, UnitRow, unit_values, report)
    for unit_row in (await session.scalars(select(UnitRow))).all():
        unit = catalog.units.get(unit_row.code)
        wanted_parent = unit.escalation if unit else None
        if unit_row.escalation_code != wanted_parent:
            unit_row.escalation_code = wanted_parent
    wanted_links = {(u.code, a) for u in catalog.units.values() for a in u.areas}
    rows = (await session.execute(select(UnitAreaRow.unit_code, UnitAreaRow.area_code))).all()
    have_links = {(r[0], r[1]) for r in rows}
    for unit_code, area_code in have_links - wanted_links:
        await session.execute(
            delete(UnitAreaRow).where(
                UnitAreaRow.unit_code == unit_code, UnitAreaRow.area_code == area_code
            )
        )
    missing = wanted_links - have_links
    if missing:
        await session.execute(
            insert(UnitAreaRow), [{"unit_code": u, "area_code": a} for u, a in sorted(missing)]
        )
    await session.flush()
    return report
