"""Reveals, the access log, legal holds and data-subject requests over HTTP."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.conftest import create_ticket

HN = ZoneInfo("Asia/Ho_Chi_Minh")
SECRET = {"name": "Trần Thị Bình", "phone": "0987 654 321", "confidential": True}
REASON = {"reason": "Gọi lại theo đề nghị của đơn vị xử lý"}


async def test_a_reveal_is_on_the_record_and_findable_by_ticket_user_and_phone(client, auth):
    ticket = await create_ticket(client, caller=SECRET)
    sup = auth("supervisor")
    revealed = await client.post(f"/tickets/{ticket['id']}/caller/reveal", json=REASON, headers=sup)
    assert revealed.json()["caller"]["name"] == "Trần Thị Bình"
    by_ticket = await client.get("/audit/access", params={"ticket": ticket["id"]}, headers=sup)
    (record,) = by_ticket.json()["items"]
    assert record["actor"] == "supervisor" and record["action"] == "reveal"
    assert record["route"] == "POST /api/v1/tickets/{ticket_id}/caller/reveal"
    assert record["reason"] == REASON["reason"] and record["ticket_id"] == ticket["id"]
    # The log holds a keyed hash, never the number; an auditor finds it by typing the number.
    assert "987654321" not in by_ticket.text and len(record["phone_hash"]) == 64
    found = await client.post(
        "/audit/access/search", json={"phone": "+84 987.654.321"}, headers=auth("admin")
    )
    assert [r["id"] for r in found.json()["items"]] == [record["id"]]
    other = await client.post("/audit/access/search", json={"phone": "0912000000"}, headers=sup)
    assert other.json()["items"] == []
    by_user = await client.get("/audit/access", params={"user": "operator"}, headers=sup)
    assert by_user.json()["items"] == []
    on_ticket = await client.get(f"/tickets/{ticket['id']}/access", headers=sup)
    assert [r["id"] for r in on_ticket.json()["items"]] == [record["id"]]
    later = await client.get("/audit/access", params={"from": "2099-01-01T00:00"}, headers=sup)
    assert later.json()["items"] == []


async def test_a_reveal_needs_a_reason(client):
    ticket = await create_ticket(client, caller=SECRET)
    for body in ({}, {"reason": ""}):
        refused = await client.post(f"/tickets/{ticket['id']}/caller/reveal", json=body)
        assert refused.status_code == 422
        assert refused.headers["content-type"] == "application/problem+json"
        assert "reason" in refused.text


async def test_caller_history_lookups_are_logged_with_a_hash(client, auth):
    await create_ticket(client)  # caller 0912 345 678, not confidential
    found = await client.get("/tickets", params={"caller_phone": "84912345678"})
    assert len(found.json()["items"]) == 1
    log = await client.get("/audit/access", headers=auth("supervisor"))
    (record,) = log.json()["items"]
    assert record["action"] == "caller_history" and record["route"] == "GET /api/v1/tickets"
    assert record["details"] == {"results": 1} and "912345678" not in log.text
    by_phone = await client.post(
        "/audit/access/search", json={"phone": "0912 345 678"}, headers=auth("supervisor")
    )
    assert [r["id"] for r in by_phone.json()["items"]] == [record["id"]]


async def test_the_access_log_refuses_updates_and_deletes(client, app):
    ticket = await create_ticket(client, caller=SECRET)
    await client.post(f"/tickets/{ticket['id']}/caller/reveal", json=REASON)
    for statement in ("UPDATE access_record SET reason = 'x'", "DELETE FROM access_record"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with app.state.runtime.engine.begin() as conn:
                await conn.execute(text(statement))
    async with app.state.runtime.engine.connect() as conn:
        reason = (await conn.execute(text("SELECT reason FROM access_record"))).scalar_one()
    assert reason == REASON["reason"]


async def test_legal_hold_set_twice_is_409_and_lift_needs_a_hold(client, auth):
    ticket = await create_ticket(client)
    sup = auth("supervisor")
    hold = {"reason": "Công an quận đề nghị giữ hồ sơ"}
    held = await client.post(f"/tickets/{ticket['id']}/legal-hold", json=hold, headers=sup)
    assert held.json()["on_hold"] is True and held.json()["by"] == "supervisor"
    read = (await client.get(f"/tickets/{ticket['id']}", headers=sup)).json()
    assert (
        read["legal_hold"]["reason"] == hold["reason"] and read["legal_hold"]["by"] == "supervisor"
    )
    assert (await client.get(f"/tickets/{ticket['id']}")).json()["legal_hold"] is None  # operator
    again = await client.post(f"/tickets/{ticket['id']}/legal-hold", json=hold, headers=sup)
    assert again.status_code == 409
    lifted = await client.post(f"/tickets/{ticket['id']}/legal-hold/lift", json=REASON, headers=sup)
    assert lifted.json()["on_hold"] is False and lifted.json()["reason"] is None
    twice = await client.post(f"/tickets/{ticket['id']}/legal-hold/lift", json=REASON, headers=sup)
    assert twice.status_code == 409
    events = (await client.get(f"/tickets/{ticket['id']}/events")).json()["items"]
    assert [e["kind"] for e in events][-2:] == ["legal_hold", "legal_hold_lifted"]
    log = (await client.get(f"/tickets/{ticket['id']}/access", headers=sup)).json()["items"]
    assert [r["action"] for r in log] == ["legal_hold_lifted", "legal_hold"]


async def test_export_finds_every_format_with_vietnamese_labels_and_is_recorded(
    client, auth, clock
):
    # A Friday afternoon request is due two working days later: Tuesday 16:00.
    clock.now = datetime(2026, 11, 27, 16, 0, tzinfo=HN)
    admin = auth("admin")
    first = await create_ticket(client, caller={"name": "Lê Văn Cường", "phone": "0933 111 222"})
    await create_ticket(client, caller={"phone": "+84933111222", "confidential": True})
    await create_ticket(client, caller={"phone": "0933111223"})  # someone else
    await client.post(f"/tickets/{first['id']}/cancel", json={"reason": "Gọi nhầm"})
    exported = await client.post(
        "/callers/export", json={"phone": "84 933 111 222", "request_ref": "YC-17"}, headers=admin
    )
    assert exported.status_code == 200, exported.text
    doc = exported.json()
    assert [t["caller"]["phone"] for t in doc["tickets"]] == ["+84933111222"] * 2
    cancelled = doc["tickets"][0]
    assert cancelled["status_label"] == "Đã huỷ" and cancelled["channel_label"] == "Điện thoại"
    assert cancelled["history"][-1] == {
        "at": "2026-11-27T16:00:00+07:00",
        "kind": "cancelled",
        "label": "Huỷ phản ánh",
        "reason": "Gọi nhầm",
    }
    assert doc["labels"]["description"] == "Nội dung phản ánh"
    assert doc["request"]["due_at"] == "2026-12-01T16:00:00+07:00"
    requests = (await client.get("/callers/requests", headers=admin)).json()
    assert [(r["kind"], r["request_ref"], r["state"]) for r in requests] == [
        ("access", "YC-17", "done")
    ]
    log = (await client.get("/audit/access", headers=admin)).json()["items"]
    assert log[0]["action"] == "export" and log[0]["details"]["request_ref"] == "YC-17"


async def test_erasure_keeps_held_tickets_and_says_why(client, auth):
    admin, sup = auth("admin"), auth("supervisor")
    held = await create_ticket(client)
    erased = await create_ticket(client, caller={"name": "Nguyễn Văn An", "phone": "0912345678"})
    hold = {"reason": "Đang xác minh nội dung tố cáo"}
    await client.post(f"/tickets/{held['id']}/legal-hold", json=hold, headers=sup)
    answer = await client.post(
        "/callers/erase",
        json={"phone": "0912 345 678", "ground": "Yêu cầu xoá của chủ thể", "request_ref": "YC-9"},
        headers=admin,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["erased"] == [erased["reference"]]
    assert body["kept"][0] == {
        "what": held["reference"],
        "why": "Đang tạm giữ theo yêu cầu pháp lý: Đang xác minh nội dung tố cáo",
    }
    assert body["request"]["legal_ground"] == "Yêu cầu xoá của chủ thể"
    after = (await client.get(f"/tickets/{erased['id']}")).json()["caller"]
    assert after["name"] is None and after["phone"] is None
    still = (await client.get(f"/tickets/{held['id']}")).json()["caller"]
    assert still["phone"] == "+84912345678"


async def test_rights_requests_need_a_person_and_a_ground(client, auth):
    admin = auth("admin")
    nobody = await client.post("/callers/export", json={"request_ref": "x"}, headers=admin)
    assert nobody.status_code == 422 and "phone or email" in nobody.text
    groundless = await client.post(
        "/callers/erase", json={"phone": "0912345678", "request_ref": "x"}, headers=admin
    )
    assert groundless.status_code == 422 and "ground" in groundless.text


async def test_a_confidential_callers_identity_is_masked_in_free_text_and_search(client, auth):
    ticket = await create_ticket(
        client,
        caller=SECRET,
        description="Bà Trần Thị Bình (0987 654 321) tố cáo cán bộ phường",
        address="Nhà bà Tran Thi Binh, ngõ 5",
    )
    # The filer sees what they typed.
    assert ticket["description"].startswith("Bà Trần Thị Bình (0987 654 321)")
    note = {"text": "gọi lại cho bà Bình theo số 0987654321"}
    await client.post(f"/tickets/{ticket['id']}/notes", json=note)
    for role in ("operator", "supervisor", "agent.caugiay"):
        read = (await client.get(f"/tickets/{ticket['id']}", headers=auth(role))).json()
        assert read["description"] == "Bà [đã ẩn] ([đã ẩn]) tố cáo cán bộ phường", role
        assert read["address"] == "Nhà bà [đã ẩn], ngõ 5"
        events = (await client.get(f"/tickets/{ticket['id']}/events", headers=auth(role))).json()
        assert "0987654321" not in str(events) and "[đã ẩn]" in str(events)
    revealed = await client.post(
        f"/tickets/{ticket['id']}/caller/reveal", json=REASON, headers=auth("supervisor")
    )
    assert revealed.json()["description"].startswith("Bà Trần Thị Bình (0987 654 321)")
    # Nobody finds the denouncer's ticket by typing their name or number into the search box.
    for q in ("Tran Thi Binh", "0987 654 321", "to cao can bo"):
        found = (await client.get("/tickets", params={"q": q})).json()["items"]
        assert len(found) == (1 if q == "to cao can bo" else 0), q


async def test_the_callers_commands_export_erase_and_list(client, settings, monkeypatch, capsys):
    import asyncio
    import json

    from app.cli import main
    from app.config import get_settings

    ticket = await create_ticket(client, caller={"name": "Đỗ Văn Minh", "phone": "0911222333"})
    monkeypatch.setenv("HOTLINE_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    try:
        assert await asyncio.to_thread(main, ["callers", "export", "+84 911 222 333"]) == 0
        doc = json.loads(capsys.readouterr().out)
        assert doc["tickets"][0]["caller"]["name"] == "Đỗ Văn Minh"
        erase = [
            "callers",
            "erase",
            "0911.222.333",
            "--ground",
            "Yêu cầu xoá",
            "--request-ref",
            "R1",
        ]
        assert await asyncio.to_thread(main, erase) == 0
        assert json.loads(capsys.readouterr().out)["erased"] == [ticket["reference"]]
        assert await asyncio.to_thread(main, ["callers", "requests"]) == 0
        listed = json.loads(capsys.readouterr().out)
        assert [(r["kind"], r["state"]) for r in listed] == [
            ("access", "done"),
            ("erasure", "done"),
        ]
        assert await asyncio.to_thread(main, ["callers", "export", "12"]) == 1
        assert "not a" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()
    read = (await client.get(f"/tickets/{ticket['id']}")).json()
    assert read["caller"]["name"] is None
