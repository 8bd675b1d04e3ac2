"""Vietnamese-aware text normalisation: NFC for storage, folding for matching and search."""

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^0-9a-z]+")


def nfc(text: str) -> str:
    """Canonical composed form with collapsed whitespace; what we store."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def fold(text: str) -> str:
    """Lowercase, diacritics removed (đ -> d), punctuation to spaces: 'P. Cầu Giấy' -> 'p cau giay'.

    Used on both sides of every name match and text search so that operators can type with or
    without diacritics.
    """
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", stripped.casefold()).strip()
