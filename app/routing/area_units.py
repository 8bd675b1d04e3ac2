"""Which unit of a kind serves an area: the area itself or, failing that, its nearest ancestor.

Same answer as `Catalog.units_serving` (first unit in units.yaml order wins a tie), computed once
per kind for every area so that a decision is a dict lookup.
"""

from app.catalog.catalog import Catalog


class AreaUnitIndex:
    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        # kind -> area code -> units of that kind listing the area, in units.yaml order
        self._direct: dict[str, dict[str, list[str]]] = {}
        for unit in catalog.units.values():
            per_area = self._direct.setdefault(unit.kind, {})
            for area in unit.areas:
                per_area.setdefault(area, []).append(unit.code)
        self._tables: dict[str, dict[str, str]] = {}

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(self._direct)

    def table(self, kind: str) -> dict[str, str]:
        """Area code -> serving unit code, for every catalog area some unit of `kind` covers."""
        cached = self._tables.get(kind)
        if cached is not None:
            return cached
        direct = self._direct.get(kind, {})
        areas = self._catalog.areas
        table: dict[str, str] = {}
        for code in areas:
            # Walk up until an area with a known answer or a direct unit; memoised on the way.
            chain: list[str] = []
            current: str | None = code
            found: str | None = None
            while current is not None and current in areas:
                if current in table:
                    found = table[current]
                    break
                units = direct.get(current)
                if units:
                    found = units[0]
                    break
                chain.append(current)
                current = areas[current].parent
            if found is not None:
                for visited in chain:
                    table[visited] = found
                if current is not None:
                    table[current] = found
        self._tables[kind] = table
        return table

    def unit_for(self, kind: str, area: str | None) -> str | None:
        if area is None:
            return None
        return self.table(kind).get(area)

    def ties(self, kind: str) -> dict[str, list[str]]:
        """Areas served directly by several units of `kind` (the first one is used)."""
        return {a: u for a, u in self._direct.get(kind, {}).items() if len(u) > 1}
