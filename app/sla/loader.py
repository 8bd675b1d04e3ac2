"""Read and validate routing_rules/sla.yaml: every problem with file, line and policy/calendar id.

`load_sla(rules_dir, catalog)` returns an `SlaConfig` or raises `SlaConfigError` listing every
problem at once; `check_sla(rules_dir, catalog)` returns (errors, warnings) for
`hotline rules check`. Format and semantics: docs/sla.md.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from pathlib import Path

from app.catalog.catalog import Catalog
from app.catalog.source import (
    ReferenceDataError,
    SourceDataError,
    SourceProblem,
    item_line,
    key_line,
    line_of,
    read_yaml,
)
from app.sla.calendar_reader import CalendarReader
from app.sla.checks import check_order, check_unit_calendars
from app.sla.policy import Policy, SlaConfig
from app.sla.policy_reader import PolicyReader

SLA_FILE = "sla.yaml"
TOP_KEYS: tuple[str, ...] = ("default_calendar", "calendars", "policies")


class SlaConfigError(SourceDataError):
    """sla.yaml does not load; `errors` lists every problem found (SourceProblem, with the
    policy or calendar id), `warnings` too."""


class _Reader(CalendarReader, PolicyReader):
    """Validates sla.yaml piece by piece, collecting problems instead of stopping at the first:
    calendars in CalendarReader, policies in PolicyReader, whole-file checks in app.sla.checks."""

    def __init__(self, path: Path, catalog: Catalog) -> None:
        super().__init__(str(path))
        self.catalog = catalog
        self.notes = {}
        self.kinds = sorted({u.kind for u in catalog.units.values()})


_DATE_TOKEN = re.compile(r"\b\d{4}-\d{1,2}-\d{1,2}\b")


def _bad_date(path: Path) -> tuple[int | None, str | None]:
    """Line and text of the first date-like token that is not a real date."""
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        for token in _DATE_TOKEN.findall(text.split("#", 1)[0]):
            try:
                date(*(int(part) for part in token.split("-")))
            except ValueError:
                return number, token
    return None, None


def sla_version(path: Path) -> str:
    """sha256 (first 16 hex digits) of sla.yaml's bytes: changes whenever a due could."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.exists() else ""


def read_sla(
    rules_dir: Path, catalog: Catalog
) -> tuple[SlaConfig | None, list[SourceProblem], list[SourceProblem]]:
    """Parse and validate sla.yaml. Returns (config or None on errors, errors, warnings)."""
    path = Path(rules_dir) / SLA_FILE
    reader = _Reader(path, catalog)
    if not path.exists():
        reader.error(None, "missing: the SLA calendars and policies file is required")
        return None, reader.errors, reader.warnings
    try:
        doc = read_yaml(path)
    except ReferenceDataError as exc:
        for problem in exc.errors:
            reader.error(problem.line, problem.message)
        return None, reader.errors, reader.warnings
    except ValueError as exc:  # ruamel builds dates eagerly: 2026-02-30 raises here
        line, token = _bad_date(path)
        reader.error(line, f"bad date {token}: {exc}" if token else f"bad YAML value: {exc}")
        return None, reader.errors, reader.warnings
    if not isinstance(doc, dict):
        reader.error(line_of(doc), "the file must be a mapping with 'calendars' and 'policies'")
        return None, reader.errors, reader.warnings
    reader.unknown_keys(doc, TOP_KEYS, "sla.yaml")
    calendars = reader.read_calendars(doc.get("calendars"), key_line(doc, "calendars"))
    default_calendar = doc.get("default_calendar")
    if default_calendar is not None and default_calendar not in calendars:
        reader.error(
            key_line(doc, "default_calendar"),
            f"default_calendar: unknown calendar {default_calendar!r}",
        )
    policies_node = doc.get("policies")
    policies_line = key_line(doc, "policies") if "policies" in doc else None
    policies: list[Policy] = []
    if not isinstance(policies_node, list) or not policies_node:
        reader.error(
            policies_line, "'policies' must be a non-empty list, ending with the default policy"
        )
        policies_node = []
    # Calendars are referred to by name, even one whose body has errors (reported already).
    raw_calendars = doc.get("calendars")
    calendar_names = [str(k) for k in raw_calendars] if isinstance(raw_calendars, dict) else []
    seen: dict[str, Policy] = {}
    for index, node in enumerate(policies_node):
        policy = reader.read_policy(
            node, item_line(policies_node, index, policies_line), calendar_names
        )
        if policy is None:
            continue
        first = seen.get(policy.id)
        if first is not None:
            reader.error(policy.line, f"duplicate id (first at {first.where})")
            continue
        seen[policy.id] = policy
        policies.append(policy)
    if len(policies) == len(policies_node) and policies:
        # Order-dependent checks only make sense when every policy parsed.
        check_order(reader, policies, calendars)
    calendars_line = key_line(doc, "calendars") if "calendars" in doc else None
    check_unit_calendars(reader, policies, calendar_names, default_calendar, calendars_line)
    reader.subject = reader.subject_id = None
    if reader.errors:
        return None, reader.errors, reader.warnings
    config = SlaConfig(
        calendars=calendars,
        policies=tuple(policies),
        catalog=catalog,
        default_calendar=default_calendar,
        version=sla_version(path),
    )
    return config, reader.errors, reader.warnings


def load_sla(rules_dir: Path, catalog: Catalog) -> SlaConfig:
    """Load sla.yaml; raise SlaConfigError (all errors and warnings) if anything is wrong."""
    config, errors, warnings = read_sla(rules_dir, catalog)
    if errors or config is None:
        raise SlaConfigError(errors, warnings)
    return config


def check_sla(rules_dir: Path, catalog: Catalog) -> tuple[list[SourceProblem], list[SourceProblem]]:
    """(errors, warnings) for sla.yaml, for `hotline rules check`; no errors: `load_sla` works."""
    _, errors, warnings = read_sla(rules_dir, catalog)
    return errors, warnings


__all__ = [
    "SLA_FILE",
    "SlaConfigError",
    "check_sla",
    "load_sla",
    "read_sla",
    "sla_version",
]
