"""Loading rule files: every error names file, line and rule id; shadowed rules are warned."""

import pytest

from app.routing import RulesError, check_rules, load_ruleset
from tests.unit.test_routing_support import hanoi, small_catalog, write_rules

HEAD = "fallback: tong-dai-1022\nrules:\n"


def errors_for(tmp_path, text, catalog=None, extra=None, **kw):
    write_rules(tmp_path, text, extra)
    errors, _ = check_rules(tmp_path, catalog or hanoi(), **kw)
    return [str(e).replace(str(tmp_path) + "/", "") for e in errors]


def warnings_for(tmp_path, text, catalog=None):
    write_rules(tmp_path, text)
    errors, warnings = check_rules(tmp_path, catalog or hanoi())
    assert errors == []
    return [str(w).replace(str(tmp_path) + "/", "") for w in warnings]


# (rule body under `rules:`, the single expected error: "line: rule id: message")
RULE_ERRORS = [
    (
        "  - id: r\n    whn: {topic: dien}\n    assign: evn-ha-noi\n",
        "rules.yaml:4: rule r: unknown key 'whn' (did you mean when?)",
    ),
    (
        "  - id: r\n    when: {topc: dien}\n    assign: evn-ha-noi\n",
        "rules.yaml:4: rule r: unknown condition 'topc' (did you mean topic?)",
    ),
    (
        "  - id: r\n    when: {topic: dien.mat-dein}\n    assign: evn-ha-noi\n",
        "rules.yaml:4: rule r: unknown topic 'dien.mat-dein' (did you mean dien.mat-dien, dien.hoa-don, giao-thong.mat-duong?)",
    ),
    (
        "  - id: r\n    when:\n      topic: dien\n      area: Phường Cầu Giâý Mới\n    assign: evn-ha-noi\n",
        "rules.yaml:6: rule r: unknown area 'Phường Cầu Giâý Mới' (did you mean phuong-cau-giay, phuong-dai-mo, phuong-nghia-do?)",
    ),
    (
        "  - id: r\n    when: {topic: dien}\n    assign: evn-hanoi\n",
        "rules.yaml:5: rule r: assign: unknown unit 'evn-hanoi' (did you mean evn-ha-noi, ubnd-ha-noi, atvstp-ha-noi?)",
    ),
    (
        "  - id: r\n    when: {topic: dien}\n    assign: {kind: ubdn, by: area}\n",
        "rules.yaml:5: rule r: assign: unknown unit kind 'ubdn'; "
        "one of cong-an, cong-ty, so, tong-dai, ubnd, y-te",
    ),
    (
        "  - id: r\n    when: {topic: dien}\n    assign: {kind: ubnd, by: unit}\n",
        "rules.yaml:5: rule r: assign: 'by' must be 'area', got 'unit'",
    ),
    (
        "  - id: r\n    when: {topic: dien}\n    assign: evn-ha-noi\n    co_handlers: [urenco, nobody]\n",
        "rules.yaml:6: rule r: co_handlers: unknown unit 'nobody'",
    ),
    (
        "  - id: r\n    when: {topic: dien}\n",
        "rules.yaml:3: rule r: a rule needs 'assign'",
    ),
    (
        "  - when: {topic: dien}\n    assign: evn-ha-noi\n",
        "rules.yaml:3: a rule needs an 'id' of lower-case letters, digits, '.', '_' or '-'",
    ),
    (
        "  - id: Bad Id\n    assign: evn-ha-noi\n",
        "rules.yaml:3: a rule needs an 'id' of lower-case letters, digits, '.', '_' or '-', "
        "got 'Bad Id'",
    ),
    (
        "  - id: r\n    when: {hours: '25:00-06:00'}\n    assign: evn-ha-noi\n",
        "rules.yaml:4: rule r: malformed hours '25:00-06:00': times run from 00:00 to 24:00",
    ),
    (
        "  - id: r\n    when: {hours: '22h-6h'}\n    assign: evn-ha-noi\n",
        "rules.yaml:4: rule r: malformed hours '22h-6h': use HH:MM-HH:MM, e.g. 17:00-07:30",
    ),
    (
        "  - id: r\n    when: {hours: ['08:00-12:00', '13:00-13:00']}\n    assign: evn-ha-noi\n",
        "rules.yaml:4: rule r: malformed hours '13:00-13:00': start equals end "
        "(use 00:00-24:00 for the whole day)",
    ),
    (
        "  - id: r\n    when: {hours: '08:60-12:00'}\n    assign: evn-ha-noi\n",
        "rules.yaml:4: rule r: malformed hours '08:60-12:00': times run from 00:00 to 24:00",
    ),
    (
        "  - id: r\n    when: {weekdays: [mon, funday]}\n    assign: evn-ha-noi\n",
        "rules.yaml:4: rule r: malformed weekdays 'funday': use mon, tue, wed, thu, fri, sat, sun "
        "or a range like mon-fri",
    ),
    (
        "  - id: r\n    when: {channel: zallo}\n    assign: evn-ha-noi\n",
        "rules.yaml:4: rule r: unknown channel 'zallo' (did you mean zalo?); "
        "one of phone, sms, zalo, web, email, app, walk_in, open311",
    ),
    (
        "  - id: r\n    when: {priority: critical}\n    assign: evn-ha-noi\n",
        "rules.yaml:4: rule r: unknown priority 'critical'; one of low, normal, high, urgent",
    ),
    (
        "  - id: r\n    when: {confidential: 'yes'}\n    assign: evn-ha-noi\n",
        "rules.yaml:4: rule r: 'confidential' must be true or false, got 'yes'",
    ),
    (
        "  - id: r\n    when: {topic: []}\n    assign: evn-ha-noi\n",
        "rules.yaml:4: rule r: 'topic' is an empty list, which would match nothing",
    ),
    (
        "  - id: r\n    when: {keywords: ['!!!']}\n    assign: evn-ha-noi\n",
        "rules.yaml:4: rule r: keyword '!!!' has no letters or digits",
    ),
    (
        "  - id: r\n    when: {topic: dien}\n    assign: evn-ha-noi\n    set: {priorty: high}\n",
        "rules.yaml:6: rule r: set: unknown key 'priorty' (did you mean priority?)",
    ),
    (
        "  - id: r\n    when: {topic: dien}\n    assign: evn-ha-noi\n    set: {priority: top}\n",
        "rules.yaml:6: rule r: set: unknown priority 'top'; one of low, normal, high, urgent",
    ),
    (
        "  - id: r\n    when: {topic: dien}\n    assign: evn-ha-noi\n    tags: [Has Space]\n",
        "rules.yaml:6: rule r: tag 'Has Space' must be lower-case letters, digits, '.', '_', ':' "
        "or '-'",
    ),
    (
        "  - id: r\n    when: {area: Phường Quang Trung}\n    assign: evn-ha-noi\n",
        "rules.yaml:4: rule r: area 'Phường Quang Trung' is ambiguous: "
        "Phường Quang Trung, Quận Đống Đa; Phường Quang Trung, Quận Hà Đông "
        "(add the former district)",
    ),
    (
        "  - just a string\n",
        "rules.yaml:3: a rule must be a mapping with 'id', 'when' and 'assign'",
    ),
    (
        "  - id: r\n    when: [topic, dien]\n    assign: evn-ha-noi\n",
        "rules.yaml:4: rule r: 'when' must be a mapping of conditions",
    ),
]


@pytest.mark.parametrize(("body", "expected"), RULE_ERRORS)
def test_rule_errors(tmp_path, body, expected):
    assert errors_for(tmp_path, HEAD + body) == [expected]


def test_error_lines_point_at_the_rule_in_a_longer_file(tmp_path):
    text = HEAD + (
        "  - id: ok\n"  # 3
        "    when: {topic: dien}\n"
        "    assign: evn-ha-noi\n"
        "\n"
        "  # a comment\n"
        "  - id: bad\n"  # 8
        "    when:\n"
        "      topic: dien\n"
        "      area: no-such-place\n"  # 11
        "    assign: evn-ha-noi\n"
    )
    assert errors_for(tmp_path, text) == ["rules.yaml:11: rule bad: unknown area 'no-such-place'"]
    with pytest.raises(RulesError) as info:
        load_ruleset(tmp_path, hanoi())
    problem = info.value.errors[0]
    assert (problem.line, problem.rule_id) == (11, "bad")
    assert problem.file.endswith("rules.yaml")


def test_all_errors_are_reported_at_once(tmp_path):
    text = HEAD + (
        "  - {id: a, when: {topic: nope}, assign: evn-ha-noi}\n"
        "  - {id: b, when: {channel: fax}, assign: nobody}\n"
    )
    errors = errors_for(tmp_path, text)
    assert len(errors) == 3
    assert [e.split(": ")[1] for e in errors] == ["rule a", "rule b", "rule b"]


def test_bad_yaml(tmp_path):
    errors = errors_for(tmp_path, HEAD + "  - id: r\n    when: {topic: dien\n    assign: x\n")
    assert len(errors) == 1
    assert errors[0].startswith("rules.yaml:")
    assert "bad YAML" in errors[0]


def test_duplicate_keys_in_yaml_are_bad_yaml(tmp_path):
    errors = errors_for(tmp_path, HEAD + "  - id: r\n    id: s\n    assign: evn-ha-noi\n")
    assert len(errors) == 1 and "bad YAML" in errors[0] and "duplicate key" in errors[0]


def test_duplicate_ids_across_files(tmp_path):
    errors = errors_for(
        tmp_path,
        HEAD + "  - {id: r, when: {topic: dien}, assign: evn-ha-noi}\n",
        extra={
            "10-more.yaml": "rules:\n  - id: x\n    assign: urenco\n  - id: r\n    assign: urenco\n"
        },
    )
    assert errors == ["rules.d/10-more.yaml:4: rule r: duplicate id (first at rules.yaml:3)"]


def test_top_level_errors(tmp_path):
    assert errors_for(tmp_path, "rules: []\n") == [
        "rules.yaml: 'fallback' (the triage unit) is required"
    ]
    assert errors_for(tmp_path, "fallback: triage-unit\nrules: []\n") == [
        "rules.yaml:1: fallback: unknown unit 'triage-unit'"
    ]
    assert errors_for(tmp_path, "timezone: Asia/Hanoi_City\nfallback: tong-dai-1022\n") == [
        "rules.yaml:1: unknown time zone 'Asia/Hanoi_City'"
    ]
    assert errors_for(tmp_path, "fallback: tong-dai-1022\nrule: []\n") == [
        "rules.yaml:2: unknown key 'rule' (did you mean rules?)"
    ]
    assert errors_for(tmp_path, "fallback: tong-dai-1022\nrules: {a: 1}\n") == [
        "rules.yaml:2: 'rules' must be a list"
    ]
    assert errors_for(
        tmp_path, "fallback: tong-dai-1022\n", extra={"a.yaml": "fallback: urenco\nrules: []\n"}
    ) == ["rules.d/a.yaml:1: unknown key 'fallback' (only rules.yaml may set it)"]


def test_missing_main_file(tmp_path):
    errors, _ = check_rules(tmp_path, hanoi())
    assert [str(e) for e in errors] == [
        f"{tmp_path}/rules.yaml: missing: the main rule file is required"
    ]


def test_reference_data_errors_are_reported(tmp_path):
    write_rules(tmp_path, "fallback: x\n")
    errors, _ = check_rules(tmp_path)  # no areas/, topics.yaml, units.yaml here
    assert errors and errors[0].rule_id is None


def test_sla_policy_is_checked_when_policies_are_known(tmp_path):
    text = HEAD + "  - {id: r, assign: evn-ha-noi, set: {sla_policy: khan-capp}}\n"
    assert errors_for(tmp_path, text) == []
    assert errors_for(tmp_path, text, sla_policies={"khan-cap", "mac-dinh"}) == [
        "rules.yaml:3: rule r: set: unknown SLA policy 'khan-capp' (did you mean khan-cap?)"
    ]


def test_kind_without_serving_unit_for_the_areas_a_rule_applies_to(tmp_path):
    catalog = small_catalog()  # police serve p1 only; ward committees p1, w11, w21
    head = "fallback: triage\nrules:\n"
    assert (
        errors_for(
            tmp_path / "a",
            head + "  - {id: r, when: {area: p1}, assign: {kind: cong-an, by: area}}\n",
            catalog,
        )
        == []
    )
    assert errors_for(
        tmp_path / "b",
        head + "  - {id: r, when: {area: p2}, assign: {kind: cong-an, by: area}}\n",
        catalog,
    ) == ["rules.yaml:3: rule r: assign: no unit of kind 'cong-an' serves p2, w21, w22"]
    assert errors_for(
        tmp_path / "c",
        head + "  - id: r\n    assign: water\n    co_handlers: [{kind: ubnd, by: area}]\n",
        catalog,
    ) == ["rules.yaml:5: rule r: co_handlers: no unit of kind 'ubnd' serves p2, vn, w22"]


def test_former_name_with_district_resolves(tmp_path):
    ruleset = load_ruleset(
        write_rules(
            tmp_path,
            HEAD
            + "  - {id: r, when: {area: 'Phường Quang Trung (Quận Hà Đông)'}, assign: urenco}\n",
        ),
        hanoi(),
    )
    refs = ruleset.rules[0].when.area
    assert refs is not None and refs[0].codes == ("phuong-ha-dong", "phuong-kien-hung")


def test_shipped_ruleset_is_clean():
    from tests.unit.test_routing_support import RULES_DIR

    errors, warnings = check_rules(RULES_DIR)
    assert errors == []
    assert warnings == []


# -- shadowing --------------------------------------------------------------------------------

SHADOWED = [
    # a catch-all shadows everything after it
    (
        "  - {id: a, assign: urenco}\n  - {id: b, when: {topic: dien}, assign: evn-ha-noi}\n",
        "b",
        "a",
    ),
    # a parent topic shadows a subtopic rule after it
    (
        "  - {id: a, when: {topic: dien}, assign: evn-ha-noi}\n"
        "  - {id: b, when: {topic: dien.mat-dien, channel: sms}, assign: urenco}\n",
        "b",
        "a",
    ),
    # an area shadows an area under it; former names count by the areas they cover
    (
        "  - {id: a, when: {area: Quận Hoàn Kiếm}, assign: urenco}\n"
        "  - {id: b, when: {area: Phường Hàng Bạc}, assign: evn-ha-noi}\n",
        "b",
        "a",
    ),
    # wider hours, weekdays, channels and priorities
    (
        "  - {id: a, when: {hours: '20:00-08:00', weekdays: [fri, sat, sun]}, assign: urenco}\n"
        "  - {id: b, when: {hours: '22:00-06:00', weekdays: sat}, assign: evn-ha-noi}\n",
        "b",
        "a",
    ),
    (
        "  - {id: a, when: {channel: [sms, zalo], priority: [high, urgent]}, assign: urenco}\n"
        "  - {id: b, when: {channel: zalo, priority: urgent, confidential: true}, assign: urenco}\n",
        "b",
        "a",
    ),
    # "mất điện" is found in every description containing "mất điện toàn khu"
    (
        "  - {id: a, when: {keywords: [mất điện, cúp điện]}, assign: evn-ha-noi}\n"
        "  - {id: b, when: {keywords: [mat dien toan khu]}, assign: evn-ha-noi}\n",
        "b",
        "a",
    ),
]


@pytest.mark.parametrize(("body", "shadowed", "by"), SHADOWED)
def test_shadow_warnings(tmp_path, body, shadowed, by):
    warnings = warnings_for(tmp_path, HEAD + body)
    assert len(warnings) == 1
    assert f"rule {shadowed}: fully shadowed by rule {by} (" in warnings[0]


NOT_SHADOWED = [
    # the narrower rule first is the right order
    "  - {id: a, when: {topic: dien.mat-dien}, assign: urenco}\n"
    "  - {id: b, when: {topic: dien}, assign: evn-ha-noi}\n",
    # hours that only overlap
    "  - {id: a, when: {hours: '22:00-06:00'}, assign: urenco}\n"
    "  - {id: b, when: {hours: '05:00-07:00'}, assign: evn-ha-noi}\n",
    # confidential only vs everything
    "  - {id: a, when: {confidential: true}, assign: urenco}\n  - {id: b, assign: evn-ha-noi}\n",
    # keywords: "điện" is not found in a description matched by "mất nước"
    "  - {id: a, when: {keywords: [mất điện]}, assign: urenco}\n"
    "  - {id: b, when: {keywords: [mất nước, mất điện]}, assign: evn-ha-noi}\n",
    # keyword rule does not shadow a rule without keywords
    "  - {id: a, when: {keywords: [mất điện]}, assign: urenco}\n"
    "  - {id: b, when: {topic: dien}, assign: evn-ha-noi}\n",
    # an assignment by area needs an area: a ticket without one falls through to b
    "  - {id: a, assign: {kind: ubnd, by: area}}\n"
    "  - {id: b, when: {topic: dien}, assign: evn-ha-noi}\n",
]


@pytest.mark.parametrize("body", NOT_SHADOWED)
def test_no_shadow_warning(tmp_path, body):
    assert warnings_for(tmp_path, HEAD + body) == []


def test_shadow_messages_distinguish_dead_rules_from_rejection_fallbacks(tmp_path):
    warnings = warnings_for(
        tmp_path,
        HEAD
        + "  - {id: a, when: {topic: dien}, assign: evn-ha-noi}\n"
        + "  - {id: same, when: {topic: dien.mat-dien}, assign: evn-ha-noi}\n"
        + "  - {id: other, when: {topic: dien.hoa-don}, assign: so-cong-thuong}\n"
        + "  - {id: ward, when: {area: phuong-lang}, assign: {kind: ubnd, by: area}}\n"
        + "  - {id: ward2, when: {area: phuong-lang, topic: dien}, assign: {kind: ubnd, by: area}}\n",
    )
    assert warnings == [
        "rules.yaml:4: rule same: fully shadowed by rule a (rules.yaml:3), "
        "which accepts every ticket this rule does and assigns the same evn-ha-noi: "
        "it can never match",
        "rules.yaml:5: rule other: fully shadowed by rule a (rules.yaml:3), "
        "which accepts every ticket this rule does: it only applies after evn-ha-noi has "
        "rejected the ticket",
        "rules.yaml:7: rule ward2: fully shadowed by rule ward (rules.yaml:6), "
        "which accepts every ticket this rule does and assigns the same ubnd unit serving the "
        "area: it can never match",
    ]
