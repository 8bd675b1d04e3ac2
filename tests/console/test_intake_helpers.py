"""The intake form's live helpers: caller history and duplicate suggestions as it fills."""

from tests.conftest import create_ticket
from tests.console.conftest import csrf_of


async def test_caller_history_appears_as_the_phone_is_typed_and_is_logged(client, browser, auth):
    earlier = await create_ticket(client)  # caller 0912 345 678
    operator = await browser("operator")
    form = await operator.get("/console/intake")
    assert 'hx-post="/console/intake/history"' in form.text
    token = csrf_of(form.text)
    half = await operator.post(
        "/console/intake/history", data={"csrf_token": token, "phone": "0912"}
    )
    assert half.status_code == 200 and half.text == ""
    r = await operator.post(
        "/console/intake/history", data={"csrf_token": token, "phone": "0912.345.678"}
    )
    assert r.status_code == 200
    assert earlier["reference"] in r.text
    assert '<strong id="calls-30">1</strong>' in r.text
    log = await client.get("/audit/access", params={"user": "operator"}, headers=auth("supervisor"))
    (record,) = log.json()["items"]
    assert record["action"] == "caller_history"
    assert record["route"] == "POST /console/intake/history"
    assert "912345678" not in log.text
    # Without the CSRF token nothing runs.
    refused = await operator.post("/console/intake/history", data={"phone": "0912345678"})
    assert refused.status_code == 403
    # A unit agent has no caller history: an empty fragment.
    agent = await browser("agent.caugiay")
    token = csrf_of((await agent.get("/console/queue")).text)
    r = await agent.post(
        "/console/intake/history", data={"csrf_token": token, "phone": "0912345678"}
    )
    assert r.status_code == 200 and r.text == ""


async def test_duplicate_suggestions_appear_as_the_form_fills(client, browser):
    earlier = await create_ticket(client, area="phuong-cau-giay", topic="moi-truong.rac-thai")
    operator = await browser("operator")
    token = csrf_of((await operator.get("/console/intake")).text)
    empty = await operator.post("/console/intake/similar", data={"csrf_token": token})
    assert empty.text == ""
    r = await operator.post(
        "/console/intake/similar",
        data={
            "csrf_token": token,
            "phone": "0987 654 321",
            "area": "phuong-cau-giay",
            "topic": "moi-truong.rac-thai",
            "description": "Rác thải ùn ứ đầu ngõ 25 Trần Thái Tông",
        },
    )
    assert r.status_code == 200
    assert earlier["reference"] in r.text and "cùng địa bàn và lĩnh vực" in r.text
    # An unknown topic typed so far is left out, not refused: area and text still match.
    r = await operator.post(
        "/console/intake/similar",
        data={
            "csrf_token": token,
            "topic": "khong-co",
            "area": "phuong-cau-giay",
            "description": "Rác thải ùn ứ đầu ngõ 25 Trần Thái Tông mấy ngày nay",
        },
    )
    assert r.status_code == 200 and earlier["reference"] in r.text
