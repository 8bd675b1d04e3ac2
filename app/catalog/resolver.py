"""Reading an area as people say it, without guessing: "Dịch Vọng, Cầu Giấy" -> candidates.

Pure. The rules (issue #10):
- Every comma/semicolon/slash-separated part must name an area; an unknown part is an error
  naming it, with the closest names.
- The first part is the place itself; each later part is a larger unit it lies in. A later part
  is read as a former district or the city before it is read as a current ward of the same name
  ("Thụy Khuê, Tây Hồ" is the former ward Thụy Khuê of the former district Tây Hồ).
- A former ward split across several current units stays ambiguous: its candidates are every
  current unit it went to, whatever larger unit follows it, unless that larger unit is a
  current ward (then the caller named the current unit themselves).
- "(cũ)", "cũ" or "trước đây" after a name mean the former unit of that name.
- Parts that cannot all hold at once are an error naming the parts that disagree.
Whether an ambiguous result is a question for the caller is the caller's decision (it depends
on routing); this module only says what the text can mean.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from app.text import fold

_SEPARATORS = re.compile(r"[,;/]")
# Folded words after a name that mean "the former unit": "Trúc Bạch (cũ)", "Trúc Bạch trước đây".
_FORMER_MARKERS = ("truoc day", "cu")
_LARGER_LEVELS = frozenset({"district", "city"})


@dataclass(frozen=True)
class Reading:
    """One way to read one part: a current area or a former (pre-2025) unit."""

    name: str  # the area's or former unit's own name
    level: str
    codes: frozenset[str]  # current areas it stands for
    former: bool
    district: str | None = None  # a former ward's former district

    @property
    def label(self) -> str:
        where = f", {self.district}" if self.district else ""
        return f"{self.name} (cũ{where})" if self.former else self.name


@dataclass(frozen=True)
class Candidate:
    """A current area the text may mean, and the former names in the text it covers."""

    code: str
    name: str
    former_names: tuple[str, ...]


@dataclass(frozen=True)
class AreaResolution:
    """What an area text was read as.

    how: "code" (an area code), "name" (a current name), "former_name" (a pre-2025 name) or
    "parts" (several parts read together). read_as: what each part was read as, in order.
    candidates: one when the text is unambiguous, several when it is not.
    """

    text: str
    how: str
    read_as: tuple[str, ...]
    candidates: tuple[Candidate, ...]

    @property
    def ambiguous(self) -> bool:
        return len(self.candidates) > 1

    @property
    def code(self) -> str | None:
        """The area when there is exactly one candidate."""
        return self.candidates[0].code if len(self.candidates) == 1 else None

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form, as stored on the ticket."""
        return {
            "input": self.text,
            "how": self.how,
            "read_as": list(self.read_as),
            "candidates": [c.code for c in self.candidates] if self.ambiguous else [],
        }


class AreaNotFound(LookupError):
    """A part of the text names no area. `part` is that part as typed."""

    def __init__(self, text: str, suggestions: list[object], part: str | None = None):
        super().__init__(text)
        self.text = text
        self.part = part if part is not None else text
        self.suggestions = suggestions


class AreaConflict(LookupError):
    """The parts name areas that cannot all hold at once (no area lies in all of them)."""

    def __init__(self, text: str, parts: tuple[str, str]):
        super().__init__(text)
        self.text = text
        self.parts = parts


class AreaAmbiguous(LookupError):
    """Raised by callers that need exactly one area; carries the resolution."""

    def __init__(self, resolution: AreaResolution):
        super().__init__(resolution.text)
        self.text = resolution.text
        self.resolution = resolution
        self.candidates = resolution.candidates


class Names(Protocol):
    """What the resolver needs from the catalog."""

    def readings(self, folded: str) -> list[Reading]: ...
    def area_name(self, code: str) -> str: ...
    def is_code(self, text: str) -> bool: ...
    def former_wards_of(self, code: str) -> Sequence[Reading]: ...
    def suggest(self, text: str) -> list[object]: ...


def split_former_marker(folded: str) -> tuple[bool, str]:
    """'truc bach cu' -> (True, 'truc bach'); 'truc bach' -> (False, 'truc bach')."""
    for marker in _FORMER_MARKERS:
        if folded.endswith(" " + marker):
            return True, folded[: -len(marker) - 1].strip()
    return False, folded


def resolve(names: Names, text: str, *, prefer_current: bool = True) -> AreaResolution:
    """Read an area text (see the module docstring); raises AreaNotFound or AreaConflict.

    prefer_current: a name that is both a current area and a former unit means the current
    one (the `area` field's rule). False keeps both readings (a street address, where "Ba
    Đình" after a street is as likely the former district as the current ward).
    """
    if names.is_code(text.strip()):
        code = text.strip()
        return AreaResolution(text, "code", (code,), (Candidate(code, names.area_name(code), ()),))
    raw_parts = [p.strip() for p in _SEPARATORS.split(text) if p.strip()]
    if not raw_parts or not any(fold(p) for p in raw_parts):
        raise AreaNotFound(text, [])
    parts = [(raw, *_readings_of(names, raw, text)) for raw in raw_parts if fold(raw)]
    subject_raw, subject_marked, subject = parts[0]
    if len(parts) == 1:
        current = [r for r in subject if not r.former]
        chosen = current if current and not subject_marked else [r for r in subject if r.former]
        if not prefer_current and not subject_marked:
            chosen = subject
        how = "name" if chosen is current or not chosen[0].former else "former_name"
        return _result(names, text, how, chosen, [" | ".join(r.label for r in chosen)])
    # (reading of the first part, the current codes still possible for it)
    held: list[tuple[Reading, frozenset[str]]] = [(r, r.codes) for r in subject]
    read_as = []
    old_address = False
    for raw, _, container in parts[1:]:
        for tier in _tiers(container):
            fits = [(s, codes) for s, codes in held for c in tier for codes in [_fit(s, codes, c)]]
            fits = [(s, codes) for s, codes in fits if codes]
            if fits:
                held = list(dict.fromkeys(fits))
                read_as.append(tier[0].label)
                old_address = old_address or any(c.former and c.level == "district" for c in tier)
                break
        else:
            raise AreaConflict(text, (subject_raw, raw))
    # The first part's own reading: a former district given means an old-style address, so a
    # former ward of that name is meant; otherwise a current name beats a former one.
    former = [(s, codes) for s, codes in held if s.former]
    current = [(s, codes) for s, codes in held if not s.former]
    if subject_marked:
        held = former
    elif old_address:
        held = former or current
    elif prefer_current:
        held = current or former
    read_as.insert(0, " | ".join(dict.fromkeys(s.label for s, _ in held)))
    return _result(names, text, "parts", [s for s, _ in held], read_as, [c for _, c in held])


def resolve_address(names: Names, text: str) -> AreaResolution | None:
    """The area a free street address names, if any: house numbers and street names are
    expected there and skipped; the parts that name areas ("Ngõ 25 Trần Thái Tông, Dịch Vọng
    Hậu, Cầu Giấy" -> "Dịch Vọng Hậu, Cầu Giấy") are read by `resolve`, same rules, no guess.
    None when no part names an area; AreaConflict when those parts disagree."""
    parts = []
    for raw in _SEPARATORS.split(text):
        _, folded = split_former_marker(fold(raw))
        if folded and names.readings(folded):
            parts.append(raw.strip())
    if not parts:
        return None
    return resolve(names, ", ".join(parts), prefer_current=False)


def _readings_of(names: Names, raw: str, text: str) -> tuple[bool, list[Reading]]:
    marked, folded = split_former_marker(fold(raw))
    readings = names.readings(folded)
    if marked:
        readings = [r for r in readings if r.former]
    if not readings:
        raise AreaNotFound(text, names.suggest(folded), part=raw)
    return marked, readings


def _tiers(readings: Sequence[Reading]) -> Iterable[list[Reading]]:
    """A larger unit first (former district, the city), then a current area, then a former one."""
    for keep in (
        lambda r: r.level in _LARGER_LEVELS,
        lambda r: not r.former and r.level not in _LARGER_LEVELS,
        lambda r: r.former and r.level not in _LARGER_LEVELS,
    ):
        tier = [r for r in readings if keep(r)]
        if tier:
            yield tier


def _fit(subject: Reading, codes: frozenset[str], container: Reading) -> frozenset[str]:
    """The codes of `subject` still possible if it lies in `container` (empty: it cannot)."""
    if container.level == "city":
        return codes
    if subject.level in _LARGER_LEVELS:
        return frozenset()  # a district lies in the city only
    if container.former and container.level != "district" and subject.former:
        return frozenset()  # one former ward does not lie in another
    if container.former and container.level == "district":
        if subject.former:
            return codes if subject.district == container.name else frozenset()
        return codes & container.codes
    # A current (or former) ward named as the larger unit narrows to what the caller named.
    return codes & container.codes


def _result(
    names: Names,
    text: str,
    how: str,
    chosen: Sequence[Reading],
    read_as: Sequence[str],
    narrowed: Sequence[frozenset[str]] | None = None,
) -> AreaResolution:
    code_sets = narrowed if narrowed is not None else [r.codes for r in chosen]
    codes = sorted({c for s in code_sets for c in s}, key=lambda c: fold(names.area_name(c)))
    covered = [r for r in chosen if r.former and r.level != "district"]
    districts = {r.name for r in chosen if r.former and r.level == "district"}
    candidates = []
    for code in codes:
        if covered:
            former = [r.label for r in covered if code in r.codes]
        else:
            # A former district or a current name: the former wards this candidate took in.
            former = [
                r.label
                for r in names.former_wards_of(code)
                if not districts or r.district in districts
            ]
        candidates.append(Candidate(code, names.area_name(code), tuple(former)))
    return AreaResolution(text, how, tuple(read_as), tuple(candidates))


__all__ = [
    "AreaAmbiguous",
    "AreaConflict",
    "AreaNotFound",
    "AreaResolution",
    "Candidate",
    "Reading",
    "resolve",
    "resolve_address",
    "split_former_marker",
]
