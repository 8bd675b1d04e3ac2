"""Find and blank a person's identity inside free text and JSON payloads. Pure.

A caller's number and name turn up outside the caller columns: an operator types "gọi lại
0912 345 678" into a note, a description says "ông Nguyễn Văn An ở số 10". Retention and
erasure blank every occurrence: the phone in any usual Vietnamese format (E.164, 84…, 0…, with
spaces, dots or dashes), the e-mail in any case, and the full name with or without diacritics.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

import phonenumbers

from app.text import D_LOOKALIKES, plain_d

REDACTED = "[đã ẩn]"
_SEP = r"[\s.\-()]*"


@dataclass(frozen=True)
class Identity:
    phones: tuple[str, ...] = ()  # E.164
    emails: tuple[str, ...] = ()
    names: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.phones or self.emails or self.names)


def _phone_pattern(e164: str) -> str:
    number = phonenumbers.parse(e164)
    national = str(number.national_number)
    digits = _SEP.join(national)
    country = str(number.country_code)
    prefix = rf"(?:(?:\+{_SEP}|00)?{_SEP.join(country)}{_SEP}|0{_SEP})?"
    return rf"(?<!\d){prefix}{digits}(?!\d)"


# Pure and called once per character of every scrubbed text: remembered per character.
@lru_cache(maxsize=8192)
def _fold_char(ch: str) -> str:
    if ch in D_LOOKALIKES:  # đ/Đ and the letters typed or read for them, as app.text.fold
        return "d"
    stripped = "".join(
        c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c)
    ).casefold()
    return stripped if stripped.isalnum() else " " * len(stripped or " ")


def _folded_with_positions(text: str) -> tuple[str, list[int]]:
    """The text folded (as app.text.fold, but keeping length per character) and, for each
    folded character, the index of the original character it came from."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        folded = _fold_char(ch)
        out.append(folded)
        where.extend([i] * len(folded))
    return "".join(out), where


def _name_pattern(name: str) -> re.Pattern[str] | None:
    words = "".join(_fold_char(c) for c in name).split()
    if not words:
        return None
    return re.compile(r"(?<![0-9a-z])" + r"\s+".join(map(re.escape, words)) + r"(?![0-9a-z])")


def _quick_fold(text: str) -> str:
    """The text folded at C speed (đ look-alikes to d, diacritics off, casefolded; nothing
    else replaced): every word `_fold_char` makes of `text` is a substring of it."""
    decomposed = unicodedata.normalize("NFD", plain_d(text))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


_NON_DIGIT = re.compile(r"\D+")


@dataclass(frozen=True)
class Scrubber:
    """Blanks one identity's occurrences; build once, apply to many texts.

    Its patterns are compiled at the first text that may hold the identity: a cheap test comes
    first (the number's digits among the text's digits, an "@" for an e-mail, the name's words
    in the folded text), a condition every match needs. Most texts hold none, and compiling a
    caller's patterns costs about 2 ms (webhook bodies scrub every ticket they carry)."""

    identity: Identity

    @classmethod
    def of(cls, identity: Identity) -> "Scrubber":
        return cls(identity)

    @cached_property
    def _patterns(self) -> tuple[re.Pattern[str] | None, tuple[re.Pattern[str], ...]]:
        parts = [_phone_pattern(p) for p in self._phones]
        parts += [re.escape(e) for e in self.identity.emails if e]
        literal = re.compile("|".join(parts), re.IGNORECASE) if parts else None
        names = tuple(p for p in map(_name_pattern, _unique(self.identity.names)) if p is not None)
        return literal, names

    @cached_property
    def _phones(self) -> list[str]:
        return [p for p in self.identity.phones if p and p.startswith("+")]

    @cached_property
    def _clues(self) -> tuple[tuple[str, ...], bool, tuple[tuple[str, ...], ...]]:
        # A tail of each national number, read off the E.164 text without parsing it: the
        # country code is at most 3 digits, so what follows them ends the national number
        # (leading zeros aside). Parsing (phonenumbers) cost more than most texts' whole test.
        tails = tuple(_NON_DIGIT.sub("", p)[3:].lstrip("0") for p in self._phones)
        words = (
            "".join(_fold_char(c) for c in name).split() for name in _unique(self.identity.names)
        )
        return tails, any(self.identity.emails), tuple(w for w in words if w)

    @cached_property
    def _nationals(self) -> tuple[str, ...]:
        return tuple(str(phonenumbers.parse(p).national_number) for p in self._phones)

    def _may_hold(self, text: str) -> bool:
        tails, emails, names = self._clues
        if emails and "@" in text:
            return True
        if tails:
            digits = _NON_DIGIT.sub("", text)
            # A national number among the digits has its tail there too: test that first.
            if any(t in digits for t in tails) and any(n in digits for n in self._nationals):
                return True
        if names:
            folded = _quick_fold(text)
            return any(all(w in folded for w in words) for words in names)
        return False

    def text(self, text: str) -> str:
        if not self._may_hold(text):
            return text
        literal, names = self._patterns
        if literal is not None:
            text = literal.sub(REDACTED, text)
        if names:
            folded, where = _folded_with_positions(text)
            spans = sorted(
                (where[m.start()], where[m.end() - 1] + 1)
                for pattern in names
                for m in pattern.finditer(folded)
            )
            for start, end in reversed(_merge(spans)):
                text = text[:start] + REDACTED + text[end:]
        return text

    def json(self, value: Any) -> Any:
        """The same value with every string in it scrubbed (dict keys left alone)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.json(v) for v in value]
        if isinstance(value, dict):
            return {k: self.json(v) for k, v in value.items()}
        return value


def _unique(names: Iterable[str]) -> list[str]:
    return sorted({n for n in names if n and n.strip()}, key=len, reverse=True)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
