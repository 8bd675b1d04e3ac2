"""Read areas, topics and units from routing_rules/ into a Catalog, with file:line errors."""

import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from app.reference.catalog import Area, Catalog, FormerName, Topic, Unit


@dataclass(frozen=True)
class SourceError:
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


class ReferenceDataError(Exception):
    def __init__(self, errors: list[SourceError]):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


def read_yaml(path: Path) -> Any:
    """Round-trip load so that mappings keep their line numbers (`.lc.line`, 0-based)."""
    try:
        with path.open(encoding="utf-8") as fh:
            return YAML(typ="rt").load(fh)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ReferenceDataError([SourceError(str(path), line, f"bad YAML: {exc}")]) from exc


def line_of(node: Any) -> int | None:
    lc = getattr(node, "lc", None)
    return lc.line + 1 if lc is not None else None


def key_line(node: Any, key: Any) -> int | None:
    """1-based line of `key` in a mapping, else of the mapping itself."""
    try:
        return node.lc.key(key)[0] + 1
    except (AttributeError, KeyError, TypeError):
        return line_of(node)


def item_line(node: Any, index: int, default: int | None) -> int | None:
    """1-based line of item `index` in a sequence, else `default`."""
    try:
        return node.lc.item(index)[0] + 1
    except (AttributeError, KeyError, TypeError, IndexError):
        return default


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """' (did you mean a, b?)' for close spellings, '' when nothing is close."""
    close = difflib.get_close_matches(word, list(options), n=3, cutoff=0.6)
    return f" (did you mean {', '.join(close)}?)" if close else ""


ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


class YamlChecks:
    """Checks shared by the rule and SLA readers; a subclass defines `error`."""

    def error(self, line: int | None, message: str) -> None:
        raise NotImplementedError

    def read_id(self, node: dict, line: int | None, what: str) -> str | None:
        """The node's `id`, or None after reporting a missing or malformed one."""
        value = node.get("id")
        if isinstance(value, str) and ID.match(value):
            return value
        self.error(
            key_line(node, "id") if "id" in node else line,
            f"a {what} needs an 'id' of lower-case letters, digits, '.', '_' or '-'"
            + (f", got {value!r}" if value is not None else ""),
        )
        return None

    def read_description(self, node: dict) -> Any:
        """The optional `description` (reported unless it is text)."""
        description = node.get("description")
        if description is not None and not isinstance(description, str):
            self.error(key_line(node, "description"), "'description' must be text")
        return description

    def texts(self, value: Any, line: int | None, what: str) -> list[str] | None:
        """One text or a non-empty list of texts, stripped; None after reporting a problem."""
        items = value if isinstance(value, list) else [value]
        if not items:
            self.error(line, f"'{what}' is an empty list, which would match nothing")
            return None
        out = []
        for item in items:
            if not isinstance(item, str) or not item.strip():
                self.error(line, f"'{what}' entries must be non-empty text, got {item!r}")
                return None
            out.append(item.strip())
        return out


def _text(value: Any) -> str:
    return unicodedata.normalize("NFC", str(value)).strip()


class _Reader:
    def __init__(self) -> None:
        self.errors: list[SourceError] = []

    def require(self, node: Any, key: str, path: Path, what: str) -> str | None:
        if not isinstance(node, dict) or not node.get(key):
            self.errors.append(SourceError(str(path), line_of(node), f"{what} needs '{key}'"))
            return None
        return _text(node[key])


def load_catalog(rules_dir: Path) -> Catalog:
    """Load every reference file; raise ReferenceDataError listing all problems at once."""
    reader = _Reader()
    areas: dict[str, Area] = {}
    former: list[FormerName] = []
    area_refs: list[tuple[Path, Any]] = []
    area_files = sorted((rules_dir / "areas").glob("*.yaml"))
    if not area_files:
        reader.errors.append(SourceError(str(rules_dir / "areas"), None, "no area files"))
    for path in area_files:
        doc = read_yaml(path) or {}
        for node in doc.get("areas", []):
            code = reader.require(node, "code", path, "an area")
            name = reader.require(node, "name", path, f"area {code}")
            if not code or not name:
                continue
            if code in areas:
                reader.errors.append(
                    SourceError(str(path), line_of(node), f"duplicate area {code}")
                )
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
                reader.errors.append(SourceError(str(path), line_of(node), f"unknown area '{ref}'"))

    topics: dict[str, Topic] = {}
    topics_path = rules_dir / "topics.yaml"
    doc = read_yaml(topics_path) or {}

    def walk(nodes: Any, parent: str | None) -> None:
        for node in nodes or []:
            code = reader.require(node, "code", topics_path, "a topic")
            name = reader.require(node, "name", topics_path, f"topic {code}")
            if not code or not name:
                continue
            if code in topics:
                reader.errors.append(
                    SourceError(str(topics_path), line_of(node), f"duplicate topic {code}")
                )
            desc = node.get("description")
            topics[code] = Topic(code, name, parent, _text(desc) if desc else None)
            walk(node.get("children"), code)

    walk(doc.get("topics"), None)

    units: dict[str, Unit] = {}
    units_path = rules_dir / "units.yaml"
    doc = read_yaml(units_path) or {}
    for node in doc.get("units", []):
        code = reader.require(node, "code", units_path, "a unit")
        name = reader.require(node, "name", units_path, f"unit {code}")
        kind = reader.require(node, "kind", units_path, f"unit {code}")
        if not code or not name or not kind:
            continue
        if code in units:
            reader.errors.append(
                SourceError(str(units_path), line_of(node), f"duplicate unit {code}")
            )
        served = tuple(node.get("areas") or ())
        for ref in served:
            if ref not in areas:
                reader.errors.append(
                    SourceError(
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
                SourceError(str(units_path), None, f"unit {unit.code}: unknown escalation unit")
            )
    if reader.errors:
        raise ReferenceDataError(reader.errors)
    return Catalog(areas=areas, topics=topics, units=units, former=former)
