"""The `hotline` command: rules check/test/explain, users and API keys."""

import shutil

import pytest

from app.cli import main
from app.config import REPO_ROOT, get_settings

RULES = REPO_ROOT / "routing_rules"


@pytest.fixture
def rules_copy(tmp_path):
    target = tmp_path / "rules"
    shutil.copytree(RULES, target)
    return target


def test_rules_check_passes_on_the_shipped_rules(capsys):
    assert main(["rules", "check"]) == 0
    assert "0 error(s)" in capsys.readouterr().out


def test_rules_check_fails_with_file_line_and_rule_id(rules_copy, capsys):
    path = rules_copy / "rules.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if "assign: cdc-ha-noi" in line)
    lines[index] = lines[index].replace("cdc-ha-noi", "cdc-hanoi")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["rules", "check", "--dir", str(rules_copy)]) == 1
    out = capsys.readouterr().out
    assert f"rules.yaml:{index + 1}" in out and "covid-cdc" in out and "cdc-hanoi" in out


def test_rules_check_covers_sla_yaml(rules_copy, capsys):
    path = rules_copy / "sla.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("acknowledge: 15m", "acknowledge: 15 minutes", 1), encoding="utf-8"
    )
    assert main(["rules", "check", "--dir", str(rules_copy)]) == 1
    assert "sla.yaml:" in capsys.readouterr().out


def test_rules_test_runs_the_shipped_cases(capsys):
    assert main(["rules", "test"]) == 0
    out = capsys.readouterr().out
    passed = int(out.strip().splitlines()[-1].split()[0])
    assert passed >= 40 and "0 failed" in out


def test_rules_test_reports_a_failing_case(rules_copy, capsys):
    case_file = sorted((rules_copy / "tests").glob("*.yaml"))[0]
    text = case_file.read_text(encoding="utf-8")
    assert "unit: " in text
    case_file.write_text(text.replace("unit: ", "unit: tong-dai-1022  #", 1), encoding="utf-8")
    assert main(["rules", "test", "--dir", str(rules_copy)]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_rules_explain_prints_the_trace(capsys):
    code = main(
        [
            "rules",
            "explain",
            "--topic",
            "an-ninh-trat-tu.tieng-on",
            "--area",
            "cau giay",
            "--at",
            "2026-11-26T23:30",
            "--description",
            "Hát karaoke ồn ào",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "-> cong-an-ha-noi" in out and "MATCH" in out


def test_users_and_api_keys(settings, monkeypatch, capsys):
    monkeypatch.setenv("HOTLINE_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    try:
        assert (
            main(
                [
                    "users",
                    "create",
                    "cli.agent",
                    "--role",
                    "unit_agent",
                    "--unit",
                    "urenco",
                    "--password",
                    "password123",
                ]
            )
            == 0
        )
        assert (
            main(
                ["users", "create", "cli.bad", "--role", "unit_agent", "--password", "password123"]
            )
            == 1
        )
        assert "at least one unit" in capsys.readouterr().err
        assert main(["users", "disable", "cli.agent"]) == 0
        main(["users", "list"])
        listing = capsys.readouterr().out
        assert "cli.agent" in listing and "DISABLED" in listing and "urenco" in listing
        assert main(["apikeys", "create", "pbx", "--role", "operator"]) == 0
        assert "hk_" in capsys.readouterr().out
        assert main(["apikeys", "revoke", "999999"]) == 1
    finally:
        get_settings.cache_clear()


def test_calendar_show_marks_library_and_override_days(capsys):
    assert main(["calendar", "show", "2026"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    off = next(line for line in lines if line.strip().startswith("2026-01-02"))
    assert "[override]" in off and "12729/VPCP-KGVX" in off
    worked = next(line for line in lines if line.strip().startswith("2026-01-10"))
    assert "[override]" in worked and "08:00-12:00, 13:30-17:00" in worked
    new_year = next(line for line in lines if line.strip().startswith("2026-01-01"))
    assert "[library ]" in new_year and "Tết Dương lịch" in new_year
    assert "2026-08-22 Sat  [library ]" in out  # the library's own make-up Saturday
    assert "24x7" in out and "always open" in out
    assert main(["calendar", "show", "2026", "--calendar", "nope"]) == 1
