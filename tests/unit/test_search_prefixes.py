"""app.search.prefixes: a typed word as its exact words, or the prefix form when it cannot be."""

import pytest

from app.search.prefixes import MAX_EXACT, MAX_NEWER, exact_tsquery, from_rows, prefix_tsquery
from app.search.rarity import read_through_index


def test_exact_words_stand_for_a_prefix_and_other_words_keep_the_prefix_form():
    found = {"nuoc": ["nuoc", "nuocmam"], "karaoke": ["karaoke"], "n": ["n"] * (MAX_EXACT + 1)}
    exp = from_rows(1000, 1010, found)
    assert exp is not None and exp.upto_id == 1000
    assert exact_tsquery(("karaoke", "nuoc"), exp) == "(karaoke) & (nuoc | nuocmam)"
    # Too many exact words, digits (never in the table), a word not looked up: prefix form.
    assert exp.words["n"] is None
    assert exact_tsquery(("n", "0912", "nuoc"), exp) == "n:* & 0912:* & (nuoc | nuocmam)"
    assert prefix_tsquery(("karaoke", "nuoc")) == "karaoke:* & nuoc:*"


def test_a_word_that_begins_no_stored_word_is_asked_as_itself():
    # It matches no ticket up to the watermark; newer ones are checked with the prefix form.
    exp = from_rows(5, 5, {"zyx": []})
    assert exp is not None
    assert exact_tsquery(("zyx",), exp) == "(zyx)"


def test_a_watermark_too_far_behind_is_not_used():
    assert from_rows(0, MAX_NEWER + 1, {"nuoc": ["nuoc"]}) is None
    assert from_rows(1, MAX_NEWER + 1, {"nuoc": ["nuoc"]}) is not None


@pytest.mark.parametrize(
    ("limit", "share", "rows", "read"),
    [
        (51, 0.0023, 1_074_436, True),  # miếu at 1M: ~2,470 matches, read and sorted
        (51, 0.012, 1_074_436, False),  # karaoke: ~12,900 matches, walked newest first
        (51, 0.00004, 1_074_436, False),  # bốc: ~43, fewer than a page: the planner's own
        (51, 0.04, 100_000, True),  # 4,000 of 100,000
        (51, 0.0, 1_000_000, False),  # nothing known
        (51, 0.5, 0, False),
    ],
)
def test_read_through_index_when_the_matches_are_few(limit, share, rows, read):
    assert read_through_index(limit, share, rows) is read
