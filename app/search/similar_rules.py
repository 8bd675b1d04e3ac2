"""Why two tickets look like one problem, and how much. Pure: no database, no settings."""

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rapidfuzz import fuzz

EARTH_RADIUS_M = 6_371_000.0
# How much each reason weighs; a candidate's score is their sum, capped at 1.
WEIGHTS = {"same_caller": 0.45, "same_area_topic_open": 0.3, "similar_text": 0.35, "nearby": 0.2}


@dataclass(frozen=True)
class Thresholds:
    """From settings (similar_*): the windows and limits of each reason."""

    same_caller: timedelta = timedelta(days=30)
    open_window: timedelta = timedelta(hours=72)
    text_min_ratio: float = 70.0
    radius_m: float = 250.0


@dataclass(frozen=True)
class Facts:
    """A ticket being filed or a stored one, as similarity sees it (text folded)."""

    received_at: datetime
    phone: str | None = None
    area: str | None = None
    topic: str | None = None
    text: str = ""
    latitude: float | None = None
    longitude: float | None = None
    is_open: bool = True
    confidential: bool = False


@dataclass
class Judgement:
    score: float = 0.0
    reasons: list[dict[str, object]] = field(default_factory=list)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def text_ratio(a: str, b: str) -> float:
    """0-100: how alike two folded descriptions are, word order aside (rapidfuzz)."""
    if not a or not b:
        return 0.0
    return float(fuzz.token_sort_ratio(a, b))


def judge(new: Facts, old: Facts, limits: Thresholds) -> Judgement:
    """The reasons `old` may be the problem `new` reports, and a score in 0..1.

    - same_caller: same phone, `old` within limits.same_caller (never a confidential `old`:
      that would tie the number to a denunciation);
    - same_area_topic_open: same area and topic, `old` still open, within limits.open_window;
    - similar_text: descriptions alike at least limits.text_min_ratio (weight scaled by it);
    - nearby: both have coordinates, within limits.radius_m.
    """
    j = Judgement()
    age = abs(new.received_at - old.received_at)
    if new.phone and new.phone == old.phone and not old.confidential and age <= limits.same_caller:
        j.reasons.append({"kind": "same_caller", "days_apart": age.days})
        j.score += WEIGHTS["same_caller"]
    if (
        new.area
        and new.topic
        and (new.area, new.topic) == (old.area, old.topic)
        and old.is_open
        and age <= limits.open_window
    ):
        j.reasons.append(
            {"kind": "same_area_topic_open", "hours_apart": int(age / timedelta(hours=1))}
        )
        j.score += WEIGHTS["same_area_topic_open"]
    ratio = text_ratio(new.text, old.text)
    if ratio >= limits.text_min_ratio:
        j.reasons.append({"kind": "similar_text", "ratio": round(ratio)})
        j.score += WEIGHTS["similar_text"] * ratio / 100
    if None not in (new.latitude, new.longitude, old.latitude, old.longitude):
        metres = distance_m(new.latitude, new.longitude, old.latitude, old.longitude)  # type: ignore[arg-type]
        if metres <= limits.radius_m:
            j.reasons.append({"kind": "nearby", "metres": round(metres)})
            j.score += WEIGHTS["nearby"]
    j.score = round(min(j.score, 1.0), 3)
    return j
