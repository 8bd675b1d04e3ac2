"""Read areas, topics and units from routing_rules/ into a Catalog, with file:line errors."""

import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from app.catalog.catalog import Area, Catalog, FormerName, Topic, Unit
from app.catalog.source import ReferenceDataError, SourceProblem, line_of, read_yaml


def _text(value: Any) -> str:
    return unicodedata.normalize("NFC", str(value)).strip()


class _Reader:
    def __init__(self) -> None:
        self.errors: list[SourceProblem] = []

    def require(self, node: Any, key: str, path: Path, what: str) -> str | None:
        if not isinstance(node, dict) or not node.get(key):
            self.errors.append(SourceProblem(str(path), line_of(node), f"{what} needs '{key}'"))
            return None
        return _text(node[key])

    def entry(
        self, node: Any, path: Path, kind: str, article: str, seen: Mapping[str, Any], *more: str
    ) -> list[str] | None:
        """[code, name, *more] of an area, topic or unit, or None after reporting a missing one;
        a code already in `seen` is reported as a duplicate (the later entry still counts)."""
        code = self.require(node, "code", path, f"{article} {kind}")
        values = [self.require(node, key, path, f"{kind} {code}") for key in ("name", *more)]
        if not code or not all(values):
            return None
        if code in seen:
            self.errors.append(SourceProblem(str(path), line_of(node), f"duplicate {kind} {code}"))
        return [code, *(v for v in values if v)]


def load_catalog(rules_dir: Path) -> Catalog:
    """Load every reference file; raise ReferenceDataError listing all problems at once."""
    reader = _Reader()
    areas: dict[str, Area] = {}
    former: list[FormerName] = []
    area_refs: list[tuple[Path, Any]] = []
    area_files = sorted((rules_dir / "areas").glob("*.yaml"))
    if not area_files:
        reader.errors.append(SourceProblem(str(rules_dir / "areas"), None, "no area files"))
    for path in area_files:
        doc = read_yaml(path) or {}
        for node in doc.get("areas", []):
            found = reader.entry(node, path, "area", "an", areas)
            if found is None:
                continue
            code, name = found
            areas[code] = Area(
                code=code,
                name=name,
                level=_text(node.get("level", "area")),
                parent=node.get("parent"),
                official_code=str(node["official_code"]) if node.get("official_code") else None,
            )
        for node in doc.get("former", []):
            name = reader.require(node, "name", path, "a former name")
            if name:
                former.append(
                    FormerName(
                        name=name,
                        level=_text(node.get("level", "ward")),
                        areas=tuple(node.get("areas") or ()),
                        district=node.get("district"),
                    )
                )
        area_refs.extend((path, node) for node in [*doc.get("areas", []), *doc.get("former", [])])
    # Checked once every file is read: a parent may live in another file.
    for path, node in area_refs:
        refs = [node.get("parent")] if node.get("parent") else list(node.get("areas") or ())
        for ref in refs:
            if ref not in areas:
                reader.errors.append(
                    SourceProblem(str(path), line_of(node), f"unknown area '{ref}'")
                )

    topics: dict[str, Topic] = {}
    topics_path = rules_dir / "topics.yaml"
    doc = read_yaml(topics_path) or {}

    def walk(nodes: Any, parent: str | None) -> None:
        for node in nodes or []:
            found = reader.entry(node, topics_path, "topic", "a", topics)
            if found is None:
                continue
            code, name = found
            desc = node.get("description")
            topics[code] = Topic(code, name, parent, _text(desc) if desc else None)
            walk(node.get("children"), code)

    walk(doc.get("topics"), None)

    units: dict[str, Unit] = {}
    units_path = rules_dir / "units.yaml"
    doc = read_yaml(units_path) or {}
    for node in doc.get("units", []):
        found = reader.entry(node, units_path, "unit", "a", units, "kind")
        if found is None:
            continue
        code, name, kind = found
        served = tuple(node.get("areas") or ())
        for ref in served:
            if ref not in areas:
                reader.errors.append(
                    SourceProblem(
                        str(units_path), line_of(node), f"unit {code}: unknown area '{ref}'"
                    )
                )
        units[code] = Unit(
            code=code,
            name=name,
            kind=kind,
            areas=served,
            calendar=node.get("calendar"),
            escalation=node.get("escalation"),
            emails=tuple(str(e).strip() for e in node.get("emails") or ()),
            mail_digest_minutes=int(node.get("mail_digest_minutes") or 0),
        )
    for unit in units.values():
        if unit.escalation and unit.escalation not in units:
            reader.errors.append(
                SourceProblem(str(units_path), None, f"unit {unit.code}: unknown escalation unit")
            )
    if reader.errors:
        raise ReferenceDataError(reader.errors)
    return Catalog(areas=areas, topics=topics, units=units, former=former)
