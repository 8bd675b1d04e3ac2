"""The shipped Hanoi ruleset: it loads cleanly, its rule cases pass and cover every rule; and
the case runner itself reports failures and bad case files."""

import textwrap

from app.routing import run_cases
from tests.unit.test_routing_support import RULES_DIR, hanoi, write_rules


def test_shipped_rule_cases_pass_and_cover_every_rule():
    report = run_cases(RULES_DIR)
    failures = [f"{r}\n{r.explanation or ''}" for r in report.failed]
    assert failures == []
    assert len(report) >= 40
    assert report.uncovered == []


def test_case_runner_reports_wrong_expectations_and_bad_cases(tmp_path):
    write_rules(
        tmp_path,
        """
        fallback: tong-dai-1022
        rules:
          - {id: power, when: {topic: dien}, assign: evn-ha-noi}
          - {id: unused, when: {topic: nuoc-sach}, assign: nuoc-sach-ha-noi}
        """,
    )
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "a.yaml").write_text(
        textwrap.dedent(
            """
            cases:
              - name: right
                ticket: {topic: dien.mat-dien, area: Phường Hàng Bạc}
                expect: {unit: evn-ha-noi, rule: power, co_handlers: []}
              - name: wrong
                ticket: {topic: dien.mat-dien}
                expect: {unit: urenco, rule: power, priority: high}
              - name: ambiguous area
                ticket: {topic: dien, area: Quận Hoàn Kiếm}
                expect: {unit: evn-ha-noi, rule: power}
              - name: bad key
                ticket: {topik: dien}
                expect: {unit: evn-ha-noi, rule: power}
              - name: missing expectation
                ticket: {topic: dien}
                expect: {unit: evn-ha-noi}
            """
        ),
        encoding="utf-8",
    )
    (tmp_path / "tests" / "b.yaml").write_text("cases: [\n", encoding="utf-8")
    report = run_cases(tmp_path, catalog=hanoi())
    by_name = {r.name: r for r in report}
    assert by_name["right"].passed
    wrong = by_name["wrong"]
    assert not wrong.passed
    assert wrong.message == "unit evn-ha-noi, expected urenco; priority None, expected high"
    assert wrong.explanation is not None and wrong.explanation.trace[0].matched
    assert wrong.line == 6
    assert "ambiguous" in by_name["ambiguous area"].message
    assert "unknown key(s) topik" in by_name["bad key"].message
    assert "'expect' needs 'unit' and 'rule'" in by_name["missing expectation"].message
    assert "bad YAML" in by_name["file"].message
    assert not report.ok
    assert report.uncovered == ["unused"]
