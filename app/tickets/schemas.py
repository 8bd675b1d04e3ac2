"""Request and response bodies for tickets: TicketCreate, TicketUpdate, TicketRead and actions."""

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    ValidationInfo,
    field_validator,
    model_validator,
)

from app.catalog.vocabulary import Channel, Priority
from app.phone import InvalidPhone, to_e164
from app.search.schemas import CallerHistorySummary, Reporter, SimilarCandidate
from app.text import nfc
from app.timefmt import InstantIn, InstantOut

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _phone(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    try:
        return to_e164(value)
    except InvalidPhone as exc:
        raise ValueError(str(exc)) from exc


def _email(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if len(value) > 254:  # RFC 5321's limit on a path, and the column's width
        raise ValueError("an email address has at most 254 characters")
    if not _EMAIL.match(value):
        raise ValueError(f"'{value}' is not an email address (expected name@example.com)")
    return value.lower()


def _text(value: str) -> str:
    return nfc(value)


Text = Annotated[str, AfterValidator(_text)]
Phone = Annotated[str | None, AfterValidator(_phone)]
Email = Annotated[str | None, AfterValidator(_email)]
Description = Annotated[str, AfterValidator(_text), Field(min_length=1, max_length=4000)]
# Degrees as JSON numbers: not true/false (strict), not NaN or infinite (1e400 parses as one).
Latitude = Annotated[float, Field(ge=-90, le=90, strict=True, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180, le=180, strict=True, allow_inf_nan=False)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CallerIn(Strict):
    name: Annotated[Text | None, Field(max_length=200)] = None
    phone: Phone = Field(default=None, description="Any Vietnamese format; stored as E.164")
    email: Email = None
    anonymous: bool = False
    confidential: bool = Field(
        default=False, description="Whistle-blowers and denunciations: identity is masked"
    )

    @model_validator(mode="after")
    def _anonymous_has_no_identity(self) -> "CallerIn":
        if self.anonymous and (self.name or self.phone or self.email):
            raise ValueError(
                "an anonymous caller has no name, phone or email; drop them or set "
                "anonymous to false (use confidential to hide a known caller)"
            )
        return self


class TicketCreate(Strict):
    channel: Channel
    caller: CallerIn = Field(default_factory=CallerIn)
    description: Description
    topic: str | None = Field(
        default=None, max_length=80, description="Topic code, e.g. moi-truong.rac-thai"
    )
    area: str | None = Field(
        default=None,
        description="Area code or name, with or without diacritics; former (pre-2025) names too",
        max_length=300,
    )
    address: Annotated[Text | None, Field(max_length=500)] = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    priority: Priority = Priority.NORMAL
    received_at: InstantIn | None = Field(
        default=None, description="When the call came in, for calls logged after the fact"
    )
    attachments: list[HttpUrl] = Field(default_factory=list, max_length=20)
    public: bool = Field(
        default=False,
        description="Shown on Open311 with its description (always true for channel open311)",
    )
    callback_requested: bool = Field(
        default=False,
        description="The caller asked to be told the outcome: once resolved, the ticket is on "
        "the operators' callback queue until an operator records the call (caller-informed). "
        "Needs the caller's phone or e-mail.",
    )

    @model_validator(mode="after")
    def _both_coordinates(self) -> "TicketCreate":
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give both latitude and longitude, or neither")
        return self

    @field_validator("callback_requested")
    @classmethod
    def _callback_needs_a_contact(cls, value: bool, info: ValidationInfo) -> bool:
        # `caller` is declared first, so it is validated (or missing, when invalid) here.
        caller = info.data.get("caller")
        if value and caller is not None and not (caller.phone or caller.email):
            raise ValueError(
                "a caller who asks to be told the outcome needs a phone or e-mail to be "
                "called back at: give caller.phone or caller.email, or set it to false"
            )
        return value


class TicketUpdate(Strict):
    """Operator corrections; only the fields present are changed.

    `topic`, `area` and `address` may be set to null (unknown); `priority` and `description`
    may not: a ticket always has them. Their default below is never validated, so leaving
    them out is fine and an explicit null is a 422.
    """

    topic: str | None = Field(default=None, max_length=80)
    area: str | None = Field(default=None, max_length=300)
    priority: Priority = Field(default=None)  # type: ignore[assignment]
    description: Description = Field(default=None)  # type: ignore[assignment]
    address: Annotated[Text | None, Field(max_length=500)] = None
    public: bool | None = Field(default=None, description="Shown on Open311 (docs/open311.md)")
    callback_requested: bool | None = Field(
        default=None, description="The caller asked to be told the outcome (see TicketCreate)"
    )


class ActionIn(Strict):
    occurred_at: InstantIn | None = Field(
        default=None, description="When it happened, for back-office entry; never in the future"
    )
    note: Annotated[Text | None, Field(max_length=4000)] = None


class ResolveIn(ActionIn):
    resolution: Annotated[Text, Field(min_length=1, max_length=4000)]


class ReasonIn(ActionIn):
    reason: Annotated[Text, Field(min_length=1, max_length=2000)]


class OptionalReasonIn(ActionIn):
    reason: Annotated[Text | None, Field(max_length=2000)] = None


class TransferIn(ActionIn):
    unit: str = Field(description="Code of the unit to transfer to")
    reason: Annotated[Text | None, Field(max_length=2000)] = None


class NoteIn(ActionIn):
    text: Annotated[Text, Field(min_length=1, max_length=4000)]


class CallerInformedIn(ActionIn):
    note: Annotated[Text | None, Field(max_length=4000)] = Field(
        default=None, description="What the caller was told (kept on the caller_informed event)"
    )


class DuplicateIn(ActionIn):
    duplicate_of: str = Field(description="Id or reference of the original ticket")


class ConfirmAreaIn(ActionIn):
    area: str = Field(description="Code (or name) of the area, one of the ticket's candidates")


class RequestInfoIn(ActionIn):
    question: Annotated[Text | None, Field(max_length=2000)] = None


@dataclass
class TicketQuery:
    """The filters of GET /tickets as given; the service resolves names and subtrees."""

    statuses: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)
    areas: list[str] = field(default_factory=list)  # codes or names
    topics: list[str] = field(default_factory=list)
    priorities: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    received_from: datetime | None = None
    received_to: datetime | None = None
    caller_phone: str | None = None
    q: str | None = None
    sla_states: list[str] = field(default_factory=list)
    sort: str = "-received_at"
    limit: int = 50
    cursor: str | None = None


# -- responses ---------------------------------------------------------------------------------


class Ref(BaseModel):
    code: str
    name: str


class CallerOut(BaseModel):
    name: str | None
    phone: str | None
    email: str | None
    anonymous: bool
    confidential: bool
    masked: bool = Field(
        default=False, description="True when a confidential caller is hidden from this reader"
    )


class SlaTargetRead(BaseModel):
    state: str = Field(description="on_track, warning, breached, paused, met, missed or ended")
    mode: str = Field(description="working (business calendar) or calendar time")
    target_seconds: int
    elapsed_seconds: int
    remaining_seconds: int = Field(description="Negative once overdue")
    due_at: InstantOut | None = Field(description="None while the clock is paused")
    warn_at: InstantOut | None
    done_at: InstantOut | None
    earliest_due_at: InstantOut | None = Field(description="While paused: the due if resumed now")


class SlaRead(BaseModel):
    policy: str
    calendar: str
    state: str = Field(description="The headline state: the most urgent open target's")
    paused: bool
    acknowledge: SlaTargetRead
    resolve: SlaTargetRead


class AssignmentRead(BaseModel):
    id: int
    unit: Ref
    assigned_at: InstantOut
    acknowledged_at: InstantOut | None
    resolved_at: InstantOut | None
    ended_at: InstantOut | None
    outcome: str | None
    rule_id: str | None
    ruleset_version: str | None
    sla_policy: str | None
    acknowledge_due_at: InstantOut | None
    resolve_due_at: InstantOut | None
    sla: SlaRead | None = None


class AreaCandidateRead(BaseModel):
    code: str
    name: str
    former_names: list[str] = Field(description="Former (pre-2025) names this area covers")


class AreaResolutionRead(BaseModel):
    field: str = Field("area", description="area, or address when taken from the address")
    input: str = Field(description="The area as typed")
    how: str = Field(description="code, name (current), former_name, or parts (several parts)")
    read_as: list[str] = Field(description="What each part was read as, first part first")
    outcome: str = Field(
        description="resolved (one area), same_route (several, all routed alike: to confirm), "
        "triage (several that route differently: sent to triage) or confirmed (chosen later)"
    )
    candidates: list[AreaCandidateRead] = Field(
        description="While the area is not settled: the current areas it may be"
    )


class PendingQuestionRead(BaseModel):
    question: str | None = Field(description="What the unit asked the citizen (may be empty)")
    asked_at: InstantOut
    asked_by: str


class ResolutionRead(BaseModel):
    text: str = Field(description="How the unit resolved it")
    resolved_at: InstantOut
    resolved_by: str
    unit: str | None


class LegalHoldRead(BaseModel):
    reason: str
    by: str
    at: InstantOut


class TicketRead(BaseModel):
    id: int
    reference: str
    channel: str
    status: str
    priority: str
    caller: CallerOut
    description: str
    topic: Ref | None
    area: Ref | None
    area_resolution: AreaResolutionRead | None = Field(
        default=None, description="How the area text was read; candidates while unsettled"
    )
    address: str | None
    latitude: float | None
    longitude: float | None
    attachments: list[str]
    public: bool = Field(default=False, description="Shown on Open311 (docs/open311.md)")
    callback_requested: bool = Field(
        default=False,
        description="The caller asked to be told the outcome (the operators' callback queue); "
        "false once the caller's details are erased or anonymised",
    )
    received_at: InstantOut
    created_at: InstantOut
    updated_at: InstantOut
    version: int
    duplicate_of: str | None
    current_assignment: AssignmentRead | None
    pending_question: PendingQuestionRead | None = Field(
        default=None, description="While waiting_citizen: the question the citizen is asked"
    )
    resolution: ResolutionRead | None = Field(
        default=None, description="Once resolved (and closed): how the unit resolved it"
    )
    allowed_actions: list[str]
    assignments: list[AssignmentRead] | None = Field(
        default=None, description="Every assignment, oldest first (single-ticket reads only)"
    )
    legal_hold: LegalHoldRead | None = Field(
        default=None, description="Shown to supervisors and admins: kept out of retention"
    )
    caller_history: CallerHistorySummary | None = Field(
        default=None,
        description="Operators' single-ticket read: the caller's other tickets (app.search)",
    )
    reported_count: int = Field(
        default=1, description="How many calls reported this problem (1 + linked duplicates)"
    )
    reporters: list[Reporter] | None = Field(
        default=None, description="Single-ticket read of an original: each call, oldest first"
    )
    possible_duplicates: list[SimilarCandidate] | None = Field(
        default=None, description="Intake with ?suggest_duplicates=true: as POST /tickets/similar"
    )


class TicketPage(BaseModel):
    items: list[TicketRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at end")


class EventRead(BaseModel):
    id: int
    kind: str
    occurred_at: InstantOut
    recorded_at: InstantOut
    actor: str
    assignment_id: int | None
    details: dict[str, Any]


class EventPage(BaseModel):
    items: list[EventRead]
