"""Reference data in memory: areas (with former names), topics and units; pure lookups.

The catalog is built from the files in routing_rules/ and is what intake, filters and routing
consult on every request: no database round trip for a name lookup.
"""

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from app.catalog.resolver import (
    AreaAmbiguous,
    AreaConflict,
    AreaNotFound,
    AreaResolution,
    Reading,
    resolve,
    resolve_address,
)
from app.text import fold

# Administrative prefixes people put before a name, folded, with the level they hint at.
# Longest first so that "thi xa" wins over "x".
_PREFIXES: list[tuple[str, str]] = sorted(
    [
        ("phuong", "ward"),
        ("p", "ward"),
        ("xa", "commune"),
        ("x", "commune"),
        ("quan", "district"),
        ("q", "district"),
        ("huyen", "district"),
        ("h", "district"),
        ("thi xa", "district"),
        ("tx", "district"),
        ("thi tran", "town"),
        ("tt", "town"),
        ("thanh pho", "city"),
        ("tp", "city"),
    ],
    key=lambda p: -len(p[0]),
)


def split_prefix(folded: str) -> tuple[str | None, str]:
    """'p cau giay' -> ('ward', 'cau giay'); 'cau giay' -> (None, 'cau giay')."""
    for prefix, level in _PREFIXES:
        if folded.startswith(prefix + " ") and len(folded) > len(prefix) + 1:
            return level, folded[len(prefix) + 1 :]
    return None, folded


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    level: str
    parent: str | None = None
    official_code: str | None = None


@dataclass(frozen=True)
class FormerName:
    """A pre-2025 district or ward name and the current areas that now cover it."""

    name: str
    level: str
    areas: tuple[str, ...]
    district: str | None = None


@dataclass(frozen=True)
class Topic:
    code: str
    name: str
    parent: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    kind: str
    areas: tuple[str, ...]
    calendar: str | None = None
    escalation: str | None = None
    # Where the unit's mail goes (app.mail), and 0 for a mail per event or N for a digest
    # every N minutes.
    emails: tuple[str, ...] = ()
    mail_digest_minutes: int = 0


@dataclass(frozen=True)
class AreaMatch:
    """One autocomplete or resolution candidate."""

    area: Area
    matched: str  # the name or former name that matched
    former: bool
    score: float


@dataclass
class _Entry:
    """A searchable name: a current area's own name or a former name."""

    label: str
    folded: str  # whole folded name, e.g. "phuong cau giay"
    bare: str  # folded without the administrative prefix, e.g. "cau giay"
    level: str
    codes: tuple[str, ...]
    former: bool
    reading: Reading


@dataclass
class Catalog:
    areas: dict[str, Area]
    topics: dict[str, Topic]
    units: dict[str, Unit]
    former: list[FormerName] = field(default_factory=list)
    triage_unit: str = "tong-dai-1022"

    def __post_init__(self) -> None:
        self._children: dict[str, list[str]] = {}
        for area in self.areas.values():
            if area.parent:
                self._children.setdefault(area.parent, []).append(area.code)
        self._topic_children: dict[str, list[str]] = {}
        for topic in self.topics.values():
            if topic.parent:
                self._topic_children.setdefault(topic.parent, []).append(topic.code)
        self._units_by_area: dict[str, list[Unit]] = {}
        for unit in self.units.values():
            for code in unit.areas:
                self._units_by_area.setdefault(code, []).append(unit)
        self._entries: list[_Entry] = []
        for area in self.areas.values():
            self._add_entry(area.name, area.level, (area.code,), former=False)
        self._former_wards: dict[str, list[Reading]] = {}
        for old in self.former:
            label = f"{old.name} ({old.district})" if old.district else old.name
            entry = self._add_entry(
                old.name, old.level, old.areas, former=True, label=label, district=old.district
            )
            if old.level != "district":
                for code in old.areas:
                    self._former_wards.setdefault(code, []).append(entry.reading)
        self._by_bare: dict[str, list[_Entry]] = {}
        for entry in self._entries:
            self._by_bare.setdefault(entry.bare, []).append(entry)
            self._by_bare.setdefault(entry.folded, []).append(entry)

    def _add_entry(
        self,
        name: str,
        level: str,
        codes: tuple[str, ...],
        *,
        former: bool,
        label: str = "",
        district: str | None = None,
    ) -> _Entry:
        folded = fold(name)
        _, bare = split_prefix(folded)
        reading = Reading(name, level, frozenset(codes), former, district)
        entry = _Entry(label or name, folded, bare, level, codes, former, reading)
        self._entries.append(entry)
        return entry

    # -- trees -------------------------------------------------------------------------------

    def area_subtree(self, code: str) -> set[str]:
        """The area and everything under it."""
        return _subtree(self._children, code)

    def area_ancestors(self, code: str) -> list[str]:
        """The area itself, then its parent, up to the root."""
        return _ancestors(self.areas, code)

    def topic_subtree(self, code: str) -> set[str]:
        """The topic and all its subtopics."""
        return _subtree(self._topic_children, code)

    def topic_ancestors(self, code: str) -> list[str]:
        """The topic itself, then its parent, up to the top-level topic."""
        return _ancestors(self.topics, code)

    # -- area names --------------------------------------------------------------------------

    def resolve_area(self, text: str) -> AreaResolution:
        """A code, a name or a former name (any case, with or without diacritics or prefix),
        or several parts ("Dịch Vọng, Cầu Giấy"): what it can mean, per app.catalog.resolver.

        Raises AreaNotFound (naming the unknown part, with suggestions) or AreaConflict.
        """
        return resolve(self, text)

    def resolve_address(self, text: str) -> AreaResolution | None:
        """The area the area-naming parts of a street address give (None: no such part)."""
        return resolve_address(self, text)

    def resolve_one_area(self, text: str) -> Area:
        """Like resolve_area, for callers that need exactly one area: raises AreaAmbiguous."""
        resolution = resolve(self, text)
        if resolution.code is None:
            raise AreaAmbiguous(resolution)
        return self.areas[resolution.code]

    def areas_meant(self, text: str) -> set[str]:
        """For filters: every current area any reading of `text` may mean, with everything
        under it (several candidates widen a filter rather than ask a question).

        Raises AreaNotFound or AreaConflict like resolve_area.
        """
        out: set[str] = set()
        for candidate in resolve(self, text).candidates:
            out |= self.area_subtree(candidate.code)
        return out

    # The resolver's view of the names (app.catalog.resolver.Names).

    def readings(self, folded: str) -> list[Reading]:
        """Every area or former unit a folded name (prefix allowed) may stand for."""
        if folded.replace(" ", "-") in self.areas:
            code = folded.replace(" ", "-")
            area = self.areas[code]
            return [Reading(area.name, area.level, frozenset({code}), False)]
        level, bare = split_prefix(folded)
        entries = self._by_bare.get(folded, []) or self._by_bare.get(bare, [])
        if level:
            entries = [e for e in entries if _level_fits(level, e.level)] or entries
        return list(dict.fromkeys(e.reading for e in entries))

    def area_name(self, code: str) -> str:
        return self.areas[code].name

    def is_code(self, text: str) -> bool:
        return text in self.areas

    def former_wards_of(self, code: str) -> list[Reading]:
        """The former wards and communes that went (wholly or partly) into a current area."""
        return self._former_wards.get(code, [])

    def suggest(self, text: str) -> list[object]:
        return list(self.suggest_areas(text))

    def suggest_areas(self, text: str, limit: int = 5) -> list[Area]:
        """Closest current areas by spelling, for 'did you mean' messages."""
        _, bare = split_prefix(fold(text))
        names = {e.bare: e for e in self._entries}
        close = difflib.get_close_matches(bare, list(names), n=limit * 2, cutoff=0.6)
        seen: dict[str, Area] = {}
        for name in close:
            for code in names[name].codes:
                seen.setdefault(code, self.areas[code])
        return list(seen.values())[:limit]

    def search_areas(self, query: str, limit: int = 20) -> list[AreaMatch]:
        """Autocomplete: exact > prefix > word prefix > substring > fuzzy; current before former."""
        folded = fold(query)
        if not folded:
            return []
        level, bare = split_prefix(folded)
        scored: dict[str, AreaMatch] = {}

        def offer(entry: _Entry, score: float) -> None:
            if level and not _level_fits(level, entry.level):
                score -= 0.5
            if entry.former:
                # A former district spreads over many current areas: a weaker hint for each.
                score -= 0.05 if len(entry.codes) == 1 else 0.6
            for code in entry.codes:
                best = scored.get(code)
                if best is None or score > best.score:
                    scored[code] = AreaMatch(self.areas[code], entry.label, entry.former, score)

        for entry in self._entries:
            if bare in (entry.bare, entry.folded):
                offer(entry, 4.0)
            elif entry.bare.startswith(bare) or entry.folded.startswith(folded):
                offer(entry, 3.0)
            elif f" {bare}" in f" {entry.bare}":
                offer(entry, 2.0)
            elif bare in entry.bare:
                offer(entry, 1.0)
        if not scored:
            for area in self.suggest_areas(query, limit):
                scored[area.code] = AreaMatch(area, area.name, False, 0.5)
        ranked = sorted(scored.values(), key=lambda m: (-m.score, m.area.name))
        return ranked[:limit]

    # -- topics and units --------------------------------------------------------------------

    def suggest_topics(self, text: str, limit: int = 5) -> list[str]:
        """Topic codes whose code or name is spelt close to `text` (folded), closest first."""
        return _suggest(self.topics.values(), text, limit)

    def suggest_units(self, text: str, limit: int = 5) -> list[str]:
        """Unit codes whose code or name is spelt close to `text` (folded), closest first."""
        return _suggest(self.units.values(), text, limit)

    def units_serving(self, area_code: str, kind: str | None = None) -> list[Unit]:
        """Units of a kind serving the area or, failing that, its nearest ancestor."""
        for code in self.area_ancestors(area_code):
            found = [u for u in self._units_by_area.get(code, ()) if kind in (None, u.kind)]
            if found:
                return found
        return []


__all__ = [
    "Area",
    "AreaAmbiguous",
    "AreaConflict",
    "AreaMatch",
    "AreaNotFound",
    "AreaResolution",
    "Catalog",
    "FormerName",
    "Topic",
    "Unit",
]


def _suggest(items: Iterable[Topic] | Iterable[Unit], text: str, limit: int) -> list[str]:
    """Codes of `items` whose folded code or name is close to folded `text` (difflib, 0.5)."""
    items = list(items)
    by_key = {fold(i.code): i.code for i in items}
    by_key.update({fold(i.name): i.code for i in items})
    close = difflib.get_close_matches(fold(text), list(by_key), n=limit, cutoff=0.5)
    return list(dict.fromkeys(by_key[k] for k in close))


def _subtree(children: dict[str, list[str]], code: str) -> set[str]:
    """`code` and every node under it, given each node's children."""
    out, stack = set(), [code]
    while stack:
        current = stack.pop()
        out.add(current)
        stack.extend(children.get(current, ()))
    return out


def _ancestors(nodes: Mapping[str, Area] | Mapping[str, Topic], code: str) -> list[str]:
    """`code`, then its parent, up to the root (an unknown code: empty)."""
    chain = []
    current: str | None = code
    while current is not None and current in nodes:
        chain.append(current)
        current = nodes[current].parent
    return chain


def _level_fits(hint: str, level: str) -> bool:
    # A "phường" prefix also fits a former town (thị trấn) and vice versa in everyday speech.
    if hint == level:
        return True
    return {hint, level} <= {"ward", "town"} or {hint, level} <= {"commune", "town"}
