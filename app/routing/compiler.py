"""Compile validated rules into a Ruleset: expand trees, fold keywords, build the bitmask index.

For each indexed condition kind the index maps a value (a topic code, an area code, a channel,
a priority, True/False for confidential) to the bitmask of rules whose condition of that kind
holds for it; values not in the map get the mask of the rules that do not constrain that kind.
Bit i is rule i in file order, so walking a mask from the lowest bit is walking the file.
"""

from collections.abc import Iterable
from typing import Any

from app.catalog.catalog import Catalog
from app.catalog.source import SourceProblem
from app.routing.area_units import AreaUnitIndex
from app.routing.engine import CompiledRule, Ruleset
from app.routing.schema import KindByArea, Rule, RuleSource, Target
from app.routing.textmatch import PhraseIndex, padded


def expand_topics(catalog: Catalog, codes: Iterable[str]) -> frozenset[str]:
    out: set[str] = set()
    for code in codes:
        out |= catalog.topic_subtree(code)
    return frozenset(out)


def expand_areas(catalog: Catalog, codes: Iterable[str]) -> frozenset[str]:
    out: set[str] = set()
    for code in codes:
        out |= catalog.area_subtree(code)
    return frozenset(out)


def _resolve(target: Target, serving: AreaUnitIndex) -> tuple[str | None, dict[str, str] | None]:
    if isinstance(target, KindByArea):
        return None, serving.table(target.kind)
    return target.code, None


def compile_rule(index: int, rule: Rule, catalog: Catalog, serving: AreaUnitIndex) -> CompiledRule:
    w = rule.when
    minute_bits = minute_table = None
    if w.hours is not None:
        table = bytearray(1440)
        for window in w.hours:
            for minute in range(1440):
                if window.contains(minute):
                    table[minute] = 1
        minute_table = bytes(table)
        minute_bits = sum(1 << m for m in range(1440) if table[m])
    weekday_mask = sum(1 << d for d in w.weekdays) if w.weekdays is not None else None
    keywords = (
        tuple(dict.fromkeys(padded(k) for k in w.keywords)) if w.keywords is not None else None
    )
    unit, by_area = _resolve(rule.assign, serving)
    co: list[str | dict[str, str]] = []
    for target in rule.co_handlers:
        code, table_ = _resolve(target, serving)
        co.append(code if code is not None else table_)  # type: ignore[arg-type]
    return CompiledRule(
        index=index,
        rule=rule,
        topics=expand_topics(catalog, w.topic) if w.topic is not None else None,
        areas=(
            expand_areas(catalog, (c for ref in w.area for c in ref.codes))
            if w.area is not None
            else None
        ),
        channels=frozenset(w.channel) if w.channel is not None else None,
        priorities=frozenset(w.priority) if w.priority is not None else None,
        confidential=w.confidential,
        weekday_mask=weekday_mask,
        minute_bits=minute_bits,
        minute_table=minute_table,
        keywords=keywords,
        unit=unit,
        by_area=by_area,
        co_handlers=tuple(co),
    )


def _index(values: list[Iterable[Any] | None]) -> tuple[dict[Any, int], int]:
    """(value -> mask of rules accepting it, mask of rules accepting anything)."""
    any_mask = 0
    per_value: dict[Any, list[int]] = {}
    for i, accepted in enumerate(values):
        if accepted is None:
            any_mask |= 1 << i
        else:
            for value in accepted:
                per_value.setdefault(value, []).append(i)
    masks = {}
    for value, indices in per_value.items():
        mask = any_mask
        for i in indices:
            mask |= 1 << i
        masks[value] = mask
    return masks, any_mask


def _keyword_index(rules: list[CompiledRule]) -> tuple[PhraseIndex, int]:
    """(phrase index whose masks are the rules listing each phrase, mask of all rules with a
    keywords condition)."""
    by_phrase: dict[str, int] = {}
    with_keywords = 0
    for r in rules:
        if r.keywords is None:
            continue
        with_keywords |= 1 << r.index
        for phrase in r.keywords:
            by_phrase[phrase] = by_phrase.get(phrase, 0) | 1 << r.index
    return PhraseIndex(by_phrase), with_keywords


def compile_rules(
    source: RuleSource,
    catalog: Catalog,
    *,
    serving: AreaUnitIndex | None = None,
    warnings: list[SourceProblem] | None = None,
) -> Ruleset:
    serving = serving or AreaUnitIndex(catalog)
    compiled = [compile_rule(i, rule, catalog, serving) for i, rule in enumerate(source.rules)]
    conf = _index([None if r.confidential is None else (r.confidential,) for r in compiled])
    conf_masks = {True: conf[0].get(True, conf[1]), False: conf[0].get(False, conf[1])}
    masks = {
        "topic": _index([r.topics for r in compiled]),
        "area": _index([r.areas for r in compiled]),
        "channel": _index([r.channels for r in compiled]),
        "priority": _index([r.priorities for r in compiled]),
        "confidential": (conf_masks, conf[1]),
        "keywords": _keyword_index(compiled),
    }
    return Ruleset(
        rules=compiled,
        fallback=source.fallback,
        timezone=source.timezone,
        version=source.version,
        files=source.files,
        masks=masks,
        warnings=warnings or [],
    )
