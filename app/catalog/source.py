"""Reading the YAML files of routing_rules/ with line numbers, and reporting what is wrong in them.

One problem type and one error family for every loader (reference data, routing rules, SLA
calendars and policies, Open311 attributes): a `SourceProblem` names the file, the 1-based line
(None when the file as a whole is at fault), the message and, when there is one, the rule,
policy or calendar it is about. A loader collects every problem before it gives up, then raises
a `SourceDataError` subclass that lists them all (and the warnings found on the way).

Pure: ruamel.yaml and the standard library only.
"""

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError


@dataclass(frozen=True, slots=True)
class SourceProblem:
    """An error or warning about a file of routing_rules/.

    `subject` is what the problem is about ("rule", "policy" or "calendar") and `subject_id` its
    id; both None for a problem about the file or a reference entry. Printed as
    `file:line: <subject> <id>: message` (the line and the subject only when known).
    """

    file: str
    line: int | None
    message: str
    subject: str | None = None
    subject_id: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        who = f" {self.subject} {self.subject_id}:" if self.subject and self.subject_id else ""
        return f"{where}:{who} {self.message}"

    def _id_of(self, subject: str) -> str | None:
        return self.subject_id if self.subject == subject else None

    @property
    def rule_id(self) -> str | None:
        """The routing rule the problem is about, if any."""
        return self._id_of("rule")

    @property
    def policy_id(self) -> str | None:
        """The SLA policy the problem is about, if any."""
        return self._id_of("policy")

    @property
    def calendar_id(self) -> str | None:
        """The SLA calendar the problem is about, if any."""
        return self._id_of("calendar")


class SourceDataError(Exception):
    """Files of routing_rules/ do not load: `errors` lists every problem found, `warnings` too.

    Subclasses say which files: ReferenceDataError (areas, topics, units), RulesError (rules),
    SlaConfigError (sla.yaml).
    """

    def __init__(
        self, errors: list[SourceProblem], warnings: list[SourceProblem] | None = None
    ) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors
        self.warnings = warnings or []


class ReferenceDataError(SourceDataError):
    """The reference files (areas/, topics.yaml, units.yaml) do not load."""


def read_yaml(path: Path) -> Any:
    """The document at `path`, round-trip loaded so that nodes keep their line numbers
    (`.lc.line`, 0-based). Raises ReferenceDataError naming the line of a YAML syntax error."""
    try:
        with path.open(encoding="utf-8") as fh:
            return YAML(typ="rt").load(fh)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ReferenceDataError([SourceProblem(str(path), line, f"bad YAML: {exc}")]) from exc


def line_of(node: Any) -> int | None:
    """1-based line where a mapping or sequence starts; None for a plain value."""
    lc = getattr(node, "lc", None)
    return lc.line + 1 if lc is not None else None


def key_line(node: Any, key: Any) -> int | None:
    """1-based line of `key` in a mapping, else of the mapping itself."""
    try:
        return node.lc.key(key)[0] + 1
    except (AttributeError, KeyError, TypeError):
        return line_of(node)


def item_line(node: Any, index: int, default: int | None) -> int | None:
    """1-based line of item `index` in a sequence, else `default`."""
    try:
        return node.lc.item(index)[0] + 1
    except (AttributeError, KeyError, TypeError, IndexError):
        return default


def close_matches(word: str, options: Iterable[str]) -> list[str]:
    """Up to three options spelt close to `word` (difflib ratio >= 0.6), closest first."""
    return difflib.get_close_matches(word, list(options), n=3, cutoff=0.6)


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """' (did you mean a, b?)' for close spellings, '' when nothing is close."""
    close = close_matches(word, options)
    return f" (did you mean {', '.join(close)}?)" if close else ""


ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


class YamlChecks:
    """Checks shared by the rule and SLA readers, which collect problems instead of stopping.

    A subclass sets `file` and, while it reads one rule, policy or calendar, `subject` and
    `subject_id`; `error` and `warn` then record a SourceProblem naming them.
    """

    def __init__(self, file: str = "") -> None:
        self.file = file
        self.subject: str | None = None
        self.subject_id: str | None = None
        self.errors: list[SourceProblem] = []
        self.warnings: list[SourceProblem] = []

    def problem(self, line: int | None, message: str) -> SourceProblem:
        return SourceProblem(self.file, line, message, self.subject, self.subject_id)

    def error(self, line: int | None, message: str) -> None:
        self.errors.append(self.problem(line, message))

    def warn(self, line: int | None, message: str) -> None:
        self.warnings.append(self.problem(line, message))

    def read_doc(self, path: Path) -> Any:
        """The document at `path`; None after reporting a YAML syntax error."""
        try:
            return read_yaml(path)
        except ReferenceDataError as exc:
            for problem in exc.errors:
                self.error(problem.line, problem.message)
            return None

    def report_unknown(
        self, node: dict, allowed: Iterable[str], noun: str, *, where: str = "", listing: str = ""
    ) -> None:
        """Report each key of `node` not in `allowed`, at its line:
        "unknown <noun> '<key>'<where> (did you mean ...?)<listing>"."""
        allowed = tuple(allowed)
        for key in node:
            if key not in allowed:
                hint = did_you_mean(str(key), allowed)
                self.error(key_line(node, key), f"unknown {noun} '{key}'{where}{hint}{listing}")

    def unknown_keys(self, node: dict, allowed: Iterable[str], what: str) -> None:
        """Report every key of `node` not in `allowed`, with close spellings and the list."""
        allowed = tuple(allowed)
        self.report_unknown(
            node, allowed, "key", where=f" in {what}", listing=f"; allowed: {', '.join(allowed)}"
        )

    def when_mapping(
        self, node: Any, line: int | None, conditions: tuple[str, ...], *, listed: bool
    ) -> bool:
        """Whether a rule's or policy's `when` (given, not None) is a mapping, reporting it if
        not; its unknown condition names are reported (with the list of them when `listed`)."""
        if not isinstance(node, dict):
            self.error(line, "'when' must be a mapping of conditions")
            return False
        listing = f"; one of {', '.join(conditions)}" if listed else ""
        self.report_unknown(node, conditions, "condition", listing=listing)
        return True

    def read_id(self, node: dict, line: int | None, what: str) -> str | None:
        """The node's `id`, or None after reporting a missing or malformed one."""
        value = node.get("id")
        if isinstance(value, str) and ID.match(value):
            return value
        self.error(
            key_line(node, "id") if "id" in node else line,
            f"a {what} needs an 'id' of lower-case letters, digits, '.', '_' or '-'"
            + (f", got {value!r}" if value is not None else ""),
        )
        return None

    def read_description(self, node: dict) -> Any:
        """The optional `description` (reported unless it is text)."""
        description = node.get("description")
        if description is not None and not isinstance(description, str):
            self.error(key_line(node, "description"), "'description' must be text")
        return description

    def texts(self, value: Any, line: int | None, what: str) -> list[str] | None:
        """One text or a non-empty list of texts, stripped; None after reporting a problem."""
        items = value if isinstance(value, list) else [value]
        if not items:
            self.error(line, f"'{what}' is an empty list, which would match nothing")
            return None
        out = []
        for item in items:
            if not isinstance(item, str) or not item.strip():
                self.error(line, f"'{what}' entries must be non-empty text, got {item!r}")
                return None
            out.append(item.strip())
        return out
