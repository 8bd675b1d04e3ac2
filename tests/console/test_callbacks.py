"""The callback queue's "resolved, the caller asked to be told" part, and recording the call."""

import re
from datetime import UTC, datetime, timedelta

from tests.conftest import create_ticket
from tests.console.conftest import PASSWORDS, csrf_of

ROW = re.compile(
    r'<tr data-kind="([a-z_]+)"[^>]*>\s*<td><a href="/console/tickets/(\d+)".*?'
    r'data-overdue-seconds="(-?\d+)"',
    re.S,
)


def _rows(page: str) -> list[tuple[str, int, int]]:
    return [(kind, int(tid), int(late)) for kind, tid, late in ROW.findall(page)]


async def _resolve(client, auth, ticket, at=None, agent="agent.caugiay", resolution="Đã thu gom"):
    body = {"resolution": resolution}
    if at is not None:
        body["occurred_at"] = at.isoformat()
    r = await client.post(f"/tickets/{ticket['id']}/resolve", json=body, headers=auth(agent))
    assert r.status_code == 200, r.text


async def test_resolved_tickets_whose_caller_asked_are_listed_most_overdue_first(
    client, browser, auth
):
    now = datetime.now(UTC)
    recent = await create_ticket(client, callback_requested=True)
    await _resolve(client, auth, recent)
    old = await create_ticket(
        client, callback_requested=True, received_at=(now - timedelta(days=3)).isoformat()
    )
    await _resolve(client, auth, old, at=now - timedelta(days=2))
    not_asked = await create_ticket(client)
    await _resolve(client, auth, not_asked)
    asked_open = await create_ticket(client, callback_requested=True)
    operator = await browser("operator")
    page = (await operator.get("/console/callbacks")).text
    rows = _rows(page)
    assert [(k, t) for k, t, _ in rows] == [
        ("outcome_requested", old["id"]),
        ("outcome_requested", recent["id"]),
    ]
    assert not_asked["reference"] not in page and asked_open["reference"] not in page
    # Resolved two days ago, due a day after: about a day overdue; the recent one is not yet.
    late = {t: s for _, t, s in rows}
    assert timedelta(hours=23) < timedelta(seconds=late[old["id"]]) < timedelta(hours=25)
    assert late[recent["id"]] < 0
    assert "quá 1 ngày" in page or "quá 23 giờ" in page or "quá 24 giờ" in page


async def test_recording_the_call_on_the_queue_takes_the_caller_off_it(client, browser, auth):
    first = await create_ticket(client, callback_requested=True)
    second = await create_ticket(client, callback_requested=True)
    for t in (first, second):
        await _resolve(client, auth, t)
    operator = await browser("operator")
    page = (await operator.get("/console/callbacks")).text
    assert f'action="/console/callbacks/{first["id"]}"' in page
    r = await operator.post(
        f"/console/callbacks/{first['id']}",
        data={"csrf_token": csrf_of(page), "note": "Đã báo kết quả cho bà An"},
    )
    assert r.status_code == 303 and r.headers["location"] == "/console/callbacks"
    page = (await operator.get("/console/callbacks")).text
    assert [t for _, t, _ in _rows(page)] == [second["id"]]
    events = (await client.get(f"/tickets/{first['id']}/events")).json()["items"]
    assert events[-1]["kind"] == "caller_informed"
    assert events[-1]["details"]["note"] == "Đã báo kết quả cho bà An"
    # The API's action does the same; closing a resolved ticket keeps an unmade call owed.
    await client.post(f"/tickets/{second['id']}/close")
    assert second["reference"] in (await operator.get("/console/callbacks")).text
    r = await client.post(f"/tickets/{second['id']}/caller-informed")
    assert r.status_code == 200, r.text
    assert "Không có ai cần gọi lại" in (await operator.get("/console/callbacks")).text


async def test_a_new_resolution_after_a_reopen_is_owed_a_new_call(client, browser, auth):
    ticket = await create_ticket(client, callback_requested=True)
    await _resolve(client, auth, ticket)
    assert (await client.post(f"/tickets/{ticket['id']}/caller-informed")).status_code == 200
    operator = await browser("operator")
    assert ticket["reference"] not in (await operator.get("/console/callbacks")).text
    r = await client.post(f"/tickets/{ticket['id']}/reopen", json={"reason": "Vẫn còn rác"})
    assert r.status_code == 200, r.text
    await _resolve(client, auth, ticket)
    rows = _rows((await operator.get("/console/callbacks")).text)
    assert [(k, t) for k, t, _ in rows] == [("outcome_requested", ticket["id"])]


async def test_a_call_also_ends_a_wait_for_information(client, browser, auth):
    ticket = await create_ticket(client)
    agent = auth("agent.caugiay")
    await client.post(f"/tickets/{ticket['id']}/start", headers=agent)
    await client.post(
        f"/tickets/{ticket['id']}/request-info", json={"question": "Số nhà?"}, headers=agent
    )
    operator = await browser("operator")
    assert _rows((await operator.get("/console/callbacks")).text)[0][:2] == (
        "info_requested",
        ticket["id"],
    )
    assert (await client.post(f"/tickets/{ticket['id']}/caller-informed")).status_code == 200
    assert ticket["reference"] not in (await operator.get("/console/callbacks")).text
    # The unit asks again: a new wait, owed a new call.
    await client.post(f"/tickets/{ticket['id']}/info-received", headers=agent)
    await client.post(
        f"/tickets/{ticket['id']}/request-info", json={"question": "Ngõ nào?"}, headers=agent
    )
    assert ticket["reference"] in (await operator.get("/console/callbacks")).text


async def test_agents_see_their_units_callbacks_but_cannot_record_the_call(client, browser, auth):
    mine = await create_ticket(client, callback_requested=True)
    await _resolve(client, auth, mine)
    other = await create_ticket(client, callback_requested=True, area="phuong-ba-dinh")
    await _resolve(client, auth, other, agent="agent.badinh", resolution="Đã xử lý")
    agent = await browser("agent.caugiay")
    page = (await agent.get("/console/callbacks")).text
    assert [t for _, t, _ in _rows(page)] == [mine["id"]]
    assert "/console/callbacks/" not in page  # no form to record the call
    refused = await agent.post(
        f"/console/callbacks/{mine['id']}", data={"csrf_token": csrf_of(page)}
    )
    assert refused.status_code == 403
    assert mine["reference"] in (await agent.get("/console/callbacks")).text


async def test_the_intake_form_records_the_wish(client, browser):
    operator = await browser("operator")
    form = (await operator.get("/console/intake")).text
    assert 'name="callback_requested"' in form
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form).group(1)
    r = await operator.post(
        "/console/intake",
        data={
            "csrf_token": csrf_of(form),
            "idempotency_key": key,
            "phone": "0912 345 678",
            "name": "Nguyễn Văn An",
            "channel": "phone",
            "area": "phuong-cau-giay",
            "topic": "moi-truong.rac-thai",
            "priority": "normal",
            "description": "Rác thải ùn ứ đầu ngõ, muốn được báo kết quả",
            "callback_requested": "on",
        },
    )
    assert r.status_code == 303, r.text
    ticket_id = r.headers["location"].rsplit("/", 1)[1]
    assert (await client.get(f"/tickets/{ticket_id}")).json()["callback_requested"] is True
    page = (await operator.get(f"/console/tickets/{ticket_id}")).text
    assert "Người dân muốn được gọi lại báo kết quả" in page


async def test_an_erased_caller_is_owed_no_call(client, browser, auth):
    kept = await create_ticket(client, callback_requested=True)
    gone = {"name": "Trần Thị Bình", "phone": "0987 654 321"}
    told = await create_ticket(client, callback_requested=True, caller=gone)
    asked = await create_ticket(client, caller=gone)
    for t in (kept, told):
        await _resolve(client, auth, t)
    agent = auth("agent.caugiay")
    await client.post(f"/tickets/{asked['id']}/start", headers=agent)
    r = await client.post(
        f"/tickets/{asked['id']}/request-info", json={"question": "Số nhà?"}, headers=agent
    )
    assert r.status_code == 200, r.text
    operator = await browser("operator")
    listed = {t for _, t, _ in _rows((await operator.get("/console/callbacks")).text)}
    assert listed == {kept["id"], told["id"], asked["id"]}
    r = await client.post(
        "/callers/erase",
        json={"phone": "0987654321", "ground": "Yêu cầu xoá của chủ thể", "request_ref": "YC-1"},
        headers=auth("admin"),
    )
    assert r.status_code == 200, r.text
    assert sorted(r.json()["erased"]) == sorted([told["reference"], asked["reference"]])
    # No number or e-mail is left to call: both leave the queue, the other caller stays.
    rows = _rows((await operator.get("/console/callbacks")).text)
    assert [(k, t) for k, t, _ in rows] == [("outcome_requested", kept["id"])]


async def test_asking_for_a_callback_with_no_phone_on_the_form_is_a_sentence(browser):
    operator = await browser("operator")
    form = (await operator.get("/console/intake")).text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form).group(1)
    r = await operator.post(
        "/console/intake",
        data={
            "csrf_token": csrf_of(form),
            "idempotency_key": key,
            "channel": "phone",
            "area": "phuong-cau-giay",
            "topic": "moi-truong.rac-thai",
            "priority": "normal",
            "description": "Rác thải ùn ứ đầu ngõ",
            "callback_requested": "on",
        },
    )
    assert r.status_code == 422
    assert "cần số điện thoại để gọi lại" in r.text
    assert "Kiểm tra lại" not in r.text and "callback_requested." not in r.text


async def test_a_double_submit_on_the_queue_records_one_call(client, browser, auth):
    ticket = await create_ticket(client, callback_requested=True)
    await _resolve(client, auth, ticket)
    operator = await browser("operator")
    page = (await operator.get("/console/callbacks")).text
    form = {"csrf_token": csrf_of(page), "note": "Đã báo kết quả"}
    for _ in range(2):
        r = await operator.post(f"/console/callbacks/{ticket['id']}", data=form)
        assert r.status_code == 303 and r.headers["location"] == "/console/callbacks"
    events = (await client.get(f"/tickets/{ticket['id']}/events")).json()["items"]
    assert [e["kind"] for e in events].count("caller_informed") == 1
    # A later wait is owed a new call, recorded once again.
    assert (
        await client.post(f"/tickets/{ticket['id']}/reopen", json={"reason": "Còn rác"})
    ).status_code == 200
    await _resolve(client, auth, ticket)
    r = await operator.post(f"/console/callbacks/{ticket['id']}", data=form)
    events = (await client.get(f"/tickets/{ticket['id']}/events")).json()["items"]
    assert [e["kind"] for e in events].count("caller_informed") == 2


async def test_a_co_handling_units_agent_sees_the_callbacks_it_may_read(
    client, browser, auth, monkeypatch
):
    # Waste in Ba Đình: the ward committee owns it, URENCO is informed (co-handler) and may
    # read it through the API; the queue shows it to URENCO's agent too.
    ticket = await create_ticket(client, callback_requested=True, area="phuong-ba-dinh")
    await _resolve(client, auth, ticket, agent="agent.badinh")
    user = {"username": "agent.urenco.callbacks", "password": "password123", "role": "unit_agent"}
    made = await client.post(
        "/admin/users", json={**user, "units": ["urenco"]}, headers=auth("admin")
    )
    assert made.status_code == 201, made.text
    monkeypatch.setitem(PASSWORDS, "agent.urenco.callbacks", "password123")
    urenco = await browser("agent.urenco.callbacks")
    assert (await urenco.get(f"/console/tickets/{ticket['id']}")).status_code == 200
    rows = _rows((await urenco.get("/console/callbacks")).text)
    assert [(k, t) for k, t, _ in rows] == [("outcome_requested", ticket["id"])]
    caugiay = await browser("agent.caugiay")
    assert _rows((await caugiay.get("/console/callbacks")).text) == []


async def test_the_queue_pages_most_overdue_first_and_shows_the_total(
    client, browser, auth, monkeypatch
):
    monkeypatch.setattr("app.console.work.CALLBACKS_SHOWN", 2)
    now = datetime.now(UTC)
    received = (now - timedelta(days=5)).isoformat()
    made = [
        await create_ticket(client, callback_requested=True, received_at=received) for _ in range(5)
    ]
    # Resolved 4, 3, 3, 3 and 2 days ago: three tie on the wait's start, ordered by ticket id.
    for ticket, days in zip(made, (4, 3, 3, 3, 2), strict=True):
        await _resolve(client, auth, ticket, at=now - timedelta(days=days))
    order = [t["id"] for t in made]
    operator = await browser("operator")
    first = (await operator.get("/console/callbacks")).text
    assert [t for _, t, _ in _rows(first)] == order[:2]
    assert re.search(r'id="callbacks-total">[^<]*<strong>5</strong>', first)
    # A call recorded on the first page does not shift the next page's rows.
    r = await operator.post(
        f"/console/callbacks/{order[0]}", data={"csrf_token": csrf_of(first), "note": "Đã báo"}
    )
    assert r.status_code == 303
    link = re.search(r'href="(/console/callbacks\?cursor=[^"]+)" id="callbacks-next"', first)
    second = (await operator.get(link.group(1).replace("&amp;", "&"))).text
    assert [t for _, t, _ in _rows(second)] == order[2:4]
    assert re.search(r'id="callbacks-total">[^<]*<strong>4</strong>', second)
    link = re.search(r'href="(/console/callbacks\?cursor=[^"]+)" id="callbacks-next"', second)
    third = (await operator.get(link.group(1).replace("&amp;", "&"))).text
    assert [t for _, t, _ in _rows(third)] == order[4:]
    assert 'id="callbacks-next"' not in third and 'href="/console/callbacks">Trang đầu' in third
    # A cursor the queue did not write is a sentence naming it, not a silent first page.
    bad = await operator.get("/console/callbacks?cursor=bm90LWEtY3Vyc29y")
    assert bad.status_code == 422 and "cursor" in bad.text


async def test_a_caller_with_nothing_to_call_by_stays_listed_and_is_marked(client, browser, auth):
    agent = auth("agent.caugiay")
    nobody = await create_ticket(client, caller={"anonymous": True})
    by_mail = await create_ticket(client, caller={"email": "an@example.vn"})
    by_phone = await create_ticket(client)
    for t in (nobody, by_mail, by_phone):
        await client.post(f"/tickets/{t['id']}/start", headers=agent)
        r = await client.post(
            f"/tickets/{t['id']}/request-info", json={"question": "Số nhà?"}, headers=agent
        )
        assert r.status_code == 200, r.text
    operator = await browser("operator")
    page = (await operator.get("/console/callbacks")).text
    assert {t for _, t, _ in _rows(page)} == {nobody["id"], by_mail["id"], by_phone["id"]}
    rows = {
        int(m.group(1)): m.group(0)
        for m in re.finditer(
            r'<tr[^>]*>\s*<td><a href="/console/tickets/(\d+)".*?</tr>', page, re.S
        )
    }
    mark = "Không có số điện thoại hay e-mail để liên hệ"
    assert mark in rows[nobody["id"]] and "Đã gọi lại</button>" not in rows[nobody["id"]]
    for reachable in (by_mail, by_phone):
        assert mark not in rows[reachable["id"]]
        assert f'action="/console/callbacks/{reachable["id"]}"' in rows[reachable["id"]]
    assert "an@example.vn" in rows[by_mail["id"]]
    # The unit still waits on the anonymous caller: information received ends that wait.
    await client.post(f"/tickets/{nobody['id']}/info-received", headers=agent)
    assert nobody["reference"] not in (await operator.get("/console/callbacks")).text


async def test_an_erased_callers_ticket_page_says_the_wish_no_longer_applies(client, browser, auth):
    kept = await create_ticket(client, callback_requested=True)
    gone = await create_ticket(
        client, callback_requested=True, caller={"name": "Trần Thị Bình", "phone": "0987 654 321"}
    )
    r = await client.post(
        "/callers/erase",
        json={"phone": "0987654321", "ground": "Yêu cầu xoá của chủ thể", "request_ref": "YC-2"},
        headers=auth("admin"),
    )
    assert r.status_code == 200, r.text
    for role in ("operator", "supervisor"):
        viewer = await browser(role)
        shown = re.search(
            r'<dd id="callback-requested">(.*?)</dd>',
            (await viewer.get(f"/console/tickets/{gone['id']}")).text,
            re.S,
        ).group(1)
        assert shown.startswith("Không còn áp dụng") and "xoá hoặc ẩn danh" in shown
        kept_shown = re.search(
            r'<dd id="callback-requested">(.*?)</dd>',
            (await viewer.get(f"/console/tickets/{kept['id']}")).text,
            re.S,
        ).group(1)
        assert kept_shown == "Người dân muốn được gọi lại báo kết quả"
