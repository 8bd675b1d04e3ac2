"""Read and validate the rule files: every problem is reported with file, line and rule id.

Files, in this order (which is the rule order): `rules.yaml`, then `rules.d/*.yaml` sorted by
file name. Only `rules.yaml` may set `fallback` and `timezone`. The ruleset version is a content
hash of the rule files and of the reference files (areas, topics, units) they are checked
against, so that it changes whenever a decision could.
"""

import hashlib
import re
from collections.abc import Collection
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.reference.catalog import (
    AreaAmbiguous,
    AreaConflict,
    AreaNotFound,
    Catalog,
    split_prefix,
)
from app.reference.loader import (
    ReferenceDataError,
    YamlChecks,
    did_you_mean,
    item_line,
    key_line,
    line_of,
    read_yaml,
)
from app.routing.schema import (
    CHANNELS,
    CONDITION_ORDER,
    DEFAULT_TIMEZONE,
    PRIORITIES,
    RULE_KEYS,
    SET_KEYS,
    TOP_KEYS,
    WEEKDAYS,
    AreaRef,
    HoursWindow,
    KindByArea,
    Rule,
    RuleProblem,
    RuleSource,
    Target,
    UnitTarget,
    When,
)
from app.routing.serving import ServingIndex
from app.text import fold

_TAG = re.compile(r"^[a-z0-9][a-z0-9._:-]*$")
_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


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


# -- line numbers -----------------------------------------------------------------------------


class _RuleReader(YamlChecks):
    """Validates one rule after another, collecting problems instead of stopping at the first."""

    def __init__(
        self, catalog: Catalog, serving: ServingIndex, sla_policies: Collection[str] | None
    ) -> None:
        self.catalog = catalog
        self.serving = serving
        self.sla_policies = sla_policies
        self.errors: list[RuleProblem] = []
        self.warnings: list[RuleProblem] = []
        self._file = ""
        self._rule_id: str | None = None
        self._kinds = {u.kind for u in catalog.units.values()}

    # -- reporting ----------------------------------------------------------------------------

    def error(self, line: int | None, message: str) -> None:
        self.errors.append(RuleProblem(self._file, line, self._rule_id, message))

    def warn(self, line: int | None, message: str) -> None:
        self.warnings.append(RuleProblem(self._file, line, self._rule_id, message))

    # -- files --------------------------------------------------------------------------------

    def read_file(self, path: Path, *, main: bool) -> tuple[Any, list[Rule]]:
        """Returns the top-level mapping (or None) and the valid rules of one file."""
        self._file, self._rule_id = str(path), None
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
        self._rule_id = None
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
        self._rule_id = None
        if not isinstance(node, dict):
            self.error(line, "a rule must be a mapping with 'id', 'when' and 'assign'")
            return None
        line = line_of(node) or line
        rule_id = self._rule_id = self.read_id(node, line, "rule")
        before = len(self.errors)
        for key in node:
            if key not in RULE_KEYS:
                self.error(
                    key_line(node, key), f"unknown key '{key}'{did_you_mean(str(key), RULE_KEYS)}"
                )
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
            file=self._file,
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

    def read_when(self, node: Any, line: int | None) -> When | None:
        if node is None:
            return When()  # matches every ticket
        if not isinstance(node, dict):
            self.error(line, "'when' must be a mapping of conditions")
            return None
        for key in node:
            if key not in CONDITION_ORDER:
                self.error(
                    key_line(node, key),
                    f"unknown condition '{key}'{did_you_mean(str(key), CONDITION_ORDER)}",
                )
        parsed: dict[str, Any] = {}
        for key in CONDITION_ORDER:
            if key in node:
                parsed[key] = getattr(self, f"_when_{key}")(node[key], key_line(node, key))
        if any(v is None for v in parsed.values()):
            return None
        return When(**parsed)

    def _when_topic(self, value: Any, line: int | None) -> tuple[str, ...] | None:
        texts = self.texts(value, line, "topic")
        if texts is None:
            return None
        ok = True
        for code in texts:
            if code not in self.catalog.topics:
                hint = self.catalog.suggest_topics(code, 3)
                more = f" (did you mean {', '.join(hint)}?)" if hint else ""
                self.error(line, f"unknown topic '{code}'{more}")
                ok = False
        return tuple(dict.fromkeys(texts)) if ok else None

    def _when_area(self, value: Any, line: int | None) -> tuple[AreaRef, ...] | None:
        texts = self.texts(value, line, "area")
        if texts is None:
            return None
        refs = []
        for text in texts:
            codes = self.resolve_area(text, line)
            if codes is None:
                return None
            refs.append(AreaRef(text, codes))
        return tuple(refs)

    def resolve_area(self, text: str, line: int | None) -> tuple[str, ...] | None:
        """A code, a current name, or a former name (which may stand for several areas)."""
        catalog = self.catalog
        try:
            return (catalog.resolve_one_area(text).code,)
        except AreaNotFound as exc:
            suggestions, candidates = exc.suggestions, None
        except AreaConflict:
            suggestions, candidates = [], None
        except AreaAmbiguous as exc:
            suggestions, candidates = [], sorted(a.code for a in exc.candidates)
        formers = _former_matches(catalog, text)
        if len(formers) == 1:
            return tuple(sorted(formers[0].areas))
        if len(formers) > 1:
            names = "; ".join(f"{f.name}, {f.district}" if f.district else f.name for f in formers)
            self.error(line, f"area '{text}' is ambiguous: {names} (add the former district)")
        elif candidates:
            self.error(line, f"area '{text}' is ambiguous: {', '.join(candidates)} (use a code)")
        else:
            hint = ", ".join(a.code for a in suggestions[:3])
            self.error(
                line, f"unknown area '{text}'" + (f" (did you mean {hint}?)" if hint else "")
            )
        return None

    def _when_channel(self, value: Any, line: int | None) -> tuple[str, ...] | None:
        return self._enum(value, line, "channel", CHANNELS)

    def _when_priority(self, value: Any, line: int | None) -> tuple[str, ...] | None:
        return self._enum(value, line, "priority", PRIORITIES)

    def _enum(
        self, value: Any, line: int | None, what: str, allowed: tuple[str, ...]
    ) -> tuple[str, ...] | None:
        texts = self.texts(value, line, what)
        if texts is None:
            return None
        bad = [t for t in texts if t not in allowed]
        for t in bad:
            self.error(
                line, f"unknown {what} '{t}'{did_you_mean(t, allowed)}; one of {', '.join(allowed)}"
            )
        return None if bad else tuple(dict.fromkeys(texts))

    def _when_confidential(self, value: Any, line: int | None) -> bool | None:
        if not isinstance(value, bool):
            self.error(line, f"'confidential' must be true or false, got {value!r}")
            return None
        return value

    def _when_weekdays(self, value: Any, line: int | None) -> tuple[int, ...] | None:
        texts = self.texts(value, line, "weekdays")
        if texts is None:
            return None
        days: set[int] = set()
        for text in texts:
            parts = [p.strip().lower()[:3] for p in text.split("-")]
            if len(parts) > 2 or any(p not in WEEKDAYS for p in parts):
                self.error(
                    line,
                    f"malformed weekdays '{text}': use {', '.join(WEEKDAYS)} or a range like mon-fri",
                )
                return None
            first, last = WEEKDAYS.index(parts[0]), WEEKDAYS.index(parts[-1])
            day = first
            while True:  # a range may wrap: fri-mon
                days.add(day)
                if day == last:
                    break
                day = (day + 1) % 7
        return tuple(sorted(days))

    def _when_hours(self, value: Any, line: int | None) -> tuple[HoursWindow, ...] | None:
        texts = self.texts(value, line, "hours")
        if texts is None:
            return None
        windows = []
        for text in texts:
            window = parse_hours(text)
            if isinstance(window, str):
                self.error(line, window)
                return None
            windows.append(window)
        return tuple(windows)

    def _when_keywords(self, value: Any, line: int | None) -> tuple[str, ...] | None:
        texts = self.texts(value, line, "keywords")
        if texts is None:
            return None
        for text in texts:
            if not fold(text):
                self.error(line, f"keyword {text!r} has no letters or digits")
                return None
        return tuple(dict.fromkeys(texts))

    # -- actions ------------------------------------------------------------------------------

    def read_target(self, value: Any, line: int | None, what: str) -> Target | None:
        if isinstance(value, str):
            if value not in self.catalog.units:
                hint = self.catalog.suggest_units(value, 3)
                more = f" (did you mean {', '.join(hint)}?)" if hint else ""
                self.error(line, f"{what}: unknown unit '{value}'{more}")
                return None
            return UnitTarget(value)
        if isinstance(value, dict):
            line = line_of(value) or line
            for key in value:
                if key not in ("kind", "by"):
                    self.error(
                        line, f"{what}: unknown key '{key}'; use a unit code or {{kind, by: area}}"
                    )
                    return None
            kind, by = value.get("kind"), value.get("by")
            if by != "area":
                self.error(line, f"{what}: 'by' must be 'area', got {by!r}")
                return None
            if not isinstance(kind, str) or kind not in self._kinds:
                self.error(
                    line,
                    f"{what}: unknown unit kind {kind!r}; one of {', '.join(sorted(self._kinds))}",
                )
                return None
            return KindByArea(kind)
        self.error(line, f"{what} must be a unit code or {{kind: <kind>, by: area}}, got {value!r}")
        return None

    def read_set(self, node: dict) -> tuple[str | None, str | None]:
        value = node.get("set")
        if value is None:
            return None, None
        line = key_line(node, "set")
        if not isinstance(value, dict):
            self.error(line, "'set' must be a mapping with 'priority' and/or 'sla_policy'")
            return None, None
        for key in value:
            if key not in SET_KEYS:
                self.error(
                    key_line(value, key),
                    f"set: unknown key '{key}'{did_you_mean(str(key), SET_KEYS)}",
                )
        priority = value.get("priority")
        if priority is not None and priority not in PRIORITIES:
            self.error(
                key_line(value, "priority"),
                f"set: unknown priority {priority!r}; one of {', '.join(PRIORITIES)}",
            )
            priority = None
        policy = value.get("sla_policy")
        if policy is not None:
            if not isinstance(policy, str) or not policy.strip():
                self.error(key_line(value, "sla_policy"), "set: 'sla_policy' must be text")
                policy = None
            elif self.sla_policies is not None and policy not in self.sla_policies:
                self.error(
                    key_line(value, "sla_policy"),
                    f"set: unknown SLA policy '{policy}'{did_you_mean(policy, self.sla_policies)}",
                )
                policy = None
        return priority, policy

    def read_co_handlers(self, node: dict) -> tuple[Target, ...]:
        value = node.get("co_handlers")
        if value is None:
            return ()
        line = key_line(node, "co_handlers")
        items = value if isinstance(value, list) else [value]
        out = []
        for index, item in enumerate(items):
            target = self.read_target(item, item_line(value, index, line), "co_handlers")
            if target is not None and target not in out:
                out.append(target)
        return tuple(out)

    def read_tags(self, node: dict) -> tuple[str, ...]:
        value = node.get("tags")
        if value is None:
            return ()
        line = key_line(node, "tags")
        texts = self.texts(value, line, "tags") or []
        for tag in texts:
            if not _TAG.match(tag):
                self.error(
                    line, f"tag '{tag}' must be lower-case letters, digits, '.', '_', ':' or '-'"
                )
        return tuple(dict.fromkeys(texts))

    # -- cross checks -------------------------------------------------------------------------

    def check_serving(self, rule: Rule, node: dict) -> None:
        """Every area the rule could apply to must have a unit of each by-area kind it uses."""
        targets = [("assign", rule.assign, node.get("assign"))]
        targets += [("co_handlers", t, node.get("co_handlers")) for t in rule.co_handlers]
        kinds = [(what, t.kind) for what, t, _ in targets if isinstance(t, KindByArea)]
        if not kinds:
            return
        if rule.when.area is None:
            applies = set(self.catalog.areas)
        else:
            applies = set()
            for ref in rule.when.area:
                for code in ref.codes:
                    applies |= self.catalog.area_subtree(code)
        for what, kind in dict.fromkeys(kinds):
            table = self.serving.table(kind)
            missing = sorted(a for a in applies if a not in table)
            line = key_line(node, what)
            if missing:
                shown = ", ".join(missing[:5]) + (
                    f" and {len(missing) - 5} more" if len(missing) > 5 else ""
                )
                self.error(line, f"{what}: no unit of kind '{kind}' serves {shown}")
            ties = self.serving.ties(kind)
            tied = sorted(a for a in applies if a in ties)
            for area in tied[:3]:
                self.warn(
                    line,
                    f"{what}: several '{kind}' units serve {area} ({', '.join(ties[area])}); "
                    f"the first, {ties[area][0]}, is used",
                )


def _former_matches(catalog: Catalog, text: str) -> list:
    """Former names matching "Name" or "Name, Former district" (prefix optional)."""
    parts = [fold(p) for p in re.split(r"[,;/()]", text)]
    parts = [p for p in parts if p]
    if not parts:
        return []
    name, district = parts[0], (parts[1] if len(parts) > 1 else None)

    def same(query: str, actual: str) -> bool:
        actual = fold(actual)
        level, bare = split_prefix(query)
        return query == actual or (level is None and bare == split_prefix(actual)[1])

    found = []
    for former in catalog.former:
        if not same(name, former.name):
            continue
        if district is not None and not (former.district and same(district, former.district)):
            continue
        found.append(former)
    return found


def parse_hours(text: str) -> HoursWindow | str:
    """'22:00-06:00' -> a window; a message string when malformed."""
    match = _HOURS.match(text)
    if not match:
        return f"malformed hours '{text}': use HH:MM-HH:MM, e.g. 17:00-07:30"
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2 != 0):
        return f"malformed hours '{text}': times run from 00:00 to 24:00"
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start == end:
        return f"malformed hours '{text}': start equals end (use 00:00-24:00 for the whole day)"
    return HoursWindow(start, end, text.strip())


def read_rules(
    rules_dir: Path,
    catalog: Catalog,
    *,
    sla_policies: Collection[str] | None = None,
    serving: ServingIndex | None = None,
) -> tuple[RuleSource | None, list[RuleProblem], list[RuleProblem]]:
    """Parse and validate every rule file. Returns (source or None on errors, errors, warnings)."""
    reader = _RuleReader(catalog, serving or ServingIndex(catalog), sla_policies)
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
                    RuleProblem(
                        rule.file, rule.line, rule.id, f"duplicate id (first at {first.where})"
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
