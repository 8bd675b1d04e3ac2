"""Read the `policies` of sla.yaml: conditions, targets, calendar and warning share.

Part of the SLA loader (app.sla.loader), which mixes this reader in. Format: docs/sla.md.
"""

from collections.abc import Collection
from typing import Any

from app.catalog.catalog import Catalog
from app.catalog.source import YamlChecks, close_matches, did_you_mean, key_line, line_of
from app.catalog.vocabulary import CHANNELS, PRIORITIES
from app.sla.calendar import parse_duration
from app.sla.policy import CONDITIONS, DEFAULT_WARNING_AT, TARGETS, Conditions, Policy, Target

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


class PolicyReader(YamlChecks):
    """Reads policies, naming the one being read in every problem; needs `catalog` and
    `kinds` (the unit kinds of the catalog, sorted)."""

    catalog: Catalog
    kinds: list[str]

    def _policy(self, policy_id: str | None) -> None:
        self.subject, self.subject_id = ("policy", policy_id) if policy_id else (None, None)

    def read_policy(self, node: Any, line: int | None, calendars: Collection[str]) -> Policy | None:
        self._policy(None)
        if not isinstance(node, dict):
            self.error(line, "a policy must be a mapping with 'id', 'acknowledge' and 'resolve'")
            return None
        line = line_of(node) or line
        policy_id = self.read_id(node, line, "policy")
        self._policy(policy_id)
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
        if not self.when_mapping(node, line, CONDITIONS, listed=True):
            return None
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
                    close = suggest(text) if suggest else close_matches(text, allowed)
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
