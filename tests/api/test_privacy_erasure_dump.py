"""An erasure reaches every copy: after it, a full dump of the database holds the person's
phone in no format, their e-mail nowhere and their name neither with nor without diacritics."""

import re
import sqlite3
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.db import metadata
from app.privacy import retention
from app.privacy.retention import RetentionPolicy
from app.text import fold

PHONE_FORMATS = [
    "+84977123456",
    "84977123456",
    "0977123456",
    "0977 123 456",
    "977 123 456",
    "0977.123.456",
    "0977-123-456",
    "977123456",
]
NAME = "Phạm Thị Hoa"
EMAIL = "hoa.pham@example.vn"
# What a citizen app sends about its user through Open311 (app.open311).
APP_IDS = ["ihanoi-hoa-77", "thiet-bi-hoa-77"]
CHANNELS = ["phone", "sms", "zalo", "web", "email", "app", "walk_in", "open311"]


def _body(channel: str, i: int) -> dict:
    return {
        "channel": channel,
        "caller": {
            "name": NAME if i % 2 else "pham thi hoa",
            "phone": PHONE_FORMATS[i % len(PHONE_FORMATS)],
            "email": EMAIL.upper() if i % 3 == 0 else EMAIL,
            "confidential": i % 2 == 0,
        },
        "description": f"Bà {NAME} (ĐT {PHONE_FORMATS[(i + 3) % 8]}) báo đèn đường hỏng",
        "topic": "cay-xanh-chieu-sang",
        "area": "phuong-cau-giay",
        "address": f"Nhà bà Pham Thi Hoa, ngõ {i + 1} Trần Thái Tông",
        "attachments": [f"https://files.example.vn/{PHONE_FORMATS[2]}/anh-{i}.jpg"],
    }


async def _file_everything(client, auth) -> list[dict]:
    """Tickets for one person through every channel, and every action that stores text."""
    agent, sup = auth("agent.caugiay"), auth("supervisor")
    made = []
    for i, channel in enumerate(CHANNELS):
        key = {"Idempotency-Key": f"call-{PHONE_FORMATS[2]}-{i}"}
        r = await client.post("/tickets", json=_body(channel, i), headers=key)
        assert r.status_code == 201, r.text
        made.append(r.json())
    made.append(await _file_through_open311(client, auth))
    said = f"gọi lại cho {NAME} số {PHONE_FORMATS[3]}"
    a, b, c, d, e, f = (t["id"] for t in made[:6])

    async def post(ticket_id, action, body=None, headers=None):
        r = await client.post(f"/tickets/{ticket_id}/{action}", json=body, headers=headers)
        assert r.status_code == 200, (action, r.text)

    await post(a, "acknowledge", headers=agent)
    await post(a, "request-info", {"question": said}, agent)
    await post(a, "info-received", {"note": said}, agent)
    await post(a, "resolve", {"resolution": f"Đã báo {NAME}"}, agent)
    await post(a, "close", {"note": said})
    await post(a, "reopen", {"reason": said})
    await post(b, "reject", {"reason": said}, agent)
    await post(b, "transfer", {"unit": "urenco", "reason": said})
    await post(c, "reroute", {"reason": said})
    await post(c, "notes", {"text": said})
    await post(d, "cancel", {"reason": said})
    await post(e, "duplicate", {"duplicate_of": str(f), "note": said})
    patched = await client.patch(
        f"/tickets/{f}", json={"description": f"{said} — mô tả sửa lại", "address": said}
    )
    assert patched.status_code == 200
    await post(f, "caller/reveal", {"reason": "Gọi lại theo đề nghị của đơn vị"}, sup)
    found = await client.get("/tickets", params={"caller_phone": PHONE_FORMATS[0]})
    assert found.status_code == 200
    exported = await client.post(
        "/callers/export",
        json={"phone": PHONE_FORMATS[1], "request_ref": "YC-1"},
        headers=auth("admin"),
    )
    assert exported.status_code == 200 and len(exported.json()["tickets"]) == len(CHANNELS) + 1
    return made


async def _file_through_open311(client, auth) -> dict:
    key = await client.post(
        "/admin/api-keys", json={"name": "ihanoi", "role": "integration"}, headers=auth("admin")
    )
    form = {
        "api_key": key.json()["key"],
        "service_code": "moi-truong.rac-thai",
        "address_string": "Phường Cầu Giấy",
        "description": f"Tôi là {NAME}, rác chưa thu gom",
        "first_name": "Thị Hoa",
        "last_name": "Phạm",
        "phone": PHONE_FORMATS[4],
        "email": EMAIL,
        "account_id": APP_IDS[0],
        "device_id": APP_IDS[1],
    }
    r = await client.post("http://test/open311/v2/requests.json", data=form)
    assert r.status_code == 200, r.text
    reference = r.json()[0]["service_request_id"]
    # Resolved, then the citizen's own words in their feedback.
    resolved = await client.post(
        f"/tickets/{reference}/resolve",
        json={"resolution": "Đã thu"},
        headers=auth("agent.caugiay"),
    )
    assert resolved.status_code == 200, resolved.text
    said = {
        "api_key": form["api_key"],
        "phone": PHONE_FORMATS[5],
        "fixed": "partly",
        "comment": f"{NAME} đây, gọi {PHONE_FORMATS[6]} nếu cần",
    }
    answered = await client.post(f"http://test/open311/v2/requests/{reference}/feedback", data=said)
    assert answered.status_code == 200, answered.text
    return (await client.get(f"/tickets/{reference}")).json()


async def _dump(app, settings) -> str:
    if settings.is_sqlite:
        path = make_url(settings.database_url).database
        with sqlite3.connect(path) as conn:
            dump = "\n".join(conn.iterdump())
        # SQLite's JSON columns hold \\uXXXX escapes: read them as the characters they are.
        return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), dump)
    lines = []
    async with app.state.runtime.engine.connect() as conn:
        for table in metadata.sorted_tables:
            rows = await conn.execute(text(f'SELECT t::text FROM "{table.name}" t'))
            lines += [f"{table.name}: {row}" for (row,) in rows]
    return "\n".join(lines)


def _hits(dump: str) -> list[str]:
    folded = fold(dump)
    found = [p for p in PHONE_FORMATS if p in dump]
    found += [x for x in (NAME, EMAIL, EMAIL.upper(), *APP_IDS) if x in dump]
    found += [x for x in (fold(NAME), fold(EMAIL)) if x in folded]
    return found


async def _fill_outbox(client, app, auth) -> None:
    """Webhook bodies and queued e-mail (caller mail holds the caller's address) for every
    ticket: a subscription and SMTP that both refuse, so every copy stays in the tables."""
    import dataclasses

    from app.outbox.setup import relay_of

    hook = await client.post(
        "/webhooks", json={"url": "http://127.0.0.1:9/hook"}, headers=auth("admin")
    )
    assert hook.status_code == 201, hook.text
    relay = relay_of(app.state.runtime)
    relay.settings = app.state.runtime.settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": 9}
    )
    unit = app.state.runtime.catalog.units["ubnd-phuong-cau-giay"]
    relay.catalog = dataclasses.replace(
        app.state.runtime.catalog,
        units={
            **app.state.runtime.catalog.units,
            unit.code: dataclasses.replace(unit, emails=("ubnd@caugiay.example",)),
        },
    )
    await relay.run_once()
    await relay.close()


async def test_erasure_leaves_no_copy_in_a_full_dump(client, app, auth, settings):
    await _file_everything(client, auth)
    await _fill_outbox(client, app, auth)
    before = await _dump(app, settings)
    assert set(_hits(before)) >= {PHONE_FORMATS[0], PHONE_FORMATS[2], NAME, fold(NAME)}
    assert EMAIL in "\n".join(line for line in before.split("\n") if "mail_message" in line)
    answer = await client.post(
        "/callers/erase",
        json={
            "phone": "0977 123 456",
            "email": EMAIL,
            "ground": "Chủ thể dữ liệu yêu cầu xoá",
            "request_ref": "YC-2",
        },
        headers=auth("admin"),
    )
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["erased"]) == len(CHANNELS) + 1
    assert _hits(await _dump(app, settings)) == []
    # The tickets themselves, their units and times, are still there for the reports.
    listed = (await client.get("/tickets", params={"limit": 50})).json()["items"]
    assert len(listed) == len(CHANNELS) + 1


async def test_erasure_by_open311_account_id(client, app, auth, settings):
    made = await _file_through_open311(client, auth)
    answer = await client.post(
        "/callers/erase",
        json={"open311_account_id": APP_IDS[0], "ground": "Yêu cầu xoá", "request_ref": "YC-3"},
        headers=auth("admin"),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["erased"] == [made["reference"]]
    assert not set(_hits(await _dump(app, settings))) & {*APP_IDS, NAME}


async def test_retention_leaves_no_copy_in_a_full_dump(client, app, auth, settings):
    made = await _file_everything(client, auth)
    for ticket in made:
        read = (await client.get(f"/tickets/{ticket['id']}")).json()
        for action in ("cancel", "close"):  # the Open311 one is resolved: it is closed
            if action in read["allowed_actions"]:
                r = await client.post(f"/tickets/{ticket['id']}/{action}", json={})
                assert r.status_code == 200, r.text
                break
    done = await retention.run(
        app.state.runtime.session_factory,
        policy=RetentionPolicy(caller_days=0),
        keys=app.state.runtime.privacy_keys,
        now=datetime.now(UTC) + timedelta(days=1),
    )
    assert done == {"caller": len(CHANNELS) + 1}
    assert _hits(await _dump(app, settings)) == []
