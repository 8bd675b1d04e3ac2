"""The console over HTTP: sign-in, CSRF, scoping, actions, intake, dashboard = reports."""

import html
import re

import httpx

from tests.conftest import create_ticket
from tests.console.conftest import csrf_of


async def test_pages_need_a_session_and_sign_in_sets_a_strict_httponly_cookie(app, client):
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as c:
        r = await c.get("/console/queue")
        assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
        form = await c.get("/console/login")
        bad = await c.post(
            "/console/login",
            data={"username": "operator", "password": "wrong", "csrf_token": csrf_of(form.text)},
        )
        assert bad.status_code == 401 and "không đúng" in bad.text
        no_csrf = await c.post(
            "/console/login", data={"username": "operator", "password": "operator1022"}
        )
        assert no_csrf.status_code == 403
        ok = await c.post(
            "/console/login",
            data={
                "username": "operator",
                "password": "operator1022",
                "csrf_token": csrf_of(form.text),
            },
        )
        assert ok.status_code == 303
        cookie = ok.headers["set-cookie"].lower()
        assert "hotline_console=" in cookie and "httponly" in cookie and "samesite=strict" in cookie


async def test_a_form_without_the_session_csrf_token_is_refused(client, browser):
    ticket = await create_ticket(client, area="phuong-cau-giay")
    agent = await browser("agent.caugiay")
    r = await agent.post(
        f"/console/tickets/{ticket['id']}/acknowledge", data={"csrf_token": "0" * 64}
    )
    assert r.status_code == 403
    assert (await client.get(f"/tickets/{ticket['id']}")).json()["status"] == "assigned"


async def test_agent_queue_shows_only_own_units_most_urgent_first(client, browser, auth):
    mine_normal = await create_ticket(client, area="phuong-cau-giay")
    mine_urgent = await create_ticket(client, area="phuong-cau-giay", priority="urgent")
    other = await create_ticket(client, area="phuong-ba-dinh")
    agent = await browser("agent.caugiay")
    page = (await agent.get("/console/queue")).text
    refs = re.findall(r"HN-\d{4}-\d{6}", page)
    api = await client.get(
        "/tickets", params={"sort": "due", "status": ["assigned"]}, headers=auth("agent.caugiay")
    )
    assert refs == [t["reference"] for t in api.json()["items"]]
    assert other["reference"] not in refs
    assert {mine_normal["reference"], mine_urgent["reference"]} <= set(refs)
    # Another unit's ticket page does not exist for this agent.
    r = await agent.get(f"/console/tickets/{other['id']}")
    assert r.status_code == 404


def _queue_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<td><a href="/console/tickets/(\d+)">', page)]


async def test_agent_queue_pages_in_due_order_ties_by_id_with_the_total(
    client, browser, auth, monkeypatch
):
    monkeypatch.setattr("app.console.work.QUEUE_SHOWN", 2)
    # Five received together with one priority: one due, so only the id orders them.
    received = "2026-03-02T09:00:00+07:00"
    tied = [
        await create_ticket(client, area="phuong-cau-giay", received_at=received) for _ in range(5)
    ]
    urgent = await create_ticket(client, area="phuong-cau-giay", priority="urgent")
    await create_ticket(client, area="phuong-ba-dinh")  # another unit's: neither row nor total
    api = await client.get(
        "/tickets",
        params={"sort": "due", "status": ["assigned"], "limit": 50},
        headers=auth("agent.caugiay"),
    )
    expected = [t["id"] for t in api.json()["items"]]
    tied_ids = [t["id"] for t in tied]
    assert sorted(expected) == sorted([*tied_ids, urgent["id"]])
    assert [i for i in expected if i in tied_ids] == sorted(tied_ids)
    agent = await browser("agent.caugiay")
    pages = [(await agent.get("/console/queue")).text]
    while link := re.search(r'href="(/console/queue\?cursor=[^"]+)" id="queue-next"', pages[-1]):
        pages.append((await agent.get(html.unescape(link.group(1)))).text)
        assert len(pages) <= 4
    assert [len(_queue_ids(p)) for p in pages] == [2, 2, 2]
    assert [i for p in pages for i in _queue_ids(p)] == expected
    for p in pages:
        assert re.search(r'id="queue-total">[^<]*<strong>6</strong>', p)
    assert 'href="/console/queue">Trang đầu' in pages[-1]
    assert 'href="/console/queue">Trang đầu' not in pages[0]
    # A cursor the queue did not write is a sentence naming it, not a silent first page.
    bad = await agent.get("/console/queue?cursor=bm90LWEtY3Vyc29y")
    assert bad.status_code == 422 and "cursor" in bad.text


async def test_agent_acknowledges_and_resolves_and_a_refusal_reads_as_a_sentence(client, browser):
    ticket = await create_ticket(client, area="phuong-cau-giay")
    agent = await browser("agent.caugiay")
    page = (await agent.get(f"/console/tickets/{ticket['id']}")).text
    token = csrf_of(page)
    r = await agent.post(f"/console/tickets/{ticket['id']}/acknowledge", data={"csrf_token": token})
    assert r.status_code == 303
    # Acknowledging twice is a 409 from the service: shown, nothing changes.
    again = await agent.post(
        f"/console/tickets/{ticket['id']}/acknowledge", data={"csrf_token": token}
    )
    assert again.status_code == 409 and 'role="alert"' in again.text
    missing = await agent.post(
        f"/console/tickets/{ticket['id']}/resolve", data={"csrf_token": token}
    )
    assert missing.status_code == 422
    assert "Cần nhập «Kết quả giải quyết»." in html.unescape(missing.text)
    long = await agent.post(
        f"/console/tickets/{ticket['id']}/resolve",
        data={"csrf_token": token, "resolution": "x" * 100_000},
    )
    assert long.status_code == 422
    assert "«Kết quả giải quyết» quá dài (tối đa 4000 ký tự)." in html.unescape(long.text)
    done = await agent.post(
        f"/console/tickets/{ticket['id']}/resolve",
        data={"csrf_token": token, "resolution": "Đã thu gom rác"},
    )
    assert done.status_code == 303
    read = (await client.get(f"/tickets/{ticket['id']}")).json()
    assert read["status"] == "resolved"
    assert "Đã thu gom rác" in (await agent.get(f"/console/tickets/{ticket['id']}")).text


async def test_intake_files_once_per_form_and_masks_confidential_callers(client, browser):
    operator = await browser("operator")
    form = (await operator.get("/console/intake")).text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form).group(1)
    data = {
        "csrf_token": csrf_of(form),
        "idempotency_key": key,
        "phone": "0912 345 678",
        "name": "Trần Thị Bình",
        "confidential": "on",
        "channel": "phone",
        "area": "Cầu Giấy",
        "topic": "moi-truong.rac-thai",
        "priority": "normal",
        "description": "Rác ùn ứ đầu ngõ",
        "address": "Ngõ 5",
    }
    first = await operator.post("/console/intake", data=data)
    second = await operator.post("/console/intake", data=data)  # the double click
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    listed = (await client.get("/tickets")).json()["items"]
    assert len(listed) == 1
    agent = await browser("agent.caugiay")
    page = (await agent.get(first.headers["location"])).text
    assert "Được bảo mật" in page and "Trần Thị Bình" not in page
    # The number in any form it could be shown in (a bare "912" also turns up in random tokens).
    assert not any(shown in page for shown in ("912345678", "912 345 678", "345 678", "345678"))


async def test_phone_is_normalised_as_typed_and_areas_offer_former_names(browser):
    operator = await browser("operator")
    r = await operator.get("/console/intake/phone", params={"phone": "0912 345 678"})
    assert "+84912345678" in r.text
    r = await operator.get("/console/intake/areas", params={"area": "cau giay"})
    assert 'name="area_code"' in r.text and "Cầu Giấy" in r.text


async def test_dashboard_numbers_equal_the_sla_report_for_the_same_filter(client, browser, auth):
    for area in ("phuong-cau-giay", "phuong-cau-giay", "phuong-ba-dinh"):
        await create_ticket(client, area=area)
    supervisor = await browser("supervisor")
    assert (await supervisor.get("/console/dashboard")).status_code == 200
    panel = (await supervisor.get("/console/dashboard/panel/ontime")).text
    report = (await client.get("/reports/sla", headers=auth("supervisor"))).json()
    for row in report["rows"]:
        code = row["group"].get("unit_code")
        if not code:
            continue
        cells = re.search(rf'data-unit="{code}">(.*?)</tr>', panel, re.S).group(1)
        assert f'<td class="num">{row["assignments"]}</td>' in cells
    csv = await supervisor.get("/console/dashboard/csv/ontime")
    api_csv = await client.get("/reports/sla", params={"format": "csv"}, headers=auth("supervisor"))
    assert csv.text == api_csv.text
    filtered = await supervisor.get(
        "/console/dashboard/csv/ontime", params={"unit": "ubnd-phuong-ba-dinh"}
    )
    api_filtered = await client.get(
        "/reports/sla",
        params={"format": "csv", "unit": "ubnd-phuong-ba-dinh"},
        headers=auth("supervisor"),
    )
    assert filtered.text == api_filtered.text
    for name in ("volume", "matrix", "worst"):
        assert (await supervisor.get(f"/console/dashboard/panel/{name}")).status_code == 200


async def test_operators_cannot_open_the_dashboard(browser):
    operator = await browser("operator")
    r = await operator.get("/console/dashboard")
    assert r.status_code == 403


async def test_callback_queue_lists_tickets_waiting_for_the_citizen(client, browser, auth):
    waiting = await create_ticket(client, area="phuong-cau-giay")
    working = await create_ticket(client, area="phuong-cau-giay")
    agent = auth("agent.caugiay")
    await client.post(f"/tickets/{waiting['id']}/start", headers=agent)
    await client.post(
        f"/tickets/{waiting['id']}/request-info", json={"question": "Số nhà?"}, headers=agent
    )
    # Resolved, then answered "not fixed" (which reopens it): the caller is owed a call too.
    unhappy = await create_ticket(client, area="phuong-cau-giay")
    await client.post(
        f"/tickets/{unhappy['id']}/resolve", json={"resolution": "Đã thu gom"}, headers=agent
    )
    answered = await client.post(
        f"/tickets/{unhappy['id']}/feedback", json={"fixed": "no", "comment": "Vẫn còn rác"}
    )
    assert answered.status_code == 200, answered.text
    happy = await create_ticket(client, area="phuong-cau-giay")
    await client.post(
        f"/tickets/{happy['id']}/resolve", json={"resolution": "Đã thu gom"}, headers=agent
    )
    assert (
        await client.post(f"/tickets/{happy['id']}/feedback", json={"fixed": "yes"})
    ).status_code == 200
    operator = await browser("operator")
    page = (await operator.get("/console/callbacks")).text
    assert waiting["reference"] in page and working["reference"] not in page
    assert happy["reference"] not in page
    kinds = re.findall(r'<tr data-kind="([a-z_]+)">\s*<td><a href="/console/tickets/(\d+)"', page)
    # The earlier wait first: the request for information came before the answer.
    assert kinds == [("info_requested", str(waiting["id"])), ("not_fixed", str(unhappy["id"]))]
    # Once the unit resolves it again, the "not fixed" call is no longer owed.
    await client.post(
        f"/tickets/{unhappy['id']}/resolve", json={"resolution": "Thu gom lần 2"}, headers=agent
    )
    page = (await operator.get("/console/callbacks")).text
    assert unhappy["reference"] not in page and waiting["reference"] in page
    ticket_page = (await operator.get(f"/console/tickets/{waiting['id']}")).text
    assert "Đang chờ người dân trả lời" in ticket_page and "Số nhà?" in ticket_page


async def test_admin_page_lists_users_keys_and_the_versions_in_force(app, browser):
    admin = await browser("admin")
    page = await admin.get("/console/admin")
    assert page.status_code == 200
    assert "agent.caugiay" in page.text and "ubnd-phuong-cau-giay" in page.text
    assert (
        app.state.runtime.rules.current.version in page.text
        and app.state.runtime.sla.version in page.text
    )
    assert "Chưa có đăng ký nào." in page.text  # no webhook subscription yet
    assert (await (await browser("supervisor")).get("/console/admin")).status_code == 403


async def test_admin_page_lists_webhooks_and_each_ones_delivery_log(client, auth, browser):
    admin_api = auth("admin")
    r = await client.post(
        "/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "events": ["ticket.created"], "description": "Sở"},
        headers=admin_api,
    )
    assert r.status_code == 201, r.text
    hook = r.json()
    queued = await client.post(f"/webhooks/{hook['id']}/test", headers=admin_api)
    assert queued.status_code in (200, 202), queued.text
    message_id = queued.json()["message_id"]
    admin = await browser("admin")
    page = (await admin.get("/console/admin")).text
    assert "http://127.0.0.1:9/hook" in page and f"/console/admin/webhooks/{hook['id']}" in page
    assert hook["secret"] not in page
    log = await admin.get(f"/console/admin/webhooks/{hook['id']}")
    assert log.status_code == 200
    assert message_id in log.text and "webhook.test" in log.text and hook["secret"] not in log.text
    # Supervisors read webhooks (webhooks:read); unit agents do not; an unknown id is a 404.
    assert (
        await (await browser("supervisor")).get(f"/console/admin/webhooks/{hook['id']}")
    ).status_code == 200
    assert (
        await (await browser("agent.caugiay")).get(f"/console/admin/webhooks/{hook['id']}")
    ).status_code == 403
    assert (await admin.get("/console/admin/webhooks/999999")).status_code == 404


async def test_revealing_a_confidential_caller_needs_a_reason_and_is_logged(client, browser, auth):
    ticket = await create_ticket(
        client, caller={"name": "Trần Thị Bình", "phone": "0987 654 321", "confidential": True}
    )
    operator = await browser("operator")
    page = (await operator.get(f"/console/tickets/{ticket['id']}")).text
    assert "Trần Thị Bình" not in page and 'id="do-reveal"' in page
    url = f"/console/tickets/{ticket['id']}/caller/reveal"
    short = await operator.post(url, data={"csrf_token": csrf_of(page), "reason": "x"})
    assert short.status_code == 422 and "Trần Thị Bình" not in short.text
    shown = await operator.post(
        url, data={"csrf_token": csrf_of(page), "reason": "Gọi lại theo đề nghị của phường"}
    )
    assert shown.status_code == 200 and "Trần Thị Bình" in shown.text
    log = (await client.get(f"/tickets/{ticket['id']}/access", headers=auth("supervisor"))).json()
    assert [(r["action"], r["actor"], r["reason"]) for r in log["items"]] == [
        ("reveal", "operator", "Gọi lại theo đề nghị của phường")
    ]
    agent = await browser("agent.caugiay")
    assert 'id="do-reveal"' not in (await agent.get(f"/console/tickets/{ticket['id']}")).text


async def test_volume_panel_equals_the_volume_report_and_each_bar_opens_its_tickets(
    client, browser, auth
):
    await create_ticket(client, channel="phone")
    await create_ticket(client, channel="phone")
    await create_ticket(client, channel="zalo", area="phuong-ba-dinh")
    supervisor = await browser("supervisor")
    panel = await supervisor.get("/console/dashboard/panel/volume", params={"volume_by": "channel"})
    report = (
        await client.get(
            "/reports/volume", params={"group_by": "channel"}, headers=auth("supervisor")
        )
    ).json()
    counts = {r["group"]["channel"]: r["tickets"] for r in report["rows"]}
    assert counts == {"phone": 2, "zalo": 1}
    for channel, n in counts.items():
        assert f"&#34;{channel}&#34;: [{n}]" in panel.text
    links = re.findall(r'<a href="(/console/search\?[^"]+)">(\d+)</a>', panel.text)
    assert sorted(int(n) for _, n in links) == sorted(counts.values())
    for link, n in links:
        found = await supervisor.get(html.unescape(link))
        assert found.status_code == 200
        assert found.text.count("/console/tickets/") == int(n), link
    csv = await supervisor.get("/console/dashboard/csv/volume", params={"volume_by": "channel"})
    api_csv = await client.get(
        "/reports/volume",
        params={"group_by": "channel", "format": "csv"},
        headers=auth("supervisor"),
    )
    assert csv.text == api_csv.text
    # A ward's agent: the panel counts (and links to) their unit's tickets only.
    agent = await browser("agent.caugiay")
    mine = await agent.get("/console/dashboard/panel/volume")
    links = re.findall(r'<a href="(/console/search\?[^"]+)">(\d+)</a>', mine.text)
    assert [int(n) for _, n in links] == [2]
    found = await agent.get(html.unescape(links[0][0]))
    assert found.text.count("/console/tickets/") == 2


async def test_the_report_without_percentiles_has_the_same_counts(client, auth):
    ticket = await create_ticket(client)
    agent = auth("agent.caugiay")
    await client.post(
        f"/tickets/{ticket['id']}/resolve", json={"resolution": "xong"}, headers=agent
    )
    await create_ticket(client, area="phuong-ba-dinh")
    sup = auth("supervisor")
    full = (await client.get("/reports/sla", headers=sup)).json()
    counts = (await client.get("/reports/sla", params={"percentiles": "false"}, headers=sup)).json()
    assert full["totals"]["resolve_median_minutes"] is not None
    assert counts["totals"]["resolve_median_minutes"] is None
    for a, b in zip(full["rows"], counts["rows"], strict=True):
        assert a["group"] == b["group"]
        assert {k: v for k, v in a.items() if "minutes" not in k} == {
            k: v for k, v in b.items() if "minutes" not in k
        }
