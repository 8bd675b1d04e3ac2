"""Entry points: load (validate + compile) a ruleset, or just check the files.

ruleset = load_ruleset(Path("routing_rules"))        # raises RulesError
decision = ruleset.route(facts, exclude_units=frozenset({"ubnd-phuong-lang"}))
errors, warnings = check_rules(Path("routing_rules"))
"""

from collections.abc import Callable, Collection
from dataclasses import replace
from pathlib import Path

from app.catalog.catalog import Catalog
from app.catalog.loader import load_catalog
from app.catalog.source import ReferenceDataError, SourceProblem
from app.routing.area_units import AreaUnitIndex
from app.routing.compiler import compile_rules
from app.routing.engine import Ruleset
from app.routing.loader import read_rules
from app.routing.schema import RulesError, RuleSource
from app.routing.shadow import shadow_warnings


def _catalog(rules_dir: Path) -> Catalog:
    try:
        return load_catalog(rules_dir)
    except ReferenceDataError as exc:
        raise RulesError(exc.errors) from exc
    except OSError as exc:
        raise RulesError([SourceProblem(str(exc.filename or rules_dir), None, str(exc))]) from exc


def load_ruleset(
    rules_dir: Path,
    catalog: Catalog | None = None,
    *,
    sla_policies: Collection[str] | None = None,
    relabel: Callable[[str], str] | None = None,
) -> Ruleset:
    """Validate and compile the rule files; raise RulesError (errors and warnings) if invalid.

    `catalog` defaults to the reference data in the same directory. `sla_policies`, when given,
    is the set of policy ids `set: {sla_policy: ...}` may name. `relabel`, when given, rewrites
    the file names in problems and rule locations (a proposal checked in a temporary directory
    reports the names its author gave).
    """
    rules_dir = Path(rules_dir)
    catalog = catalog if catalog is not None else _catalog(rules_dir)
    serving = AreaUnitIndex(catalog)
    source, errors, warnings = read_rules(
        rules_dir, catalog, sla_policies=sla_policies, serving=serving
    )
    if relabel is not None:
        source, errors, warnings = _relabelled(relabel, source, errors, warnings)
    if errors or source is None:
        raise RulesError(errors, warnings)
    ruleset = compile_rules(source, catalog, serving=serving)
    ruleset.warnings = [*warnings, *shadow_warnings(ruleset.compiled)]
    return ruleset


def check_rules(
    rules_dir: Path,
    catalog: Catalog | None = None,
    *,
    sla_policies: Collection[str] | None = None,
    relabel: Callable[[str], str] | None = None,
) -> tuple[list[SourceProblem], list[SourceProblem]]:
    """(errors, warnings) for the rule files; no errors means `load_ruleset` succeeds."""
    try:
        ruleset = load_ruleset(rules_dir, catalog, sla_policies=sla_policies, relabel=relabel)
    except RulesError as exc:
        return exc.errors, exc.warnings
    return [], ruleset.warnings


def _relabelled(
    relabel: Callable[[str], str],
    source: RuleSource | None,
    errors: list[SourceProblem],
    warnings: list[SourceProblem],
) -> tuple[RuleSource | None, list[SourceProblem], list[SourceProblem]]:
    def problems(items: list[SourceProblem]) -> list[SourceProblem]:
        return [replace(p, file=relabel(p.file), message=relabel(p.message)) for p in items]

    if source is not None:
        source = replace(
            source,
            rules=tuple(replace(r, file=relabel(r.file)) for r in source.rules),
            files=tuple(relabel(f) for f in source.files),
        )
    return source, problems(errors), problems(warnings)
