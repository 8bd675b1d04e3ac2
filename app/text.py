"""Vietnamese-aware text normalisation: NFC for storage, folding for matching and search."""

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^0-9a-z]+")

# Letters people and machines type for đ/Đ: the Vietnamese ones (U+0110, U+0111), the Icelandic
# eth that Vietnamese keyboards and OCR produce (U+00D0, U+00F0) and the African D (U+0189,
# U+0256). None has a Unicode decomposition, so NFD alone would drop them; each folds to "d".
D_LOOKALIKES = "\u0110\u0111\u00d0\u00f0\u0189\u0256"
_TO_D = str.maketrans(dict.fromkeys(D_LOOKALIKES, "d"))


def plain_d(text: str) -> str:
    """Every đ/Đ look-alike replaced by "d" (the first step of folding)."""
    return text.translate(_TO_D)


def nfc(text: str) -> str:
    """Canonical composed form with collapsed whitespace; what we store."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def fold(text: str) -> str:
    """Lowercase, diacritics removed (đ and its look-alikes -> d), punctuation to spaces:
    'P. Cầu Giấy' -> 'p cau giay', 'ÐỐNG ÐA' (with U+00D0) -> 'dong da'.

    Used on both sides of every name match and text search so that operators can type with or
    without diacritics. NFC and NFD input fold alike.
    """
    decomposed = unicodedata.normalize("NFD", plain_d(text))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", stripped.casefold()).strip()
