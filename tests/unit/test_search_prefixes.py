"""app.search.prefixes: a typed word as its exact words, or the prefix form when it cannot be."""

from app.search.prefixes import MAX_EXACT, MAX_NEWER, exact_tsquery, from_rows, prefix_tsquery


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
