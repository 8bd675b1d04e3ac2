"""GeoReport v2 over the ticket services: services, definitions, filing and reading requests.

Takes plain strings (query or form values), returns plain documents (dicts and lists) that
app.open311.render writes as JSON or XML; speaks no HTTP. Raises Open311Error with the status
and the spec's error code; errors from the ticket services are turned into it by the caller.
What the public sees follows app.privacy.masking (viewer None: never a caller) and the `public`
flag (docs/open311.md, "What is public").
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from app.errors import AppError
from app.open311 import repository as repo
from app.open311 import status as st
from app.open311.attributes import ServiceExtras, check_answers, decimal
from app.open311.feedback import FeedbackIn, FeedbackService
from app.phone import InvalidPhone, to_e164
from app.privacy.masking import caller_shown, free_text_view
from app.tickets.models import Assignment, Ticket
from app.tickets.repository import get_ticket
from app.tickets.schemas import TicketCreate
from app.tickets.service import TicketService
from app.timefmt import EARLIEST, LATEST, LOCAL_TZ, _in_range

MAX_RANGE = timedelta(days=90)  # the spec's cap on start_date..end_date
PAGE_SIZE, MAX_PAGE_SIZE = 50, 200
NOT_FOUND = "No service request matches these details."  # unknown reference and wrong phone alike


class Open311Error(AppError):
    """An error the spec's way: HTTP status and [{code, description}]."""

    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status = status


def bad(description: str) -> Open311Error:
    return Open311Error(400, description)


def iso(value: datetime | None) -> str | None:
    """ISO 8601 with the local offset, as the spec asks (e.g. 2026-11-29T16:35:00+07:00)."""
    return value.astimezone(LOCAL_TZ).isoformat(timespec="seconds") if value else None


def parse_instant(name: str, raw: str | None) -> datetime | None:
    """An ISO 8601 instant (naive means Hanoi time) between 2000 and 2099, or None for an
    empty value; 400 naming `name` otherwise (far-off years overflow the 90-day arithmetic)."""
    if raw is None or not raw.strip():
        return None
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise bad(
            f"{name}: '{raw}' is not an ISO 8601 date-time (2026-11-29T08:00:00+07:00)"
        ) from exc
    try:
        return _in_range(value)
    except ValueError as exc:
        raise bad(
            f"{name}: must be between {EARLIEST.year} and {LATEST.year - 1}, got '{raw}'"
        ) from exc


def _int(name: str, raw: str | None, default: int, low: int, high: int) -> int:
    if raw is None or raw == "":
        return default
    # ASCII only: "²".isdigit() is true, yet int("²") raises.
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise bad(f"{name}: expected a whole number from {low} to {high}, got '{raw}'")
    return int(raw)


@dataclass
class Open311Service:
    tickets: TicketService
    extras: dict[str, ServiceExtras]
    jurisdiction: str = "ha-noi"
    list_private: bool = False

    @property
    def now(self) -> datetime:
        return self.tickets.now

    def check_jurisdiction(self, value: str | None) -> None:
        """jurisdiction_id is optional; any other than ours is 404 (the spec's answer)."""
        if value and value.strip() != self.jurisdiction:
            raise Open311Error(
                404, f"jurisdiction_id '{value}' is not served here; use '{self.jurisdiction}'"
            )

    # -- services ------------------------------------------------------------------------

    def leaf_topics(self) -> list[str]:
        topics = self.tickets.catalog.topics
        parents = {t.parent for t in topics.values() if t.parent}
        return [code for code in topics if code not in parents]

    def services(self) -> list[dict[str, Any]]:
        """One service per leaf topic: code, Vietnamese name, parent topic as group."""
        topics = self.tickets.catalog.topics
        out = []
        for code in self.leaf_topics():
            topic, extras = topics[code], self.extras.get(code, ServiceExtras())
            parent = topics.get(topic.parent) if topic.parent else None
            out.append(
                {
                    "service_code": code,
                    "service_name": topic.name,
                    "description": topic.description or topic.name,
                    "metadata": bool(extras.attributes),
                    "type": "realtime",
                    "keywords": ", ".join(extras.keywords) or None,
                    "group": parent.name if parent else None,
                }
            )
        return out

    def definition(self, code: str) -> dict[str, Any]:
        """The attributes a service asks for; 404 for an unknown service_code."""
        if code not in self.leaf_topics():
            raise Open311Error(404, f"service_code '{code}' not found; see services.json")
        attrs = self.extras.get(code, ServiceExtras()).attributes
        return {
            "service_code": code,
            "attributes": [
                {
                    "variable": a.variable,
                    "code": a.code,
                    "datatype": a.datatype,
                    "required": a.required,
                    "datatype_description": a.datatype_description,
                    "order": a.order,
                    "description": a.description,
                    "values": [{"key": k, "name": n} for k, n in a.values],
                }
                for a in attrs
            ],
        }

    # -- filing --------------------------------------------------------------------------

    async def submit(self, form: dict[str, list[str]]) -> list[dict[str, Any]]:
        """File a service request from the form fields; [{service_request_id, service_notice,
        account_id}]. 400 naming the field for anything missing or malformed."""

        def one(name: str) -> str | None:
            values = form.get(name) or []
            value = values[-1].strip() if values else ""
            return value or None

        code = one("service_code")
        if code is None:
            raise bad("service_code: required; see services.json")
        if code not in self.leaf_topics():
            raise bad(f"service_code: '{code}' not found; see services.json")
        lat, long, address, address_id = (
            one("lat"),
            one("long"),
            one("address_string"),
            one("address_id"),
        )
        if (lat is None) != (long is None):
            raise bad("lat and long: give both, or neither")
        if lat is None and address is None and address_id is None:
            raise bad("location: give lat and long, address_string or address_id")
        given: dict[str, list[str]] = {}
        for key, values in form.items():
            if key.startswith("attribute[") and key.endswith("]"):
                name = key.removeprefix("attribute[").removesuffix("[]").removesuffix("]")
                given.setdefault(name, []).extend(values)
        attrs = self.extras.get(code, ServiceExtras()).attributes
        answers, errors = check_answers(attrs, given)
        if errors:
            raise bad("; ".join(f"{field}: {why}" for field, why in errors))
        name = " ".join(p for p in (one("last_name"), one("first_name")) if p) or None
        media = one("media_url")
        body = {
            "channel": "open311",
            "caller": {"name": name, "phone": one("phone"), "email": one("email")},
            "description": one("description") or self.tickets.catalog.topics[code].name,
            "topic": code,
            # The area is read from the address by intake itself (app.tickets.area_policy):
            # open311 is unattended, so an address fitting several areas goes to triage with
            # its candidates, and coordinates alone give no area: never a guess.
            "area": None,
            "address": address or (f"address_id {address_id}" if address_id else None),
            "latitude": _degrees("lat", lat),
            "longitude": _degrees("long", long),
            "attachments": [media] if media else [],
            "public": True,
        }
        try:
            data = TicketCreate.model_validate(body)
        except ValidationError as exc:
            raise bad("; ".join(_field_message(e) for e in exc.errors())) from exc
        account = one("account_id")
        extra = {
            "citizen_account_id": account,
            "citizen_device_id": one("device_id"),
            "service_attributes": answers or None,
        }
        for key in ("citizen_account_id", "citizen_device_id"):
            if extra[key] and len(extra[key]) > 120:
                raise bad(f"{key.removeprefix('citizen_')}: at most 120 characters")
        ticket, _ = await self.tickets.create(data, None, extra=extra)
        unit = self.tickets.created_assignment
        unit_name = self._unit_name(unit.unit_code) if unit else None
        notice = f"Đã chuyển {unit_name} xử lý." if unit_name else "Đã tiếp nhận, đang phân loại."
        return [
            {
                "service_request_id": self.tickets.reference(ticket),
                "service_notice": notice,
                "account_id": account,
            }
        ]

    def _unit_name(self, code: str | None) -> str | None:
        unit = self.tickets.catalog.units.get(code) if code else None
        return unit.name if unit else code

    # -- reading -------------------------------------------------------------------------

    def document(
        self,
        ticket: Ticket,
        latest: Assignment | None,
        *,
        extensions: bool = False,
        resolution: str | None = None,
    ) -> dict[str, Any]:
        """One service request as the public may see it: never the caller, not even typed into
        the free text (their own name, number and e-mail blanked, as webhooks do); description,
        address and media only when the ticket is public."""
        assert not caller_shown(confidential=ticket.confidential, viewer=None)
        topic = self.tickets.catalog.topics.get(ticket.topic_code or "")
        public = bool(ticket.public)
        media = ticket.attachments[0] if public and ticket.attachments else None
        description, address, media = free_text_view(
            ticket, None, [ticket.description if public else None, ticket.address, media]
        )
        notes = st.LABELS.get(ticket.status, ticket.status)
        if resolution:
            notes = f"{notes}: {resolution}"
        open_now = latest is not None and latest.ended_at is None
        doc: dict[str, Any] = {
            "service_request_id": self.tickets.reference(ticket),
            "status": st.basic(ticket.status),
            "status_notes": notes,
            "service_name": topic.name if topic else None,
            "service_code": ticket.topic_code or "",
            "description": description,
            "agency_responsible": self._unit_name(latest.unit_code) if latest else None,
            "service_notice": None,
            "requested_datetime": iso(ticket.received_at),
            "updated_datetime": iso(ticket.updated_at),
            "expected_datetime": iso(latest.resolve_due_at) if open_now and latest else None,
            "address": address if public else None,
            "address_id": None,
            "zipcode": None,
            "lat": ticket.latitude,
            "long": ticket.longitude,
            "media_url": media,
        }
        if extensions:
            doc["extended_attributes"] = {
                "status": st.extended(ticket.status),
                # As a list, so that XML carries it like the definitions: [{code, values}].
                "attributes": free_text_view(ticket, None, self._answers(ticket)) if public else [],
            }
        return doc

    def _answers(self, ticket: Ticket) -> list[dict[str, Any]]:
        """Attribute answers in the definition's order (PostgreSQL's JSONB keeps no key order)."""
        answers = ticket.service_attributes or {}
        declared = self.extras.get(ticket.topic_code or "", ServiceExtras()).attributes
        order = {a.code: i for i, a in enumerate(declared)}
        return [
            {"code": code, "values": value if isinstance(value, list) else [value]}
            for code, value in sorted(answers.items(), key=lambda kv: (order.get(kv[0], 99), kv[0]))
        ]

    async def _documents(self, tickets: list[Ticket], extensions: bool) -> list[dict[str, Any]]:
        latest = await repo.latest_assignments(
            self.tickets.session, ticket_ids=[t.id for t in tickets]
        )
        return [self.document(t, latest.get(t.id), extensions=extensions) for t in tickets]

    def _period(self, params: dict[str, str]) -> tuple[datetime, datetime]:
        start = parse_instant("start_date", params.get("start_date"))
        end = parse_instant("end_date", params.get("end_date"))
        end = end or (start + MAX_RANGE if start else self.now)
        start = start or end - MAX_RANGE
        if end < start:
            raise bad("end_date: before start_date")
        if end - start > MAX_RANGE:
            raise bad("start_date..end_date: at most 90 days apart (the spec's limit)")
        return start, end

    async def requests(self, params: dict[str, str]) -> list[dict[str, Any]]:
        """GET requests: by service_request_id (comma list; overrides the rest), else by
        service_code, status, period (default the last 90 days), a page at a time."""
        extensions = params.get("extensions", "").lower() == "true"
        page = _int("page", params.get("page"), 1, 1, 10_000)
        size = _int("page_size", params.get("page_size"), PAGE_SIZE, 1, MAX_PAGE_SIZE)
        flt = repo.RequestFilter(include_private=self.list_private)
        if params.get("service_request_id"):
            refs = [r.strip() for r in params["service_request_id"].split(",") if r.strip()]
            flt.ids = [i for i in (self._id_of(r) for r in refs[:MAX_PAGE_SIZE]) if i is not None]
            if not flt.ids:
                return []
        else:
            if params.get("service_code"):
                flt.topics = [c.strip() for c in params["service_code"].split(",")]
            if params.get("status"):
                wanted = {s.strip().lower() for s in params["status"].split(",")}
                if not wanted <= {"open", "closed"}:
                    raise bad(f"status: expected open or closed, got '{params['status']}'")
                flt.statuses = [s for s in st.EXTENDED if st.basic(s) in wanted]
            flt.received_from, flt.received_to = self._period(params)
            flt.updated_after = parse_instant("updated_after", params.get("updated_after"))
            flt.updated_before = parse_instant("updated_before", params.get("updated_before"))
        rows = await repo.list_requests(
            self.tickets.session, flt=flt, offset=(page - 1) * size, limit=size
        )
        return await self._documents(rows, extensions)

    def _id_of(self, reference: str) -> int | None:
        """A reference to a ticket id, only when it is exactly the reference of that id."""
        return self.tickets.parse_reference(reference)

    async def request(
        self, reference: str, *, phone: str | None = None, extensions: bool = False
    ) -> list[dict[str, Any]]:
        """GET requests/{id}: any ticket but a confidential one, by its reference (status
        lookup needs no account). With the phone number used, the resolution text too; a wrong
        phone answers exactly as an unknown reference."""
        ticket = await self._ticket(reference)
        resolution = None
        if phone is not None:
            if not self._phone_matches(ticket, phone):
                raise Open311Error(404, NOT_FOUND)
            event = await repo.last_resolution(self.tickets.session, ticket_id=ticket.id)
            if event is not None and ticket.status in st.CLOSED:
                resolution = (event.details or {}).get("resolution")
        latest = await repo.latest_assignments(self.tickets.session, ticket_ids=[ticket.id])
        return [
            self.document(
                ticket, latest.get(ticket.id), extensions=extensions, resolution=resolution
            )
        ]

    async def feedback(self, reference: str, form: dict[str, str]) -> list[dict[str, Any]]:
        """The citizen's answer after a resolution, vouched for by their app: `phone` (the number
        used; otherwise 404 as for an unknown reference), `fixed`, `rating`, `comment`."""
        # Under the row lock, as POST /api/v1/tickets/{id}/feedback loads it: a close or
        # another answer committing meanwhile is then seen, not overwritten.
        ticket = await self._ticket(reference, for_update=True)
        if not self._phone_matches(ticket, form.get("phone")):
            raise Open311Error(404, NOT_FOUND)
        try:
            data = FeedbackIn.model_validate(
                {k: form[k] for k in ("fixed", "rating", "comment") if form.get(k)}
            )
        except ValidationError as exc:
            raise bad("; ".join(_field_message(e) for e in exc.errors())) from exc
        read = await FeedbackService(self.tickets).record(ticket, data, channel="open311")
        return [
            {
                "service_request_id": read.reference,
                "fixed": read.fixed.value,
                "rating": read.rating,
                "reopened": read.reopened,
                "status": st.basic(read.status),
            }
        ]

    async def _ticket(self, reference: str, *, for_update: bool = False) -> Ticket:
        """The ticket of a reference, unless confidential; 404 otherwise. `for_update`: row-locked
        (and re-read) before it is changed."""
        ticket_id = self._id_of(reference)
        ticket = None
        if ticket_id is not None and ticket_id < 2**31:
            ticket = await get_ticket(
                self.tickets.session, ticket_id=ticket_id, for_update=for_update
            )
        if (
            ticket is None
            or ticket.confidential
            or self.tickets.reference(ticket).upper() != reference.strip().upper()
        ):
            raise Open311Error(404, NOT_FOUND)
        return ticket

    @staticmethod
    def _phone_matches(ticket: Ticket, phone: str | None) -> bool:
        if not phone or ticket.caller_phone is None:
            return False
        try:
            return to_e164(phone) == ticket.caller_phone
        except InvalidPhone:
            return False

    async def token(self, token: str) -> list[dict[str, Any]]:
        """Requests are filed in real time, so a token is the request's own reference."""
        found = await self.request(token)
        return [{"service_request_id": found[0]["service_request_id"], "token": token}]

    async def updates(self, params: dict[str, str]) -> list[dict[str, Any]]:
        """FixMyStreet's servicerequestupdates: one update per public event recorded in the
        period (default the last 90 days); update_id is the event's id, stable for ever."""
        start, end = self._period(params)
        rows = await repo.public_events(
            self.tickets.session,
            kinds=sorted(st.PUBLIC_EVENTS),
            since=start,
            until=end,
            include_private=self.list_private,
            limit=_int("page_size", params.get("page_size"), 1000, 1, 1000),
        )
        out = []
        for event, ticket in rows:
            after = st.PUBLIC_EVENTS[event.kind]
            out.append(
                {
                    "update_id": str(event.id),
                    "service_request_id": self.tickets.reference(ticket),
                    "status": st.basic(after),
                    "updated_datetime": iso(event.occurred_at),
                    "description": st.LABELS.get(after, after),
                    "media_url": None,
                    "extended_status": st.EXTENDED_BY_EVENT.get(event.kind, st.extended(after)),
                }
            )
        return out


def _degrees(name: str, raw: str | None) -> float | None:
    """A form's coordinate as a number (the ticket schema takes numbers only)."""
    if raw is None:
        return None
    value = decimal(raw)
    if value is None:
        raise bad(f"{name}: '{raw}' is not a number of degrees (WGS84, e.g. 21.0362)")
    return value


def _field_message(error: Any) -> str:
    names = {"caller": "", "latitude": "lat", "longitude": "long", "attachments": "media_url"}
    loc = [names.get(str(p), str(p)) for p in error.get("loc", ()) if not isinstance(p, int)]
    field = ".".join(p for p in loc if p) or "request"
    return f"{field}: {error.get('msg')}"
