"""Routing: declarative rules in routing_rules/ decide which unit gets each ticket.

Pure (no DB, no web, no clock). Modules: schema (types), loader (files -> validated rules;
conditions and actions validate the parts of a rule), area_units (the unit of a kind serving an
area), compiler (rules -> indexed Ruleset), engine (route), explain (trace), shadow (warnings),
textmatch (folding, phrase index), ruleset (load/check entry points), cases (rule cases). See
docs/routing.md.
"""

from app.catalog.source import SourceProblem
from app.routing.cases import CaseReport, CaseResult, run_cases
from app.routing.engine import Ruleset
from app.routing.explain import Explanation, RuleTrace, explain
from app.routing.loader import ruleset_version
from app.routing.ruleset import check_rules, load_ruleset
from app.routing.schema import Decision, RulesError, TicketFacts

__all__ = [
    "CaseReport",
    "CaseResult",
    "Decision",
    "Explanation",
    "RuleTrace",
    "RulesError",
    "Ruleset",
    "SourceProblem",
    "TicketFacts",
    "check_rules",
    "explain",
    "load_ruleset",
    "ruleset_version",
    "run_cases",
]
