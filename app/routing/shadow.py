"""Warnings for rules fully shadowed by an earlier rule.

Rule B is shadowed by an earlier rule A when every ticket B's conditions accept is also accepted
by A's, condition kind by condition kind (A unconstrained, or A's set contains B's: topic and
area trees expanded, hours minute by minute, a B keyword containing an A keyword as whole words).
Then B can only win when A's unit has been excluded (it rejected the ticket); if A and B assign
the same target, B can never win at all. Shadowing by a combination of several earlier rules is
not detected.
"""

from app.catalog.source import SourceProblem
from app.routing.engine import CompiledRule
from app.routing.schema import KindByArea


def _covers(a: frozenset | None, b: frozenset | None) -> bool:
    return a is None or (b is not None and b <= a)


def _covers_bits(a: int | None, b: int | None) -> bool:
    return a is None or (b is not None and b & ~a == 0)


def subsumes(a: CompiledRule, b: CompiledRule) -> bool:
    """Every ticket whose facts satisfy b's conditions satisfies a's (and a's unit resolves)."""
    if not (
        _covers(a.topics, b.topics)
        and _covers(a.channels, b.channels)
        and _covers(a.priorities, b.priorities)
        and (a.confidential is None or a.confidential == b.confidential)
        and _covers_bits(a.weekday_mask, b.weekday_mask)
        and _covers_bits(a.minute_bits, b.minute_bits)
        and _covers(a.areas, b.areas)
    ):
        return False
    # An assignment by area needs the ticket to have an area; b guarantees one only through an
    # area condition or its own assignment by area (validation ensures catalog areas resolve).
    a_needs_area = isinstance(a.rule.assign, KindByArea) and a.areas is None
    if a_needs_area and b.areas is None and not isinstance(b.rule.assign, KindByArea):
        return False
    if a.keywords is None:
        return True
    if b.keywords is None:
        return False
    return all(any(ka in kb for ka in a.keywords) for kb in b.keywords)


def shadow_warnings(rules: tuple[CompiledRule, ...] | list[CompiledRule]) -> list[SourceProblem]:
    """One warning per shadowed rule, naming an earlier rule that makes it dead if there is one,
    else the first earlier rule that shadows it."""
    warnings = []
    for j, b in enumerate(rules):
        shadows = [a for a in rules[:j] if subsumes(a, b)]
        if not shadows:
            continue
        rule = b.rule
        dead = [a for a in shadows if a.rule.assign == rule.assign]
        a = (dead or shadows)[0]
        if dead:
            message = (
                f"fully shadowed by rule {a.rule.id} ({a.rule.where}), which accepts every "
                f"ticket this rule does and assigns the same {rule.assign}: it can never match"
            )
        else:
            message = (
                f"fully shadowed by rule {a.rule.id} ({a.rule.where}), which accepts every "
                f"ticket this rule does: it only applies after {a.rule.assign} has "
                "rejected the ticket"
            )
        warnings.append(SourceProblem(rule.file, rule.line, message, "rule", rule.id))
    return warnings
