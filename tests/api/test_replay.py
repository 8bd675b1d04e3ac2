"""POST /api/v1/routing/replay and `hotline rules replay` over real tickets in the database."""

import asyncio
import csv
import io
import json
from datetime import UTC, datetime

from sqlalchemy import select, update

from app.cli import main
from app.config import REPO_ROOT, get_settings
from app.reports.demo import generate
from app.tickets.models import Assignment
from tests.api.test_reports import HN, NOW, act, local
from tests.conftest import create_ticket

RULES = REPO_ROOT / "routing_rules"
RULES_TEXT = (RULES / "rules.yaml").read_text(encoding="utf-8")
SLA_TEXT = (RULES / "sla.yaml").read_text(encoding="utf-8")
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}
# Drinking-water outages to the drainage company, in a new rule before the water rules.
MOVED = RULES_TEXT.replace(
    "  - id: nuoc-sach-vo-ong\n",
    "  - id: mat-nuoc-thoat-nuoc\n    when: {topic: nuoc-sach.mat-nuoc}\n"
    "    assign: thoat-nuoc-ha-noi\n\n  - id: nuoc-sach-vo-ong\n",
    1,
)
FOUR_HOURS = SLA_TEXT.replace(
    "  - id: ubnd\n    when: {unit_kind: ubnd}\n    acknowledge: 8h\n",
    "  - id: ubnd\n    when: {unit_kind: ubnd}\n    acknowledge: 4h\n",
)


async def replay(client, auth, files, **body):
    return await client.post(
        "/routing/replay", json={"files": files, **MARCH, **body}, headers=auth("supervisor")
    )


async def mixed_tickets(client):
    """Two drinking-water outages, a burst main, and two waste tickets, in March 2026."""
    made = {}
    for name, day, topic, area in [
        ("water1", 2, "nuoc-sach.mat-nuoc", "phuong-cau-giay"),
        ("water2", 3, "nuoc-sach.mat-nuoc", "phuong-ba-dinh"),
        ("burst", 4, "nuoc-sach.vo-ong", "phuong-cau-giay"),
        ("waste1", 5, "moi-truong.rac-thai", "phuong-cau-giay"),
        ("waste2", 6, "moi-truong.rac-thai", "phuong-ba-dinh"),
    ]:
        made[name] = await create_ticket(
            client, topic=topic, area=area, received_at=local(day, 9), description="Phản ánh"
        )
    # Outside the period: never replayed.
    await create_ticket(client, topic="nuoc-sach.mat-nuoc", received_at=local(27, 9, month=2))
    return made


async def test_an_identical_proposal_changes_nothing(client, clock, auth):
    clock.now = NOW
    await mixed_tickets(client)
    for files in ({}, {"rules.yaml": RULES_TEXT, "sla.yaml": SLA_TEXT}):
        response = await replay(client, auth, files)
        assert response.status_code == 200, response.text
        body = response.json()
        routing = body["routing"]
        assert routing["tickets"] == 5 and routing["changed"] == 0
        assert routing["same_unit_other_rule"] == 0
        assert routing["rule_changes"] == [] and routing["samples"] == []
        assert all(not cell["changed"] for cell in routing["matrix"])
        assert routing["ruleset_version"]["current"] == routing["ruleset_version"]["proposed"]
    sla = body["sla"]  # sla.yaml was proposed: the what-if ran
    assert sla["version"]["current"] == sla["version"]["proposed"]
    overall = sla["overall"]
    assert overall["assignments"] == 5
    assert overall["due_changes"] == overall["policy_changes"] == 0
    for target in ("acknowledge", "resolve"):
        assert overall[target]["now"] == overall[target]["proposed"]
        assert overall[target]["breaches_appearing"] == 0


async def test_moving_one_topic_changes_exactly_its_tickets(client, clock, auth):
    clock.now = NOW
    made = await mixed_tickets(client)
    response = await replay(client, auth, {"rules.yaml": MOVED}, samples=5)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sla"] is None  # no sla.yaml proposed, none asked for
    routing = body["routing"]
    assert routing["tickets"] == 5 and routing["changed"] == 2
    changed = [c for c in routing["matrix"] if c["changed"]]
    assert changed == [
        {
            "from_unit": "nuoc-sach-ha-noi",
            "to_unit": "thoat-nuoc-ha-noi",
            "tickets": 2,
            "changed": True,
        }
    ]
    unchanged = {(c["from_unit"], c["to_unit"]): c["tickets"] for c in routing["matrix"]}
    assert unchanged[("nuoc-sach-ha-noi", "nuoc-sach-ha-noi")] == 1  # the burst main stays
    (cell,) = routing["samples"]
    assert {t["ticket_id"] for t in cell["sample"]} == {made["water1"]["id"], made["water2"]["id"]}
    first = cell["sample"][0]
    assert first["reference"] == made["water1"]["reference"]
    assert first["now"]["decision"]["rule_id"] == "nuoc-sach"
    assert first["proposed"]["decision"]["rule_id"] == "mat-nuoc-thoat-nuoc"
    assert first["proposed"]["trace"][-1].startswith("mat-nuoc-thoat-nuoc (rules.yaml:")
    assert {r["rule_id"]: r["change"] for r in routing["rule_changes"]} == {
        "mat-nuoc-thoat-nuoc": "gained",
        "nuoc-sach": "never",
    }
    # Only tickets routed to or from the drainage company.
    response = await replay(client, auth, {"rules.yaml": MOVED}, unit="thoat-nuoc-ha-noi")
    assert response.json()["routing"]["tickets"] == 2
    as_csv = await replay(client, auth, {"rules.yaml": MOVED}, format="csv")
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    cells = {(r["unit"], r["to_unit"]): int(r["count"]) for r in rows if r["section"] == "matrix"}
    assert cells == unchanged
    rules = {r["rule_id"]: (r["now"], r["proposed"]) for r in rows if r["section"] == "rule"}
    assert rules == {"mat-nuoc-thoat-nuoc": ("0", "2"), "nuoc-sach": ("2", "0")}


async def test_a_syntax_error_answers_its_file_and_line_and_replays_nothing(client, clock, auth):
    clock.now = NOW
    await mixed_tickets(client)
    lines = MOVED.splitlines()
    index = next(i for i, line in enumerate(lines) if "id: mat-nuoc-thoat-nuoc" in line)
    lines[index + 1] = "    when: {topic: nuoc-sach.mat-nuoc"
    response = await replay(client, auth, {"rules.yaml": "\n".join(lines)})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert "routing" not in problem and "nothing was replayed" in problem["detail"]
    (error,) = problem["errors"]
    assert error["file"] == "rules.yaml" and error["loc"] == ["body", "files", "rules.yaml"]
    assert index + 1 <= error["line"] <= index + 3
    assert error["msg"].startswith(f"rules.yaml:{error['line']}:")


async def test_parameters_are_checked(client, clock, auth):
    clock.now = NOW
    bad_name = await replay(client, auth, {"../secrets.yaml": "x"})
    assert bad_name.status_code == 422
    assert bad_name.json()["errors"][0]["loc"] == ["body", "files", "../secrets.yaml"]
    bad_unit = await replay(client, auth, {}, unit="thoat-nuoc-hanoi")
    assert bad_unit.status_code == 422
    assert "thoat-nuoc-ha-noi" in bad_unit.json()["errors"][0]["suggestions"]
    bad_date = await replay(client, auth, {}, to="2026-02-30")
    assert bad_date.status_code == 422
    assert bad_date.json()["errors"][0]["loc"] == ["body", "to"]
    too_many = await replay(client, auth, {}, samples=1000)
    assert too_many.status_code == 422


async def test_ward_committees_on_four_hours_who_would_be_late(client, clock, auth):
    clock.now = NOW
    agent = auth("agent.caugiay")
    quick = await create_ticket(client, received_at=local(16, 9))
    await act(client, quick, "acknowledge", local(16, 9, 30), agent)
    # 09:00 -> 15:00 is 4h30 of working time (lunch 12:00-13:30): on time on 8h, late on 4h.
    slow = await create_ticket(client, received_at=local(16, 9))
    await act(client, slow, "acknowledge", local(16, 15), agent)
    response = await replay(client, auth, {"sla.yaml": FOUR_HOURS})
    assert response.status_code == 200, response.text
    sla = response.json()["sla"]
    (ward,) = [u for u in sla["units"] if u["unit_code"] == "ubnd-phuong-cau-giay"]
    ack = ward["acknowledge"]
    assert ack["now"]["on_time_rate"] == 1.0 and ack["proposed"]["on_time_rate"] == 0.5
    assert ack["breaches_appearing"] == 1 and ack["breaches_disappearing"] == 0
    (late,) = sla["breaches_appearing"]
    assert late["ticket_id"] == slow["id"] and late["target"] == "acknowledge"
    assert late["now"]["due_at"] == "2026-03-17T09:30:00+07:00"
    assert late["proposed"]["due_at"] == "2026-03-16T14:30:00+07:00"
    assert late["proposed"]["verdict"] == "late" and late["now"]["verdict"] == "on_time"
    assert sla["overall"]["planned_under_older_config"] == 0


async def test_sla_what_if_with_the_current_config_reproduces_the_report(client, app, clock, auth):
    clock.now = NOW
    await generate(
        app.state.runtime,
        tickets=60,
        months=2,
        seed=18,
        now=NOW.astimezone(UTC),
    )
    period = {"from": "2026-01-20", "to": "2026-03-25"}

    async def compare():
        report = (
            await client.get(
                "/reports/sla", params={**period, "group_by": "unit"}, headers=auth("supervisor")
            )
        ).json()
        response = await client.post(
            "/routing/replay",
            json={"files": {"sla.yaml": SLA_TEXT}, **period},
            headers=auth("supervisor"),
        )
        assert response.status_code == 200, response.text
        sla = response.json()["sla"]
        units = {u["unit_code"]: u for u in sla["units"]}
        assert set(units) == {row["group"]["unit_code"] for row in report["rows"]}
        pairs = [(report["totals"], sla["overall"])]
        pairs += [(row, units[row["group"]["unit_code"]]) for row in report["rows"]]
        return sla, pairs

    sla, pairs = await compare()
    assert sla["overall"]["assignments"] > 60
    assert sla["overall"]["planned_under_older_config"] == 0
    for row, what_if in pairs:
        assert what_if["assignments"] == row["assignments"]
        for target in ("acknowledge", "resolve"):
            for plan in ("now", "as_stored", "proposed"):
                mine = what_if[target][plan]
                assert mine["on_time"] == row[f"{target}_on_time"]
                assert mine["late"] == row[f"{target}_late"]
                assert mine["open_overdue"] == row[f"{target}_open_overdue"]
                assert mine["on_time_rate"] == row[f"{target}_on_time_rate"]

    # One assignment planned under an older config (its stored due is an hour earlier): the
    # what-if names it; "as stored" is still the report, "now" re-plans it.
    async with app.state.runtime.session_factory() as session:
        older = await session.scalar(
            select(Assignment.id)
            .where(Assignment.acknowledge_due_at.is_not(None))
            .order_by(Assignment.id)
            .limit(1)
        )
        due = await session.scalar(
            select(Assignment.acknowledge_due_at).where(Assignment.id == older)
        )
        await session.execute(
            update(Assignment)
            .where(Assignment.id == older)
            .values(acknowledge_due_at=due.replace(year=due.year - 1))
        )
        await session.commit()
    sla, pairs = await compare()
    assert sla["overall"]["planned_under_older_config"] == 1
    (stale,) = sla["planned_under_older_config"]
    assert stale["assignment_id"] == older and "due times" in stale["reason"]
    for row, what_if in pairs:
        for target in ("acknowledge", "resolve"):
            assert what_if[target]["as_stored"]["on_time_rate"] == row[f"{target}_on_time_rate"]


async def _run_cli(settings, monkeypatch, capsys, *args):
    """The command in a thread of its own (it runs its own event loop), on the test database."""
    monkeypatch.setenv("HOTLINE_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    try:
        code = await asyncio.to_thread(main, ["rules", "replay", *args])
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr()
    return code, out.out, out.err


async def test_the_command(client, clock, settings, monkeypatch, capsys, tmp_path):
    clock.now = NOW
    made = await mixed_tickets(client)
    proposed = tmp_path / "proposed"
    proposed.mkdir()
    (proposed / "rules.yaml").write_text(MOVED, encoding="utf-8")
    dates = ["--from", "2026-03-01", "--to", "2026-03-31"]

    code, out, _ = await _run_cli(
        settings, monkeypatch, capsys, "--proposed", str(proposed), *dates
    )
    assert code == 0
    assert "5 ticket(s) replayed, 2 would change unit" in out
    assert "nuoc-sach-ha-noi -> thoat-nuoc-ha-noi: 2" in out
    assert "nuoc-sach: 2 -> 0  never matches any more" in out
    assert made["water1"]["reference"] in out

    code, out, _ = await _run_cli(
        settings, monkeypatch, capsys, "--proposed", str(proposed), *dates, "--format", "json"
    )
    assert code == 0 and json.loads(out)["routing"]["changed"] == 2

    code, out, _ = await _run_cli(
        settings, monkeypatch, capsys, "--proposed", str(proposed), *dates, "--format", "csv"
    )
    rows = list(csv.DictReader(io.StringIO(out)))
    moved = [r for r in rows if r["section"] == "matrix" and r["unit"] != r["to_unit"]]
    assert [(r["unit"], r["to_unit"], r["count"]) for r in moved] == [
        ("nuoc-sach-ha-noi", "thoat-nuoc-ha-noi", "2")
    ]

    lines = MOVED.splitlines()
    index = next(i for i, line in enumerate(lines) if "assign: thoat-nuoc-ha-noi" in line)
    lines[index] = "    assign: thoat-nuoc-hanoi"
    (proposed / "rules.yaml").write_text("\n".join(lines), encoding="utf-8")
    code, out, err = await _run_cli(
        settings, monkeypatch, capsys, "--proposed", str(proposed), *dates
    )
    assert code == 1 and out == ""
    assert f"{proposed / 'rules.yaml'}:{index + 1}: rule mat-nuoc-thoat-nuoc:" in err
    assert "Traceback" not in err


async def test_the_period_is_of_local_dates(client, clock, auth):
    clock.now = datetime(2026, 4, 10, 10, tzinfo=HN)
    # 1 March 00:30 in Hanoi is 28 February in UTC; 31 March 23:59 is 31 March 16:59 UTC.
    for when in (local(1, 0, 30), local(31, 23, 59), local(1, 0, 0, month=4)):
        await create_ticket(client, received_at=when)
    before = datetime(2026, 2, 28, 23, 59, tzinfo=HN).isoformat()
    await create_ticket(client, received_at=before)
    body = (await replay(client, auth, {})).json()
    assert body["period"] == {**MARCH, "timezone": "Asia/Ho_Chi_Minh"}
    assert body["routing"]["tickets"] == 2
