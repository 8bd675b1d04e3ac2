"""Which typed word a search looks up first (app.search.rarity): pure."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.search.rarity import WordStats, newest_fraction, rarest_first, window_start

# As pg_stats gives them: unsorted, and three more frequencies (min, max, nulls) at the end.
STATS = WordStats.from_pg_stats(
    ["rac", "thai", "nuoc", "mat", "ngo", "ngoc"],
    [0.03, 0.03, 0.05, 0.04, 0.2, 0.001, 0.001, 0.2, 0.0],
)


def test_shares_are_prefix_sums_with_a_floor_for_unlisted_words():
    assert STATS.words == ("mat", "ngo", "ngoc", "nuoc", "rac", "thai")
    assert STATS.share("rac") == 0.03
    assert STATS.share("ng") == 0.2 + 0.001  # begins "ngo" and "ngoc"
    assert STATS.share("n") == 0.2 + 0.001 + 0.05
    assert STATS.share("karaoke") == 0.0005  # half the least common listed word
    assert STATS.share("racx") == 0.0005


def test_the_rarest_word_leads():
    assert rarest_first(("thai", "karaoke"), STATS) == ("karaoke", "thai")
    assert rarest_first(("ngo", "rac"), STATS) == ("rac", "ngo")
    # Equal shares: the longer word first, then the typed order.
    assert rarest_first(("rac", "thai"), STATS) == ("thai", "rac")
    assert rarest_first(("aeon", "zyxw"), STATS) == ("aeon", "zyxw")


def test_without_statistics_the_longest_word_leads():
    assert rarest_first(("ha", "noi", "karaoke"), None) == ("karaoke", "noi", "ha")
    assert rarest_first((), None) == ()


def test_a_prefix_of_very_common_words_is_capped_at_every_ticket():
    stats = WordStats.from_pg_stats(["a1", "a2", "a3"], [0.6, 0.6, 0.6, 0.6, 0.6, 0.0])
    assert stats.share("a") == 1.0


@given(st.lists(st.from_regex(r"[0-9a-z]{1,8}", fullmatch=True), unique=True, max_size=8))
def test_the_same_words_come_back(words):
    assert sorted(rarest_first(tuple(words), STATS)) == sorted(words)
    assert sorted(rarest_first(tuple(words), None)) == sorted(words)


def test_a_window_for_common_words_only():
    # 51 matches of a 2.5% word, with a margin of 4: the newest 8,160 of 1M tickets.
    assert newest_fraction(51, 0.025, 1_000_000) == pytest.approx(0.00816)
    assert newest_fraction(51, 0.0005, 1_000_000) is None  # rare: read its matches instead
    assert newest_fraction(51, 0.5, 0) is None  # no statistics yet
    assert newest_fraction(51, 0.0, 1_000_000) is None


def test_window_start_interpolates_in_the_equal_count_histogram():
    day = datetime(2026, 11, 1, tzinfo=UTC)
    bounds = [day + timedelta(days=i) for i in range(11)]  # 10 buckets of a tenth each
    assert window_start(bounds, 0.1) == day + timedelta(days=9)
    assert window_start(bounds, 0.05) == day + timedelta(days=9, hours=12)
    assert window_start(bounds, 1.0) == day
    assert window_start(bounds[:1], 0.1) is None
