"""A proposed change to routing_rules/: some files replaced, validated like `rules check`.

A proposal is a set of files by their name relative to the rules directory (`rules.yaml`,
`rules.d/50-wards.yaml`, `sla.yaml`, `units.yaml`, `topics.yaml`, `areas/hanoi.yaml`); every
file it does not name is the current one. The files are laid out in a temporary directory next
to copies of the current ones and loaded by the same loaders as the running rules, so the
errors are the same `file:line: rule <id>: message` lines that `hotline rules check` prints,
with the file named as the author gave it. Nothing is written anywhere else.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from app.catalog.catalog import Catalog
from app.catalog.loader import load_catalog
from app.catalog.source import ReferenceDataError
from app.routing import RulesError, Ruleset, load_ruleset
from app.sla import SlaConfig, read_sla

SLA_FILE = "sla.yaml"
REFERENCE_FILES = ("topics.yaml", "units.yaml")
_NAME = re.compile(
    r"^(rules\.yaml|sla\.yaml|topics\.yaml|units\.yaml|(rules\.d|areas)/[\w.-]+\.yaml)$"
)
NAMES_HELP = (
    "rules.yaml, rules.d/<name>.yaml, sla.yaml, topics.yaml, units.yaml or areas/<name>.yaml"
)


@dataclass(frozen=True, slots=True)
class ProposalProblem:
    """One error or warning of the proposal: `text` is the `rules check` line."""

    file: str
    line: int | None
    text: str


class ProposalInvalid(Exception):
    """The proposal does not load: every error (and warning), as `rules check` reports them."""

    def __init__(self, errors: list[ProposalProblem], warnings: list[ProposalProblem]):
        super().__init__("\n".join(p.text for p in errors))
        self.errors = errors
        self.warnings = warnings


class BadFileName(ValueError):
    """A proposed file name that is not one of the rule files (see NAMES_HELP)."""

    def __init__(self, name: str):
        super().__init__(f"'{name}' is not a rule file; expected {NAMES_HELP}")
        self.name = name


@dataclass(frozen=True)
class Proposal:
    """A valid proposal, loaded: its ruleset, SLA config and catalog, and which files it names."""

    ruleset: Ruleset
    sla: SlaConfig
    catalog: Catalog
    files: tuple[str, ...]
    warnings: list[ProposalProblem] = field(default_factory=list)

    @property
    def changes_sla(self) -> bool:
        return SLA_FILE in self.files


def check_names(names: Mapping[str, object] | list[str]) -> None:
    """Raise BadFileName for the first name that is not a rule file (no paths outside)."""
    for name in names:
        if not _NAME.match(name) or ".." in name:
            raise BadFileName(name)


def rule_file_names(rules_dir: Path) -> list[str]:
    """The names (relative to `rules_dir`) of the rule files it holds."""
    names = ["rules.yaml", SLA_FILE, *REFERENCE_FILES]
    for folder in ("rules.d", "areas"):
        names += [f"{folder}/{p.name}" for p in sorted((rules_dir / folder).glob("*.yaml"))]
    return [n for n in names if (rules_dir / n).is_file()]


def load_proposal(
    rules_dir: Path,
    files: Mapping[str, str | None],
    *,
    catalog: Catalog,
    label: Callable[[str, bool], str],
) -> Proposal:
    """Lay the proposed files over the current `rules_dir` and load them.

    `files`: relative name -> YAML text (None: the file is removed, e.g. a rules.d file).
    `catalog`: the current reference data, reused when the proposal changes none of it.
    `label(name, proposed)`: how a file is named in problems and explanations.
    Raises BadFileName for a name that is not a rule file, ProposalInvalid when the files do
    not load (rules checked against the proposal's SLA policy ids, as `rules check` does).
    """
    check_names(list(files))
    with tempfile.TemporaryDirectory(prefix="hotline-proposal-") as tmp:
        root = Path(tmp)
        for name in rule_file_names(rules_dir):
            if name not in files:
                (root / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(rules_dir / name, root / name)
        for name, text in files.items():
            if text is not None:
                (root / name).parent.mkdir(parents=True, exist_ok=True)
                (root / name).write_bytes(text.encode("utf-8"))
        prefix = re.compile(re.escape(str(root)) + r"/([\w./-]+)")

        def relabel(text: str) -> str:
            return prefix.sub(lambda m: label(m.group(1), m.group(1) in files), text)

        return _load(root, files, catalog, relabel)


def _load(
    root: Path,
    files: Mapping[str, str | None],
    catalog: Catalog,
    relabel: Callable[[str], str],
) -> Proposal:
    def problem(file: str, line: int | None, text: str) -> ProposalProblem:
        return ProposalProblem(relabel(file), line, relabel(text))

    if any(n in REFERENCE_FILES or n.startswith("areas/") for n in files):
        try:
            catalog = load_catalog(root)
        except ReferenceDataError as exc:
            raise ProposalInvalid(
                [problem(e.file, e.line, str(e)) for e in exc.errors], []
            ) from exc
    sla, sla_errors, sla_warnings = read_sla(root, catalog)
    errors = [problem(p.file, p.line, str(p)) for p in sla_errors]
    warnings = [problem(p.file, p.line, str(p)) for p in sla_warnings]
    try:
        ruleset = load_ruleset(
            root,
            catalog,
            sla_policies=sla.policy_ids if sla is not None else None,
            relabel=relabel,
        )
    except RulesError as exc:
        errors = [ProposalProblem(p.file, p.line, str(p)) for p in exc.errors] + errors
        warnings = [ProposalProblem(p.file, p.line, str(p)) for p in exc.warnings] + warnings
        raise ProposalInvalid(errors, warnings) from exc
    warnings = [ProposalProblem(p.file, p.line, str(p)) for p in ruleset.warnings] + warnings
    if errors or sla is None:
        raise ProposalInvalid(errors, warnings)
    return Proposal(
        ruleset=ruleset,
        sla=sla,
        catalog=catalog,
        files=tuple(sorted(files)),
        warnings=warnings,
    )
