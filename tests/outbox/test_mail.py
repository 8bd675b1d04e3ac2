"""E-mail through the outbox, against a real local SMTP server (aiosmtpd): the right people get
the right mail, once; digests gather a unit's mail; no host, no mail."""

import dataclasses
import email
import socket
from datetime import UTC, datetime, timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from app.outbox.models import MailMessage
from app.outbox.setup import relay_of
from app.tickets.assignment_clock import run_scan
from tests.conftest import create_ticket


class Inbox:
    def __init__(self) -> None:
        self.mails: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=policy.default)
        self.mails.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"

    def to(self, address):
        return [m for rcpt, m in self.mails if address in rcpt]


@pytest.fixture
def smtp():
    inbox = Inbox()
    with socket.socket() as probe:  # a free port (the controller cannot take port 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def mailing_relay(app, port, **units):
    """The app's relay with SMTP set and units given e-mail addresses (as units.yaml would)."""
    relay = relay_of(app.state.runtime)
    relay.settings = app.state.runtime.settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": port}
    )
    catalog = app.state.runtime.catalog
    changed = {
        code: dataclasses.replace(catalog.units[code], **fields) for code, fields in units.items()
    }
    relay.catalog = dataclasses.replace(catalog, units={**catalog.units, **changed})
    return relay


CAU_GIAY = {"emails": ("vanphong@caugiay.example",)}
HA_NOI = {"emails": ("dieuhanh@hanoi.example",)}


async def test_units_and_callers_get_the_right_mail_once(client, app, auth, smtp):
    inbox, port = smtp
    relay = mailing_relay(app, port, **{"ubnd-phuong-cau-giay": CAU_GIAY, "ubnd-ha-noi": HA_NOI})
    ticket = await create_ticket(
        client,
        caller={"name": "Lê Văn Bình", "phone": "0912 000 111", "email": "binh@example.vn"},
        received_at="2026-03-13T16:50:00+07:00",
    )
    other = await create_ticket(client, caller={"name": "Ngô Thị Lan", "email": "lan@example.vn"})
    await relay.run_once()
    await relay.run_once()  # nothing twice
    (filed,) = inbox.to("binh@example.vn")
    assert ticket["reference"] in filed["Subject"]
    text = filed.get_content()
    assert "Mã phản ánh: " + ticket["reference"] in text
    assert other["reference"] not in text and "Ngô Thị Lan" not in text
    unit_mail = inbox.to("vanphong@caugiay.example")
    assert len(unit_mail) == 2 and all(
        m["Subject"].startswith("[1022] Phiếu mới") for m in unit_mail
    )
    assert all("Lê Văn Bình" not in m.get_content() for m in unit_mail)
    assert "Hạn xử lý:" in unit_mail[0].get_content()

    await run_scan(
        app.state.runtime.session_factory,
        catalog=app.state.runtime.catalog,
        now=datetime(2026, 4, 30, 3, 0, tzinfo=UTC),
    )
    await relay.run_once()
    subjects = [m["Subject"] for m in inbox.to("vanphong@caugiay.example")[2:]]
    assert any(s.startswith("[1022] Sắp quá hạn") for s in subjects)
    assert any(s.startswith("[1022] Quá hạn") for s in subjects)
    escalations = inbox.to("dieuhanh@hanoi.example")
    assert escalations and all(m["Subject"].startswith("[1022] Chuyển cấp") for m in escalations)

    r = await client.post(
        f"/tickets/{ticket['id']}/resolve",
        json={"resolution": "Đã thu gom rác"},
        headers=auth("agent.caugiay"),
    )
    assert r.status_code == 200, r.text
    await relay.run_once()
    outcome = inbox.to("binh@example.vn")[1]
    assert "đã được xử lý" in outcome["Subject"]
    assert "Kết quả: Đã thu gom rác" in outcome.get_content()
    assert len(inbox.to("binh@example.vn")) == 2
    await relay.close()


async def test_confidential_caller_gets_own_reference_but_no_details(client, app, auth, smtp):
    inbox, port = smtp
    relay = mailing_relay(app, port)
    ticket = await create_ticket(
        client,
        caller={"name": "Người tố cáo", "email": "an.danh@example.vn", "confidential": True},
    )
    await client.post(
        f"/tickets/{ticket['id']}/resolve",
        json={"resolution": "Đã xử lý cơ sở vi phạm ở số 12"},
        headers=auth("agent.caugiay"),
    )
    await relay.run_once()
    filed, resolved = inbox.to("an.danh@example.vn")
    assert ticket["reference"] in filed.get_content()
    assert "số 12" not in resolved.get_content()
    await relay.close()


async def test_digest_gathers_a_units_mail_into_one(client, app, smtp):
    inbox, port = smtp
    relay = mailing_relay(
        app, port, **{"ubnd-phuong-cau-giay": {**CAU_GIAY, "mail_digest_minutes": 30}}
    )
    relay.clock = lambda: datetime(2026, 11, 29, 3, 10, tzinfo=UTC)
    for _ in range(3):
        await create_ticket(client)
    await relay.run_once()
    assert inbox.to("vanphong@caugiay.example") == []
    relay.clock = lambda: datetime(2026, 11, 29, 3, 30, tzinfo=UTC)  # the 30-minute boundary
    await relay.run_once()
    (digest,) = inbox.to("vanphong@caugiay.example")
    assert digest["Subject"] == "[1022] Tổng hợp 3 thông báo"
    await relay.close()


async def test_no_host_no_mail_and_failures_retry(client, app, smtp):
    inbox, port = smtp
    relay = relay_of(app.state.runtime)  # HOTLINE_SMTP_HOST unset
    await create_ticket(client, caller={"name": "A", "email": "a@example.vn"})
    await relay.run_once()
    async with app.state.runtime.session_factory() as session:
        assert (await session.execute(select(MailMessage))).all() == []
    down = mailing_relay(app, 9)  # nothing listens on port 9
    now = datetime.now(UTC)
    down.clock = lambda: now
    await create_ticket(client, caller={"name": "B", "email": "b@example.vn"})
    await down.run_once()
    async with app.state.runtime.session_factory() as session:
        (row,) = (await session.execute(select(MailMessage))).scalars().all()
    assert row.sent_at is None and row.error and row.next_attempt_at > now
    up = mailing_relay(app, port)
    up.clock = lambda: now + timedelta(seconds=10)
    await up.run_once()
    assert len(inbox.to("b@example.vn")) == 1
    await down.close()
    await up.close()
