"""The JSON body pre-test of app.api.checked_route: a body it lets through without the walk
holds no string that text_problem refuses."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from app.api.checked_route import may_hold_bad_text, unstorable

# Text with what the walk refuses (NUL, C0 controls, lone surrogates) among plain and
# Vietnamese letters, backslashes and quotes.
TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from('\x00\x01\x08\x09\x0a\x0b\x0c\x0d\x1f\x7f\\"bfu0d8ạđ Ấ'),
        st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
        st.characters(),
    ),
    max_size=12,
)
VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=8,
)


@settings(max_examples=600)
@given(VALUES, st.booleans(), st.sampled_from(["utf-8", "utf-16", "utf-32"]))
def test_a_body_the_pre_test_passes_holds_nothing_the_walk_would_refuse(value, ascii_only, codec):
    body = json.dumps(value, ensure_ascii=ascii_only).encode(codec, "surrogatepass")
    try:
        data = json.loads(body)
    except ValueError:
        return  # refused as not JSON before any walk
    if not may_hold_bad_text(body):
        assert list(unstorable(data, ["body"])) == []


def test_the_pre_test_sends_escaped_and_raw_problems_to_the_walk():
    for text in ("\x00", "a\x01", "\b", "\x0c", "\x1f", "\ud800", "x\udfff"):
        for ascii_only in (True, False):
            body = json.dumps({"d": text}, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
            assert may_hold_bad_text(body), (text, ascii_only)
    assert not may_hold_bad_text(json.dumps({"d": "Rác thải\tngõ 5\n"}).encode())
    assert not may_hold_bad_text(json.dumps({"d": "Rác thải"}, ensure_ascii=False).encode())
