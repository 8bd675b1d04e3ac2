"""Ticket lifecycle: intake, corrections and actions. Flushes only; the request commits.

Every write goes through here so that a ticket never exists without its assignment and events.
"""

import base64
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import detached, field_values
from app.errors import Conflict, NotFound, PreconditionFailed, ValidationFailed, field_error
from app.phone import InvalidPhone, to_e164
from app.privacy.keys import PrivacyKeys
from app.privacy.masking import caller_view, free_text_view, searchable
from app.reference.area_errors import ambiguity_error, area_error
from app.reference.catalog import AreaConflict, AreaNotFound, AreaResolution, Catalog
from app.routing.schema import Decision, TicketFacts
from app.search import repository as search_repo
from app.search.ranking import ranked_page
from app.search.reporters import link as link_duplicate
from app.search.reporters import reporters
from app.search.text import SearchQuery, read_query, ticket_search_text
from app.sla import Pause
from app.tickets import callback
from app.tickets import repository as repo
from app.tickets.area_policy import (
    UNATTENDED_CHANNELS,
    decide_intake,
    decide_over_candidates,
    stored_candidates,
    stored_resolution,
)
from app.tickets.duplicates import live_original
from app.tickets.intake_pg import NEW_ASSIGNMENT, IntakeRows
from app.tickets.lifecycle import (
    CLOCK_NEUTRAL,
    Status,
    allowed_actions,
    check_transition,
    statuses_meant,
)
from app.tickets.models import Assignment, AssignmentPause, Ticket, TicketEvent
from app.tickets.repository import NO_DUE
from app.tickets.schemas import (
    ActionIn,
    AreaResolutionRead,
    AssignmentRead,
    CallerOut,
    ConfirmAreaIn,
    DuplicateIn,
    EventRead,
    LegalHoldRead,
    NoteIn,
    OptionalReasonIn,
    ReasonIn,
    Ref,
    RequestInfoIn,
    ResolveIn,
    SlaRead,
    SlaTargetRead,
    TicketCreate,
    TicketPage,
    TicketQuery,
    TicketRead,
    TicketUpdate,
    TransferIn,
)
from app.tickets.sla import (
    SlaKeeper,
    breach_events,
    event_row,
    late_targets,
    next_marks,
    pauses_of,
)
from app.timefmt import LOCAL_TZ, assume_local
from app.users.permissions import UNIT_WORK
from app.users.principal import Principal
from app.users.service import Forbidden

REFERENCE = re.compile(r"^([A-Za-z]+)-(\d{4})-(\d+)$")


# Decides the unit for a ticket, excluding units that already rejected it.
Router = Callable[[TicketFacts, frozenset[str]], Decision]


@dataclass
class TicketService:
    session: AsyncSession
    catalog: Catalog
    router: Router
    now: datetime
    principal: Principal
    sla: SlaKeeper
    reference_prefix: str = "HN"
    clock_skew: timedelta = timedelta(seconds=60)
    # Set by create(): the response is built from what was written, not read back.
    created_assignment: Assignment | None = None
    # Set by create(): the filer sees the caller they typed in that answer (app.privacy.masking).
    own_intake_id: int | None = None
    # Keyed hashes: caller-history lookups also find callers anonymised by retention.
    privacy: PrivacyKeys | None = None

    @property
    def actor(self) -> str:
        return self.principal.username

    # -- references and reads ------------------------------------------------------------

    def reference(self, ticket: Ticket) -> str:
        year = ticket.received_at.astimezone(LOCAL_TZ).year
        return f"{self.reference_prefix}-{year}-{ticket.id:06d}"

    def parse_reference(self, text: str) -> int | None:
        match = REFERENCE.match(text.strip())
        return int(match.group(3)) if match else None

    async def load_for(self, action: str, id_or_reference: str) -> Ticket:
        """The ticket an action is about, row-locked; marking a duplicate first takes the lock
        that serialises markings (app.tickets.duplicates), before any row lock."""
        if action == "duplicate":
            await repo.serialise_duplicate_marking(self.session)
        return await self.load(id_or_reference, for_update=True)

    async def load(self, id_or_reference: str, *, for_update: bool = False) -> Ticket:
        # isdecimal() alone accepts other scripts' digits ('٣', '²' is isdigit()), int() not all.
        plain_id = id_or_reference.isascii() and id_or_reference.isdecimal()
        ticket_id = int(id_or_reference) if plain_id else None
        if ticket_id is None:
            ticket_id = self.parse_reference(id_or_reference)
        ticket = None
        if ticket_id is not None and ticket_id < 2**31:
            ticket = await repo.get_ticket(self.session, ticket_id=ticket_id, for_update=for_update)
        if (
            ticket is not None
            and not plain_id
            and (self.reference(ticket).upper() != id_or_reference.strip().upper())
        ):
            ticket = None
        if ticket is not None and self.principal.scoped_to_units:
            # Agents see only their units' tickets; anything else does not exist for them.
            units = await repo.units_involved(self.session, ticket_id=ticket.id)
            if not units & self.principal.units:
                ticket = None
        if ticket is None:
            raise NotFound(
                f"No ticket '{id_or_reference}' (give its id or reference, e.g. HN-2026-000123)."
            )
        return ticket

    def _ref(self, kind: str, code: str | None) -> Ref | None:
        if code is None:
            return None
        table = {
            "area": self.catalog.areas,
            "topic": self.catalog.topics,
            "unit": self.catalog.units,
        }
        item = table[kind].get(code)
        return Ref(code=code, name=item.name if item else code)

    def _sla_read(self, a: Assignment, pauses: list[Pause]) -> SlaRead:
        st = self.sla.status(a, pauses, self.now)

        def target(t: Any) -> SlaTargetRead:
            return SlaTargetRead(
                state=t.state,
                mode=t.mode,
                target_seconds=t.target_seconds,
                elapsed_seconds=t.elapsed_seconds,
                remaining_seconds=t.remaining_seconds,
                due_at=t.due_at,
                warn_at=t.warn_at,
                done_at=t.done_at,
                earliest_due_at=t.earliest_due_at,
            )

        return SlaRead(
            policy=st.policy,
            calendar=st.calendar,
            state=st.state,
            paused=st.paused,
            acknowledge=target(st.acknowledge),
            resolve=target(st.resolve),
        )

    def _assignment_read(self, a: Assignment, pauses: dict[int, list[Pause]]) -> AssignmentRead:
        # The current assignment also appears in the full list: build it once per response.
        cached = self._read_cache.get(a.id)
        if cached is not None:
            return cached
        self._read_cache[a.id] = read = self._build_assignment_read(a, pauses)
        return read

    def _build_assignment_read(
        self, a: Assignment, pauses: dict[int, list[Pause]]
    ) -> AssignmentRead:
        return AssignmentRead(
            id=a.id,
            unit=self._ref("unit", a.unit_code),
            assigned_at=a.assigned_at,
            acknowledged_at=a.acknowledged_at,
            resolved_at=a.resolved_at,
            ended_at=a.ended_at,
            outcome=a.outcome,
            rule_id=a.rule_id,
            ruleset_version=a.ruleset_version,
            sla_policy=a.sla_policy,
            acknowledge_due_at=a.acknowledge_due_at,
            resolve_due_at=a.resolve_due_at,
            sla=self._sla_read(a, pauses.get(a.id, [])) if a.sla_policy else None,
        )

    def _caller(self, ticket: Ticket) -> CallerOut:
        return caller_view(ticket, self.principal, own_intake=ticket.id == self.own_intake_id)

    def _free_text(self, ticket: Ticket, value: Any) -> Any:
        own = ticket.id == self.own_intake_id
        return free_text_view(ticket, self.principal, value, own_intake=own)

    def to_read(
        self,
        ticket: Ticket,
        current: Assignment | None,
        assignments: list[Assignment] | None = None,
        duplicate_of: str | None = None,
        pauses: dict[int, list[Pause]] | None = None,
        latest: Mapping[tuple[int, str], TicketEvent] | None = None,
    ) -> TicketRead:
        """The read of a ticket; `latest` holds its latest info_requested / resolved events
        (app.tickets.callback) when its status shows them."""
        pauses = pauses or {}
        latest = latest or {}
        self._read_cache: dict[int | None, AssignmentRead] = {}
        return TicketRead(
            id=ticket.id,
            reference=self.reference(ticket),
            channel=ticket.channel,
            status=ticket.status,
            priority=ticket.priority,
            caller=self._caller(ticket),
            description=self._free_text(ticket, ticket.description),
            topic=self._ref("topic", ticket.topic_code),
            area=self._ref("area", ticket.area_code),
            area_resolution=AreaResolutionRead.model_validate(ticket.area_resolution)
            if ticket.area_resolution
            else None,
            address=self._free_text(ticket, ticket.address),
            latitude=ticket.latitude,
            longitude=ticket.longitude,
            attachments=self._free_text(ticket, ticket.attachments),
            public=bool(ticket.public),
            received_at=ticket.received_at,
            created_at=ticket.created_at,
            updated_at=ticket.updated_at,
            version=ticket.version,
            duplicate_of=duplicate_of,
            current_assignment=self._assignment_read(current, pauses) if current else None,
            pending_question=callback.pending_question(ticket, latest),
            resolution=callback.resolution(ticket, latest),
            allowed_actions=allowed_actions(
                ticket.status, area_unsettled=bool(stored_candidates(ticket.area_resolution))
            ),
            assignments=[self._assignment_read(a, pauses) for a in assignments]
            if assignments is not None
            else None,
            legal_hold=self._legal_hold(ticket),
            reported_count=ticket.reports_count,
        )

    def _legal_hold(self, ticket: Ticket) -> LegalHoldRead | None:
        if ticket.legal_hold_at is None or not self.principal.can("audit:read"):
            return None
        return LegalHoldRead(
            reason=ticket.legal_hold_reason, by=ticket.legal_hold_by, at=ticket.legal_hold_at
        )

    async def read(self, ticket: Ticket) -> TicketRead:
        """The full view of one ticket, with every assignment."""
        assignments = await repo.assignments_of(self.session, ticket_id=ticket.id)
        current = next((a for a in assignments if a.ended_at is None), None)
        duplicate_of = None
        if ticket.duplicate_of_id:
            original = await repo.get_ticket(self.session, ticket_id=ticket.duplicate_of_id)
            duplicate_of = self.reference(original) if original else None
        pauses = await pauses_of(self.session, assignment_ids=[a.id for a in assignments])
        latest = await self._latest_callback_events([ticket])
        read = self.to_read(ticket, current, assignments, duplicate_of, pauses, latest)
        read.reporters = await reporters(self, ticket)
        return read

    async def _latest_callback_events(
        self, tickets: list[Ticket]
    ) -> dict[tuple[int, str], TicketEvent]:
        ids = [t.id for t in tickets if callback.needs_events(t)]
        return await repo.latest_events(
            self.session,
            ticket_ids=ids,  # type: ignore[arg-type]
            kinds=callback.EVENT_KINDS,
        )

    async def search(self, query: TicketQuery) -> TicketPage:
        """A page of the tickets this caller may see that match every filter given.

        `q` is read by app.search.text.read_query (words in any order, a reference or part of
        one, a phone); sort=relevance ranks the newest matches (app.search.ranking).
        """
        typed = read_query(query.q) if query.q else SearchQuery()
        phone = self.query_phone(query.caller_phone)
        principal = self.principal
        flt = repo.TicketFilter(
            statuses=statuses_meant(query.statuses),
            units=self._units_meant(query.units),
            areas=sorted(self._areas_under(query.areas)),
            topics=sorted(self._topics_under(query.topics)),
            priorities=query.priorities,
            channels=query.channels,
            received_from=assume_local(query.received_from) if query.received_from else None,
            received_to=assume_local(query.received_to) if query.received_to else None,
            caller_phone=phone,
            caller_pseudonym=self.privacy.pseudonym(phone, "phone")
            if phone and self.privacy
            else None,
            words=await search_repo.words_rarest_first(self.session, typed.words),
            ticket_id=typed.ticket_id if typed.ticket_id and typed.ticket_id < 2**31 else None,
            text_phone=typed.phone,
            visible_to_units=sorted(principal.units) if principal.scoped_to_units else None,
            # Caller history never links a number to a confidential ticket (the masking rule).
            hide_confidential_callers=True,
            sla_states=query.sla_states,
            now=self.now,
        )
        if query.q and not (flt.words or flt.ticket_id or flt.text_phone):
            return TicketPage(items=[], next_cursor=None)  # nothing searchable was typed
        if query.sort == "relevance":
            rows, more = await ranked_page(self.session, flt, typed, query.cursor, query.limit)
            page = await self.page(rows, query.limit)
            page.next_cursor = more
            return page
        after = decode_cursor(query.cursor) if query.cursor else None
        rows = await search_repo.list_tickets(
            self.session, flt=flt, sort=query.sort, after=after, limit=query.limit + 1
        )
        if typed.year is not None:
            rows = [t for t in rows if t.received_at.astimezone(LOCAL_TZ).year == typed.year]
        by: bool | str = "reports" if query.sort == "-reports" else query.sort == "due"
        return await self.page(rows, query.limit, by_due=by)

    def _areas_under(self, texts: list[str]) -> set[str]:
        """Codes or names to every current area under them (a former district: all it became)."""
        areas: set[str] = set()
        for text in texts:
            try:
                areas |= self.catalog.areas_meant(text)
            except (AreaNotFound, AreaConflict) as exc:
                raise ValidationFailed([area_error(["query", "area"], exc)]) from exc
        return areas

    def _units_meant(self, units: list[str]) -> list[str]:
        """Unit codes of the `unit` filter; `mine` is the signed-in agent's own units."""
        if "mine" not in units:
            return units
        if not self.principal.units:
            raise ValidationFailed(
                [
                    field_error(
                        ["query", "unit"],
                        "'mine' means the units of a unit agent; you have none, so give unit "
                        "codes (see GET /api/v1/units)",
                    )
                ]
            )
        return sorted({u for u in units if u != "mine"} | self.principal.units)

    def _topics_under(self, codes: list[str]) -> set[str]:
        topics: set[str] = set()
        for code in codes:
            self.check_topic(code, ["query", "topic"])
            topics |= self.catalog.topic_subtree(code)
        return topics

    def query_phone(self, raw: str | None) -> str | None:
        """A phone from a query string in E.164; 422 naming `caller_phone` if it is not one."""
        if not raw:
            return None
        try:
            return to_e164(raw)
        except InvalidPhone as exc:
            raise ValidationFailed([field_error(["query", "caller_phone"], str(exc))]) from exc

    async def page(
        self, tickets: list[Ticket], limit: int, by_due: bool | str = False
    ) -> TicketPage:
        has_more = len(tickets) > limit
        tickets = tickets[:limit]
        current = await repo.open_assignments(self.session, ticket_ids=[t.id for t in tickets])
        pauses = await pauses_of(self.session, assignment_ids=[a.id for a in current.values()])
        cursor = encode_cursor(tickets[-1], by_due) if has_more else None
        latest = await self._latest_callback_events(tickets)
        return TicketPage(
            items=[
                self.to_read(t, current.get(t.id), pauses=pauses, latest=latest) for t in tickets
            ],
            next_cursor=cursor,
        )

    async def events(self, ticket: Ticket) -> list[EventRead]:
        rows = await repo.events_of(self.session, ticket_id=ticket.id)
        reads = [EventRead.model_validate(r, from_attributes=True) for r in rows]
        for read in reads:
            read.details = self._free_text(ticket, read.details)
        return reads

    # -- validation helpers --------------------------------------------------------------

    def read_area(self, text: str | None, loc: list[str | int]) -> AreaResolution | None:
        """What an area text may mean (app.reference.resolver); None for no text. An unknown
        part or parts that disagree are a 422 naming them."""
        if text is None or not text.strip():
            return None
        try:
            return self.catalog.resolve_area(text)
        except (AreaNotFound, AreaConflict) as exc:
            raise ValidationFailed([area_error(loc, exc)]) from exc

    def read_address_area(self, address: str) -> AreaResolution | None:
        """The area a ticket without `area` takes from its street address (app.reference.
        resolver.resolve_address); a 422 on `address` when its area parts disagree."""
        try:
            return self.catalog.resolve_address(address)
        except AreaConflict as exc:
            raise ValidationFailed([area_error(["address"], exc)]) from exc

    def check_topic(self, code: str | None, loc: list[str | int]) -> str | None:
        if code is None:
            return None
        if code not in self.catalog.topics:
            close = self.catalog.suggest_topics(code)
            hint = f"; did you mean {', '.join(close)}?" if close else "; see GET /api/v1/topics"
            raise ValidationFailed(
                [field_error(loc, f"unknown topic '{code}'{hint}", suggestions=close)]
            )
        return code

    def check_instant(
        self, value: datetime, loc: list[str | int], not_before: datetime | None
    ) -> datetime:
        if value > self.now + self.clock_skew:
            raise ValidationFailed([field_error(loc, f"{value.isoformat()} is in the future")])
        value = min(value, self.now)
        if not_before is not None and value < not_before:
            raise ValidationFailed(
                [
                    field_error(
                        loc,
                        f"{value.astimezone(LOCAL_TZ).isoformat()} is before the ticket's last event at "
                        f"{not_before.astimezone(LOCAL_TZ).isoformat()}",
                    )
                ]
            )
        return value

    def action_instant(self, ticket: Ticket, occurred_at: datetime | None) -> datetime:
        """When an action happened. Omitted: now, after whatever happened before it. The clock
        was read when the request began, before it waited for the ticket's row lock, and a
        request that held the lock meanwhile may have written a later event; so the later of
        the two. Given (back-office entry): checked, never in the future nor before the last
        event (422 naming occurred_at)."""
        if occurred_at is None:
            return max(self.now, ticket.last_event_at)
        return self.check_instant(occurred_at, ["occurred_at"], ticket.last_event_at)

    # -- intake --------------------------------------------------------------------------

    def _intake_facts(self, data: TicketCreate) -> tuple[TicketFacts, AreaResolution | None]:
        """What routing sees of a ticket being filed (received_at checked, topic checked, each
        a 422 naming the field), and how its area was read (facts.area is None while the area
        text fits several current areas)."""
        resolution = self.read_area(data.area, ["area"])
        if resolution is None and data.address:
            resolution = self.read_address_area(data.address)
        facts = TicketFacts(
            topic=self.check_topic(data.topic, ["topic"]),
            area=resolution.code if resolution else None,
            channel=data.channel.value,
            priority=data.priority.value,
            description=data.description,
            received_at=self.check_instant(data.received_at or self.now, ["received_at"], None),
            confidential=data.caller.confidential,
        )
        return facts, resolution

    def intake_facts(self, data: TicketCreate) -> TicketFacts:
        """The facts of a ticket as it would be filed, for explaining one decision: an area
        that fits several current areas is a 422 listing them (explain one of them)."""
        facts, resolution = self._intake_facts(data)
        if resolution is not None and resolution.ambiguous:
            why = "and a decision is explained for one area"
            raise ValidationFailed([ambiguity_error(["area"], resolution, why)])
        return facts

    def _intake_decision(
        self, data: TicketCreate
    ) -> tuple[TicketFacts, Decision, dict[str, Any] | None]:
        """Routing for a ticket being filed, and what it keeps about its area (see
        app.tickets.area_policy: an ambiguous area is asked, kept, or sent to triage)."""
        facts, resolution = self._intake_facts(data)
        if resolution is None:
            return facts, self.router(facts, frozenset()), None
        source = "area" if data.area and data.area.strip() else "address"
        if not resolution.ambiguous:
            return (
                facts,
                self.router(facts, frozenset()),
                stored_resolution(resolution, outcome="resolved", field=source),
            )
        decision, outcome = decide_intake(
            self.router,
            facts,
            resolution,
            frozenset(),
            triage_unit=self.catalog.triage_unit,
            attended=data.channel.value not in UNATTENDED_CHANNELS,
            loc=[source],
        )
        return facts, decision, stored_resolution(resolution, outcome=outcome, field=source)

    def _decide(self, ticket: Ticket, exclude: frozenset[str]) -> Decision:
        """Route a stored ticket; one whose area is still a set of candidates is routed over
        all of them (the triage unit when they disagree: nobody is on the line to ask)."""
        candidates = stored_candidates(ticket.area_resolution)
        if ticket.area_code is None and candidates:
            decision, _ = decide_over_candidates(
                self.router,
                facts_of(ticket),
                candidates,
                exclude,
                triage_unit=self.catalog.triage_unit,
            )
            return decision
        return self.router(facts_of(ticket), exclude)

    async def create(
        self,
        data: TicketCreate,
        idempotency_key: str | None,
        extra: dict[str, Any] | None = None,
    ) -> tuple[Ticket, bool]:
        """Create a ticket with its first assignment and events; (ticket, replayed).

        `extra`: more ticket columns written with it (Open311's citizen ids and attributes).

        The hot path of the service: routing and SLA planning run before anything is written,
        and the rows go in together (one statement on PostgreSQL, see app.tickets.intake_pg).
        """
        facts, decision, area_resolution = self._intake_decision(data)
        received_at = facts.received_at
        row = {
            "channel": data.channel.value,
            "status": Status.ASSIGNED if decision.unit else Status.NEW,
            "priority": decision.priority or data.priority.value,
            "caller_name": data.caller.name,
            "caller_phone": data.caller.phone,
            "caller_email": data.caller.email,
            "anonymous": data.caller.anonymous,
            "confidential": data.caller.confidential,
            "description": data.description,
            "search_text": "",
            "topic_code": facts.topic,
            "area_code": facts.area,
            "area_resolution": area_resolution,
            "address": data.address,
            "latitude": data.latitude,
            "longitude": data.longitude,
            "attachments": [str(u) for u in data.attachments],
            "tags": list(decision.tags),
            "received_at": received_at,
            "created_at": self.now,
            "updated_at": self.now,
            "last_event_at": received_at,
            "current_unit_code": decision.unit,
            "created_by": self.actor,
            "version": 1,
            "public": data.public or data.channel == "open311",
            **(extra or {}),
        }
        ticket = detached(Ticket, row)
        ticket.search_text = searchable(ticket, ticket_search_text(ticket))
        # Ids are not known yet: write_intake fills in the ticket's and the assignment's.
        events = [self._event_row(0, "created", received_at, None, {"channel": ticket.channel})]
        assignment = None
        if decision.unit:
            # The first clock starts when the call came in, not when it was typed in.
            assignment = self._new_assignment(ticket, decision.unit, received_at, decision)
            ticket.sla_due_at, ticket.sla_warn_at = next_marks(assignment)
            details = _assigned_details(decision)
            events.append(self._event_row(0, "assigned", received_at, NEW_ASSIGNMENT, details))
        else:
            events.append(self._event_row(0, "unrouted", received_at, None, {}))
        key = None
        if idempotency_key is not None:
            key = {
                "actor": self.actor,
                "key": idempotency_key,
                "request_hash": _hash(data.model_dump(mode="json")),
                "created_at": self.now,
            }
        rows = IntakeRows(
            ticket=field_values(ticket),
            assignment=field_values(assignment) if assignment else None,
            co_handlers=decision.co_handlers if assignment else (),
            events=events,
            key=key,
        )
        written = await repo.write_intake(self.session, rows)
        if written is None:
            assert key is not None
            replayed = await self._replay(key["key"], key["request_hash"])
            self.own_intake_id = replayed.id  # the same filer, the same body
            return replayed, True
        ticket.id, assignment_id = written
        self.own_intake_id = ticket.id
        if assignment is not None and assignment_id is not None:
            assignment.id, assignment.ticket_id = assignment_id, ticket.id
        self.created_assignment = assignment
        return ticket, False

    async def _replay(self, key: str, request_hash: str) -> Ticket:
        stored = await repo.get_idempotency_key(self.session, actor=self.actor, key=key)
        if stored is None or stored.ticket_id is None:
            # The first request with this key is still running or failed: ask to retry.
            raise Conflict(
                f"A request with Idempotency-Key '{key}' is in progress; retry in a moment.",
                headers={"Retry-After": "1"},
            )
        if stored.request_hash != request_hash:
            raise Conflict(
                f"Idempotency-Key '{key}' was already used with a different request body; "
                "use a new key for a new ticket."
            )
        ticket = await repo.get_ticket(self.session, ticket_id=stored.ticket_id)
        assert ticket is not None
        return ticket

    async def _route(
        self, ticket: Ticket, at: datetime, exclude: frozenset[str], reason: str | None = None
    ) -> Assignment | None:
        """Give the ticket to the unit routing picks (or leave it new when none is left)."""
        decision = self._decide(ticket, exclude)
        if decision.priority and decision.priority != ticket.priority:
            ticket.priority = decision.priority
        if decision.tags:
            ticket.tags = sorted({*ticket.tags, *decision.tags})
        if decision.unit is None:
            ticket.status = Status.NEW
            ticket.current_unit_code = None
            self._event(ticket, "unrouted", at, None, {"excluded": sorted(exclude)})
            return None
        return await self._assign(ticket, decision.unit, at, decision=decision, reason=reason)

    def _new_assignment(
        self, ticket: Ticket, unit_code: str, at: datetime, decision: Decision | None
    ) -> Assignment:
        """An assignment with its SLA policy and due times planned from `at`."""
        assignment = detached(
            Assignment,
            {
                "ticket_id": ticket.id or 0,
                "unit_code": unit_code,
                "assigned_at": at,
                "rule_id": decision.rule_id if decision else None,
                "ruleset_version": decision.ruleset_version if decision else None,
                "sla_policy": decision.sla_policy if decision else None,
            },
        )
        policy = self.sla.policy_for(assignment, ticket.topic_code, ticket.priority, ticket.channel)
        self.sla.plan(assignment, (), policy)
        return assignment

    async def _assign(
        self,
        ticket: Ticket,
        unit_code: str,
        at: datetime,
        *,
        decision: Decision | None = None,
        reason: str | None = None,
    ) -> Assignment:
        """A new assignment (and clock) for the unit; `decision` when routing chose it."""
        assignment = self._new_assignment(ticket, unit_code, at, decision)
        self.session.add(assignment)
        await self.session.flush()
        if decision and decision.co_handlers:
            await repo.insert_co_handlers(
                self.session,
                ticket_id=ticket.id,
                assignment_id=assignment.id,
                units=decision.co_handlers,
            )
        ticket.status = Status.ASSIGNED
        ticket.current_unit_code = unit_code
        ticket.sla_due_at, ticket.sla_warn_at = next_marks(assignment)
        details = _assigned_details(decision) if decision else {"unit": unit_code}
        self._event(ticket, "assigned", at, assignment.id, {**details, "reason": reason})
        return assignment

    def _event_row(
        self,
        ticket_id: int,
        kind: str,
        at: datetime,
        assignment_id: int | object | None,  # or NEW_ASSIGNMENT at intake
        details: dict[str, Any],
    ) -> dict[str, Any]:
        return event_row(ticket_id, assignment_id, kind, at, self.now, self.actor, details)

    def _event(
        self,
        ticket: Ticket,
        kind: str,
        at: datetime,
        assignment_id: int | None,
        details: dict[str, Any],
    ) -> None:
        self.session.add(
            TicketEvent(**self._event_row(ticket.id, kind, at, assignment_id, details))
        )

    # -- corrections ---------------------------------------------------------------------

    async def update(self, ticket: Ticket, data: TicketUpdate, if_match: str | None) -> Ticket:
        """Apply operator corrections; a stale If-Match is refused with 412."""
        check_etag(ticket, if_match)
        fields = data.model_dump(exclude_unset=True)
        for required in ("description", "public"):
            if required in fields and fields[required] is None:
                raise ValidationFailed([field_error([required], "cannot be removed")])
        new_values: dict[str, Any] = {}
        if "topic" in fields:
            new_values["topic_code"] = self.check_topic(fields["topic"], ["topic"])
        if "area" in fields:
            new_values.update(self._corrected_area(ticket, fields["area"], new_values))
        for name in ("priority", "description", "address", "public"):
            if name in fields:
                new_values[name] = fields[name]
        changes = {
            key: [getattr(ticket, key), value]
            for key, value in new_values.items()
            if getattr(ticket, key) != value
        }
        if not changes:
            return ticket
        for key, (_, value) in changes.items():
            setattr(ticket, key, value)
        if "description" in changes or "address" in changes:
            ticket.search_text = searchable(ticket, ticket_search_text(ticket))
        at = max(self.now, ticket.last_event_at)
        self._touch(ticket, at)
        self._event(ticket, "updated", at, None, {"changes": changes})
        if {"topic_code", "area_code", "area_resolution"} & changes.keys():
            await self._reroute_if_unacknowledged(ticket, at)
        await self.session.flush()
        return ticket

    def _corrected_area(
        self, ticket: Ticket, text: str | None, new_values: dict[str, Any]
    ) -> dict[str, Any]:
        """area_code and area_resolution for a corrected area; an operator is correcting, so
        candidates that route differently are a 422 with the pick list."""
        resolution = self.read_area(text, ["area"])
        if resolution is None:
            return {"area_code": None, "area_resolution": None}
        outcome = "resolved"
        if resolution.ambiguous:
            topic = new_values.get("topic_code", ticket.topic_code)
            facts = replace(facts_of(ticket), topic=topic, area=None)
            _, outcome = decide_intake(
                self.router,
                facts,
                resolution,
                frozenset(),
                triage_unit=self.catalog.triage_unit,
                attended=True,
                loc=["area"],
            )
        return {
            "area_code": resolution.code,
            "area_resolution": stored_resolution(resolution, outcome=outcome),
        }

    async def _reroute_if_unacknowledged(self, ticket: Ticket, at: datetime) -> None:
        """A corrected topic or area may change the unit, until a unit has taken the ticket."""
        if ticket.status not in (Status.NEW, Status.ASSIGNED):
            return
        current = (await repo.open_assignments(self.session, ticket_ids=[ticket.id])).get(ticket.id)
        if current is not None and current.acknowledged_at is not None:
            return
        exclude = frozenset(await repo.rejected_units(self.session, ticket_id=ticket.id))
        decision = self._decide(ticket, exclude)
        if current is not None and decision.unit == current.unit_code:
            return
        await self._end(current, at, "rerouted")
        self._event(
            ticket, "rerouted", at, current.id if current else None, {"reason": "corrected"}
        )
        await self._route(ticket, at, exclude, reason="corrected")

    def _touch(self, ticket: Ticket, at: datetime) -> None:
        ticket.version += 1
        ticket.updated_at = self.now
        ticket.last_event_at = max(ticket.last_event_at, at)

    # -- actions -------------------------------------------------------------------------

    async def act(self, ticket: Ticket, action: str, body: ActionIn) -> Ticket:
        """Apply one lifecycle action at body.occurred_at (default now) to a ticket row-locked
        by the caller. 409 (InvalidTransition, naming the current status) when the status does
        not allow it, e.g. because a concurrent request changed it first."""
        target = check_transition(action, ticket.status)
        at = self.action_instant(ticket, body.occurred_at)
        current = (await repo.open_assignments(self.session, ticket_ids=[ticket.id])).get(ticket.id)
        if (
            self.principal.scoped_to_units
            and action in UNIT_WORK
            and (current is None or current.unit_code not in self.principal.units)
        ):
            raise Forbidden(
                f"This ticket is now assigned to {current.unit_code if current else 'no unit'}; "
                "only that unit can work on it."
            )
        handler = getattr(self, "_do_" + action.replace("-", "_"))
        await handler(ticket, current, body, at, target)
        if action not in CLOCK_NEUTRAL:
            await self._settle_sla(ticket, current)
        if body.note and action != "notes":
            self._event(ticket, "note", at, current.id if current else None, {"text": body.note})
        self._touch(ticket, at)
        await self.session.flush()
        return ticket

    async def _settle_sla(self, ticket: Ticket, before: Assignment | None) -> None:
        """After an action: re-plan due times around pauses, record targets completed late,
        and mirror the current assignment's next due on the ticket."""
        await self.session.flush()
        now_open = (await repo.open_assignments(self.session, ticket_ids=[ticket.id])).get(
            ticket.id
        )
        touched = {a.id: a for a in (before, now_open) if a is not None}
        pauses = await pauses_of(self.session, assignment_ids=touched)
        for a in touched.values():
            self.sla.plan(a, pauses[a.id])
            for target, due in late_targets(a):
                setattr(a, f"{target}_breached_at", self.now)
                unit = self.catalog.units.get(a.unit_code)
                rows = breach_events(
                    ticket_id=ticket.id,
                    assignment_id=a.id,
                    unit=a.unit_code,
                    target=target,
                    due_at=due,
                    escalate_to=unit.escalation if unit else None,
                    now=self.now,
                    actor="sla",
                )
                self.session.add_all(TicketEvent(**row) for row in rows)
        ticket.sla_due_at, ticket.sla_warn_at = next_marks(now_open)

    async def _end_pause(self, assignment: Assignment | None, at: datetime) -> None:
        if assignment is None:
            return
        pause = await repo.open_pause(self.session, assignment_id=assignment.id)
        if pause is not None:
            pause.ended_at = at

    async def _end(self, assignment: Assignment | None, at: datetime, outcome: str) -> None:
        if assignment is None:
            return
        await self._end_pause(assignment, at)
        assignment.ended_at = at
        assignment.outcome = outcome
        # Flush now: the one-open-assignment index must see this end before a new one starts.
        await self.session.flush()

    async def _do_acknowledge(
        self, ticket: Ticket, a: Assignment, body: ActionIn, at: datetime, target: Status
    ) -> None:
        a.acknowledged_at = at
        ticket.status = target
        self._event(ticket, "acknowledged", at, a.id, {"unit": a.unit_code})

    async def _do_start(
        self, ticket: Ticket, a: Assignment, body: ActionIn, at: datetime, target: Status
    ) -> None:
        a.acknowledged_at = a.acknowledged_at or at
        ticket.status = target
        self._event(ticket, "started", at, a.id, {"unit": a.unit_code})

    async def _do_request_info(
        self, ticket: Ticket, a: Assignment, body: RequestInfoIn, at: datetime, target: Status
    ) -> None:
        self.session.add(AssignmentPause(assignment_id=a.id, started_at=at))
        ticket.status = target
        self._event(ticket, "info_requested", at, a.id, {"question": body.question})

    async def _do_info_received(
        self, ticket: Ticket, a: Assignment, body: ActionIn, at: datetime, target: Status
    ) -> None:
        await self._end_pause(a, at)
        ticket.status = target
        self._event(ticket, "info_received", at, a.id, {})

    async def _do_resolve(
        self, ticket: Ticket, a: Assignment, body: ResolveIn, at: datetime, target: Status
    ) -> None:
        a.acknowledged_at = a.acknowledged_at or at
        a.resolved_at = at
        await self._end(a, at, "resolved")
        ticket.status = target
        self._event(
            ticket, "resolved", at, a.id, {"unit": a.unit_code, "resolution": body.resolution}
        )

    async def _do_reject(
        self, ticket: Ticket, a: Assignment, body: ReasonIn, at: datetime, target: Status | None
    ) -> None:
        await self._end(a, at, "rejected")
        self._event(ticket, "rejected", at, a.id, {"unit": a.unit_code, "reason": body.reason})
        exclude = frozenset(await repo.rejected_units(self.session, ticket_id=ticket.id))
        await self._route(ticket, at, exclude)

    async def _do_transfer(
        self, ticket: Ticket, a: Assignment | None, body: TransferIn, at: datetime, target: Status
    ) -> None:
        if body.unit not in self.catalog.units:
            close = self.catalog.suggest_units(body.unit)
            hint = f"; did you mean {', '.join(close)}?" if close else "; see GET /api/v1/units"
            raise ValidationFailed(
                [field_error(["unit"], f"unknown unit '{body.unit}'{hint}", suggestions=close)]
            )
        if a is not None and a.unit_code == body.unit:
            raise Conflict(
                f"The ticket is already assigned to {body.unit} (it is {ticket.status}).",
                current_status=ticket.status,
                allowed_actions=allowed_actions(ticket.status),
            )
        await self._end(a, at, "transferred")
        self._event(
            ticket,
            "transferred",
            at,
            a.id if a else None,
            {"from_unit": a.unit_code if a else None, "to_unit": body.unit, "reason": body.reason},
        )
        await self._assign(ticket, body.unit, at, reason=body.reason)

    async def _do_reroute(
        self,
        ticket: Ticket,
        a: Assignment | None,
        body: OptionalReasonIn,
        at: datetime,
        target: Status | None,
    ) -> None:
        """Send the ticket back to routing (e.g. after the rules changed or it was misfiled)."""
        await self._end(a, at, "rerouted")
        self._event(ticket, "rerouted", at, a.id if a else None, {"reason": body.reason})
        exclude = frozenset(await repo.rejected_units(self.session, ticket_id=ticket.id))
        await self._route(ticket, at, exclude, reason=body.reason)

    async def _do_close(
        self, ticket: Ticket, a: Assignment | None, body: ActionIn, at: datetime, target: Status
    ) -> None:
        ticket.status = target
        self._event(ticket, "closed", at, None, {})

    async def _do_reopen(
        self, ticket: Ticket, a: Assignment | None, body: ReasonIn, at: datetime, target: Status
    ) -> None:
        # Back to the unit that resolved it, on a fresh assignment; the old record stays as it was.
        previous = (await repo.assignments_of(self.session, ticket_id=ticket.id))[-1]
        self._event(ticket, "reopened", at, previous.id, {"reason": body.reason})
        await self._assign(ticket, previous.unit_code, at, reason="reopened")

    async def _do_cancel(
        self,
        ticket: Ticket,
        a: Assignment | None,
        body: OptionalReasonIn,
        at: datetime,
        target: Status,
    ) -> None:
        await self._end(a, at, "cancelled")
        ticket.status = target
        ticket.current_unit_code = None
        self._event(ticket, "cancelled", at, a.id if a else None, {"reason": body.reason})

    async def _do_duplicate(
        self, ticket: Ticket, a: Assignment | None, body: DuplicateIn, at: datetime, target: Status
    ) -> None:
        try:
            asked = await self.load(body.duplicate_of)
        except NotFound as exc:
            raise ValidationFailed([field_error(["duplicate_of"], exc.detail)]) from exc
        original = await live_original(self.session, ticket, asked, self.reference)
        await self._end(a, at, "duplicate")
        ticket.status = target
        ticket.duplicate_of_id = original.id
        ticket.current_unit_code = None
        self._event(
            ticket,
            "marked_duplicate",
            at,
            a.id if a else None,
            {
                "duplicate_of": self.reference(original),
                "asked": self.reference(asked) if asked.id != original.id else None,
            },
        )
        link_duplicate(self, ticket, original, at)

    async def _do_confirm_area(
        self, ticket: Ticket, a: Assignment | None, body: ConfirmAreaIn, at: datetime, target: None
    ) -> None:
        """Settle an area kept as candidates at intake: one of them, chosen by whoever knows."""
        candidates = stored_candidates(ticket.area_resolution)
        if not candidates:
            raise ValidationFailed(
                [
                    field_error(
                        ["area"],
                        f"the ticket's area is already settled ({ticket.area_code or 'none'}); "
                        "an operator corrects it with PATCH",
                    )
                ]
            )
        resolution = self.read_area(body.area, ["area"])
        chosen = resolution.code if resolution else None
        if chosen not in candidates:
            raise ValidationFailed(
                [
                    field_error(
                        ["area"],
                        f"'{body.area}' is not one of the ticket's candidate areas: "
                        f"{', '.join(candidates)}",
                        candidates=ticket.area_resolution["candidates"],  # type: ignore[index]
                    )
                ]
            )
        ticket.area_code = chosen
        ticket.area_resolution = {**(ticket.area_resolution or {}), "outcome": "confirmed"}
        self._event(ticket, "area_confirmed", at, a.id if a else None, {"area": chosen})
        await self._reroute_if_unacknowledged(ticket, at)

    async def _do_notes(
        self, ticket: Ticket, a: Assignment | None, body: NoteIn, at: datetime, target: None
    ) -> None:
        self._event(ticket, "note", at, a.id if a else None, {"text": body.text})


def facts_of(ticket: Ticket) -> TicketFacts:
    """What routing sees of a stored ticket."""
    return TicketFacts(
        topic=ticket.topic_code,
        area=ticket.area_code,
        channel=ticket.channel,
        priority=ticket.priority,
        description=ticket.description,
        received_at=ticket.received_at,
        confidential=ticket.confidential,
    )


def _assigned_details(decision: Decision) -> dict[str, Any]:
    return {
        "unit": decision.unit,
        "rule_id": decision.rule_id,
        "ruleset_version": decision.ruleset_version,
        "sla_policy": decision.sla_policy,
        "co_handlers": list(decision.co_handlers) or None,
        "tags": list(decision.tags) or None,
    }


def etag(ticket: Ticket) -> str:
    return f'"{ticket.id}-{ticket.version}"'


def check_etag(ticket: Ticket, if_match: str | None) -> None:
    if if_match is None or if_match.strip() == "*":
        return
    wanted = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if etag(ticket) not in wanted:
        raise PreconditionFailed(
            f"The ticket changed since you read it (now version {ticket.version}, ETag {etag(ticket)}); "
            "reload it and apply your change again.",
            current_version=ticket.version,
        )


def encode_cursor(ticket: Ticket, by_due: bool | str = False) -> str:
    """The position after `ticket` in the page order: (sort value, id)."""
    if by_due == "reports":
        raw = json.dumps([ticket.reports_count, ticket.id]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")
    key = (ticket.sla_due_at or NO_DUE) if by_due else ticket.received_at
    raw = json.dumps([key.isoformat(), ticket.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, ticket_id = json.loads(raw)
        if isinstance(at, int):  # sort=-reports: a count
            return at, int(ticket_id)  # type: ignore[return-value]
        value = datetime.fromisoformat(at)
        if value.tzinfo is None:
            raise ValueError("cursor without offset")
        # Only what encode_cursor writes: a real id (not a float, bool or 40 digits).
        if type(ticket_id) is not int or not 0 <= ticket_id < 2**31:
            raise ValueError("cursor id out of range")
        return value.astimezone(UTC), ticket_id
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValidationFailed(
            [
                field_error(
                    ["query", "cursor"], "not a cursor from a previous page; start without it"
                )
            ]
        ) from exc


def _hash(payload: dict[str, Any]) -> str:
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()


__all__ = ["Router", "TicketService", "decode_cursor", "etag"]
