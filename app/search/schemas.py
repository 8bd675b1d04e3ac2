"""Shapes of caller history and duplicate suggestions (JSON under /api/v1)."""

from typing import Any, Literal

from pydantic import BaseModel, Field

from app.timefmt import InstantOut

SlaState = Literal["on_track", "warning", "breached", "paused"]


class PhoneIn(BaseModel):
    """A caller's number in any Vietnamese format: 0912 345 678, +84 912 345 678, 84912345678."""

    phone: str = Field(min_length=3, max_length=40, examples=["0912 345 678"])


class CallerTicket(BaseModel):
    id: int
    reference: str
    received_at: InstantOut
    status: str
    topic: str | None = Field(description="Topic code")
    area: str | None = Field(description="Area code")
    unit: str | None = Field(description="The unit working on it now, if any")
    sla_state: SlaState | None = Field(description="The current assignment's SLA state")
    description: str


class CallerHistory(BaseModel):
    """A caller's earlier tickets, newest first, and how often they called."""

    phone: str = Field(description="E.164")
    calls_30_days: int
    calls_365_days: int
    open: int = Field(description="Tickets not yet resolved, closed, cancelled or duplicate")
    tickets: list[CallerTicket] = Field(description="Newest first, at most `limit`")
    truncated: bool = Field(description="More tickets exist than listed")


class LastTicket(BaseModel):
    reference: str
    received_at: InstantOut
    status: str


class CallerHistorySummary(BaseModel):
    """What the intake form shows: "called 3 times this month, 1 open" (other tickets only)."""

    calls_30_days: int
    calls_365_days: int
    open: int
    last: LastTicket | None


class SimilarIn(BaseModel):
    """The facts of a ticket being filed; nothing is written. Give any of them."""

    caller_phone: str | None = Field(default=None, max_length=40, examples=["0912 345 678"])
    area: str | None = Field(default=None, max_length=200, description="Code or name")
    topic: str | None = Field(default=None, max_length=80)
    description: str | None = Field(default=None, max_length=5000)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)


class SimilarReason(BaseModel):
    kind: Literal["same_caller", "same_area_topic_open", "similar_text", "nearby"]
    days_apart: int | None = None
    hours_apart: int | None = None
    ratio: int | None = Field(default=None, description="0-100, rapidfuzz token_sort_ratio")
    metres: int | None = None


class SimilarCandidate(BaseModel):
    id: int
    reference: str
    status: str
    received_at: InstantOut
    area: str | None
    topic: str | None
    description: str
    score: float = Field(description="0..1, higher is likelier the same problem")
    reasons: list[SimilarReason]


class SimilarPage(BaseModel):
    candidates: list[SimilarCandidate] = Field(description="Best first, at most similar_max")


class Reporter(BaseModel):
    """One call that reported the problem: the original's own, then each linked duplicate's."""

    reference: str
    received_at: InstantOut
    channel: str
    caller: Any = Field(description="As every caller block: masked when confidential")
