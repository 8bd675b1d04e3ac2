"""What the SLA report reads from each assignment: when each target was done, and how long the
unit took on the SLA clock (app.sla.done_times / response_seconds)."""

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.sla import done_times, response_seconds, sla_status
from tests.unit.test_sla_support import loc, policy_and_calendar

FRIDAY = loc(2026, 3, 13, 16, 50)
MONDAY_0830 = loc(2026, 3, 16, 8, 30)


def ward():
    return policy_and_calendar("ubnd-phuong-ba-dinh", "moi-truong.rac-thai", "normal")


def seconds(**facts):
    policy, calendar = ward()
    return response_seconds(assigned_at=FRIDAY, policy=policy, calendar=calendar, **facts)


def test_nothing_done_yet():
    assert done_times() == (None, None)
    assert seconds() == (None, None)


def test_acknowledged_over_the_weekend_counts_working_minutes_only():
    # 10 minutes on Friday, 30 on Monday morning.
    assert seconds(acknowledged_at=MONDAY_0830) == (40 * 60, None)
    assert done_times(acknowledged_at=MONDAY_0830) == (MONDAY_0830, None)


def test_a_rejection_is_the_response_to_both_targets():
    facts = {"ended_at": MONDAY_0830, "outcome": "rejected"}
    assert done_times(**facts) == (MONDAY_0830, MONDAY_0830)
    assert seconds(**facts) == (40 * 60, 40 * 60)


def test_cancelled_is_no_response():
    facts = {"ended_at": MONDAY_0830, "outcome": "cancelled"}
    assert done_times(**facts) == (None, None)
    assert seconds(**facts) == (None, None)


def test_waiting_for_the_citizen_is_left_out_of_the_resolve_time():
    resolved = loc(2026, 3, 18, 11)
    facts = {
        "acknowledged_at": MONDAY_0830,
        "resolved_at": resolved,
        "ended_at": resolved,
        "outcome": "resolved",
    }
    # Waiting from Monday 10:00 to Wednesday 10:00; worked: 10m Fri, 2h Mon, 1h Wed.
    pause = (loc(2026, 3, 16, 10), loc(2026, 3, 18, 10))
    assert seconds(pauses=[pause], **facts) == (40 * 60, (10 + 120 + 60) * 60)


@settings(max_examples=60, deadline=None)
@given(
    ack=st.integers(min_value=0, max_value=20 * 24 * 60),
    extra=st.integers(min_value=0, max_value=20 * 24 * 60),
    outcome=st.sampled_from(["resolved", "rejected", "transferred", None]),
)
def test_equals_the_elapsed_time_sla_status_reports(ack, extra, outcome):
    policy, calendar = ward()
    acknowledged = FRIDAY + timedelta(minutes=ack)
    end = acknowledged + timedelta(minutes=extra)
    facts: dict[str, datetime | str | None] = {"acknowledged_at": acknowledged}
    if outcome:
        facts.update(ended_at=end, outcome=outcome)
        if outcome == "resolved":
            facts["resolved_at"] = end
    got = response_seconds(assigned_at=FRIDAY, policy=policy, calendar=calendar, **facts)
    status = sla_status(assigned_at=FRIDAY, policy=policy, calendar=calendar, now=end, **facts)
    assert got.acknowledge == status.acknowledge.elapsed_seconds
    assert got.resolve == (status.resolve.elapsed_seconds if outcome else None)
    assert done_times(**facts) == (status.acknowledge.done_at, status.resolve.done_at)
