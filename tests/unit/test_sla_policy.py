"""sla.yaml: loading with file:line:id errors, policy matching, calendars per assignment."""

from datetime import date, time

import pytest

from app.catalog.catalog import Unit
from app.routing import check_rules
from app.sla import SlaConfigError, check_sla, load_sla, parse_duration
from app.sla.policy import Target
from tests.unit.test_sla_support import CALENDARS, RULES_DIR, hanoi, shipped, write_sla

# -- the shipped file -------------------------------------------------------------------------


def test_shipped_sla_yaml_is_clean():
    errors, warnings = check_sla(RULES_DIR, hanoi())
    assert errors == []
    assert warnings == []
    config = shipped()
    assert config.default.id == "mac-dinh"
    assert set(config.calendars) == {"office", "24x7"}
    assert len(config.version) == 16


def test_routing_rules_only_name_known_policies():
    errors, _ = check_rules(RULES_DIR, hanoi(), sla_policies=shipped().policy_ids)
    assert errors == []
    assert "khan-cap" in shipped().policy_ids


def test_every_unit_gets_a_defined_calendar_under_every_policy():
    config = shipped()
    for unit in hanoi().units.values():
        for policy in config.policies:
            assert config.calendar_for(policy, unit).code in config.calendars


def test_office_calendar_as_shipped():
    office = shipped().calendars["office"]
    assert office.tz == "Asia/Ho_Chi_Minh"
    assert office.working_day_seconds == 7 * 3600 + 1800
    assert office.local_periods(date(2026, 3, 13)) == (
        (time(8), time(12)),
        (time(13, 30), time(17)),
    )
    assert office.local_periods(date(2026, 3, 14)) == ()  # Saturday
    assert office.local_periods(date(2026, 2, 17)) == ()  # Tết
    assert office.local_periods(date(2025, 4, 26)) != ()  # make-up Saturday
    assert shipped().calendars["24x7"].always_open


# (unit, topic, priority, channel) -> policy id, with the shipped sla.yaml
SHIPPED_MATCHES = [
    ("ubnd-phuong-ba-dinh", "moi-truong.rac-thai", "normal", "phone", "ubnd"),
    ("ubnd-phuong-ba-dinh", "moi-truong.rac-thai", "urgent", "phone", "ubnd-khan"),
    ("ubnd-phuong-ba-dinh", "moi-truong.rac-thai", "high", "web", "ubnd"),
    ("ubnd-phuong-ba-dinh", "cay-xanh-chieu-sang.cay-do-gay", "high", "phone", "ubnd-nguy-hiem"),
    ("ubnd-phuong-ba-dinh", "cay-xanh-chieu-sang.den-duong", "high", "phone", "ubnd"),
    ("ubnd-phuong-ba-dinh", None, "low", "open311", "ubnd"),
    ("cong-an-ha-noi", "an-ninh-trat-tu.gay-roi", "urgent", "phone", "khan-cap"),
    ("pccc-ha-noi", None, "urgent", "phone", "khan-cap"),
    ("cong-an-ha-noi", "an-ninh-trat-tu.tieng-on", "normal", "zalo", "cong-an"),
    ("tong-dai-1022", "khac", "urgent", "phone", "khan-cap"),
    ("tong-dai-1022", None, "normal", "phone", "tong-dai"),
    ("evn-ha-noi", "dien.su-co-luoi-dien", "urgent", "phone", "dien-nuoc-khan"),
    ("nuoc-sach-ha-noi", "nuoc-sach.vo-ong", "high", "phone", "dien-nuoc-cao"),
    ("thoat-nuoc-ha-noi", "ngap-ung", "normal", "app", "dien-nuoc"),
    ("cdc-ha-noi", "y-te.covid", "high", "phone", "y-te-khan"),
    ("cdc-ha-noi", "y-te.dich-benh", "normal", "phone", "mac-dinh"),
    ("atvstp-ha-noi", "an-toan-thuc-pham.ngo-doc", "urgent", "phone", "ngo-doc"),
    ("atvstp-ha-noi", "an-toan-thuc-pham", "normal", "phone", "so-ban-nganh"),
    ("so-xay-dung", None, "urgent", "email", "khan"),
    ("urenco", "moi-truong.rac-thai", "normal", "phone", "mac-dinh"),
]


@pytest.mark.parametrize(("unit", "topic", "priority", "channel", "expected"), SHIPPED_MATCHES)
def test_shipped_policy_table(unit, topic, priority, channel, expected):
    kind = hanoi().units[unit].kind
    assert shipped().policy_for(unit, kind, topic, priority, channel).id == expected


def test_shipped_targets():
    config = shipped()
    ubnd, urgent = config.get("ubnd"), config.get("ubnd-khan")
    assert (ubnd.acknowledge, ubnd.resolve) == (
        Target(parse_duration("8h")),
        Target(parse_duration("5d")),
    )
    assert (urgent.acknowledge, urgent.resolve) == (
        Target(parse_duration("4h")),
        Target(parse_duration("2d")),
    )
    assert ubnd.warning_at == 0.8
    assert config.get("y-te-khan").acknowledge.calendar_time
    assert not config.get("y-te-khan").resolve.calendar_time


# -- matching, every condition kind, with a hand-written file ---------------------------------

MATCHING = (
    CALENDARS
    + """\
policies:
  - id: by-unit
    when: {unit: [evn-ha-noi, urenco]}
    acknowledge: 1h
    resolve: 1d
  - id: by-channel-and-priority
    when: {channel: [sms, zalo], priority: [high, urgent]}
    acknowledge: 2h
    resolve: 2d
  - id: by-topic
    when: {topic: moi-truong}
    acknowledge: 3h
    resolve: 3d
  - id: by-kind
    when: {unit_kind: ubnd}
    acknowledge: 4h
    resolve: 4d
  - id: by-channel
    when: {channel: open311}
    calendar: 24x7
    acknowledge: 5h
    resolve: 5d
  - id: default
    acknowledge: 8h
    resolve: 5d
"""
)


@pytest.fixture(scope="module")
def matching(tmp_path_factory):
    return load_sla(write_sla(tmp_path_factory.mktemp("sla"), MATCHING), hanoi())


@pytest.mark.parametrize(
    ("unit", "topic", "priority", "channel", "expected"),
    [
        # unit: one of the listed units, whatever else
        ("evn-ha-noi", "moi-truong", "urgent", "sms", "by-unit"),
        ("urenco", None, "low", "phone", "by-unit"),
        # channel AND priority: both must hold; a list is any-of
        ("so-xay-dung", None, "high", "zalo", "by-channel-and-priority"),
        ("so-xay-dung", None, "normal", "zalo", "default"),
        ("so-xay-dung", None, "urgent", "phone", "default"),
        # topic matches its subtopics, not its parent or siblings
        ("so-xay-dung", "moi-truong", "normal", "phone", "by-topic"),
        ("so-xay-dung", "moi-truong.rac-thai", "normal", "phone", "by-topic"),
        ("so-xay-dung", "ngap-ung.ngap-duong", "normal", "phone", "default"),
        ("so-xay-dung", None, "normal", "phone", "default"),  # no topic: no topic match
        # first match wins: a ward committee with an environment topic gets by-topic
        ("ubnd-phuong-ba-dinh", "moi-truong.mui-hoi", "normal", "phone", "by-topic"),
        ("ubnd-phuong-ba-dinh", "dien", "normal", "phone", "by-kind"),
        ("ubnd-phuong-ba-dinh", "dien", "normal", "open311", "by-kind"),
        ("so-y-te", "dien", "normal", "open311", "by-channel"),
    ],
)
def test_policy_matching(matching, unit, topic, priority, channel, expected):
    kind = hanoi().units[unit].kind
    assert matching.policy_for(unit, kind, topic, priority, channel).id == expected


def test_explain_lists_the_failed_conditions(matching):
    trials = matching.explain("so-xay-dung", "so", "moi-truong.rac-thai", "normal", "sms")
    assert [(t.policy, t.failed) for t in trials] == [
        ("by-unit", ("unit",)),
        ("by-channel-and-priority", ("priority",)),
        ("by-topic", ()),
    ]
    assert trials[-1].matched


def test_requested_policy_beats_conditions(matching):
    picked = matching.policy_for("urenco", "cong-ty", None, "low", "phone", requested="by-channel")
    assert picked.id == "by-channel"
    # An unknown name (only possible after a bad reload) is ignored: conditions decide.
    picked = matching.policy_for("urenco", "cong-ty", None, "low", "phone", requested="gone")
    assert picked.id == "by-unit"
    with pytest.raises(KeyError):
        matching.get("gone")


def test_calendar_for(matching):
    units = hanoi().units
    assert matching.calendar_for(matching.get("by-unit"), units["evn-ha-noi"]).code == "24x7"
    assert matching.calendar_for(matching.get("by-unit"), "urenco").code == "office"
    # The policy's calendar beats the unit's.
    assert matching.calendar_for(matching.get("by-channel"), "so-y-te").code == "24x7"
    # A unit without a calendar and no default_calendar: nothing to fall back on.
    bare = Unit("x", "X", "so", ("ha-noi",))
    with pytest.raises(KeyError, match="no calendar"):
        matching.calendar_for(matching.default, bare)
    assert shipped().calendar_for(shipped().default, bare).code == "office"  # default_calendar


# -- errors: file, line and id ----------------------------------------------------------------

GOOD_POLICY = "  - id: p\n    when: {unit_kind: ubnd}\n    acknowledge: 8h\n    resolve: 5d\n"
DEFAULT = "  - id: default\n    acknowledge: 8h\n    resolve: 5d\n"
# CALENDARS is 6 lines, "policies:" is line 7, the first policy starts on line 8.
POLICY_ERRORS = [
    (
        "  - id: p\n    whn: {unit_kind: ubnd}\n    acknowledge: 8h\n    resolve: 5d\n",
        "sla.yaml:9: policy p: unknown key 'whn' in a policy (did you mean when?)",
    ),
    (
        "  - id: p\n    when: {unit_knd: ubnd}\n    acknowledge: 8h\n    resolve: 5d\n",
        "sla.yaml:9: policy p: unknown condition 'unit_knd' (did you mean unit_kind, unit?)",
    ),
    (
        "  - id: p\n    when: {unit: evn-hanoi}\n    acknowledge: 8h\n    resolve: 5d\n",
        "sla.yaml:9: policy p: unknown unit 'evn-hanoi' (did you mean evn-ha-noi",
    ),
    (
        "  - id: p\n    when: {unit_kind: ubdn}\n    acknowledge: 8h\n    resolve: 5d\n",
        "sla.yaml:9: policy p: unknown unit kind 'ubdn' (did you mean ubnd?); "
        "one of cong-an, cong-ty, so, tong-dai, ubnd, y-te",
    ),
    (
        "  - id: p\n    when: {topic: dien.mat-dein}\n    acknowledge: 8h\n    resolve: 5d\n",
        "sla.yaml:9: policy p: unknown topic 'dien.mat-dein' (did you mean dien.mat-dien",
    ),
    (
        "  - id: p\n    when: {priority: critical}\n    acknowledge: 8h\n    resolve: 5d\n",
        "sla.yaml:9: policy p: unknown priority 'critical'; one of low, normal, high, urgent",
    ),
    (
        "  - id: p\n    when: {channel: [phone, fax]}\n    acknowledge: 8h\n    resolve: 5d\n",
        "sla.yaml:9: policy p: unknown channel 'fax'",
    ),
    (
        "  - id: p\n    when: {channel: []}\n    acknowledge: 8h\n    resolve: 5d\n",
        "sla.yaml:9: policy p: 'channel' is an empty list, which would match nothing",
    ),
    (
        "  - id: p\n    when: {unit_kind: ubnd}\n    calendar: ofice\n    acknowledge: 8h\n    resolve: 5d\n",
        "sla.yaml:10: policy p: unknown calendar 'ofice' (did you mean office?)",
    ),
    (
        "  - id: p\n    when: {unit_kind: ubnd}\n    acknowledge: 8 hours\n    resolve: 5d\n",
        "sla.yaml:10: policy p: acknowledge: bad duration '8 hours'",
    ),
    (
        "  - id: p\n    when: {unit_kind: ubnd}\n    acknowledge: 8\n    resolve: 5d\n",
        "sla.yaml:10: policy p: acknowledge: expected a duration like 30m, 8h, 5d",
    ),
    (
        "  - id: p\n    when: {unit_kind: ubnd}\n    acknowledge: 0h\n    resolve: 5d\n",
        "sla.yaml:10: policy p: acknowledge: the target must be longer than zero",
    ),
    (
        "  - id: p\n    when: {unit_kind: ubnd}\n    acknowledge: 8h\n    resolve: 500d\n",
        "sla.yaml:11: policy p: resolve: '500d' is longer than a year",
    ),
    (
        "  - id: p\n    when: {unit_kind: ubnd}\n    acknowledge: 8h\n"
        "    resolve: {duration: 2d, mode: wall}\n",
        "sla.yaml:11: policy p: resolve: 'mode' must be working or calendar, got 'wall'",
    ),
    (
        "  - id: p\n    when: {unit_kind: ubnd}\n    acknowledge: 8h\n    resolve: {duraton: 2d}\n",
        "sla.yaml:11: policy p: unknown key 'duraton' in 'resolve' (did you mean duration?)",
    ),
    (
        "  - id: p\n    when: {unit_kind: ubnd}\n    acknowledge: 8h\n",
        "sla.yaml:8: policy p: a policy needs 'resolve'",
    ),
    (
        "  - id: p\n    when: {unit_kind: ubnd}\n    acknowledge: 8h\n    resolve: 5d\n"
        "    warning_at: 80\n",
        "sla.yaml:12: policy p: 'warning_at' is the share of the target elapsed, strictly "
        "between 0 and 1 (e.g. 0.8), got 80",
    ),
    (
        "  - id: P 1\n    when: {unit_kind: ubnd}\n    acknowledge: 8h\n    resolve: 5d\n",
        "sla.yaml:8: a policy needs an 'id' of lower-case letters, digits, '.', '_' or '-', "
        "got 'P 1'",
    ),
    (
        "  - when: {unit_kind: ubnd}\n    acknowledge: 8h\n    resolve: 5d\n",
        "sla.yaml:8: a policy needs an 'id'",
    ),
    (
        GOOD_POLICY + GOOD_POLICY,
        "sla.yaml:12: policy p: duplicate id (first at ",
    ),
    (
        "  - id: p\n    acknowledge: 8h\n    resolve: 5d\n",
        "sla.yaml:8: policy p: only the last policy (the default) may have no conditions",
    ),
    ("  - 5\n", "sla.yaml:8: a policy must be a mapping"),
]


def problems(tmp_path, text, which="errors"):
    errors, warnings = check_sla(write_sla(tmp_path, text), hanoi())
    found = errors if which == "errors" else warnings
    return [str(p).replace(str(tmp_path) + "/", "") for p in found]


@pytest.mark.parametrize(("policies", "expected"), POLICY_ERRORS)
def test_policy_errors_name_file_line_and_id(tmp_path, policies, expected):
    found = problems(tmp_path, CALENDARS + "policies:\n" + policies + DEFAULT)
    assert len(found) == 1, found
    assert found[0].startswith(expected), found


@pytest.mark.parametrize("value", ["0", "1", "1.5", "-0.2", "'80%'", "true"])
def test_warning_at_must_be_a_share(tmp_path, value):
    text = CALENDARS + "policies:\n" + GOOD_POLICY + f"    warning_at: {value}\n" + DEFAULT
    assert problems(tmp_path, text)[0].startswith("sla.yaml:12: policy p: 'warning_at'")


def test_missing_default(tmp_path):
    found = problems(tmp_path, CALENDARS + "policies:\n" + GOOD_POLICY)
    assert found == [
        "sla.yaml:8: policy p: no default policy: the last policy must have no 'when', so that "
        "every assignment gets a policy"
    ]


# (sla.yaml text, expected first error)
FILE_ERRORS = [
    (
        "calendars:\n  office:\n    weekly:\n      mon-fry: '08:00-17:00'\n",
        "sla.yaml:4: calendar office: bad weekday 'mon-fry'",
    ),
    (
        "calendars:\n  office:\n    weekly:\n      mon-fri: '08:00-12:00, 11:00-17:00'\n",
        "sla.yaml:4: calendar office: '08:00-12:00, 11:00-17:00': periods must be whole seconds, "
        "sorted and not overlapping",
    ),
    (
        "calendars:\n  office:\n    weekly:\n      mon-fri: '8h-17h'\n",
        "sla.yaml:4: calendar office: bad working period '8h-17h'",
    ),
    (
        "calendars:\n  office:\n    weekly:\n      mon-fri: '08:00-17:00'\n      fri: ''\n",
        "sla.yaml:5: calendar office: fri is given twice in 'weekly'",
    ),
    (
        "calendars:\n  office:\n    timezone: Asia/Hanoi_City\n    weekly: {mon: '08:00-17:00'}\n",
        "sla.yaml:3: calendar office: unknown time zone 'Asia/Hanoi_City'",
    ),
    (
        "calendars:\n  office:\n    weekly: {sat: ''}\n",
        "sla.yaml:3: calendar office: no working time in 'weekly'",
    ),
    (
        "calendars:\n  office:\n    holidays: VN\n",
        "sla.yaml:2: calendar office: 'weekly' is required",
    ),
    (
        "calendars:\n  office:\n    weekly: {mon: '08:00-17:00'}\n    holidays: XX\n",
        "sla.yaml:4: calendar office: 'holidays' must be a country code",
    ),
    (
        "calendars:\n  office:\n    weekly: {mon: '08:00-17:00'}\n    extra_days_off:\n"
        "      - 2026-02-30\n",
        "sla.yaml:5: bad date 2026-02-30: day is out of range for month",
    ),
    (
        "calendars:\n  office:\n    weekly: {mon: '08:00-17:00'}\n    extra_days_off:\n"
        "      - Tết\n",
        "sla.yaml:5: calendar office: 'extra_days_off': expected a date like 2026-01-02, got 'Tết'",
    ),
    (
        "calendars:\n  office:\n    weekly: {mon: '08:00-17:00'}\n    extra_days_off:\n"
        "      - {date: 2026-01-02, reason: x}\n",
        "sla.yaml:5: calendar office: unknown key 'reason' in 'extra_days_off'; allowed: date, note",
    ),
    (
        "calendars:\n  office:\n    weekly: {mon: '08:00-17:00'}\n    extra_days_off: [2026-01-10]\n"
        "    extra_working_days: [2026-01-10]\n",
        "sla.yaml:5: calendar office: both an extra day off and an extra working day: 2026-01-10",
    ),
    (
        "calendars:\n  24x7:\n    always_open: true\n    weekly: {mon: '08:00-17:00'}\n",
        "sla.yaml:4: calendar 24x7: 'weekly' makes no sense on an always-open (24x7) calendar",
    ),
    (
        "calendars:\n  24x7:\n    always_open: yes\n",
        "sla.yaml:3: calendar 24x7: 'always_open' must be true or false",
    ),
    (
        "calendars:\n  Office:\n    weekly: {mon: '08:00-17:00'}\n",
        "sla.yaml:2: calendar Office: a calendar id is lower-case",
    ),
    ("calendar: {}\n", "sla.yaml:1: unknown key 'calendar' in sla.yaml (did you mean calendars"),
    ("calendars:\n  office: [\n", "sla.yaml:"),  # bad YAML, with a line
    ("default_calendar: night\n" + CALENDARS, "sla.yaml:1: default_calendar: unknown calendar"),
    ("- a list\n", "sla.yaml:1: the file must be a mapping with 'calendars' and 'policies'"),
]


@pytest.mark.parametrize(("text", "expected"), FILE_ERRORS)
def test_file_and_calendar_errors(tmp_path, text, expected):
    if "policies:" not in text and "[\n" not in text and "- a list" not in text:
        text += "policies:\n" + DEFAULT
    found = problems(tmp_path, text)
    assert found, "expected an error"
    assert found[0].startswith(expected), found


def test_unit_calendar_must_be_defined(tmp_path):
    text = "calendars:\n  office:\n    weekly: {mon-fri: '08:00-17:00'}\npolicies:\n" + DEFAULT
    found = problems(tmp_path, text)
    assert (
        "sla.yaml:1: unit tong-dai-1022 uses calendar '24x7', which sla.yaml does not define"
        in found
    )


def test_missing_file_and_empty_policies(tmp_path):
    found = problems(tmp_path, CALENDARS + "policies: []\n")
    assert found == [
        "sla.yaml:7: 'policies' must be a non-empty list, ending with the default policy"
    ]
    (tmp_path / "sla.yaml").unlink()
    errors, _ = check_sla(tmp_path, hanoi())
    assert [e.message for e in errors] == [
        "missing: the SLA calendars and policies file is required"
    ]


def test_all_errors_at_once_and_load_raises(tmp_path):
    text = (
        CALENDARS
        + "policies:\n"
        + "  - id: a\n    when: {unit: nobody}\n    acknowledge: 8h\n    resolve: 5d\n"
        + "  - id: b\n    when: {priority: never}\n    acknowledge: 8x\n    resolve: 5d\n"
        + DEFAULT
    )
    with pytest.raises(SlaConfigError) as caught:
        load_sla(write_sla(tmp_path, text), hanoi())
    ids = [(e.line, e.policy_id) for e in caught.value.errors]
    assert ids == [(9, "a"), (13, "b"), (14, "b")]


def test_overrides_reach_the_calendar(tmp_path):
    text = (
        "calendars:\n  office:\n    weekly:\n      mon-fri: '08:00-12:00, 13:30-17:00'\n"
        "    extra_days_off:\n      - 2026-03-16\n      - {date: '2026-03-17', note: decree}\n"
        "    extra_working_days:\n      - {date: 2026-03-21, periods: '08:00-11:30'}\n"
        "      - 2026-03-22\n  24x7:\n    always_open: true\n"
        "policies:\n" + DEFAULT
    )
    config = load_sla(write_sla(tmp_path, text), hanoi())
    office = config.calendars["office"]
    assert office.local_periods(date(2026, 3, 16)) == ()
    assert office.local_periods(date(2026, 3, 17)) == ()
    assert office.local_periods(date(2026, 3, 21)) == ((time(8), time(11, 30)),)
    assert office.local_periods(date(2026, 3, 22)) == office.standard_periods


def test_holidays_none_works_through_tet(tmp_path):
    text = (
        "calendars:\n  office:\n    weekly: {mon-fri: '08:00-17:00'}\n    holidays: none\n"
        "  24x7:\n    always_open: true\npolicies:\n" + DEFAULT
    )
    config = load_sla(write_sla(tmp_path, text), hanoi())
    assert config.calendars["office"].local_periods(date(2026, 2, 17)) != ()


# -- warnings ---------------------------------------------------------------------------------

WARNINGS = [
    (
        "  - id: wide\n    when: {unit_kind: ubnd}\n    acknowledge: 8h\n    resolve: 5d\n"
        "  - id: narrow\n    when: {unit: ubnd-phuong-ba-dinh, priority: urgent}\n"
        "    acknowledge: 4h\n    resolve: 2d\n",
        "sla.yaml:12: policy narrow: never chosen by its conditions: policy wide (",
    ),
    (
        "  - id: wide\n    when: {topic: moi-truong, channel: [sms, zalo]}\n"
        "    acknowledge: 8h\n    resolve: 5d\n"
        "  - id: narrow\n    when: {topic: moi-truong.rac-thai, channel: sms}\n"
        "    acknowledge: 4h\n    resolve: 2d\n",
        "sla.yaml:12: policy narrow: never chosen by its conditions: policy wide (",
    ),
    (
        "  - id: odd\n    when: {unit: evn-ha-noi, unit_kind: ubnd}\n"
        "    acknowledge: 8h\n    resolve: 5d\n",
        "sla.yaml:8: policy odd: can never match: none of its units is of its unit_kind",
    ),
    (
        "  - id: slow\n    when: {unit_kind: ubnd}\n    acknowledge: 2d\n    resolve: 8h\n",
        "sla.yaml:8: policy slow: 'acknowledge' (2d) is longer than 'resolve' (8h)",
    ),
]


@pytest.mark.parametrize(("policies", "expected"), WARNINGS)
def test_warnings(tmp_path, policies, expected):
    text = CALENDARS + "policies:\n" + policies + DEFAULT
    assert problems(tmp_path, text) == []
    found = problems(tmp_path, text, "warnings")
    assert len(found) == 1, found
    assert found[0].startswith(expected), found


def test_no_warning_when_the_later_policy_is_wider(tmp_path):
    text = (
        CALENDARS
        + "policies:\n"
        + "  - id: narrow\n    when: {topic: moi-truong.rac-thai, unit_kind: ubnd}\n"
        + "    acknowledge: 4h\n    resolve: 2d\n"
        + "  - id: wide\n    when: {topic: [moi-truong, dien]}\n    acknowledge: 8h\n    resolve: 5d\n"
        + DEFAULT
    )
    assert problems(tmp_path, text, "warnings") == []
