"""Shared helpers for the routing tests (no tests here): catalogs, rule files, facts, and a
naive reference router written independently of the compiled engine."""

import textwrap
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from app.catalog.catalog import Area, Catalog, Topic, Unit
from app.catalog.loader import load_catalog
from app.routing import Ruleset, TicketFacts, load_ruleset
from app.routing.compiler import compile_rules
from app.routing.schema import Decision, KindByArea, Rule, RuleSource
from app.text import fold

ROOT = Path(__file__).resolve().parents[2]
RULES_DIR = ROOT / "routing_rules"
HCM = ZoneInfo("Asia/Ho_Chi_Minh")


@cache
def hanoi() -> Catalog:
    return load_catalog(RULES_DIR)


def small_catalog() -> Catalog:
    """vn > p1 (w11, w12 > v121), p2 (w21, w22); topics a(.x,.y), b(.x); police only in p1,
    ward committees for p1, w11, w21 (w12, v121 fall back to p1's; w22 and p2 have none)."""
    areas = {
        "vn": Area("vn", "Việt Nam", "country"),
        "p1": Area("p1", "Tỉnh Một", "province", "vn"),
        "p2": Area("p2", "Tỉnh Hai", "province", "vn"),
        "w11": Area("w11", "Phường Mười Một", "ward", "p1"),
        "w12": Area("w12", "Phường Mười Hai", "ward", "p1"),
        "v121": Area("v121", "Thôn Một Hai Một", "village", "w12"),
        "w21": Area("w21", "Xã Hai Mốt", "commune", "p2"),
        "w22": Area("w22", "Xã Hai Hai", "commune", "p2"),
    }
    topics = {
        "a": Topic("a", "A"),
        "a.x": Topic("a.x", "A x", "a"),
        "a.y": Topic("a.y", "A y", "a"),
        "b": Topic("b", "B"),
        "b.x": Topic("b.x", "B x", "b"),
    }
    units = {
        "triage": Unit("triage", "Triage", "tong-dai", ("vn",)),
        "water": Unit("water", "Water", "cong-ty", ("vn",)),
        "power": Unit("power", "Power", "cong-ty", ("vn",)),
        "police-p1": Unit("police-p1", "Police 1", "cong-an", ("p1",)),
        "ubnd-p1": Unit("ubnd-p1", "UBND P1", "ubnd", ("p1",)),
        "ubnd-w11": Unit("ubnd-w11", "UBND W11", "ubnd", ("w11",)),
        "ubnd-w21": Unit("ubnd-w21", "UBND W21", "ubnd", ("w21",)),
    }
    return Catalog(areas=areas, topics=topics, units=units, triage_unit="triage")


def write_rules(directory: Path, text: str, extra: dict[str, str] | None = None) -> Path:
    """Write rules.yaml (and rules.d/<name> files) into `directory`; returns the directory."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "rules.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    for name, body in (extra or {}).items():
        (directory / "rules.d").mkdir(exist_ok=True)
        (directory / "rules.d" / name).write_text(textwrap.dedent(body), encoding="utf-8")
    return directory


def ruleset_from(directory: Path, text: str, catalog: Catalog | None = None) -> Ruleset:
    return load_ruleset(write_rules(directory, text), catalog or hanoi())


def unchecked_ruleset(
    rules: list[Rule], catalog: Catalog, fallback: str, timezone: str = "Asia/Ho_Chi_Minh"
) -> Ruleset:
    """Compile rules built in code, skipping the loader's validation."""
    source = RuleSource(tuple(rules), fallback, timezone, "test")
    return compile_rules(source, catalog)


def facts(**overrides) -> TicketFacts:
    values = {
        "topic": None,
        "area": None,
        "channel": "phone",
        "priority": "normal",
        "description": "",
        "received_at": datetime(2026, 3, 4, 10, 0, tzinfo=HCM),  # a Wednesday
        "confidential": False,
    }
    values.update(overrides)
    return TicketFacts(**values)


def naive_accepts(rule: Rule, catalog: Catalog, f: TicketFacts, timezone: str) -> bool:
    """Do all of the rule's conditions hold? Read literally from the spec."""
    local = f.received_at.astimezone(ZoneInfo(timezone))
    minute = local.hour * 60 + local.minute
    text = f" {fold(f.description)} "

    def in_window(start: int, end: int) -> bool:
        if start < end:
            return start <= minute < end
        return minute >= start or minute < end

    w = rule.when
    topic_chain = catalog.topic_ancestors(f.topic) if f.topic else []
    area_chain = catalog.area_ancestors(f.area) if f.area else []
    return not (
        (w.topic is not None and not set(w.topic) & set(topic_chain))
        or (w.area is not None and not {c for ref in w.area for c in ref.codes} & set(area_chain))
        or (w.channel is not None and f.channel not in w.channel)
        or (w.priority is not None and f.priority not in w.priority)
        or (w.confidential is not None and f.confidential != w.confidential)
        or (w.weekdays is not None and local.weekday() not in w.weekdays)
        or (w.hours is not None and not any(in_window(h.start, h.end) for h in w.hours))
        or (w.keywords is not None and not any(f" {fold(k)} " in text for k in w.keywords))
    )


def naive_resolve(target, catalog: Catalog, area: str | None) -> str | None:
    if isinstance(target, KindByArea):
        if area is None:
            return None
        found = list(catalog.units_serving(area, target.kind))
        return found[0].code if found else None
    return target.code


def naive_route(
    source: RuleSource, catalog: Catalog, f: TicketFacts, exclude: frozenset[str] = frozenset()
) -> Decision:
    """The spec, read literally: try every rule in file order, first full match wins."""
    for rule in source.rules:
        if not naive_accepts(rule, catalog, f, source.timezone):
            continue
        unit = naive_resolve(rule.assign, catalog, f.area)
        if unit is None or unit in exclude:
            continue
        co: list[str] = []
        for target in rule.co_handlers:
            code = naive_resolve(target, catalog, f.area)
            if code and code != unit and code not in exclude and code not in co:
                co.append(code)
        return Decision(
            unit, rule.id, source.version, rule.priority, rule.sla_policy, tuple(co), rule.tags
        )
    if source.fallback in exclude:
        return Decision(None, None, source.version)
    return Decision(source.fallback, None, source.version)
