"""The running ruleset of one app instance: swapped atomically on a valid reload.

Every instance polls the rule files' version on a short interval (and reloads on SIGHUP or
POST /admin/rules/reload), so a new valid ruleset reaches all instances without a restart; an
invalid one is refused with its errors and the running one keeps serving.
"""

import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from app.catalog.catalog import Catalog
from app.catalog.source import SourceProblem
from app.routing.engine import Ruleset
from app.routing.loader import ruleset_version
from app.routing.ruleset import load_ruleset
from app.routing.schema import Decision, RulesError, TicketFacts

log = logging.getLogger("hotline.routing")


@dataclass
class ReloadResult:
    changed: bool
    version: str
    errors: list[SourceProblem] = field(default_factory=list)
    warnings: list[SourceProblem] = field(default_factory=list)


class LiveRuleset:
    def __init__(
        self,
        rules_dir: Path,
        catalog: Catalog,
        now: datetime,
        sla_policies: Collection[str] | None = None,
    ):
        self.rules_dir = rules_dir
        self.catalog = catalog
        self.sla_policies = sla_policies
        self.current: Ruleset = load_ruleset(rules_dir, catalog, sla_policies=sla_policies)
        self.loaded_at = now
        # The version of files last refused, so that polling does not retry (and log) each time.
        self.refused_version: str | None = None
        # Reloads refused so far (the hotline_rules_reload_failures metric follows it).
        self.refusals = 0

    def route(self, facts: TicketFacts, exclude_units: frozenset[str]) -> Decision:
        # One attribute read: a reload replacing `current` mid-request cannot mix two rulesets.
        return self.current.route(facts, exclude_units)

    def reload(self, now: datetime, *, force: bool = True) -> ReloadResult:
        """Load the files again; keep the running ruleset when they are invalid."""
        running = self.current
        on_disk = ruleset_version(self.rules_dir)
        if not force and on_disk in (running.version, self.refused_version):
            return ReloadResult(False, running.version)
        try:
            candidate = load_ruleset(self.rules_dir, self.catalog, sla_policies=self.sla_policies)
        except RulesError as exc:
            self.refused_version = on_disk
            self.refusals += 1
            log.error("rules reload refused, still serving %s:\n%s", running.version, exc)
            return ReloadResult(False, running.version, exc.errors, exc.warnings)
        changed = candidate.version != running.version
        self.current = candidate
        if changed:
            self.loaded_at = now
            log.info("routing rules %s loaded (was %s)", candidate.version, running.version)
        return ReloadResult(changed, candidate.version, [], candidate.warnings)
