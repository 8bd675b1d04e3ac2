"""Routing decisions: every condition kind, every action, ordering, exclusion, explain."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.routing import TicketFacts
from app.routing.schema import KindByArea, Rule, When
from tests.unit.test_routing_support import (
    HCM,
    facts,
    ruleset_from,
    small_catalog,
    unchecked_ruleset,
)


def one_rule(tmp_path, when: str, catalog=None, fallback="tong-dai-1022", assign="evn-ha-noi"):
    return ruleset_from(
        tmp_path,
        f"""
        fallback: {fallback}
        rules:
          - id: r
            when: {when}
            assign: {assign}
        """,
        catalog,
    )


def local(y, mo, d, h, mi=0):
    return datetime(y, mo, d, h, mi, tzinfo=HCM)


# (when, facts overrides, matches). Facts default: phone, normal, Wednesday 2026-03-04 10:00.
CONDITIONS = [
    # topic: a group matches itself and its subtopics, never siblings or the parent
    ("{topic: dien}", {"topic": "dien"}, True),
    ("{topic: dien}", {"topic": "dien.mat-dien"}, True),
    ("{topic: dien.mat-dien}", {"topic": "dien"}, False),
    ("{topic: dien}", {"topic": "nuoc-sach.mat-nuoc"}, False),
    ("{topic: dien}", {"topic": None}, False),
    ("{topic: dien}", {"topic": "no-such-topic"}, False),
    ("{topic: [dien, nuoc-sach]}", {"topic": "nuoc-sach.vo-ong"}, True),
    # area: everything under it; names, names without diacritics, former names
    ("{area: ha-noi}", {"area": "phuong-cau-giay"}, True),
    ("{area: phuong-cau-giay}", {"area": "phuong-cau-giay"}, True),
    ("{area: phuong-cau-giay}", {"area": "phuong-lang"}, False),
    ("{area: phuong-cau-giay}", {"area": None}, False),
    ("{area: Phường Cầu Giấy}", {"area": "phuong-cau-giay"}, True),
    ("{area: cau giay}", {"area": "phuong-cau-giay"}, True),
    ("{area: P. Cầu Giấy}", {"area": "phuong-cau-giay"}, True),
    ("{area: Phường Hàng Bạc}", {"area": "phuong-hoan-kiem"}, True),  # former ward
    ("{area: Phường Hàng Bạc}", {"area": "phuong-cua-nam"}, False),
    ("{area: Quận Hoàn Kiếm}", {"area": "phuong-cua-nam"}, True),  # former district, split
    ("{area: Quận Hoàn Kiếm}", {"area": "phuong-hong-ha"}, True),
    ("{area: Quận Hoàn Kiếm}", {"area": "phuong-cau-giay"}, False),
    ("{area: quan hoan kiem}", {"area": "phuong-hoan-kiem"}, True),
    ("{area: 'Phường Quang Trung, Quận Hà Đông'}", {"area": "phuong-ha-dong"}, True),
    ("{area: [xa-bat-trang, Thị trấn Sóc Sơn]}", {"area": "xa-soc-son"}, True),
    # channel and priority: any of
    ("{channel: zalo}", {"channel": "zalo"}, True),
    ("{channel: [sms, zalo]}", {"channel": "phone"}, False),
    ("{channel: walk_in}", {"channel": "walk_in"}, True),
    ("{priority: [high, urgent]}", {"priority": "urgent"}, True),
    ("{priority: [high, urgent]}", {"priority": "normal"}, False),
    # confidential
    ("{confidential: true}", {"confidential": True}, True),
    ("{confidential: true}", {"confidential": False}, False),
    ("{confidential: false}", {"confidential": False}, True),
    ("{confidential: false}", {"confidential": True}, False),
    # keywords: whole words or phrases, case and diacritics insensitive
    ("{keywords: mất điện}", {"description": "Nhà tôi MẤT ĐIỆN từ sáng"}, True),
    ("{keywords: mất điện}", {"description": "nha toi mat dien tu sang"}, True),
    ("{keywords: mất điện}", {"description": "Mất điện."}, True),
    ("{keywords: mất điện}", {"description": "mất, điện"}, True),  # punctuation is a space
    ("{keywords: mất điện}", {"description": "điện mất"}, False),
    ("{keywords: ngập}", {"description": "ngập úng"}, True),
    ("{keywords: ngập}", {"description": "ngậpúng"}, False),  # not a whole word
    ("{keywords: ga}", {"description": "hố ga bị mất nắp"}, True),
    ("{keywords: ga}", {"description": "gara ô tô"}, False),
    ("{keywords: [karaoke, tiếng ồn]}", {"description": "Tieng on qua"}, True),
    ("{keywords: Đường}", {"description": "duong"}, True),  # đ folds to d
    # weekdays (local time)
    ("{weekdays: [sat, sun]}", {"received_at": local(2026, 3, 7, 12)}, True),
    ("{weekdays: [sat, sun]}", {"received_at": local(2026, 3, 6, 12)}, False),
    ("{weekdays: mon-fri}", {"received_at": local(2026, 3, 6, 12)}, True),
    ("{weekdays: fri-mon}", {"received_at": local(2026, 3, 9, 12)}, True),  # wraps
    ("{weekdays: fri-mon}", {"received_at": local(2026, 3, 10, 12)}, False),
    # Saturday 01:00 in Hanoi is Friday 18:00 UTC: the local weekday counts
    ("{weekdays: sat}", {"received_at": datetime(2026, 3, 6, 18, 0, tzinfo=UTC)}, True),
    ("{weekdays: fri}", {"received_at": datetime(2026, 3, 6, 18, 0, tzinfo=UTC)}, False),
    # hours: start inclusive, end exclusive, local time, may cross midnight
    ("{hours: '08:00-17:00'}", {"received_at": local(2026, 3, 4, 8, 0)}, True),
    ("{hours: '08:00-17:00'}", {"received_at": local(2026, 3, 4, 16, 59)}, True),
    ("{hours: '08:00-17:00'}", {"received_at": local(2026, 3, 4, 17, 0)}, False),
    ("{hours: '08:00-17:00'}", {"received_at": local(2026, 3, 4, 7, 59)}, False),
    ("{hours: '22:00-06:00'}", {"received_at": local(2026, 3, 4, 22, 0)}, True),
    ("{hours: '22:00-06:00'}", {"received_at": local(2026, 3, 4, 23, 59)}, True),
    ("{hours: '22:00-06:00'}", {"received_at": local(2026, 3, 5, 0, 0)}, True),
    ("{hours: '22:00-06:00'}", {"received_at": local(2026, 3, 5, 5, 59)}, True),
    ("{hours: '22:00-06:00'}", {"received_at": local(2026, 3, 5, 6, 0)}, False),
    ("{hours: '22:00-06:00'}", {"received_at": local(2026, 3, 4, 21, 59)}, False),
    ("{hours: '22:00-06:00'}", {"received_at": local(2026, 3, 4, 12, 0)}, False),
    ("{hours: '17:00-24:00'}", {"received_at": local(2026, 3, 4, 23, 59)}, True),
    ("{hours: '00:00-24:00'}", {"received_at": local(2026, 3, 4, 3, 0)}, True),
    ("{hours: ['07:00-08:00', '12:00-13:30']}", {"received_at": local(2026, 3, 4, 13, 15)}, True),
    ("{hours: ['07:00-08:00', '12:00-13:30']}", {"received_at": local(2026, 3, 4, 10, 0)}, False),
    # 15:30 UTC is 22:30 in Hanoi
    ("{hours: '22:00-06:00'}", {"received_at": datetime(2026, 3, 4, 15, 30, tzinfo=UTC)}, True),
    (
        "{hours: '22:00-06:00'}",
        {"received_at": datetime(2026, 3, 4, 10, 30, tzinfo=timezone(timedelta(hours=-5)))},
        True,
    ),
    # no conditions: matches everything
    ("{}", {}, True),
    # all must hold
    ("{topic: dien, area: phuong-lang}", {"topic": "dien", "area": "phuong-lang"}, True),
    ("{topic: dien, area: phuong-lang}", {"topic": "dien", "area": "phuong-cau-giay"}, False),
    (
        "{topic: an-ninh-trat-tu, hours: '22:00-06:00', weekdays: [sat]}",
        {"topic": "an-ninh-trat-tu.tieng-on", "received_at": local(2026, 3, 7, 1, 0)},
        True,
    ),
]


@pytest.mark.parametrize(("when", "overrides", "matches"), CONDITIONS)
def test_condition(tmp_path, when, overrides, matches):
    ruleset = one_rule(tmp_path, when)
    f = facts(**overrides)
    decision = ruleset.route(f)
    assert (decision.rule_id == "r") is matches
    assert decision.unit == ("evn-ha-noi" if matches else "tong-dai-1022")
    explanation = ruleset.explain(f)
    assert explanation.decision == decision
    assert explanation.trace[0].matched is matches


def test_timezone_of_the_ruleset_is_used(tmp_path):
    ruleset = ruleset_from(
        tmp_path,
        """
        timezone: UTC
        fallback: tong-dai-1022
        rules:
          - {id: r, when: {hours: "22:00-06:00"}, assign: evn-ha-noi}
        """,
    )
    assert ruleset.route(facts(received_at=local(2026, 3, 4, 23, 0))).rule_id is None  # 16:00Z
    assert ruleset.route(facts(received_at=local(2026, 3, 5, 5, 0))).rule_id == "r"  # 22:00Z


def test_naive_received_at_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        facts(received_at=datetime(2026, 3, 4, 10, 0))


# -- actions ----------------------------------------------------------------------------------

ACTIONS_RULES = """
fallback: tong-dai-1022
rules:
  - id: fixed
    when: {topic: dien}
    assign: evn-ha-noi
    set: {priority: urgent, sla_policy: khan-cap}
    co_handlers: [cdc-ha-noi, {kind: ubnd, by: area}, cdc-ha-noi]
    tags: [a, b]
  - id: by-area
    when: {topic: moi-truong}
    assign: {kind: ubnd, by: area}
    co_handlers: [{kind: ubnd, by: area}, urenco]
  - id: police-by-area
    when: {topic: an-ninh-trat-tu}
    assign: {kind: cong-an, by: area}
"""


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"topic": "dien.mat-dien", "area": "phuong-lang"},
            (
                "evn-ha-noi",
                "fixed",
                "urgent",
                "khan-cap",
                ("cdc-ha-noi", "ubnd-phuong-lang"),
                ("a", "b"),
            ),
        ),
        # no area: the by-area co-handler is left out, the rule still applies
        (
            {"topic": "dien.mat-dien"},
            ("evn-ha-noi", "fixed", "urgent", "khan-cap", ("cdc-ha-noi",), ("a", "b")),
        ),
        # the by-area co-handler equal to the assigned unit is dropped
        (
            {"topic": "moi-truong.rac-thai", "area": "xa-bat-trang"},
            ("ubnd-xa-bat-trang", "by-area", None, None, ("urenco",), ()),
        ),
        # the city itself is served by the city committee
        (
            {"topic": "moi-truong.rac-thai", "area": "ha-noi"},
            ("ubnd-ha-noi", "by-area", None, None, ("urenco",), ()),
        ),
        # police units only serve the city: the nearest ancestor's unit is used
        (
            {"topic": "an-ninh-trat-tu.te-nan", "area": "phuong-lang"},
            ("cong-an-ha-noi", "police-by-area", None, None, (), ()),
        ),
        # assign by area without an area: not applicable, the fallback decides
        (
            {"topic": "moi-truong.rac-thai"},
            ("tong-dai-1022", None, None, None, (), ()),
        ),
    ],
)
def test_actions(tmp_path, overrides, expected):
    ruleset = ruleset_from(tmp_path, ACTIONS_RULES)
    d = ruleset.route(facts(**overrides))
    assert (d.unit, d.rule_id, d.priority, d.sla_policy, d.co_handlers, d.tags) == expected
    assert d.ruleset_version == ruleset.version


def test_nearest_ancestor_in_a_deeper_tree(tmp_path):
    rules = """
    fallback: triage
    rules:
      - {id: ward, when: {topic: a, area: [p1, w21]}, assign: {kind: ubnd, by: area}}
      - id: police
        when: {topic: b, area: p1}
        assign: {kind: cong-an, by: area}
        co_handlers: [{kind: ubnd, by: area}]
    """
    ruleset = ruleset_from(tmp_path, rules, small_catalog())
    assert ruleset.route(facts(topic="a", area="w11")).unit == "ubnd-w11"
    assert ruleset.route(facts(topic="a", area="v121")).unit == "ubnd-p1"  # village > w12 > p1
    assert ruleset.route(facts(topic="a", area="p1")).unit == "ubnd-p1"
    assert ruleset.route(facts(topic="a", area="w21")).unit == "ubnd-w21"
    assert ruleset.route(facts(topic="a", area="w22")).unit == "triage"  # not under p1 or w21
    d = ruleset.route(facts(topic="b", area="v121"))
    assert (d.unit, d.co_handlers) == ("police-p1", ("ubnd-p1",))


def test_no_serving_unit_at_run_time_skips_the_rule():
    # The loader refuses such a rule; an unvalidated one still decides safely.
    catalog = small_catalog()
    ruleset = unchecked_ruleset(
        [Rule("ward", "x.yaml", 1, When(topic=("a",)), KindByArea("ubnd"))], catalog, "triage"
    )
    f = facts(topic="a", area="w22")
    assert ruleset.route(f).unit == "triage"
    assert ruleset.explain(f).trace[0].reason == (
        "no unit of kind ubnd serves area w22 or any area above it"
    )


# -- order and exclusion ----------------------------------------------------------------------

ORDER_RULES = """
fallback: tong-dai-1022
rules:
  - id: night-noise
    when: {topic: an-ninh-trat-tu.tieng-on, hours: "22:00-06:00"}
    assign: cong-an-ha-noi
  - id: noise-ward
    when: {topic: an-ninh-trat-tu.tieng-on}
    assign: {kind: ubnd, by: area}
  - id: security
    when: {topic: an-ninh-trat-tu}
    assign: cong-an-ha-noi
  - id: anything-in-hanoi
    when: {area: ha-noi}
    assign: {kind: ubnd, by: area}
"""


@pytest.mark.parametrize(
    ("overrides", "exclude", "unit", "rule"),
    [
        ({"received_at": local(2026, 3, 4, 23)}, set(), "cong-an-ha-noi", "night-noise"),
        ({"received_at": local(2026, 3, 4, 11)}, set(), "ubnd-phuong-lang", "noise-ward"),
        # police rejected the night call: the next matching rule, the ward
        (
            {"received_at": local(2026, 3, 4, 23)},
            {"cong-an-ha-noi"},
            "ubnd-phuong-lang",
            "noise-ward",
        ),
        # the ward rejected too: 'security' is the police again (excluded), then the catch-all
        # for Hanoi resolves to the same ward (excluded), then the fallback
        (
            {"received_at": local(2026, 3, 4, 23)},
            {"cong-an-ha-noi", "ubnd-phuong-lang"},
            "tong-dai-1022",
            None,
        ),
        (
            {"received_at": local(2026, 3, 4, 11)},
            {"ubnd-phuong-lang"},
            "cong-an-ha-noi",
            "security",
        ),
        (
            {"received_at": local(2026, 3, 4, 11)},
            {"ubnd-phuong-lang", "cong-an-ha-noi", "tong-dai-1022"},
            None,
            None,
        ),
        (
            {"topic": "dien", "received_at": local(2026, 3, 4, 11)},
            set(),
            "ubnd-phuong-lang",
            "anything-in-hanoi",
        ),
    ],
)
def test_first_match_and_exclusion(tmp_path, overrides, exclude, unit, rule):
    ruleset = ruleset_from(tmp_path, ORDER_RULES)
    base = {"topic": "an-ninh-trat-tu.tieng-on", "area": "phuong-lang"}
    f = facts(**{**base, **overrides})
    d = ruleset.route(f, frozenset(exclude))
    assert (d.unit, d.rule_id) == (unit, rule)
    assert ruleset.explain(f, frozenset(exclude)).decision == d


def test_excluded_co_handlers_are_left_out(tmp_path):
    ruleset = ruleset_from(
        tmp_path,
        """
        fallback: tong-dai-1022
        rules:
          - id: flood
            when: {topic: ngap-ung}
            assign: thoat-nuoc-ha-noi
            co_handlers: [{kind: ubnd, by: area}, urenco]
        """,
    )
    f = facts(topic="ngap-ung.ngap-duong", area="phuong-lang")
    assert ruleset.route(f).co_handlers == ("ubnd-phuong-lang", "urenco")
    assert ruleset.route(f, frozenset({"ubnd-phuong-lang"})).co_handlers == ("urenco",)
    # the cached no-exclusion decision is not affected by an earlier excluded call
    assert ruleset.route(f).co_handlers == ("ubnd-phuong-lang", "urenco")


def test_rules_d_files_follow_rules_yaml_in_name_order(tmp_path):
    from app.routing import load_ruleset
    from tests.unit.test_routing_support import hanoi, write_rules

    write_rules(
        tmp_path,
        """
        fallback: tong-dai-1022
        rules:
          - {id: main, when: {topic: dien.mat-dien}, assign: evn-ha-noi}
        """,
        {
            "20-later.yaml": "rules:\n  - {id: later, when: {topic: dien}, assign: cdc-ha-noi}\n",
            "10-early.yaml": "rules:\n  - {id: early, when: {topic: dien}, assign: urenco}\n",
        },
    )
    ruleset = load_ruleset(tmp_path, hanoi())
    assert [r.id for r in ruleset.rules] == ["main", "early", "later"]
    assert ruleset.route(facts(topic="dien.hoa-don")).rule_id == "early"
    assert any(w.rule_id == "later" for w in ruleset.warnings)


def test_version_is_a_content_hash(tmp_path):
    text = """
    fallback: tong-dai-1022
    rules:
      - {id: r, when: {topic: dien}, assign: evn-ha-noi}
    """
    a = ruleset_from(tmp_path / "a", text)
    b = ruleset_from(tmp_path / "b", text)
    c = ruleset_from(tmp_path / "c", text.replace("evn-ha-noi", "cdc-ha-noi"))
    assert a.version == b.version != c.version
    assert len(a.version) == 16


# -- explain ----------------------------------------------------------------------------------

EXPLAIN_RULES = """
fallback: tong-dai-1022
rules:
  - {id: by-topic, when: {topic: dien}, assign: evn-ha-noi}
  - {id: by-area, when: {area: Quận Hoàn Kiếm}, assign: evn-ha-noi}
  - {id: by-channel, when: {channel: [sms, zalo]}, assign: evn-ha-noi}
  - {id: by-priority, when: {priority: urgent}, assign: evn-ha-noi}
  - {id: by-secret, when: {confidential: true}, assign: evn-ha-noi}
  - {id: by-day, when: {weekdays: [sat, sun]}, assign: evn-ha-noi}
  - {id: by-hours, when: {hours: "22:00-06:00"}, assign: evn-ha-noi}
  - {id: by-words, when: {keywords: [mất điện, cúp điện]}, assign: evn-ha-noi}
  - {id: by-ward, when: {topic: nuoc-sach}, assign: {kind: ubnd, by: area}}
  - {id: excluded, when: {topic: nuoc-sach}, assign: nuoc-sach-ha-noi}
  - {id: winner, when: {topic: nuoc-sach.mat-nuoc}, assign: cdc-ha-noi}
  - {id: never-tried, assign: urenco}
"""


def test_explain_gives_the_first_failing_condition(tmp_path):
    ruleset = ruleset_from(tmp_path, EXPLAIN_RULES)
    f = facts(
        topic="nuoc-sach.mat-nuoc",
        area="phuong-lang",
        description="nước yếu",
        received_at=local(2026, 3, 4, 10, 5),
    )
    explanation = ruleset.explain(f, frozenset({"nuoc-sach-ha-noi", "ubnd-phuong-lang"}))
    reasons = {t.rule_id: (t.failed, t.reason) for t in explanation.trace}
    assert [t.rule_id for t in explanation.trace][-1] == "winner"  # later rules are not tried
    assert "never-tried" not in reasons
    assert reasons["by-topic"] == ("topic", "topic nuoc-sach.mat-nuoc is not under dien")
    assert reasons["by-area"][0] == "area"
    assert reasons["by-area"][1].startswith("area phuong-lang is not in Quận Hoàn Kiếm [")
    assert reasons["by-channel"] == ("channel", "channel phone is not one of sms, zalo")
    assert reasons["by-priority"] == ("priority", "priority normal is not one of urgent")
    assert reasons["by-secret"] == ("confidential", "the ticket is not confidential")
    assert reasons["by-day"] == (
        "weekdays",
        "received on a Wednesday (local time), not on sat, sun",
    )
    assert reasons["by-hours"] == (
        "hours",
        "received at 10:05 local time, outside 22:00-06:00",
    )
    assert reasons["by-words"] == (
        "keywords",
        "the description contains none of: mất điện, cúp điện",
    )
    assert reasons["excluded"] == (
        "assign",
        "unit nuoc-sach-ha-noi is excluded (it already rejected this ticket)",
    )
    assert reasons["by-ward"][0] == "assign"
    assert reasons["winner"] == (None, None)
    assert explanation.decision.rule_id == "winner"
    assert not explanation.fallback_used
    assert explanation.local_time.hour == 10
    data = explanation.as_dict()
    assert data["decision"]["unit"] == "cdc-ha-noi"
    assert data["trace"][0]["failed"] == "topic"
    assert "winner" in str(explanation)


def test_explain_missing_facts_and_fallback(tmp_path):
    ruleset = ruleset_from(
        tmp_path, EXPLAIN_RULES.replace("  - {id: never-tried, assign: urenco}\n", "")
    )
    explanation = ruleset.explain(facts(topic=None, channel="web"), frozenset({"tong-dai-1022"}))
    reasons = {t.rule_id: t.reason for t in explanation.trace}
    assert reasons["by-topic"] == "the ticket has no topic; the rule needs one under dien"
    assert reasons["by-area"].startswith(
        "the ticket has no area; the rule needs one in Quận Hoàn Kiếm"
    )
    assert explanation.fallback_used
    assert explanation.decision.unit is None
    assert "nobody assigned" in explanation.note
    ward = ruleset.explain(facts(topic="nuoc-sach.vo-ong"))
    assert {t.rule_id: t.reason for t in ward.trace}["by-ward"] == (
        "assigns the ubnd unit serving the area, but the ticket has no area"
    )


def test_explain_with_an_unknown_area_code(tmp_path):
    ruleset = ruleset_from(
        tmp_path,
        """
        fallback: triage
        rules:
          - {id: ward, when: {topic: a}, assign: {kind: cong-ty, by: area}}
        """,
        small_catalog(),
    )
    f = facts(topic="a", area="nowhere")  # an area code the catalog does not know
    explanation = ruleset.explain(f)
    assert explanation.trace[0].reason == (
        "no unit of kind cong-ty serves area nowhere or any area above it"
    )
    assert explanation.decision == ruleset.route(f)


def test_describe_lists_rules_as_written(tmp_path):
    ruleset = ruleset_from(tmp_path, ACTIONS_RULES)
    data = ruleset.describe()
    assert data["version"] == ruleset.version
    assert data["rules"][0]["set"] == {"priority": "urgent", "sla_policy": "khan-cap"}
    assert data["rules"][1]["assign"] == {"kind": "ubnd", "by": "area"}
    assert ruleset.rule("fixed").line == 4
    assert ruleset.rule("nope") is None


def test_unknown_channel_and_priority_values_only_match_unconstrained_rules(tmp_path):
    ruleset = ruleset_from(
        tmp_path,
        """
        fallback: tong-dai-1022
        rules:
          - {id: sms, when: {channel: sms}, assign: evn-ha-noi}
          - {id: any, when: {priority: [low, normal, high, urgent]}, assign: cdc-ha-noi}
        """,
    )
    f = TicketFacts(None, None, "fax", "whatever", "", local(2026, 3, 4, 10))
    assert ruleset.route(f).rule_id is None
