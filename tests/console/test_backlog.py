"""GET /reports/backlog: open assignments now by age and SLA state; its CSV and the console."""

import re
from datetime import UTC, datetime, timedelta

from tests.conftest import create_ticket


def _cell(report, age, state):
    return next(
        c["assignments"] for c in report["cells"] if c["age"] == age and c["state"] == state
    )


async def test_backlog_counts_open_assignments_by_age_and_state(client, auth, browser):
    supervisor = auth("supervisor")
    await create_ticket(client, area="phuong-cau-giay")
    paused = await create_ticket(client, area="phuong-cau-giay")
    agent = auth("agent.caugiay")
    await client.post(f"/tickets/{paused['id']}/start", headers=agent)
    await client.post(f"/tickets/{paused['id']}/request-info", json={}, headers=agent)
    old = (datetime.now(UTC) - timedelta(days=10)).isoformat()
    await create_ticket(client, area="phuong-ba-dinh", received_at=old)
    done = await create_ticket(client, area="phuong-cau-giay")
    await client.post(f"/tickets/{done['id']}/resolve", json={"resolution": "xong"}, headers=agent)

    report = (await client.get("/reports/backlog", headers=supervisor)).json()
    assert report["total"] == 3
    assert _cell(report, "0-1d", "on_track") == 1
    assert _cell(report, "0-1d", "paused") == 1
    assert _cell(report, "7-30d", "breached") == 1
    assert len(report["cells"]) == len(report["ages"]) * len(report["states"])

    mine = (await client.get("/reports/backlog", headers=auth("agent.badinh"))).json()
    assert mine["total"] == 1 and _cell(mine, "7-30d", "breached") == 1
    narrowed = await client.get(
        "/reports/backlog", params={"unit": "ubnd-phuong-cau-giay"}, headers=supervisor
    )
    assert narrowed.json()["total"] == 2

    csv = await client.get("/reports/backlog", params={"format": "csv"}, headers=supervisor)
    lines = csv.text.lstrip("\ufeff").splitlines()
    assert lines[0] == "age,state,assignments" and "7-30d,breached,1" in lines

    console = await browser("supervisor")
    assert (await console.get("/console/dashboard/csv/backlog")).text == csv.text
    panel = (await console.get("/console/dashboard/panel/backlog")).text
    assert 'data-age="7-30d" data-state="breached"><a' in panel


async def test_matrix_cells_equal_the_report_by_area_and_topic_group(client, auth, browser):
    old = (datetime.now(UTC) - timedelta(days=10)).isoformat()
    await create_ticket(client, area="phuong-cau-giay", received_at=old)
    await create_ticket(client, area="phuong-cau-giay", received_at=old)
    await create_ticket(client, area="phuong-ba-dinh")
    params = {"group_by": "area,topic", "topic_level": "1", "percentiles": "false"}
    report = (await client.get("/reports/sla", params=params, headers=auth("supervisor"))).json()
    late = {
        (r["group"]["area_code"], r["group"]["topic_code"]): r["resolve_late"]
        + r["resolve_open_overdue"]
        for r in report["rows"]
    }
    assert sorted(late.values()) == [0, 2]
    console = await browser("supervisor")
    panel = (await console.get("/console/dashboard/panel/matrix")).text
    for (area, topic), n in late.items():
        if n:
            link = f"/console/dashboard/late?area={area}&amp;topic={topic}&amp;target=resolve"
            assert f'<a href="{link}">{n}</a>' in panel
            drill = await console.get(
                "/console/dashboard/late",
                params={"area": area, "topic": topic, "target": "resolve"},
            )
            assert drill.text.count("HN-20") == n
    ontime = (await console.get("/console/dashboard/panel/ontime")).text
    row = re.search(r'data-unit="ubnd-phuong-cau-giay">(.*?)</tr>', ontime, re.S).group(1)
    shown = int(re.search(r'data-metric="late">(\d+)</a>', row).group(1))
    assert shown == 4  # two tickets, each target open and overdue
    drill = await console.get("/console/dashboard/late", params={"unit": "ubnd-phuong-cau-giay"})
    assert drill.text.count("HN-20") == shown


async def test_every_backlog_cell_opens_the_list_of_exactly_what_it_counts(client, auth, browser):
    await create_ticket(client, area="phuong-cau-giay")
    await create_ticket(client, area="phuong-cau-giay")
    old = (datetime.now(UTC) - timedelta(days=10)).isoformat()
    await create_ticket(client, area="phuong-ba-dinh", received_at=old)
    report = (await client.get("/reports/backlog", headers=auth("supervisor"))).json()
    console = await browser("supervisor")
    panel = (await console.get("/console/dashboard/panel/backlog")).text
    links = re.findall(
        r'data-age="([^"]+)" data-state="([^"]+)"><a href="([^"]+)">(\d+)</a>', panel
    )
    assert sorted((a, s, int(n)) for a, s, _, n in links) == sorted(
        (c["age"], c["state"], c["assignments"]) for c in report["cells"] if c["assignments"]
    )
    for _age, _state, link, n in links:
        page = (await console.get(link.replace("&amp;", "&"))).text
        assert f'<span id="backlog-total">{n}</span>' in page
        assert page.count("/console/tickets/") == int(n)
    # Filtered by unit, and an agent's own view: the same numbers as the report for them.
    agent = await browser("agent.badinh")
    panel = (await agent.get("/console/dashboard/panel/backlog")).text
    (link,) = re.findall(r'<a href="(/console/dashboard/backlog[^"]+)">', panel)
    page = (await agent.get(link.replace("&amp;", "&"))).text
    assert '<span id="backlog-total">1</span>' in page
    everything = (await agent.get("/console/dashboard/backlog")).text
    assert '<span id="backlog-total">1</span>' in everything
