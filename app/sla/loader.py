"""Read and validate routing_rules/sla.yaml: every problem with file, line and policy/calendar id.

`load_sla(rules_dir, catalog)` returns an `SlaConfig` or raises `SlaConfigError` listing every
problem at once; `check_sla(rules_dir, catalog)` returns (errors, warnings) for
`hotline rules check`. Format and semantics: docs/sla.md.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from app.reference.catalog import Catalog
from app.reference.loader import (
    ID,
    ReferenceDataError,
    YamlChecks,
    did_you_mean,
    item_line,
    key_line,
    line_of,
    read_yaml,
)
from app.routing.schema import CHANNELS, PRIORITIES, WEEKDAYS
from app.sla.calendar import DEFAULT_TZ, Calendar, Period, parse_duration, parse_periods
from app.sla.policy import (
    CONDITIONS,
    DEFAULT_WARNING_AT,
    TARGETS,
    Conditions,
    Policy,
    SlaConfig,
    Target,
)

SLA_FILE = "sla.yaml"
TOP_KEYS: tuple[str, ...] = ("default_calendar", "calendars", "policies")
CALENDAR_KEYS: tuple[str, ...] = (
    "description",
    "timezone",
    "always_open",
    "weekly",
    "holidays",
    "extra_days_off",
    "extra_working_days",
)
POLICY_KEYS: tuple[str, ...] = (
    "id",
    "description",
    "when",
    "acknowledge",
    "resolve",
    "calendar",
    "warning_at",
)
TARGET_KEYS: tuple[str, ...] = ("duration", "mode")
MODES: tuple[str, ...] = ("working", "calendar")
# Longest target accepted: beyond a year a due is surely a typo ("50d" meant "5d"?).
MAX_TARGET_SECONDS = 366 * 86400


@dataclass(frozen=True, slots=True)
class SlaProblem:
    """An error or warning about sla.yaml, naming file, line and the policy or calendar."""

    file: str
    line: int | None
    message: str
    policy_id: str | None = None
    calendar_id: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        if self.policy_id:
            who = f" policy {self.policy_id}:"
        elif self.calendar_id:
            who = f" calendar {self.calendar_id}:"
        else:
            who = ""
        return f"{where}:{who} {self.message}"


class SlaConfigError(Exception):
    """sla.yaml does not load; `errors` lists every problem found, `warnings` too."""

    def __init__(self, errors: list[SlaProblem], warnings: list[SlaProblem] | None = None):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors
        self.warnings = warnings or []


# -- line numbers -----------------------------------------------------------------------------


# -- the reader -------------------------------------------------------------------------------


class _Reader(YamlChecks):
    """Validates sla.yaml piece by piece, collecting problems instead of stopping at the first."""

    def __init__(self, path: Path, catalog: Catalog) -> None:
        self.file = str(path)
        self.catalog = catalog
        self.notes: dict[date, str] = {}  # override notes of the calendar being read
        self.kinds = sorted({u.kind for u in catalog.units.values()})
        self.errors: list[SlaProblem] = []
        self.warnings: list[SlaProblem] = []
        self.policy_id: str | None = None
        self.calendar_id: str | None = None

    def error(self, line: int | None, message: str) -> None:
        self.errors.append(SlaProblem(self.file, line, message, self.policy_id, self.calendar_id))

    def warn(self, line: int | None, message: str) -> None:
        self.warnings.append(SlaProblem(self.file, line, message, self.policy_id, self.calendar_id))

    def unknown_keys(self, node: dict, allowed: Collection[str], what: str) -> None:
        for key in node:
            if key not in allowed:
                self.error(
                    key_line(node, key),
                    f"unknown key '{key}' in {what}{did_you_mean(str(key), allowed)}; "
                    f"allowed: {', '.join(allowed)}",
                )

    # -- calendars ----------------------------------------------------------------------------

    def read_calendars(self, node: Any, line: int | None) -> dict[str, Calendar]:
        if node is None:
            self.error(line, "'calendars' is required: at least the calendars units.yaml uses")
            return {}
        if not isinstance(node, dict):
            self.error(line, "'calendars' must be a mapping of calendar id to calendar")
            return {}
        calendars = {}
        for code, body in node.items():
            code = str(code)
            self.calendar_id = code
            calendar = self.read_calendar(code, body, key_line(node, code))
            if calendar is not None:
                calendars[code] = calendar
        self.calendar_id = None
        return calendars

    def read_calendar(self, code: str, node: Any, line: int | None) -> Calendar | None:
        if not ID.match(code):
            self.error(line, "a calendar id is lower-case letters, digits, '.', '_' or '-'")
            return None
        if not isinstance(node, dict):
            self.error(line, "a calendar must be a mapping (timezone, weekly, holidays, ...)")
            return None
        before = len(self.errors)
        self.unknown_keys(node, CALENDAR_KEYS, "a calendar")
        tz = node.get("timezone", DEFAULT_TZ)
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            self.error(key_line(node, "timezone"), f"unknown time zone {tz!r}")
            tz = DEFAULT_TZ
        always = node.get("always_open", False)
        if not isinstance(always, bool):
            self.error(key_line(node, "always_open"), "'always_open' must be true or false")
            always = False
        if always:
            for key in ("weekly", "holidays", "extra_days_off", "extra_working_days"):
                if key in node:
                    self.error(
                        key_line(node, key),
                        f"'{key}' makes no sense on an always-open (24x7) calendar",
                    )
            weekly: dict[int, tuple[Period, ...]] = {}
            country: str | None = None
            off: frozenset[date] = frozenset()
            extra: dict[date, tuple[Period, ...]] = {}
        else:
            weekly = self.read_weekly(node.get("weekly"), line)
            if weekly and not any(weekly.values()):
                # Without weekly working time a due could never be found.
                self.error(key_line(node, "weekly"), "no working time in 'weekly'")
            country = self.read_country(node)
            self.notes = {}
            off = frozenset(self.read_days(node, "extra_days_off"))
            extra = self.read_days(node, "extra_working_days")
            if clash := sorted(off & extra.keys()):
                self.error(
                    key_line(node, "extra_working_days"),
                    "both an extra day off and an extra working day: "
                    + ", ".join(d.isoformat() for d in clash),
                )
        if len(self.errors) > before:
            return None
        try:
            return Calendar(
                code=code,
                tz=tz,
                weekly=weekly,
                always_open=always,
                holiday_country=country,
                extra_days_off=off,
                extra_working_days=extra,
                override_notes=dict(self.notes) if not always else {},
            )
        except ValueError as exc:
            self.error(line, str(exc))
            return None

    def read_weekly(self, node: Any, line: int | None) -> dict[int, tuple[Period, ...]]:
        if node is None:
            self.error(line, "'weekly' is required (or 'always_open: true' for 24x7)")
            return {}
        if not isinstance(node, dict):
            self.error(
                line_of(node) or line, "'weekly' must map days (mon, mon-fri, ...) to periods"
            )
            return {}
        weekly: dict[int, tuple[Period, ...]] = {}
        for key, value in node.items():
            at = key_line(node, key)
            days = _weekdays(str(key))
            if days is None:
                self.error(
                    at,
                    f"bad weekday '{key}': use {', '.join(WEEKDAYS)} or a range like mon-fri",
                )
                continue
            if value is None:
                value = ""
            if not isinstance(value, str):
                self.error(
                    at, f'periods must be text like "08:00-12:00, 13:30-17:00", got {value!r}'
                )
                continue
            try:
                periods = parse_periods(value)
            except ValueError as exc:
                self.error(at, str(exc))
                continue
            for day in days:
                if day in weekly:
                    self.error(at, f"{WEEKDAYS[day]} is given twice in 'weekly'")
                weekly[day] = periods
        return weekly

    def read_country(self, node: dict) -> str | None:
        value = node.get("holidays", "VN")
        line = key_line(node, "holidays")
        if value is None or value is False or (isinstance(value, str) and value.lower() == "none"):
            return None
        if not isinstance(value, str) or value.upper() not in holidays.list_supported_countries():
            self.error(
                line,
                f"'holidays' must be a country code known to the holidays package (VN) or none, "
                f"got {value!r}",
            )
            return None
        return value.upper()

    def read_days(self, node: dict, key: str) -> dict[date, tuple[Period, ...]]:
        """`extra_days_off` / `extra_working_days`: dates, or {date, note[, periods]} mappings."""
        value = node.get(key)
        line = key_line(node, key)
        if value is None:
            return {}
        if not isinstance(value, list):
            self.error(line, f"'{key}' must be a list of dates (YYYY-MM-DD) or {{date, note}}")
            return {}
        working = key == "extra_working_days"
        allowed = ("date", "note", "periods") if working else ("date", "note")
        out: dict[date, tuple[Period, ...]] = {}
        for index, item in enumerate(value):
            at = item_line(value, index, line)
            periods: tuple[Period, ...] = ()
            day = item
            if isinstance(item, dict):
                at = line_of(item) or at
                self.unknown_keys(item, allowed, f"'{key}'")
                day = item.get("date")
                raw = item.get("periods")
                if working and raw is not None:
                    try:
                        periods = parse_periods(str(raw))
                    except ValueError as exc:
                        self.error(at, str(exc))
                    if not periods:
                        self.error(at, "'periods' of an extra working day cannot be empty")
            if isinstance(day, str):
                with contextlib.suppress(ValueError):
                    day = date.fromisoformat(day.strip())
            if isinstance(day, datetime) or not isinstance(day, date):
                self.error(at, f"'{key}': expected a date like 2026-01-02, got {day!r}")
                continue
            if day in out:
                self.error(at, f"'{key}': {day.isoformat()} is listed twice")
            out[day] = periods
            if isinstance(item, dict) and item.get("note"):
                self.notes[day] = str(item["note"]).strip()
        return out

    # -- policies -----------------------------------------------------------------------------

    def read_policy(self, node: Any, line: int | None, calendars: Collection[str]) -> Policy | None:
        self.policy_id = None
        if not isinstance(node, dict):
            self.error(line, "a policy must be a mapping with 'id', 'acknowledge' and 'resolve'")
            return None
        line = line_of(node) or line
        policy_id = self.policy_id = self.read_id(node, line, "policy")
        before = len(self.errors)
        self.unknown_keys(node, POLICY_KEYS, "a policy")
        description = self.read_description(node)
        when = self.read_when(node.get("when"), key_line(node, "when") if "when" in node else line)
        targets: dict[str, Target | None] = {}
        for name in TARGETS:
            if name not in node:
                self.error(line, f"a policy needs '{name}' (a duration like 30m, 8h or 5d)")
                targets[name] = None
            else:
                targets[name] = self.read_target(node[name], key_line(node, name), name)
        calendar = node.get("calendar")
        if calendar is not None and (not isinstance(calendar, str) or calendar not in calendars):
            self.error(
                key_line(node, "calendar"),
                f"unknown calendar {calendar!r}{did_you_mean(str(calendar), calendars)}; "
                f"defined: {', '.join(calendars) or 'none'}",
            )
        warning_at = node.get("warning_at", DEFAULT_WARNING_AT)
        if (
            isinstance(warning_at, bool)
            or not isinstance(warning_at, int | float)
            or not 0 < warning_at < 1
        ):
            self.error(
                key_line(node, "warning_at"),
                f"'warning_at' is the share of the target elapsed, strictly between 0 and 1 "
                f"(e.g. 0.8), got {warning_at!r}",
            )
        ack, resolve = targets["acknowledge"], targets["resolve"]
        if len(self.errors) > before or policy_id is None or when is None or not ack or not resolve:
            return None
        policy = Policy(
            id=policy_id,
            acknowledge=ack,
            resolve=resolve,
            when=when,
            calendar=calendar,
            warning_at=float(warning_at),
            description=description,
            file=self.file,
            line=line,
        )
        return policy

    def read_when(self, node: Any, line: int | None) -> Conditions | None:
        if node is None:
            return Conditions()
        if not isinstance(node, dict):
            self.error(line, "'when' must be a mapping of conditions")
            return None
        for key in node:
            if key not in CONDITIONS:
                self.error(
                    key_line(node, key),
                    f"unknown condition '{key}'{did_you_mean(str(key), CONDITIONS)}; "
                    f"one of {', '.join(CONDITIONS)}",
                )
        catalog = self.catalog
        known: dict[str, tuple[Collection[str], Any]] = {
            "unit": (catalog.units, lambda t: catalog.suggest_units(t, 3)),
            "unit_kind": (self.kinds, None),
            "topic": (catalog.topics, lambda t: catalog.suggest_topics(t, 3)),
            "priority": (PRIORITIES, None),
            "channel": (CHANNELS, None),
        }
        parsed: dict[str, frozenset[str]] = {}
        ok = True
        for key in CONDITIONS:
            if key not in node:
                continue
            at = key_line(node, key)
            texts = self.texts(node[key], at, key)
            if texts is None:
                ok = False
                continue
            allowed, suggest = known[key]
            for text in texts:
                if text not in allowed:
                    close = suggest(text) if suggest else _close(text, allowed)
                    hint = f" (did you mean {', '.join(close)}?)" if close else ""
                    listed = "" if len(allowed) > 12 else f"; one of {', '.join(allowed)}"
                    self.error(at, f"unknown {key.replace('_', ' ')} '{text}'{hint}{listed}")
                    ok = False
            parsed[key] = frozenset(texts)
        return Conditions(**parsed) if ok else None

    def read_target(self, value: Any, line: int | None, name: str) -> Target | None:
        mode = "working"
        text = value
        if isinstance(value, dict):
            line = line_of(value) or line
            before = len(self.errors)
            self.unknown_keys(value, TARGET_KEYS, f"'{name}'")
            text = value.get("duration")
            if text is None and len(self.errors) > before:
                return None  # a misspelt 'duration', reported above
            mode = value.get("mode", "working")
            if mode not in MODES:
                self.error(line, f"{name}: 'mode' must be working or calendar, got {mode!r}")
                return None
        if not isinstance(text, str):
            self.error(
                line,
                f"{name}: expected a duration like 30m, 8h, 5d, or "
                f"{{duration: 8h, mode: calendar}}, got {text!r}",
            )
            return None
        try:
            duration = parse_duration(text)
        except ValueError as exc:
            self.error(line, f"{name}: {exc}")
            return None
        nominal = duration.resolve()
        if nominal == 0:
            self.error(line, f"{name}: the target must be longer than zero")
            return None
        if nominal > MAX_TARGET_SECONDS:
            self.error(line, f"{name}: {text!r} is longer than a year; a typo?")
            return None
        return Target(duration, calendar_time=mode == "calendar")


def _close(word: str, options: Collection[str]) -> list[str]:
    return difflib.get_close_matches(word, list(options), n=3, cutoff=0.6)


def _weekdays(text: str) -> list[int] | None:
    """'mon' -> [0]; 'mon-fri' -> [0..4]; a range may wrap ('sat-mon')."""
    parts = [p.strip().lower() for p in text.split("-")]
    if len(parts) > 2 or any(p not in WEEKDAYS for p in parts):
        return None
    first, last = WEEKDAYS.index(parts[0]), WEEKDAYS.index(parts[-1])
    days = [first]
    while days[-1] != last:
        days.append((days[-1] + 1) % 7)
    return days


# -- whole-file checks ------------------------------------------------------------------------


def _units_matching(policy: Policy, catalog: Catalog) -> set[str]:
    """Units of the catalog that the policy's unit and unit_kind conditions accept."""
    when = policy.when
    return {
        u.code
        for u in catalog.units.values()
        if (when.unit is None or u.code in when.unit)
        and (when.unit_kind is None or u.kind in when.unit_kind)
    }


def _covers(earlier: Policy, later: Policy, catalog: Catalog) -> bool:
    """Every assignment `later` accepts is accepted by `earlier` (condition by condition)."""
    a, b = earlier.when, later.when
    if (a.unit is not None or a.unit_kind is not None) and not _units_matching(
        later, catalog
    ) <= _units_matching(earlier, catalog):
        return False
    if a.topic is not None:
        if b.topic is None:
            return False
        if not all(any(t in catalog.topic_subtree(x) for x in a.topic) for t in b.topic):
            return False
    for key in ("priority", "channel"):
        wanted, given = getattr(a, key), getattr(b, key)
        if wanted is not None and (given is None or not given <= wanted):
            return False
    return True


def _check_order(reader: _Reader, policies: list[Policy], calendars: dict[str, Calendar]) -> None:
    """The default comes last and alone; shadowed policies; odd targets."""
    catalog = reader.catalog
    # The default: the last policy, and only it, has no conditions.
    for policy in policies[:-1]:
        if policy.when.is_empty:
            reader.policy_id = policy.id
            reader.error(
                policy.line,
                "only the last policy (the default) may have no conditions; "
                "every policy after this one could never match",
            )
    if policies and not policies[-1].when.is_empty:
        reader.policy_id = policies[-1].id
        reader.error(
            policies[-1].line,
            "no default policy: the last policy must have no 'when', so that every "
            "assignment gets a policy",
        )
    # Shadowed or unsatisfiable policies (warnings: they do no harm, but surely are mistakes).
    for index, policy in enumerate(policies):
        reader.policy_id = policy.id
        when = policy.when
        if (when.unit is not None or when.unit_kind is not None) and not _units_matching(
            policy, catalog
        ):
            reader.warn(policy.line, "can never match: none of its units is of its unit_kind")
            continue
        if when.is_empty:
            continue
        for earlier in policies[:index]:
            if _covers(earlier, policy, catalog):
                reader.warn(
                    policy.line,
                    f"never chosen by its conditions: policy {earlier.id} ({earlier.where}) "
                    "matches everything it matches (a routing rule may still name it)",
                )
                break
    # Targets: acknowledging should not take longer than resolving.
    for policy in policies:
        reader.policy_id = policy.id
        usable = [policy.calendar] if policy.calendar else list(calendars)
        for code in usable:
            cal = calendars.get(code) if code else None
            if cal is None:
                continue
            if policy.acknowledge.seconds(cal) > policy.resolve.seconds(cal):
                reader.warn(
                    policy.line,
                    f"'acknowledge' ({policy.acknowledge}) is longer than 'resolve' "
                    f"({policy.resolve}) on calendar {code}",
                )
                break
    reader.policy_id = None


def _check_unit_calendars(
    reader: _Reader,
    policies: list[Policy],
    calendars: Collection[str],
    default_calendar: str | None,
    line: int | None,
) -> None:
    """Every unit must end up on a defined calendar under every policy that can apply to it."""
    catalog = reader.catalog
    for unit in catalog.units.values():
        code = unit.calendar or default_calendar
        if code is None:
            if any(p.calendar is None for p in policies):
                reader.error(
                    line,
                    f"unit {unit.code} has no calendar in units.yaml and sla.yaml sets no "
                    "'default_calendar'",
                )
        elif code not in calendars:
            reader.error(
                line,
                f"unit {unit.code} uses calendar '{code}', which sla.yaml does not define"
                f"{did_you_mean(code, calendars)}",
            )


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
) -> tuple[SlaConfig | None, list[SlaProblem], list[SlaProblem]]:
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
        _check_order(reader, policies, calendars)
    calendars_line = key_line(doc, "calendars") if "calendars" in doc else None
    _check_unit_calendars(reader, policies, calendar_names, default_calendar, calendars_line)
    reader.policy_id = reader.calendar_id = None
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


def check_sla(rules_dir: Path, catalog: Catalog) -> tuple[list[SlaProblem], list[SlaProblem]]:
    """(errors, warnings) for sla.yaml, for `hotline rules check`; no errors: `load_sla` works."""
    _, errors, warnings = read_sla(rules_dir, catalog)
    return errors, warnings


__all__ = [
    "SLA_FILE",
    "SlaConfigError",
    "SlaProblem",
    "check_sla",
    "load_sla",
    "read_sla",
    "sla_version",
]
