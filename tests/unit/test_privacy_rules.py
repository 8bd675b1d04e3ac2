"""The masking rule and the scrubber, as tables and properties (no I/O)."""

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.privacy.keys import PrivacyKeys, is_pseudonym
from app.privacy.masking import caller_shown, caller_view
from app.privacy.scrub import REDACTED, Identity, Scrubber


@dataclass
class Viewer:
    role: str


@dataclass
class Row:
    caller_name: str | None = "Nguyễn Văn An"
    caller_phone: str | None = "+84912345678"
    caller_email: str | None = None
    anonymous: bool = False
    confidential: bool = True


ROLES = ("operator", "unit_agent", "supervisor", "admin")


@pytest.mark.parametrize(
    ("role", "confidential", "revealed", "own_intake", "shown"),
    [
        *((r, False, False, False, True) for r in ROLES),
        *((r, True, False, False, False) for r in ROLES),
        *((r, True, False, True, True) for r in ROLES),
        ("operator", True, True, False, True),
        ("supervisor", True, True, False, True),
        ("unit_agent", True, True, False, False),
        ("admin", True, True, False, False),
    ],
)
def test_the_rule(role, confidential, revealed, own_intake, shown):
    assert (
        caller_shown(
            confidential=confidential,
            viewer=Viewer(role),
            revealed=revealed,
            own_intake=own_intake,
        )
        is shown
    )


def test_public_outputs_never_show_a_caller():
    assert caller_shown(confidential=False, viewer=None) is False
    view = caller_view(Row(confidential=False), None)
    assert view.phone is None and view.name is None and view.masked is False


def test_masked_view_keeps_the_flags_only():
    view = caller_view(Row(), Viewer("supervisor"))
    assert view.model_dump() == {
        "name": None,
        "phone": None,
        "email": None,
        "anonymous": False,
        "confidential": True,
        "masked": True,
    }


SCRUB = Scrubber.of(
    Identity(phones=("+84912345678",), emails=("an.nguyen@example.vn",), names=("Nguyễn Văn An",))
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("gọi lại 0912 345 678 nhé", f"gọi lại {REDACTED} nhé"),
        ("+84 912 345 678", REDACTED),
        ("84912345678.", f"{REDACTED}."),
        ("(+84) 912.345.678", f"({REDACTED}"),
        ("0912-345-678", REDACTED),
        ("số khác 0912345679", "số khác 0912345679"),
        ("109123456780", "109123456780"),
        ("Ông NGUYỄN VĂN AN ở số 10", f"Ông {REDACTED} ở số 10"),
        ("ong nguyen  van an goi", f"ong {REDACTED} goi"),
        ("Nguyễn Văn Anh không phải", "Nguyễn Văn Anh không phải"),
        ("thư An.Nguyen@Example.vn", f"thư {REDACTED}"),
    ],
)
def test_scrubber_finds_every_usual_form(text, expected):
    assert SCRUB.text(text) == expected


@given(
    sep=st.sampled_from(["", " ", ".", "-"]),
    prefix=st.sampled_from(["0", "+84", "84", "+84 ", "0084"]),
    before=st.text(alphabet="abc đêm ", max_size=5),
)
def test_any_spacing_of_the_number_is_found(sep, prefix, before):
    number = prefix + sep.join(["912", "345", "678"])
    assert "345" not in SCRUB.text(f"{before} {number} x")


def test_json_payloads_are_scrubbed_values_only():
    payload = {"text": "Nguyễn Văn An 0912345678", "changes": {"description": ["a", "0912345678"]}}
    assert SCRUB.json(payload) == {
        "text": f"{REDACTED} {REDACTED}",
        "changes": {"description": ["a", REDACTED]},
    }


def test_pseudonyms_are_stable_keyed_and_fit_the_phone_column():
    keys = PrivacyKeys(audit_key="a", pseudonym_key="p")
    other = PrivacyKeys(audit_key="a", pseudonym_key="q")
    alias = keys.pseudonym("+84912345678", "phone")
    assert alias == keys.pseudonym("+84912345678", "phone") and len(alias) <= 20
    assert is_pseudonym(alias) and "912345678" not in alias
    assert alias != other.pseudonym("+84912345678", "phone")
    assert keys.audit_hash("+84912345678") != alias


def test_a_masked_callers_scrubber_is_forgotten_after_its_time(monkeypatch):
    """Compiled identities are reused within a page, but an erased caller's name and phone do
    not stay in a process's memory: after SCRUBBER_SECONDS the entry is rebuilt or dropped."""
    from app.privacy import masking

    clock = [1000.0]
    monkeypatch.setattr(masking.time, "monotonic", lambda: clock[0])
    masking._scrubbers.clear()
    first = masking._scrubber("+84912345678", None, "Nguyễn Văn A")
    assert masking._scrubber("+84912345678", None, "Nguyễn Văn A") is first
    clock[0] += masking.SCRUBBER_SECONDS
    assert masking._scrubber("+84912345678", None, "Nguyễn Văn A") is not first
    # A full cache drops what has expired, and never grows past its limit.
    for i in range(masking._SCRUBBER_LIMIT - 1):
        masking._scrubber(f"+8491234{i:04d}", None, None)
    assert len(masking._scrubbers) == masking._SCRUBBER_LIMIT
    clock[0] += masking.SCRUBBER_SECONDS
    masking._scrubber("+84900000000", None, None)
    assert list(masking._scrubbers) == [("+84900000000", None, None)]


def test_the_numbers_tail_stands_in_for_parsing_it(monkeypatch):
    """The cheap test before parsing a caller's number misses no number of any country: each
    region's example numbers, national digits in a text, are found as the parsed number is."""
    import phonenumbers

    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
            national = str(example.national_number)
            scrub = Scrubber.of(Identity(phones=(e164,)))
            assert scrub._may_hold(f"gọi số {national} nhé"), (region, e164)
    # A text without the number's tail among its digits never parses the number (most texts:
    # addresses and descriptions with house numbers).
    parsed = []
    monkeypatch.setattr(phonenumbers, "parse", lambda *a: parsed.append(a))
    fresh = Scrubber.of(Identity(phones=("+84987654321",)))
    assert fresh.text("Số 12 ngõ 34 Trần Thái Tông, 0912 345 678") == (
        "Số 12 ngõ 34 Trần Thái Tông, 0912 345 678"
    )
    assert parsed == []
