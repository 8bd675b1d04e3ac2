"""SLA reports on small hand-built histories: every number of a row, both formats, scoping."""

import csv
import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.reports.demo import generate
from app.tickets.models import Assignment
from tests.conftest import create_ticket

HN = ZoneInfo("Asia/Ho_Chi_Minh")
WARD = "ubnd-phuong-cau-giay"
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}
# The history below is read on Wednesday 25 March 2026 at 10:00.
NOW = datetime(2026, 3, 25, 10, 0, tzinfo=HN)


def local(day: int, hour: int, minute: int = 0, month: int = 3) -> str:
    return datetime(2026, month, day, hour, minute, tzinfo=HN).isoformat()


async def act(client, ticket, action, when, headers=None, **body):
    response = await client.post(
        f"/tickets/{ticket['id']}/{action}", json={"occurred_at": when, **body}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
async def history(client, clock, auth):
    """Ward tickets of the week of Monday 16 March 2026 (office calendar, policy ubnd:
    acknowledge 8h, resolve 5d = 37h30 of working time; days 08:00-12:00 + 13:30-17:00).

    Every ticket comes in on Monday 16 March at 09:00 unless said otherwise, so that the
    acknowledge due is Tuesday 09:30 and the resolve due Monday 23 March 09:00.
    """
    clock.now = NOW
    agent = auth("agent.caugiay")
    monday = local(16, 9)
    made = {}

    async def ticket(name, at=monday, **kw):
        made[name] = await create_ticket(client, received_at=at, **kw)
        return made[name]

    # t1: acknowledged after 30 min, resolved Tuesday 09:00 (450 working min): all on time.
    t = await ticket("t1")
    await act(client, t, "acknowledge", local(16, 9, 30), agent)
    await act(client, t, "resolve", local(17, 9), agent, resolution="Đã thu gom")
    # t2: acknowledged Tuesday 10:00 (510 working min; due 09:30): late. Never resolved: the
    # resolve target is open and overdue since Monday 23 March 09:00.
    t = await ticket("t2")
    await act(client, t, "acknowledge", local(17, 10), agent)
    # t3: rejected after 2 hours (120 min): a response, on time for both targets. The
    # switchboard (24x7: 30m / 4h) transfers it 20 minutes later to URENCO, which never
    # answers (office calendar, 8h / 5d from Monday 11:20: both overdue).
    caller = {"name": "Nguyễn Văn An", "phone": "0912 345 678", "confidential": True}
    t = await ticket("t3", caller=caller)
    await act(client, t, "reject", local(16, 11), agent, reason="Không thuộc thẩm quyền")
    await act(client, t, "transfer", local(16, 11, 20), unit="urenco", reason="Rác thải")
    # t4: acknowledged after 10 min, waits for the citizen from Monday 10:00 to Wednesday
    # 10:00, resolved Wednesday 11:00: 120 working minutes with the pause left out. Reopened
    # on Thursday 19 March 09:00 (a new assignment), acknowledged 5 minutes later, still open.
    t = await ticket("t4")
    await act(client, t, "acknowledge", local(16, 9, 10), agent)
    await act(client, t, "request-info", local(16, 10), agent, question="Số nhà?")
    await act(client, t, "info-received", local(18, 10), agent)
    await act(client, t, "resolve", local(18, 11), agent, resolution="Xong")
    await act(client, t, "reopen", local(19, 9), reason="Vẫn còn rác")
    await act(client, t, "acknowledge", local(19, 9, 5), agent)
    # t5: cancelled on Tuesday 10:00, after the acknowledge due (late) but before the resolve
    # due (no verdict on resolve).
    t = await ticket("t5")
    await act(client, t, "cancel", local(17, 10), reason="Gọi nhầm")
    # t6: this morning, not overdue yet.
    await ticket("t6", at=local(25, 9))
    # Outside the period: the last day of February (local).
    await ticket("feb", at=local(28, 23, 50, month=2))
    return made


def _rows(report):
    return {next(iter(r["group"].values())): r for r in report["rows"]}


WARD_ROW = {
    "assignments": 7,
    "open_now": 3,
    "acknowledge_on_time": 4,
    "acknowledge_late": 2,
    "acknowledge_open_overdue": 0,
    "acknowledge_on_time_rate": 0.6667,
    # 5, 10, 30, 120, 510 minutes: median 30; p90 at position 3.6 = 120 + 0.6 x 390.
    "acknowledge_median_minutes": 30.0,
    "acknowledge_p90_minutes": 354.0,
    "resolve_on_time": 3,
    "resolve_late": 0,
    "resolve_open_overdue": 1,
    "resolve_on_time_rate": 0.75,
    # 120 (rejected), 120 (with the pause left out), 450: p90 at 1.8 = 120 + 0.8 x 330.
    "resolve_median_minutes": 120.0,
    "resolve_p90_minutes": 384.0,
    "resolved": 2,
    "rejected": 1,
    "transferred": 0,
    "reopened": 1,
}
SWITCHBOARD_ROW = {
    "assignments": 1,
    "open_now": 0,
    "acknowledge_on_time": 1,
    "acknowledge_late": 0,
    "acknowledge_open_overdue": 0,
    "acknowledge_on_time_rate": 1.0,
    "acknowledge_median_minutes": 20.0,
    "acknowledge_p90_minutes": 20.0,
    "resolve_on_time": 1,
    "resolve_late": 0,
    "resolve_open_overdue": 0,
    "resolve_on_time_rate": 1.0,
    "resolve_median_minutes": 20.0,
    "resolve_p90_minutes": 20.0,
    "resolved": 0,
    "rejected": 0,
    "transferred": 1,
    "reopened": 0,
}
URENCO_ROW = {
    "assignments": 1,
    "open_now": 1,
    "acknowledge_on_time": 0,
    "acknowledge_late": 0,
    "acknowledge_open_overdue": 1,
    "acknowledge_on_time_rate": 0.0,
    "acknowledge_median_minutes": None,
    "acknowledge_p90_minutes": None,
    "resolve_on_time": 0,
    "resolve_late": 0,
    "resolve_open_overdue": 1,
    "resolve_on_time_rate": 0.0,
    "resolve_median_minutes": None,
    "resolve_p90_minutes": None,
    "resolved": 0,
    "rejected": 0,
    "transferred": 0,
    "reopened": 0,
}
TOTALS = {
    "assignments": 9,
    "open_now": 4,
    "acknowledge_on_time": 5,
    "acknowledge_late": 2,
    "acknowledge_open_overdue": 1,
    "acknowledge_on_time_rate": 0.625,
    # 5, 10, 20, 30, 120, 510: median (20 + 30) / 2; p90 at 4.5 = 120 + 0.5 x 390.
    "acknowledge_median_minutes": 25.0,
    "acknowledge_p90_minutes": 315.0,
    "resolve_on_time": 4,
    "resolve_late": 0,
    "resolve_open_overdue": 2,
    "resolve_on_time_rate": 0.6667,
    # 20, 120, 120, 450: p90 at 2.7 = 120 + 0.7 x 330.
    "resolve_median_minutes": 120.0,
    "resolve_p90_minutes": 351.0,
    "resolved": 2,
    "rejected": 1,
    "transferred": 1,
    "reopened": 1,
}


def _metrics(row):
    return {k: v for k, v in row.items() if k != "group"}


async def test_report_by_unit_gives_every_number_of_every_row(client, auth, history):
    response = await client.get("/reports/sla", params=MARCH, headers=auth("supervisor"))
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["period"] == {
        "from": "2026-03-01",
        "to": "2026-03-31",
        "timezone": "Asia/Ho_Chi_Minh",
    }
    assert report["as_of"] == "2026-03-25T10:00:00+07:00"
    assert report["group_by"] == ["unit"]
    rows = _rows(report)
    assert list(rows) == ["tong-dai-1022", WARD, "urenco"]  # sorted by unit code
    assert rows[WARD]["group"] == {"unit_code": WARD, "unit_name": "UBND Phường Cầu Giấy"}
    assert _metrics(rows[WARD]) == WARD_ROW
    assert _metrics(rows["tong-dai-1022"]) == SWITCHBOARD_ROW
    assert _metrics(rows["urenco"]) == URENCO_ROW
    assert report["totals"] == TOTALS


async def test_no_caller_data_in_reports(client, auth, history):
    for path in ("/reports/sla", "/reports/sla/breaches"):
        body = (await client.get(path, params=MARCH, headers=auth("supervisor"))).text
        assert "Nguyễn Văn An" not in body and "+84912345678" not in body


async def test_unit_agents_see_only_their_units(client, auth, history):
    mine = (await client.get("/reports/sla", params=MARCH, headers=auth("agent.caugiay"))).json()
    assert [r["group"]["unit_code"] for r in mine["rows"]] == [WARD]
    assert _metrics(mine["rows"][0]) == WARD_ROW
    assert mine["totals"] == WARD_ROW
    assert mine["filters"] == {"unit": [WARD]}
    other = (await client.get("/reports/sla", params=MARCH, headers=auth("agent.badinh"))).json()
    assert other["rows"] == [] and other["totals"]["assignments"] == 0
    assert other["totals"]["acknowledge_on_time_rate"] is None
    assert other["totals"]["acknowledge_median_minutes"] is None
    asked = await client.get(
        "/reports/sla", params={**MARCH, "unit": "urenco"}, headers=auth("agent.caugiay")
    )
    assert asked.status_code == 403
    assert "ubnd-phuong-cau-giay" in asked.json()["detail"]
    breaches = (
        await client.get("/reports/sla/breaches", params=MARCH, headers=auth("agent.caugiay"))
    ).json()
    assert {i["unit_code"] for i in breaches["items"]} == {WARD}
    nothing = (
        await client.get("/reports/sla/breaches", params=MARCH, headers=auth("agent.badinh"))
    ).json()
    assert nothing["total"] == 0 and nothing["items"] == []


async def test_filters_narrow_the_assignments(client, auth, history):
    sup = auth("supervisor")
    by_kind = (
        await client.get("/reports/sla", params={**MARCH, "unit_kind": "ubnd,cong-ty"}, headers=sup)
    ).json()
    assert [r["group"]["unit_code"] for r in by_kind["rows"]] == [WARD, "urenco"]
    by_unit = (
        await client.get(
            "/reports/sla", params=[*MARCH.items(), ("unit", WARD), ("unit", "urenco")], headers=sup
        )
    ).json()
    assert by_unit["totals"]["assignments"] == 8
    # Area by name (diacritics optional); topic by its group.
    area = (
        await client.get(
            "/reports/sla", params={**MARCH, "area": "cau giay", "topic": "moi-truong"}, headers=sup
        )
    ).json()
    assert area["totals"] == TOTALS
    none = (
        await client.get("/reports/sla", params={**MARCH, "topic": "giao-thong"}, headers=sup)
    ).json()
    assert none["rows"] == [] and none["totals"]["assignments"] == 0
    urgent = (
        await client.get("/reports/sla", params={**MARCH, "priority": "urgent"}, headers=sup)
    ).json()
    assert urgent["totals"]["assignments"] == 0
    phone = (
        await client.get("/reports/sla", params={**MARCH, "channel": "phone"}, headers=sup)
    ).json()
    assert phone["totals"] == TOTALS


async def test_group_by_area_and_topic_with_levels_and_by_other_keys(client, auth, history):
    sup = auth("supervisor")

    async def report(**params):
        response = await client.get("/reports/sla", params={**MARCH, **params}, headers=sup)
        assert response.status_code == 200, response.text
        return response.json()

    ward = await report(group_by="area")
    assert [r["group"] for r in ward["rows"]] == [
        {"area_code": "phuong-cau-giay", "area_name": "Phường Cầu Giấy"}
    ]
    city = await report(group_by="area", area_level="city")
    assert city["area_level"] == 1
    assert [r["group"]["area_code"] for r in city["rows"]] == ["ha-noi"]
    assert _metrics(city["rows"][0]) == TOTALS
    assert (await report(group_by="area", area_level="2"))["rows"][0]["group"][
        "area_code"
    ] == "phuong-cau-giay"
    topic = await report(group_by="topic,unit", topic_level="1")
    assert [tuple(r["group"].values()) for r in topic["rows"]] == [
        ("moi-truong", "Môi trường và rác thải", "tong-dai-1022", "Tổng đài 1022"),
        ("moi-truong", "Môi trường và rác thải", WARD, "UBND Phường Cầu Giấy"),
        (
            "moi-truong",
            "Môi trường và rác thải",
            "urenco",
            "Công ty TNHH MTV Môi trường đô thị Hà Nội (URENCO)",
        ),
    ]
    leaf = await report(group_by="topic")
    assert leaf["rows"][0]["group"]["topic_code"] == "moi-truong.rac-thai"
    kinds = await report(group_by="unit_kind")
    assert {r["group"]["unit_kind"]: r["assignments"] for r in kinds["rows"]} == {
        "cong-ty": 1,
        "tong-dai": 1,
        "ubnd": 7,
    }
    prio = await report(group_by=["priority", "channel"])
    assert [r["group"] for r in prio["rows"]] == [{"priority": "normal", "channel": "phone"}]
    days = await report(group_by="day")
    assert {r["group"]["day"]: r["assignments"] for r in days["rows"]} == {
        "2026-03-16": 7,  # t1-t5 and the two assignments after t3's rejection
        "2026-03-19": 1,  # t4 reopened
        "2026-03-25": 1,
    }
    weeks = await report(group_by="week")
    assert {r["group"]["week"]: r["assignments"] for r in weeks["rows"]} == {
        "2026-03-16": 8,
        "2026-03-23": 1,
    }
    months = await report(group_by="month", **{"from": "2026-02-01"})
    assert {r["group"]["month"]: r["assignments"] for r in months["rows"]} == {
        "2026-02": 1,
        "2026-03": 9,
    }


async def test_local_dates_decide_the_period(client, clock, auth):
    clock.now = NOW
    # 2026-03-01 00:10 in Hanoi is still 28 February in UTC; 23:50 on 31 March is 16:50 UTC.
    await create_ticket(client, received_at="2026-03-01T00:10:00+07:00")
    await create_ticket(client, received_at="2026-02-28T23:59:00+07:00")
    report = (
        await client.get(
            "/reports/sla", params={**MARCH, "group_by": "day"}, headers=auth("supervisor")
        )
    ).json()
    assert [r["group"]["day"] for r in report["rows"]] == ["2026-03-01"]
    feb = (
        await client.get(
            "/reports/sla",
            params={"from": "2026-02-28", "to": "2026-02-28", "group_by": "day"},
            headers=auth("supervisor"),
        )
    ).json()
    assert [r["group"]["day"] for r in feb["rows"]] == ["2026-02-28"]


async def test_breaches_list_late_and_open_overdue_targets(client, auth, history):
    sup = auth("supervisor")
    page = (await client.get("/reports/sla/breaches", params=MARCH, headers=sup)).json()
    assert page["total"] == 5 and page["next_offset"] is None
    t2, t5, t3 = history["t2"], history["t5"], history["t3"]
    got = [(i["reference"], i["unit_code"], i["target"], i["state"]) for i in page["items"]]
    assert got == [
        (t2["reference"], WARD, "acknowledge", "late"),
        (t5["reference"], WARD, "acknowledge", "late"),
        (t3["reference"], "urenco", "acknowledge", "open_overdue"),
        (t2["reference"], WARD, "resolve", "open_overdue"),
        (t3["reference"], "urenco", "resolve", "open_overdue"),
    ]
    ack = page["items"][0]
    assert ack["due_at"] == "2026-03-17T09:30:00+07:00"
    assert ack["done_at"] == "2026-03-17T10:00:00+07:00"
    assert ack["overdue_minutes"] == 30.0 and ack["overdue_working_minutes"] == 30.0
    assert ack["topic_code"] == "moi-truong.rac-thai" and ack["area_name"] == "Phường Cầu Giấy"
    assert ack["sla_policy"] == "ubnd" and ack["unit_name"] == "UBND Phường Cầu Giấy"
    resolve = page["items"][3]
    assert resolve["due_at"] == "2026-03-23T09:00:00+07:00" and resolve["done_at"] is None
    # Two days and an hour of wall clock; Monday 7h30 + Tuesday 7h30 + Wednesday 2h working.
    assert resolve["overdue_minutes"] == 49 * 60
    assert resolve["overdue_working_minutes"] == 16 * 60
    cancelled = page["items"][1]
    assert cancelled["done_at"] == "2026-03-17T10:00:00+07:00"  # ended without a response
    urenco = page["items"][2]
    assert urenco["due_at"] == "2026-03-17T11:50:00+07:00"

    async def refs(**params):
        response = await client.get(
            "/reports/sla/breaches", params={**MARCH, **params}, headers=sup
        )
        assert response.status_code == 200, response.text
        return response.json()

    worst = await refs(sort="-overdue", limit=2)
    assert [(i["unit_code"], i["target"]) for i in worst["items"]] == [
        ("urenco", "acknowledge"),
        (WARD, "resolve"),
    ]
    assert worst["total"] == 5 and worst["next_offset"] == 2
    second = await refs(sort="-overdue", limit=2, offset=2)
    assert second["next_offset"] == 4 and len(second["items"]) == 2
    assert (await refs(state="late"))["total"] == 2
    assert (await refs(target="resolve"))["total"] == 2
    assert (await refs(unit="urenco", state="open_overdue"))["total"] == 2
    assert (await refs(**{"from": "2026-03-17"}))["total"] == 0


async def test_csv_round_trips_with_vietnamese_text(client, auth, history):
    sup = {**auth("supervisor"), "Accept": "text/csv"}
    response = await client.get(
        "/reports/sla", params={**MARCH, "group_by": "unit,topic"}, headers=sup
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    raw = response.content
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert list(rows[0])[:4] == ["unit_code", "unit_name", "topic_code", "topic_name"]
    assert list(rows[0])[4:] == [
        "assignments",
        "open_now",
        "acknowledge_on_time",
        "acknowledge_late",
        "acknowledge_open_overdue",
        "acknowledge_on_time_rate",
        "acknowledge_median_minutes",
        "acknowledge_p90_minutes",
        "resolve_on_time",
        "resolve_late",
        "resolve_open_overdue",
        "resolve_on_time_rate",
        "resolve_median_minutes",
        "resolve_p90_minutes",
        "resolved",
        "rejected",
        "transferred",
        "reopened",
    ]
    ward = next(r for r in rows if r["unit_code"] == WARD)
    assert ward["unit_name"] == "UBND Phường Cầu Giấy"
    assert ward["topic_name"] == "Rác thải, vệ sinh môi trường"
    as_json = {k: ("" if v is None else str(v)) for k, v in WARD_ROW.items()}
    assert {k: ward[k] for k in WARD_ROW} == as_json
    total = rows[-1]
    assert total["unit_code"] == "TOTAL" and total["unit_name"] == ""
    assert {k: total[k] for k in TOTALS} == {
        k: ("" if v is None else str(v)) for k, v in TOTALS.items()
    }
    urenco = next(r for r in rows if r["unit_code"] == "urenco")
    assert urenco["acknowledge_median_minutes"] == ""
    # format=csv does the same without the header; the JSON answer is the default.
    by_param = await client.get(
        "/reports/sla",
        params={**MARCH, "group_by": "unit,topic", "format": "csv"},
        headers=auth("supervisor"),
    )
    assert by_param.content == raw
    plain = await client.get("/reports/sla", params=MARCH, headers=auth("supervisor"))
    assert plain.headers["content-type"] == "application/json"


async def test_breaches_csv(client, auth, history):
    response = await client.get(
        "/reports/sla/breaches",
        params=MARCH,
        headers={**auth("supervisor"), "Accept": "text/csv"},
    )
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    assert len(rows) == 5
    assert rows[0]["reference"] == history["t2"]["reference"]
    assert rows[0]["unit_name"] == "UBND Phường Cầu Giấy"
    assert rows[0]["due_at"] == "2026-03-17T09:30:00+07:00"
    assert rows[2]["done_at"] == ""
    assert list(rows[0])[:3] == ["assignment_id", "ticket_id", "reference"]


@pytest.mark.parametrize(
    ("params", "loc", "text"),
    [
        ({"from": "2026-02-30"}, ["query", "from"], "not a date"),
        ({"to": "31/03/2026"}, ["query", "to"], "YYYY-MM-DD"),
        ({"from": "2026-04-01", "to": "2026-03-01"}, ["query", "from"], "after"),
        ({"group_by": "untis"}, ["query", "group_by"], "did you mean unit"),
        ({"group_by": "unit,montth"}, ["query", "group_by"], "did you mean month"),
        ({"group_by": "area", "area_level": "district9"}, ["query", "area_level"], "area level"),
        ({"group_by": "unit", "topic_level": "1"}, ["query", "topic_level"], "group_by=topic"),
        ({"unit": "ubnd-phuong-cau-giai"}, ["query", "unit"], "ubnd-phuong-cau-giay"),
        ({"topic": "moi-truong.rac"}, ["query", "topic"], "unknown topic"),
        ({"area": "Atlantis"}, ["query", "area"], "no area"),
        ({"priority": "urgnt"}, ["query", "priority"], "did you mean urgent"),
        ({"channel": "fax"}, ["query", "channel"], "unknown channel"),
        ({"unit_kind": "ubndd"}, ["query", "unit_kind"], "did you mean ubnd"),
    ],
)
async def test_bad_parameters_are_422_with_suggestions(client, auth, params, loc, text):
    response = await client.get("/reports/sla", params=params, headers=auth("supervisor"))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert any(e["loc"] == loc and text in e["msg"] for e in errors), errors


async def test_group_by_suggestions_are_listed(client, auth):
    response = await client.get(
        "/reports/sla", params={"group_by": "untis"}, headers=auth("supervisor")
    )
    (error,) = response.json()["errors"]
    assert error["suggestions"][0] == "unit"


async def test_default_period_is_the_last_30_days(client, clock, auth):
    clock.now = NOW
    report = (await client.get("/reports/sla", headers=auth("supervisor"))).json()
    assert report["period"]["from"] == "2026-02-24" and report["period"]["to"] == "2026-03-25"


async def test_operators_may_not_read_reports(client):
    assert (await client.get("/reports/sla")).status_code == 403


async def test_demo_history_is_written_through_the_service(client, app, clock, auth):
    clock.now = NOW
    report = await generate(
        app.state.runtime,
        tickets=40,
        months=2,
        seed=7,
        now=NOW.astimezone(UTC),
    )
    assert report.tickets == 40
    assert report.actions["acknowledge"] > 0 and report.actions["resolve"] > 0
    assert report.actions["transfer"] > 0  # the switchboard hands tickets on
    sla = (
        await client.get(
            "/reports/sla",
            params={"from": "2026-01-01", "to": "2026-03-25", "group_by": "unit_kind"},
            headers=auth("supervisor"),
        )
    ).json()
    totals = sla["totals"]
    assert totals["assignments"] > 40 and totals["resolved"] > 0
    assert totals["acknowledge_median_minutes"] is not None
    # What the report ranks is what each ticket's SLA status says the unit took.
    async with app.state.runtime.session_factory() as session:
        done = (
            await session.scalars(
                select(Assignment)
                .where(Assignment.acknowledge_working_seconds.is_not(None))
                .order_by(Assignment.id)
                .limit(8)
            )
        ).all()
    assert done
    for a in done:
        ticket = (await client.get(f"/tickets/{a.ticket_id}")).json()
        (read,) = [x for x in ticket["assignments"] if x["id"] == a.id]
        assert read["sla"]["acknowledge"]["elapsed_seconds"] == a.acknowledge_working_seconds
        if a.resolve_working_seconds is not None:
            assert read["sla"]["resolve"]["elapsed_seconds"] == a.resolve_working_seconds
