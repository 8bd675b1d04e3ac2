"""Read and validate the rule files: every problem is reported with file, line and rule id.

Files, in this order (which is the rule order): `rules.yaml`, then `rules.d/*.yaml` sorted by
file name. Only `rules.yaml` may set `fallback` and `timezone`. The ruleset version is a content
hash of the rule files and of the reference files (areas, topics, units) they are checked
against, so that it changes whenever a decision could.
"""

import hashlib
from collections.abc import Collection
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.catalog.catalog import Catalog
from app.catalog.source import (
    ReferenceDataError,
    SourceProblem,
    did_you_mean,
    item_line,
    key_line,
    line_of,
    read_yaml,
)
from app.catalog.vocabulary import DEFAULT_TIMEZONE
from app.routing.actions import ActionReader
from app.routing.area_units import AreaUnitIndex
from app.routing.conditions import ConditionReader
from app.routing.schema import RULE_KEYS, TOP_KEYS, Rule, RuleSource, Target

__all__ = ["read_rules", "reference_files", "rule_files", "ruleset_version"]


def rule_files(rules_dir: Path) -> list[Path]:
    """The rule files in load order."""
    files = [rules_dir / "rules.yaml"]
    files += sorted((rules_dir / "rules.d").glob("*.yaml"))
    return files


def reference_files(rules_dir: Path) -> list[Path]:
    files = sorted((rules_dir / "areas").glob("*.yaml"))
    files += [rules_dir / "topics.yaml", rules_dir / "units.yaml"]
    return [f for f in files if f.exists()]


def ruleset_version(rules_dir: Path) -> str:
    """sha256 (first 16 hex digits) over the names and bytes of the rule and reference files."""
    digest = hashlib.sha256()
    for path in [*rule_files(rules_dir), *reference_files(rules_dir)]:
        if not path.exists():
            continue
        digest.update(path.relative_to(rules_dir).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


# -- the reader -------------------------------------------------------------------------------


class _RuleReader(ConditionReader, ActionReader):
    """Validates one rule after another, collecting problems instead of stopping at the first:
    the file and its top-level keys here, `when` in ConditionReader, the rest in ActionReader."""

    def __init__(
        self, catalog: Catalog, serving: AreaUnitIndex, sla_policies: Collection[str] | None
    ) -> None:
        super().__init__()
        self.subject = "rule"
        self.catalog = catalog
        self.serving = serving
        self.sla_policies = sla_policies
        self.kinds = {u.kind for u in catalog.units.values()}

    # -- files --------------------------------------------------------------------------------

    def read_file(self, path: Path, *, main: bool) -> tuple[Any, list[Rule]]:
        """Returns the top-level mapping (or None) and the valid rules of one file."""
        self.file, self.subject_id = str(path), None
        if not path.exists():
            if main:
                self.error(None, "missing: the main rule file is required")
            return None, []
        try:
            doc = read_yaml(path)
        except ReferenceDataError as exc:
            for problem in exc.errors:
                self.error(problem.line, problem.message)
            return None, []
        if doc is None:
            doc = {}
        if not isinstance(doc, dict):
            self.error(line_of(doc), "the file must be a mapping with a 'rules' list")
            return None, []
        allowed = TOP_KEYS if main else ("rules",)
        for key in doc:
            if key not in allowed:
                hint = (
                    " (only rules.yaml may set it)"
                    if key in TOP_KEYS
                    else did_you_mean(key, allowed)
                )
                self.error(key_line(doc, key), f"unknown key '{key}'{hint}")
        rules_node = doc.get("rules")
        if rules_node is None:
            rules_node = []
        if not isinstance(rules_node, list):
            self.error(key_line(doc, "rules"), "'rules' must be a list")
            return doc, []
        rules = []
        for index, node in enumerate(rules_node):
            rule = self.read_rule(node, item_line(rules_node, index, line_of(rules_node)))
            if rule is not None:
                rules.append(rule)
        return doc, rules

    def read_settings(self, doc: Any) -> tuple[str | None, str]:
        """(fallback unit or None when invalid, time zone) from the main file."""
        self.subject_id = None
        fallback = doc.get("fallback")
        if fallback is None:
            self.error(None, "'fallback' (the triage unit) is required")
        elif fallback not in self.catalog.units:
            self.error(key_line(doc, "fallback"), f"fallback: unknown unit '{fallback}'")
            fallback = None
        tz = doc.get("timezone", DEFAULT_TIMEZONE)
        try:
            ZoneInfo(str(tz))
        except (ZoneInfoNotFoundError, ValueError):
            self.error(key_line(doc, "timezone"), f"unknown time zone '{tz}'")
            tz = DEFAULT_TIMEZONE
        return fallback, str(tz)

    # -- one rule -----------------------------------------------------------------------------

    def read_rule(self, node: Any, line: int | None) -> Rule | None:
        self.subject_id = None
        if not isinstance(node, dict):
            self.error(line, "a rule must be a mapping with 'id', 'when' and 'assign'")
            return None
        line = line_of(node) or line
        rule_id = self.subject_id = self.read_id(node, line, "rule")
        before = len(self.errors)
        self.report_unknown(node, RULE_KEYS, "key")
        description = self.read_description(node)
        when = self.read_when(node.get("when"), key_line(node, "when") if "when" in node else line)
        if "assign" not in node:
            self.error(line, "a rule needs 'assign'")
            assign: Target | None = None
        else:
            assign = self.read_target(node["assign"], key_line(node, "assign"), "assign")
        priority, sla_policy = self.read_set(node)
        co_handlers = self.read_co_handlers(node)
        tags = self.read_tags(node)
        if len(self.errors) > before or rule_id is None or assign is None or when is None:
            return None
        rule = Rule(
            id=rule_id,
            file=self.file,
            line=line,
            when=when,
            assign=assign,
            priority=priority,
            sla_policy=sla_policy,
            co_handlers=co_handlers,
            tags=tags,
            description=description,
        )
        self.check_serving(rule, node)
        return rule


def read_rules(
    rules_dir: Path,
    catalog: Catalog,
    *,
    sla_policies: Collection[str] | None = None,
    serving: AreaUnitIndex | None = None,
) -> tuple[RuleSource | None, list[SourceProblem], list[SourceProblem]]:
    """Parse and validate every rule file. Returns (source or None on errors, errors, warnings)."""
    reader = _RuleReader(catalog, serving or AreaUnitIndex(catalog), sla_policies)
    files = rule_files(rules_dir)
    rules: list[Rule] = []
    timezone, fallback = DEFAULT_TIMEZONE, None
    seen: dict[str, Rule] = {}
    for index, path in enumerate(files):
        doc, file_rules = reader.read_file(path, main=index == 0)
        if index == 0 and doc is not None:
            fallback, timezone = reader.read_settings(doc)
        for rule in file_rules:
            first = seen.get(rule.id)
            if first is not None:
                reader.errors.append(
                    SourceProblem(
                        rule.file,
                        rule.line,
                        f"duplicate id (first at {first.where})",
                        "rule",
                        rule.id,
                    )
                )
                continue
            seen[rule.id] = rule
            rules.append(rule)
    if reader.errors or fallback is None:
        return None, reader.errors, reader.warnings
    source = RuleSource(
        rules=tuple(rules),
        fallback=fallback,
        timezone=timezone,
        version=ruleset_version(rules_dir),
        files=tuple(str(f) for f in files if f.exists()),
    )
    return source, reader.errors, reader.warnings
