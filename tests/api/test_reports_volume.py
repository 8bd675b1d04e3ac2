"""GET /api/v1/reports/volume: tickets received per day, week or month, and every row equals
the ticket search for its dates and the same filter (the dashboard's drill-down)."""

import csv
import io
from datetime import date, datetime, time, timedelta

from app.timefmt import LOCAL_TZ
from tests.conftest import create_ticket

NOW = datetime(2026, 3, 20, 10, 0, tzinfo=LOCAL_TZ)


def at(day: str, hour: int = 9) -> str:
    return datetime.combine(date.fromisoformat(day), time(hour), LOCAL_TZ).isoformat()


async def _seed(client, clock):
    clock.now = NOW
    made = [
        ("2026-02-27", "phone", "moi-truong.rac-thai", "phuong-cau-giay"),
        ("2026-03-02", "phone", "moi-truong.rac-thai", "phuong-cau-giay"),
        ("2026-03-02", "zalo", "giao-thong.he-pho", "phuong-ba-dinh"),
        ("2026-03-03", "phone", "moi-truong.rac-thai", "phuong-ba-dinh"),
        ("2026-03-09", "web", "giao-thong.he-pho", "phuong-cau-giay"),
        ("2026-03-10", "zalo", "moi-truong.rac-thai", "phuong-cau-giay"),
    ]
    for day, channel, topic, area in made:
        # 23:30 local is the next day in UTC: the local date decides the bucket.
        await create_ticket(
            client, received_at=at(day, 23), channel=channel, topic=topic, area=area
        )


async def _search_count(client, headers, row, **filters) -> int:
    start = datetime.combine(date.fromisoformat(row["first_day"]), time(0), LOCAL_TZ)
    end = datetime.combine(date.fromisoformat(row["last_day"]), time(0), LOCAL_TZ)
    params = {
        "received_from": start.isoformat(),
        "received_to": (end + timedelta(days=1)).isoformat(),
        "limit": 200,
        **filters,
    }
    found = await client.get("/tickets", params=params, headers=headers)
    assert found.status_code == 200, found.text
    return len(found.json()["items"])


async def test_weeks_split_by_channel_clip_to_the_period_and_equal_the_ticket_search(
    client, clock, auth
):
    await _seed(client, clock)
    sup = auth("supervisor")
    r = await client.get(
        "/reports/volume",
        params={"from": "2026-02-28", "to": "2026-03-09", "by": "week", "group_by": "channel"},
        headers=sup,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    got = [
        (x["period"], x["first_day"], x["last_day"], x["group"], x["tickets"]) for x in body["rows"]
    ]
    assert got == [
        ("2026-03-02", "2026-03-02", "2026-03-08", {"channel": "phone"}, 2),
        ("2026-03-02", "2026-03-02", "2026-03-08", {"channel": "zalo"}, 1),
        ("2026-03-09", "2026-03-09", "2026-03-09", {"channel": "web"}, 1),
    ]
    assert body["total"] == 4
    for row in body["rows"]:
        n = await _search_count(client, sup, row, channel=row["group"]["channel"])
        assert n == row["tickets"], row


async def test_days_by_topic_group_and_months_and_filters(client, clock, auth):
    await _seed(client, clock)
    sup = auth("supervisor")
    days = (
        await client.get(
            "/reports/volume",
            params={
                "from": "2026-03-01",
                "to": "2026-03-31",
                "group_by": "topic",
                "topic_level": "1",
                "area": "phuong-cau-giay",
            },
            headers=sup,
        )
    ).json()
    assert [(x["period"], x["group"]["topic_code"], x["tickets"]) for x in days["rows"]] == [
        ("2026-03-02", "moi-truong", 1),
        ("2026-03-09", "giao-thong", 1),
        ("2026-03-10", "moi-truong", 1),
    ]
    assert days["rows"][0]["group"]["topic_name"]
    for row in days["rows"]:
        n = await _search_count(
            client, sup, row, topic=row["group"]["topic_code"], area="phuong-cau-giay"
        )
        assert n == row["tickets"]
    months = (
        await client.get(
            "/reports/volume",
            params={"from": "2026-02-01", "to": "2026-03-31", "by": "month"},
            headers=sup,
        )
    ).json()
    assert [(x["period"], x["first_day"], x["last_day"], x["tickets"]) for x in months["rows"]] == [
        ("2026-02", "2026-02-01", "2026-02-28", 1),
        ("2026-03", "2026-03-01", "2026-03-31", 5),
    ]


async def test_csv_twin_and_a_unit_agent_sees_their_units_tickets_only(client, clock, auth):
    await _seed(client, clock)
    params = {"from": "2026-03-01", "to": "2026-03-31", "by": "month", "group_by": "area"}
    sup = auth("supervisor")
    body = (await client.get("/reports/volume", params=params, headers=sup)).json()
    r = await client.get("/reports/volume", params={**params, "format": "csv"}, headers=sup)
    assert r.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert lines[0] == ["month", "area_code", "area_name", "tickets"]
    assert [[x[0], x[1], x[3]] for x in lines[1:-1]] == [
        [row["period"], row["group"]["area_code"], str(row["tickets"])] for row in body["rows"]
    ]
    assert lines[-1] == ["TOTAL", "", "", "5"]
    agent = auth("agent.caugiay")
    mine = (await client.get("/reports/volume", params=params, headers=agent)).json()
    assert mine["filters"]["unit"] == ["ubnd-phuong-cau-giay"]
    # Of the three March tickets in Cầu Giấy, the pavement one (giao-thong.he-pho) is routed
    # to another unit: the ward holds two.
    assert [(x["group"]["area_code"], x["tickets"]) for x in mine["rows"]] == [
        ("phuong-cau-giay", 2)
    ]
    searched = await _search_count(client, agent, mine["rows"][0], unit="ubnd-phuong-cau-giay")
    assert searched == 2


async def test_bad_parameters_name_the_field_and_suggest(client, auth):
    sup = auth("supervisor")
    r = await client.get("/reports/volume", params={"by": "wek"}, headers=sup)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    errors = r.json()["errors"]
    assert errors[0]["loc"] == ["query", "by"] and "week" in errors[0]["msg"]
    r = await client.get("/reports/volume", params={"group_by": "unit"}, headers=sup)
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["query", "group_by"]
    r = await client.get("/reports/volume", params={"group_by": "topic,area"}, headers=sup)
    assert r.status_code == 422 and "one split" in r.text
    r = await client.get("/reports/volume", headers=auth("operator"))
    assert r.status_code == 403
