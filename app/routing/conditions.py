"""Validate the `when` of a rule: every condition checked against the catalog and the shared
vocabulary, each problem reported with its line.

Part of the rule loader (app.routing.loader), which mixes this reader in.
"""

import re
from typing import Any

from app.catalog.catalog import AreaAmbiguous, AreaConflict, AreaNotFound, Catalog, split_prefix
from app.catalog.source import YamlChecks, did_you_mean, key_line
from app.catalog.vocabulary import CHANNELS, PRIORITIES, WEEKDAYS, weekday_range
from app.routing.schema import CONDITION_ORDER, AreaRef, HoursWindow, When
from app.text import fold

_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class ConditionReader(YamlChecks):
    """Reads `when` mappings; needs `catalog`."""

    catalog: Catalog

    def read_when(self, node: Any, line: int | None) -> When | None:
        if node is None:
            return When()  # matches every ticket
        if not self.when_mapping(node, line, CONDITION_ORDER, listed=False):
            return None
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
            found = weekday_range(text, abbreviate=True)  # a range may wrap: fri-mon
            if found is None:
                self.error(
                    line,
                    f"malformed weekdays '{text}': use {', '.join(WEEKDAYS)} or a range like mon-fri",
                )
                return None
            days.update(found)
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
