"""Open311 service definitions: the attributes each topic asks for, and checking the answers.

Declared in routing_rules/topics.yaml under a leaf topic (`keywords`, `attributes`); read once at
start-up with file:line errors. Checking a submission is pure: strings in, typed values or a list
of (code, description) errors out.
"""

import math
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from app.catalog.source import ReferenceDataError, SourceProblem, line_of, read_yaml
from app.text import nfc

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
# Lengths the spec leaves open: a `string` is a line, a `text` a paragraph.
MAX_LENGTH = {"string": 200, "text": 4000}
# ASCII digits only: float() would also take "nan", "inf", "1e999" (inf), "3_0" and "٣٠", and
# NaN or infinity in a stored answer makes the JSON answer invalid (and PostgreSQL refuses it).
DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def decimal(raw: str) -> float | None:
    """A finite float from a decimal in ASCII digits; None for anything else."""
    if not DECIMAL.fullmatch(raw):
        return None
    value = float(raw)
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class Attribute:
    code: str
    datatype: str
    required: bool
    order: int
    description: str
    datatype_description: str | None = None
    values: tuple[tuple[str, str], ...] = ()  # (key, name) for the list datatypes
    variable: bool = True


@dataclass(frozen=True)
class ServiceExtras:
    """What topics.yaml adds to a topic for Open311."""

    keywords: tuple[str, ...] = ()
    attributes: tuple[Attribute, ...] = ()


def load_definitions(rules_dir: Path) -> dict[str, ServiceExtras]:
    """{topic code: extras} from topics.yaml; ReferenceDataError naming file and line."""
    path = rules_dir / "topics.yaml"
    doc = read_yaml(path) or {}
    out: dict[str, ServiceExtras] = {}
    errors: list[SourceProblem] = []

    def fail(node: Any, message: str) -> None:
        errors.append(SourceProblem(str(path), line_of(node), message))

    def walk(nodes: Any) -> None:
        for node in nodes or []:
            walk(node.get("children"))
            attrs = []
            for index, raw in enumerate(node.get("attributes") or [], start=1):
                code, datatype = raw.get("code"), raw.get("datatype")
                where = f"topic {node.get('code')} attribute {code}"
                if not code or datatype not in DATATYPES:
                    fail(
                        raw, f"{where}: needs a code and a datatype, one of {', '.join(DATATYPES)}"
                    )
                    continue
                values = tuple((str(k), nfc(str(v))) for k, v in (raw.get("values") or {}).items())
                if datatype.endswith("valuelist") and not values:
                    fail(raw, f"{where}: a {datatype} needs `values` (key: name)")
                    continue
                attrs.append(
                    Attribute(
                        code=str(code),
                        datatype=datatype,
                        required=bool(raw.get("required", False)),
                        order=int(raw.get("order", index)),
                        description=nfc(str(raw.get("description") or code)),
                        datatype_description=raw.get("datatype_description"),
                        values=values,
                    )
                )
            keywords = tuple(nfc(str(k)) for k in node.get("keywords") or ())
            if attrs or keywords:
                out[str(node.get("code"))] = ServiceExtras(
                    keywords, tuple(sorted(attrs, key=lambda a: a.order))
                )

    walk(doc.get("topics"))
    if errors:
        raise ReferenceDataError(errors)
    return out


def check_answers(
    attributes: tuple[Attribute, ...], given: dict[str, list[str]]
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Typed answers ({code: value, or [keys] for multivaluelist}) and errors [(field, why)].

    `given` maps an attribute code to the strings sent as attribute[CODE] or attribute[CODE][].
    Unknown codes are errors (a typo would otherwise be lost silently); required ones must be
    present and non-empty.
    """
    known = {a.code: a for a in attributes}
    errors = [
        (f"attribute[{code}]", f"service has no attribute '{code}'; known: {', '.join(known)}")
        for code in given
        if code not in known
    ]
    answers: dict[str, Any] = {}
    for attr in attributes:
        field = f"attribute[{attr.code}]"
        raw = [nfc(v.strip()) for v in given.get(attr.code, []) if v.strip()]
        if not raw:
            if attr.required:
                errors.append((field, f"required: {attr.description}"))
            continue
        keys = {k for k, _ in attr.values}
        if attr.datatype == "multivaluelist":
            bad = [v for v in raw if v not in keys]
            if bad:
                errors.append((field, f"unknown value(s) {', '.join(bad)}; one of {sorted(keys)}"))
            answers[attr.code] = list(dict.fromkeys(raw))
            continue
        if len(raw) > 1:
            errors.append((field, "give one value"))
            continue
        value = raw[0]
        if attr.datatype == "singlevaluelist" and value not in keys:
            errors.append((field, f"'{value}' is not one of {sorted(keys)}"))
        elif attr.datatype == "number":
            number = decimal(value)
            if number is None:
                errors.append(
                    (
                        field,
                        f"'{value}' is not a number (a finite decimal in ASCII digits, e.g. 30 or 2.5)",
                    )
                )
            else:
                answers[attr.code] = number
            continue
        elif attr.datatype == "datetime":
            try:
                datetime.fromisoformat(value)
            except ValueError:
                errors.append((field, f"'{value}' is not an ISO 8601 date-time"))
        elif len(value) > MAX_LENGTH.get(attr.datatype, 4000):
            errors.append((field, f"at most {MAX_LENGTH[attr.datatype]} characters"))
        answers[attr.code] = value
    return answers, errors
