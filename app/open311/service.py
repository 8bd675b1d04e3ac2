"""GeoReport v2 over the ticket services: services, definitions, filing and reading requests.

Takes plain strings (query or form values), returns plain documents (dicts and lists) that
app.open311.render writes as JSON or XML; speaks no HTTP. Raises the errors of
app.open311.errors; errors from the ticket services are turned into the spec's by the caller.
Filing: app.open311.filing; the public document: app.open311.documents.
What the public sees follows app.privacy.masking (viewer None: never a caller) and the `public`
flag (docs/open311.md, "What is public").
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from app.open311 import repository as repo
from app.open311 import status as st
from app.open311.attributes import ServiceExtras
from app.open311.documents import iso, public_document
from app.open311.errors import RequestInvalid, RequestNotFound
from app.open311.feedback import FeedbackIn, FeedbackService
from app.open311.filing import field_message, file_request
from app.open311.parameters import parse_instant, period, whole_number
from app.phone import InvalidPhone, to_e164
from app.tickets.models import Assignment, Ticket
from app.tickets.repository import get_ticket
from app.tickets.service import TicketService

PAGE_SIZE, MAX_PAGE_SIZE = 50, 200
UPDATES_PAGE_SIZE = 1000  # servicerequestupdates: the default and the most on one page
NOT_FOUND = "No service request matches these details."  # unknown reference and wrong phone alike


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
            raise RequestNotFound(
                f"jurisdiction_id '{value}' is not served here; use '{self.jurisdiction}'"
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
        """The attributes a service asks for; RequestNotFound for an unknown service_code."""
        if code not in self.leaf_topics():
            raise RequestNotFound(f"service_code '{code}' not found", see="services")
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

    async def submit(
        self, form: dict[str, list[str]], idempotency_key: str | None = None
    ) -> list[dict[str, Any]]:
        """File a service request from the form fields (app.open311.filing); a retry with the
        same `idempotency_key` answers the request filed first."""
        return await file_request(
            self.tickets, self.extras, self.leaf_topics(), form, idempotency_key
        )

    # -- reading -------------------------------------------------------------------------

    def document(
        self,
        ticket: Ticket,
        latest: Assignment | None,
        *,
        extensions: bool = False,
        resolution: str | None = None,
    ) -> dict[str, Any]:
        """One service request as the public may see it (app.open311.documents)."""
        return public_document(
            self.tickets,
            self.extras,
            ticket,
            latest,
            extensions=extensions,
            resolution=resolution,
        )

    async def _documents(self, tickets: list[Ticket], extensions: bool) -> list[dict[str, Any]]:
        latest = await repo.latest_assignments(
            self.tickets.session, ticket_ids=[t.id for t in tickets]
        )
        return [self.document(t, latest.get(t.id), extensions=extensions) for t in tickets]

    async def requests(self, params: dict[str, str]) -> list[dict[str, Any]]:
        """GET requests: by service_request_id (comma list; overrides the rest), else by
        service_code, status, period (default the last 90 days), a page at a time."""
        extensions = params.get("extensions", "").lower() == "true"
        page = whole_number("page", params.get("page"), 1, 1, 10_000)
        size = whole_number("page_size", params.get("page_size"), PAGE_SIZE, 1, MAX_PAGE_SIZE)
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
                    raise RequestInvalid(
                        f"status: expected open or closed, got '{params['status']}'"
                    )
                flt.statuses = [s for s in st.EXTENDED if st.basic(s) in wanted]
            flt.received_from, flt.received_to = period(params, self.now)
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
                raise RequestNotFound(NOT_FOUND)
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
            raise RequestNotFound(NOT_FOUND)
        try:
            data = FeedbackIn.model_validate(
                {k: form[k] for k in ("fixed", "rating", "comment") if form.get(k)}
            )
        except ValidationError as exc:
            raise RequestInvalid("; ".join(field_message(e) for e in exc.errors())) from exc
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
            raise RequestNotFound(NOT_FOUND)
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
        period (default the last 90 days); update_id is the event's id, stable for ever.

        A page at a time, in update_id order: `page` (from 1, default 1) of `page_size`
        (default and at most UPDATES_PAGE_SIZE). Events only ever join at the end of that
        order, so with a fixed start_date..end_date the pages never shift; a page after the
        last is empty. RequestInvalid naming a bad page or page_size."""
        start, end = period(params, self.now)
        page = whole_number("page", params.get("page"), 1, 1, 10_000)
        size = whole_number(
            "page_size", params.get("page_size"), UPDATES_PAGE_SIZE, 1, UPDATES_PAGE_SIZE
        )
        rows = await repo.public_events(
            self.tickets.session,
            kinds=sorted(st.PUBLIC_EVENTS),
            since=start,
            until=end,
            include_private=self.list_private,
            offset=(page - 1) * size,
            limit=size,
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
