"""Validate what a rule does: `assign`, `set`, `co_handlers` and `tags`, and check that every
area a by-area target may meet has a unit of that kind.

Part of the rule loader (app.routing.loader), which mixes this reader in.
"""

import re
from collections.abc import Collection
from typing import Any

from app.catalog.catalog import Catalog
from app.catalog.source import YamlChecks, did_you_mean, item_line, key_line, line_of
from app.catalog.vocabulary import PRIORITIES
from app.routing.area_units import AreaUnitIndex
from app.routing.schema import SET_KEYS, KindByArea, Rule, Target, UnitTarget

_TAG = re.compile(r"^[a-z0-9][a-z0-9._:-]*$")


class ActionReader(YamlChecks):
    """Reads targets and the other actions; needs `catalog`, `serving`, `sla_policies` (None:
    any policy name passes) and `kinds` (the unit kinds of the catalog)."""

    catalog: Catalog
    serving: AreaUnitIndex
    sla_policies: Collection[str] | None
    kinds: set[str]

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
            if not isinstance(kind, str) or kind not in self.kinds:
                self.error(
                    line,
                    f"{what}: unknown unit kind {kind!r}; one of {', '.join(sorted(self.kinds))}",
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
