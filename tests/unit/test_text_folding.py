"""Folding for matching and search: diacritics, case, and the look-alikes of đ/Đ (issue #10)."""

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.routing.textmatch import fold_fast
from app.text import D_LOOKALIKES, fold

_BASES = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
_TONES = ["", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"]  # huyền sắc hỏi ngã nặng
_VOWELS = set("aăâeêioôơuưy")
_LOWER_D = [c for c in D_LOOKALIKES if c.lower() == c]
_UPPER_D = [c for c in D_LOOKALIKES if c.lower() != c]


@st.composite
def syllable_letter(draw: st.DrawFn) -> str:
    base = draw(st.sampled_from(_BASES))
    tone = draw(st.sampled_from(_TONES)) if base in _VOWELS else ""
    letter = unicodedata.normalize("NFC", base + tone)
    return letter.upper() if draw(st.booleans()) else letter


vietnamese = st.lists(
    st.one_of(syllable_letter(), st.sampled_from(list(" ,.-/0123456789"))), max_size=40
).map("".join)


@pytest.mark.parametrize("char", list(D_LOOKALIKES))
def test_every_d_lookalike_folds_to_d(char):
    assert fold(char) == "d"
    assert fold_fast(char) == "d"


def test_the_issue_example():
    assert fold("\u00d0") == "d"  # Ð, the Icelandic eth, was folded to "" before
    assert fold("\u00d0\u1ed0NG \u00d0A") == fold("Đống Đa") == "dong da"


@given(vietnamese, st.randoms(use_true_random=False))
def test_nfc_nfd_and_lookalike_forms_fold_alike(text, rnd):
    nfc = unicodedata.normalize("NFC", text)
    nfd = unicodedata.normalize("NFD", text)
    lookalike = "".join(
        rnd.choice(_LOWER_D) if c == "đ" else rnd.choice(_UPPER_D) if c == "Đ" else c for c in nfc
    )
    expected = fold(nfc)
    assert fold(nfd) == expected
    assert fold(lookalike) == expected
    assert fold(unicodedata.normalize("NFD", lookalike)) == expected
    assert fold_fast(nfc) == fold_fast(nfd) == fold_fast(lookalike) == expected
