"""Duplicate suggestions: tickets that may be the problem a caller is reporting now.

Candidates come from bounded, indexed reads (the caller's recent tickets; the newest tickets of
the same area, or topic, within similar_text_days), then each is judged by the pure rules of
app.search.similar_rules. Nearby is judged among those candidates: a report within 250 m is
nearly always in the same commune. Nothing is written.
"""

from datetime import timedelta
from functools import lru_cache
from typing import Any

from app.config import Settings
from app.search import repository as repo
from app.search.callers import phone_of
from app.search.schemas import SimilarCandidate, SimilarIn, SimilarReason
from app.search.similar_rules import Facts, Thresholds, judge
from app.text import fold
from app.tickets.lifecycle import OPEN
from app.tickets.models import Ticket

POOL = 300


@lru_cache(maxsize=20_000)
def folded(description: str) -> str:
    """app.text.fold of a stored description, remembered: folding takes 50-180 µs a
    description here, and every suggestion compares up to POOL of them, mostly the same ones
    from one call to the next (an area's newest tickets; the console asks as the form fills).
    Keyed by the text itself, so a corrected description is folded afresh. 20,000 entries:
    about 10 MB a worker."""
    return fold(description)


def thresholds(settings: Settings) -> Thresholds:
    return Thresholds(
        same_caller=timedelta(days=settings.similar_same_caller_days),
        open_window=timedelta(hours=settings.similar_open_hours),
        text_min_ratio=settings.similar_text_min_ratio,
        radius_m=settings.similar_radius_m,
    )


def facts_in(service: Any, data: SimilarIn) -> Facts:
    """The typed facts, checked (422 naming the field) and normalised. An area text that may
    mean several areas is left out (the other facts still count)."""
    resolution = service.read_area(data.area, ["area"])
    return Facts(
        received_at=service.now,
        phone=phone_of(data.caller_phone, "caller_phone") if data.caller_phone else None,
        area=resolution.code if resolution and not resolution.ambiguous else None,
        topic=service.check_topic(data.topic, ["topic"]),
        text=fold(data.description or ""),
        latitude=data.latitude,
        longitude=data.longitude,
    )


def facts_of_ticket(ticket: Ticket) -> Facts:
    return Facts(
        received_at=ticket.received_at,
        phone=None if ticket.confidential else ticket.caller_phone,
        area=ticket.area_code,
        topic=ticket.topic_code,
        text=fold(ticket.description),
        latitude=ticket.latitude,
        longitude=ticket.longitude,
    )


async def similar(
    service: Any, new: Facts, settings: Settings, exclude_id: int | None = None
) -> list[SimilarCandidate]:
    """At most settings.similar_max candidates, best first, each with its score and reasons."""
    limits = thresholds(settings)
    phones = []
    if new.phone:
        phones = [new.phone]
        if service.privacy:
            phones.append(service.privacy.pseudonym(new.phone, "phone"))
    rows = await repo.similar_pool(
        service.session,
        phones=phones,
        phone_since=new.received_at - limits.same_caller,
        area=new.area,
        topic=new.topic,
        since=new.received_at - timedelta(days=settings.similar_text_days),
        limit=POOL,
    )
    judged = []
    for row in rows:
        if row.id == exclude_id:
            continue
        old = Facts(
            received_at=row.received_at,
            phone=new.phone if row.caller_phone in phones else row.caller_phone,
            area=row.area_code,
            topic=row.topic_code,
            text=folded(row.description),
            latitude=row.latitude,
            longitude=row.longitude,
            is_open=row.status in OPEN,
            confidential=row.confidential,
        )
        verdict = judge(new, old, limits)
        if verdict.reasons:
            judged.append((verdict.score, row.received_at, row.id, verdict))
    judged.sort(key=lambda j: (j[0], j[1]), reverse=True)
    best = judged[: settings.similar_max]
    tickets = {
        t.id: t for t in await repo.tickets_by_ids(service.session, ids=[j[2] for j in best])
    }
    out = []
    for score, _, ticket_id, verdict in best:
        t = tickets[ticket_id]
        out.append(
            SimilarCandidate(
                id=t.id,
                reference=service.reference(t),
                status=t.status,
                received_at=t.received_at,
                area=t.area_code,
                topic=t.topic_code,
                description=service.free_text(t, t.description),
                score=score,
                reasons=[SimilarReason.model_validate(r) for r in verdict.reasons],
            )
        )
    return out
