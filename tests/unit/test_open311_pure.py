"""Pure parts of the Open311 adapter: attribute answers, topics.yaml errors, XML shape, status."""

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.catalog.source import ReferenceDataError
from app.open311 import status
from app.open311.attributes import Attribute, check_answers, load_definitions
from app.open311.render import to_xml

SIZE = Attribute(
    "size", "singlevaluelist", True, 1, "Size", values=(("s", "Small"), ("l", "Large"))
)
SIDES = Attribute("sides", "multivaluelist", False, 2, "Sides", values=(("a", "A"), ("b", "B")))
DEPTH = Attribute("depth", "number", False, 3, "Depth")
SINCE = Attribute("since", "datetime", False, 4, "Since")
NOTE = Attribute("note", "string", False, 5, "Note")
ALL = (SIZE, SIDES, DEPTH, SINCE, NOTE)


@pytest.mark.parametrize(
    ("given_", "answers", "error"),
    [
        ({"size": ["s"]}, {"size": "s"}, None),
        ({"size": ["s"], "sides": ["a", "b", "a"]}, {"size": "s", "sides": ["a", "b"]}, None),
        ({"size": ["s"], "depth": ["12.5"]}, {"size": "s", "depth": 12.5}, None),
        ({"size": ["s"], "since": ["2026-11-29T08:00:00+07:00"]}, None, None),
        ({}, None, "attribute[size]: required"),
        ({"size": ["  "]}, None, "attribute[size]: required"),
        ({"size": ["m"]}, None, "is not one of"),
        ({"size": ["s", "l"]}, None, "give one value"),
        ({"size": ["s"], "sides": ["c"]}, None, "unknown value(s) c"),
        ({"size": ["s"], "depth": ["sâu"]}, None, "not a number"),
        ({"size": ["s"], "since": ["hôm qua"]}, None, "not an ISO 8601"),
        ({"size": ["s"], "note": ["x" * 201]}, None, "at most 200"),
        ({"size": ["s"], "colour": ["red"]}, None, "no attribute 'colour'"),
    ],
)
def test_check_answers(given_, answers, error):
    got, errors = check_answers(ALL, given_)
    if error is None:
        assert errors == []
        if answers is not None:
            assert got == answers
    else:
        assert any(error in f"{field}: {why}" for field, why in errors), errors


@given(st.dictionaries(st.text(max_size=8), st.lists(st.text(max_size=12), max_size=3)))
def test_check_answers_never_raises_and_requires_size(given_):
    answers, errors = check_answers(ALL, given_)
    assert ("size" in answers) or errors


def test_topics_yaml_errors_name_file_and_line(tmp_path: Path):
    (tmp_path / "topics.yaml").write_text(
        "topics:\n  - code: a\n    name: A\n    attributes:\n      - code: x\n"
        "        datatype: colour\n      - code: y\n        datatype: singlevaluelist\n",
        encoding="utf-8",
    )
    with pytest.raises(ReferenceDataError) as exc:
        load_definitions(tmp_path)
    text = str(exc.value)
    assert "topics.yaml:5" in text and "datatype" in text
    assert "topics.yaml:7" in text and "needs `values`" in text


def test_xml_keeps_one_element_lists_and_has_no_namespace():
    body = to_xml([{"service_code": "a", "metadata": True, "group": None}], "services")
    assert body == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<services><service><service_code>a'
        b"</service_code><metadata>true</metadata><group /></service></services>"
    )
    definition = to_xml({"attributes": [{"values": [{"key": "k", "name": "Tên"}]}]}, "x")
    assert (
        "<attributes><attribute><values><value><key>k</key><name>Tên</name>" in definition.decode()
    )


@pytest.mark.parametrize(
    ("ticket_status", "basic", "extended"),
    [
        ("new", "open", "for_triage"),
        ("assigned", "open", "open"),
        ("in_progress", "open", "in_progress"),
        ("waiting_citizen", "open", "in_progress"),
        ("resolved", "closed", "fixed"),
        ("closed", "closed", "closed"),
        ("duplicate", "closed", "duplicate"),
        ("cancelled", "closed", "no_further_action"),
    ],
)
def test_status_mapping(ticket_status, basic, extended):
    assert (status.basic(ticket_status), status.extended(ticket_status)) == (basic, extended)


def test_every_ticket_status_has_an_extended_value():
    from app.tickets.lifecycle import Status

    assert {s.value for s in Status} <= set(status.EXTENDED)
