"""A citizen's rights over their data (Law 91/2025/QH15): access (export) and erasure.

Each request is recorded with its due time, two working days on the office calendar after it
was received (Decree 356/2025/NĐ-CP), and served at once; the access log gets one record per
request. Flushes only; the caller commits.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.catalog import Catalog
from app.outbox.capture import announce
from app.outbox.types import CALLER_ERASED
from app.privacy import labels
from app.privacy import repository as repo
from app.privacy.access_log import AccessLog
from app.privacy.anonymise import anonymise
from app.privacy.models import DataSubjectRequest
from app.privacy.scrub import Identity
from app.sla import Calendar, add_working
from app.tickets.models import Ticket
from app.timefmt import LOCAL_TZ, to_local

WORKING_DAYS_TO_ANSWER = 2

# What an erasure keeps, whatever the request, and why (stated in every answer).
ALWAYS_KEPT = [
    {
        "what": "access_log",
        "why": "Nhật ký truy cập dữ liệu cá nhân, chỉ lưu số điện thoại dưới dạng mã băm có khoá: "
        "bằng chứng tuân thủ (Luật 91/2025/QH15).",
    },
    {
        "what": "ticket_facts",
        "why": "Thời gian, lĩnh vực, địa bàn, đơn vị và kết quả xử lý của phản ánh (không còn "
        "danh tính): số liệu báo cáo và SLA của cơ quan nhà nước.",
    },
]


def due_at(received_at: datetime, calendar: Calendar) -> datetime:
    """Two working days on `calendar` after `received_at` (UTC)."""
    due = add_working(received_at, WORKING_DAYS_TO_ANSWER * calendar.working_day_seconds, calendar)
    assert due is not None  # no pauses: always computable
    return due


def reference(prefix: str, ticket: Ticket) -> str:
    return f"{prefix}-{ticket.received_at.astimezone(LOCAL_TZ).year}-{ticket.id:06d}"


@dataclass
class Rights:
    """Serves data-subject requests for one admin (or the CLI) in one transaction."""

    session: AsyncSession
    log: AccessLog
    catalog: Catalog
    calendar: Calendar
    reference_prefix: str
    route: str

    @property
    def keys(self) -> Any:
        return self.log.keys

    def _lookup(self, phone: str | None, email: str | None) -> tuple[list[str], list[str]]:
        phones = [phone, self.keys.pseudonym(phone, "phone")] if phone else []
        emails = [email, self.keys.pseudonym(email, "email")] if email else []
        return phones, emails

    async def _record(
        self,
        kind: str,
        *,
        phone: str | None,
        email: str | None,
        request_ref: str,
        ground: str | None,
        received_at: datetime | None,
        outcome: dict[str, Any],
    ) -> DataSubjectRequest:
        now = self.log.now
        received = min(received_at or now, now)
        request = DataSubjectRequest(
            kind=kind,
            request_ref=request_ref,
            legal_ground=ground,
            phone_hash=self.keys.audit_hash(phone) if phone else None,
            email_hash=self.keys.audit_hash(email) if email else None,
            received_at=received,
            due_at=due_at(received, self.calendar),
            completed_at=now,
            handled_by=self.log.actor,
            outcome=outcome,
        )
        await repo.add_request(self.session, request=request)
        await self.log.record(
            "export" if kind == "access" else "erasure",
            self.route,
            phone=phone,
            reason=ground or f"data-subject request {request_ref}",
            details={"request_id": request.id, "request_ref": request_ref, **outcome},
        )
        return request

    async def export(
        self,
        *,
        phone: str | None,
        email: str | None,
        request_ref: str,
        received_at: datetime | None = None,
        account_id: str | None = None,
    ) -> dict[str, Any]:
        """Everything held about the person with this phone (E.164) or e-mail: their tickets,
        own words, times and outcomes, with Vietnamese labels; local times (+07:00)."""
        phones, emails = self._lookup(phone, email)
        tickets = await repo.tickets_of_caller(
            self.session, phones=phones, emails=emails, accounts=[account_id] if account_id else []
        )
        events = await repo.events_of_tickets(self.session, ticket_ids=[t.id for t in tickets])
        history: dict[int, list[Any]] = {}
        for event in events:
            history.setdefault(event.ticket_id, []).append(event)
        accesses = (
            await repo.list_access(self.session, phone_hash=self.keys.audit_hash(phone), limit=1000)
            if phone
            else []
        )
        request = await self._record(
            "access",
            phone=phone,
            email=email,
            request_ref=request_ref,
            ground=None,
            received_at=received_at,
            outcome={"tickets": [reference(self.reference_prefix, t) for t in tickets]},
        )
        return {
            "tieu_de": "Dữ liệu cá nhân do Tổng đài 1022 lưu giữ",
            "request": _request_out(request),
            "subject": {"phone": phone, "email": email},
            "labels": labels.FIELDS,
            "tickets": [self._ticket_out(t, history.get(t.id, [])) for t in tickets],
            "accesses": [
                {
                    "at": to_local(r.at),
                    "role": r.role,
                    "action": r.action,
                    "action_label": labels.label(labels.ACCESS, r.action),
                }
                for r in accesses
            ],
        }

    def _name(self, kind: str, code: str | None) -> str | None:
        table = {
            "topic": self.catalog.topics,
            "area": self.catalog.areas,
            "unit": self.catalog.units,
        }
        item = table[kind].get(code) if code else None
        return item.name if item else code

    def _ticket_out(self, t: Ticket, events: list[Any]) -> dict[str, Any]:
        outcome = next(
            (e.details.get("resolution") for e in reversed(events) if e.kind == "resolved"), None
        )
        return {
            "reference": reference(self.reference_prefix, t),
            "received_at": to_local(t.received_at),
            "channel": t.channel,
            "channel_label": labels.label(labels.CHANNEL, t.channel),
            "status": t.status,
            "status_label": labels.label(labels.STATUS, t.status),
            "caller": {
                "name": t.caller_name,
                "phone": t.caller_phone,
                "email": t.caller_email,
                "confidential": t.confidential,
            },
            "description": t.description,
            "address": t.address,
            "topic": self._name("topic", t.topic_code),
            "area": self._name("area", t.area_code),
            "unit": self._name("unit", t.current_unit_code),
            "outcome": outcome,
            "history": [
                {
                    "at": to_local(e.occurred_at),
                    "kind": e.kind,
                    "label": labels.label(labels.EVENT, e.kind),
                    **{k: v for k, v in e.details.items() if k in _OWN_WORDS and v},
                }
                for e in events
            ],
        }

    async def erase(
        self,
        *,
        phone: str | None,
        email: str | None,
        ground: str,
        request_ref: str,
        received_at: datetime | None = None,
        account_id: str | None = None,
    ) -> dict[str, Any]:
        """Anonymise the person (by phone and e-mail) on every ticket and every copy, except
        tickets under legal hold; the answer lists what was erased, what was kept and why."""
        phones, emails = self._lookup(phone, email)
        tickets = await repo.tickets_of_caller(
            self.session,
            phones=phones,
            emails=emails,
            accounts=[account_id] if account_id else [],
            for_update=True,
        )
        held = [t for t in tickets if t.legal_hold_at is not None]
        erased = [t for t in tickets if t.legal_hold_at is None]
        await anonymise(
            self.session,
            erased,
            kinds=frozenset({"caller"}),
            now=self.log.now,
            keys=None,
            identity=Identity(phones=tuple(phones[:1]), emails=tuple(emails[:1])),
        )
        kept = [
            {
                "what": reference(self.reference_prefix, t),
                "why": f"Đang tạm giữ theo yêu cầu pháp lý: {t.legal_hold_reason}",
            }
            for t in held
        ]
        if erased:
            # Receivers of webhooks erase their copies too; references only, no identity.
            await announce(
                await self.session.connection(),
                CALLER_ERASED,
                {"tickets": [reference(self.reference_prefix, t) for t in erased]},
                self.log.now,
            )
        outcome = {
            "erased": [reference(self.reference_prefix, t) for t in erased],
            "kept": kept + ALWAYS_KEPT,
        }
        request = await self._record(
            "erasure",
            phone=phone,
            email=email,
            request_ref=request_ref,
            ground=ground,
            received_at=received_at,
            outcome=outcome,
        )
        return {"request": _request_out(request), **outcome}


# Event payload keys that are the citizen's or the units' words, shown in an export.
_OWN_WORDS = ("text", "resolution", "question", "reason", "unit", "to_unit")


def _request_out(r: DataSubjectRequest) -> dict[str, Any]:
    return {
        "id": r.id,
        "kind": r.kind,
        "request_ref": r.request_ref,
        "legal_ground": r.legal_ground,
        "received_at": to_local(r.received_at),
        "due_at": to_local(r.due_at),
        "completed_at": to_local(r.completed_at) if r.completed_at else None,
        "state": request_state(r),
        "handled_by": r.handled_by,
    }


def request_state(r: DataSubjectRequest, now: datetime | None = None) -> str:
    """open, overdue (open past its due), done (on time) or done_late."""
    if r.completed_at is None:
        return "overdue" if now is not None and now > r.due_at else "open"
    return "done" if r.completed_at <= r.due_at else "done_late"


def request_out(r: DataSubjectRequest, now: datetime) -> dict[str, Any]:
    """A request as listed for admins."""
    return {**_request_out(r), "state": request_state(r, now), "outcome": r.outcome}
