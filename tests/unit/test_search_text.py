"""Pure reading of `q` and the search document."""

from hypothesis import given
from hypothesis import strategies as st

from app.search.text import read_query, relevance, search_document


def test_document_holds_caller_unless_confidential():
    doc = search_document("Rác thải", "Phố Huế", "Đặng Thu Hà", "+84912345678")
    assert doc == "rac thai pho hue dang thu ha 84912345678 0912345678"
    assert search_document("Rác", None, "Hà", "+84912345678", confidential=True) == "rac"


def test_references_and_phones():
    assert read_query("HN-2026-16").ticket_id == 16
    assert read_query("hn-2026-000016").year == 2026
    assert read_query("2026-000016").ticket_id == 16
    padded = read_query("000016")
    assert (padded.ticket_id, padded.words) == (16, ("000016",))
    assert read_query("16").ticket_id is None  # a bare small number is a word, not an id
    assert read_query("0912 345 678").phone == "+84912345678"
    assert read_query("rác thải").phone is None


@given(st.text(max_size=60))
def test_any_text_gives_safe_words(text):
    words = read_query(text).words
    assert len(words) <= 8
    # Rendered into SQL (app.search.repository): only letters and digits, ever.
    assert all(w.isascii() and w.isalnum() for w in words)


def test_relevance_prefers_whole_words_in_order():
    words = ("mat", "nuoc")
    assert relevance("mat nuoc sinh hoat", words) > relevance("nuoc thai mat ve sinh", words)
    assert relevance("nuoc thai mat", words) > relevance("mattress nuocx", words)
