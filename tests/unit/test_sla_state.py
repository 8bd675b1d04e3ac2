"""SLA state of an assignment over a timeline, from the shipped sla.yaml through to due times."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.sla import SlaState, due_times, sla_status, warning_times
from tests.unit.test_sla_support import H, M, hanoi, loc, policy_and_calendar, shipped

S = SlaState
FRIDAY = loc(2026, 3, 13, 16, 50)  # a plain Friday, 16:50 in Hanoi


def ward():
    """A ward committee, normal priority: the `ubnd` policy (8h / 5d) on `office`."""
    return policy_and_calendar("ubnd-phuong-ba-dinh", "moi-truong.rac-thai", "normal")


def status(now, start=FRIDAY, which=ward, **facts):
    policy, calendar = which()
    return sla_status(assigned_at=start, policy=policy, calendar=calendar, now=now, **facts)


# -- the Friday 16:50 + 8 working hours case, whole path --------------------------------------


@pytest.mark.parametrize(
    ("start", "ack_due", "ack_warn", "resolve_due"),
    [
        # 10m Friday, 7h30 Monday, 20m Tuesday. 80% (6h24m): 10m + 4h + 2h14m -> Mon 15:44.
        # 5d = 37h30: the same clock time five working days later.
        (FRIDAY, loc(2026, 3, 17, 8, 20), loc(2026, 3, 16, 15, 44), loc(2026, 3, 20, 16, 50)),
        # The Friday before Tết 2026 (Mon 16 - Fri 20 Feb off): the clock resumes Mon 23 Feb.
        (
            loc(2026, 2, 13, 16, 50),
            loc(2026, 2, 24, 8, 20),
            loc(2026, 2, 23, 15, 44),
            loc(2026, 2, 27, 16, 50),
        ),
        # Received on a Saturday: the clock starts Monday 08:00.
        (
            loc(2026, 3, 14, 10),
            loc(2026, 3, 17, 8, 30),
            loc(2026, 3, 16, 15, 54),
            loc(2026, 3, 20, 17),
        ),
    ],
)
def test_ward_due_times_through_the_policy(start, ack_due, ack_warn, resolve_due):
    policy, calendar = ward()
    assert (policy.id, calendar.code) == ("ubnd", "office")
    assert due_times(start, [], policy, calendar) == (ack_due, resolve_due)
    assert warning_times(start, [], policy, calendar).acknowledge == ack_warn


def test_urgent_ward_ticket():
    policy, calendar = policy_and_calendar("ubnd-phuong-ba-dinh", None, "urgent")
    assert policy.id == "ubnd-khan"
    # 4h: 10m Friday, 3h50 Monday morning. 2d = 15h: Fri 10m, Mon 7h30, Tue 7h20.
    assert due_times(FRIDAY, [], policy, calendar) == (
        loc(2026, 3, 16, 11, 50),
        loc(2026, 3, 17, 16, 50),
    )


# -- on_track -> warning -> breached ----------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "ack", "resolve", "ack_elapsed"),
    [
        (FRIDAY, S.ON_TRACK, S.ON_TRACK, 0),
        (loc(2026, 3, 13, 16, 55), S.ON_TRACK, S.ON_TRACK, 5 * M),
        (loc(2026, 3, 14, 10), S.ON_TRACK, S.ON_TRACK, 10 * M),  # weekend: no time passes
        (loc(2026, 3, 16, 12, 45), S.ON_TRACK, S.ON_TRACK, 4 * H + 10 * M),  # lunch break
        (loc(2026, 3, 16, 15, 43), S.ON_TRACK, S.ON_TRACK, 6 * H + 23 * M),
        (loc(2026, 3, 16, 15, 44), S.WARNING, S.ON_TRACK, 6 * H + 24 * M),  # 80% of 8h
        (loc(2026, 3, 17, 8, 20), S.WARNING, S.ON_TRACK, 8 * H),  # exactly due: not late yet
        (loc(2026, 3, 17, 8, 20, 1), S.BREACHED, S.ON_TRACK, 8 * H + 1),
        (loc(2026, 3, 19, 16, 50), S.BREACHED, S.WARNING, 30 * H),  # 80% of 37h30
        (loc(2026, 3, 20, 16, 50, 1), S.BREACHED, S.BREACHED, 37 * H + 30 * M + 1),
    ],
)
def test_open_assignment_timeline(now, ack, resolve, ack_elapsed):
    result = status(now)
    assert (result.acknowledge.state, result.resolve.state) == (ack, resolve)
    assert result.acknowledge.elapsed_seconds == ack_elapsed
    assert result.acknowledge.remaining_seconds == 8 * H - ack_elapsed
    assert result.acknowledge.due_at == loc(2026, 3, 17, 8, 20)
    assert result.resolve.due_at == loc(2026, 3, 20, 16, 50)
    assert result.state == max((ack, resolve), key=[S.ON_TRACK, S.WARNING, S.BREACHED].index)
    assert not result.paused


def test_remaining_goes_negative_once_overdue_and_stops_over_the_weekend():
    for now in (loc(2026, 3, 20, 17), loc(2026, 3, 22, 9)):  # Friday closing time, Sunday
        result = status(now)
        assert result.resolve.state is S.BREACHED
        assert result.resolve.remaining_seconds == -10 * M  # 10 working minutes overdue
        assert result.acknowledge.remaining_seconds == 8 * H - (37 * H + 40 * M)


# -- met and missed ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("acknowledged_at", "state", "elapsed"),
    [
        (loc(2026, 3, 13, 16, 59), S.MET, 9 * M),
        (loc(2026, 3, 14, 9), S.MET, 10 * M),  # on Saturday: nothing elapsed since Friday
        (loc(2026, 3, 17, 8, 20), S.MET, 8 * H),  # at the due instant: on time
        (loc(2026, 3, 17, 8, 20, 1), S.MISSED, 8 * H + 1),
        (loc(2026, 3, 18, 9), S.MISSED, 16 * H + 10 * M),  # 10m + Mon + Tue + 1h
    ],
)
def test_acknowledge_met_or_missed(acknowledged_at, state, elapsed):
    result = status(loc(2026, 3, 30), acknowledged_at=acknowledged_at)
    assert result.acknowledge.state is state
    assert result.acknowledge.done_at == acknowledged_at
    assert result.acknowledge.elapsed_seconds == elapsed
    assert result.resolve.state is S.BREACHED  # nobody resolved it


def test_resolved_on_time_then_reopened_record_stays():
    resolved = loc(2026, 3, 20, 16, 50)
    facts = {
        "acknowledged_at": loc(2026, 3, 16, 9),
        "resolved_at": resolved,
        "ended_at": resolved,
        "outcome": "resolved",
    }
    for now in (resolved, loc(2026, 4, 30)):  # judged once; later instants change nothing
        result = status(now, **facts)
        assert (result.acknowledge.state, result.resolve.state) == (S.MET, S.MET)
        assert result.resolve.elapsed_seconds == 37 * H + 30 * M
        assert result.resolve.remaining_seconds == 0
        assert result.state is S.MET
    late = status(loc(2026, 4, 30), **{**facts, "resolved_at": resolved + timedelta(seconds=1)})
    assert late.resolve.state is S.MISSED
    assert late.state is S.MISSED


# -- a rejection or transfer is the unit's response -------------------------------------------


@pytest.mark.parametrize(
    ("ended_at", "outcome", "ack", "resolve"),
    [
        (loc(2026, 3, 16, 10), "rejected", S.MET, S.MET),
        (loc(2026, 3, 18, 10), "rejected", S.MISSED, S.MET),  # late reply, in time to resolve
        (loc(2026, 3, 23, 8), "transferred", S.MISSED, S.MISSED),  # handing on late is late
        (loc(2026, 3, 16, 10), "transferred", S.MET, S.MET),
        # Ended without the unit's response: no verdict unless already overdue.
        (loc(2026, 3, 16, 10), "cancelled", S.ENDED, S.ENDED),
        (loc(2026, 3, 18, 10), "duplicate", S.MISSED, S.ENDED),
        (loc(2026, 3, 18, 10), None, S.MISSED, S.ENDED),
    ],
)
def test_end_of_assignment(ended_at, outcome, ack, resolve):
    result = status(loc(2026, 4, 30), ended_at=ended_at, outcome=outcome)
    assert (result.acknowledge.state, result.resolve.state) == (ack, resolve)
    responded = outcome in ("rejected", "transferred")
    assert result.resolve.done_at == (ended_at if responded else None)
    # The clock stopped at the end: elapsed does not grow afterwards.
    assert result.resolve.elapsed_seconds == status(ended_at).resolve.elapsed_seconds
    assert not result.paused


def test_headline_for_ended_assignments():
    assert status(loc(2026, 4, 1), ended_at=loc(2026, 3, 16, 10), outcome="cancelled").state is (
        S.ENDED
    )
    rejected = status(loc(2026, 4, 1), ended_at=loc(2026, 3, 18, 10), outcome="rejected")
    assert rejected.state is S.MISSED


# -- pauses (waiting for the citizen) ---------------------------------------------------------

ACKED = loc(2026, 3, 16, 9)
ASKED = loc(2026, 3, 16, 10)  # request-info: 2h10m of resolve time used (10m Fri + 2h Mon)
ANSWERED = loc(2026, 3, 18, 10)  # info-received, two working days later


def test_open_pause_stops_the_clock_and_hides_the_due():
    result = status(loc(2026, 3, 18, 9), acknowledged_at=ACKED, pauses=[(ASKED, None)])
    ack, resolve = result.acknowledge, result.resolve
    assert ack.state is S.MET and ack.due_at == loc(2026, 3, 17, 8, 20)
    assert resolve.state is S.PAUSED
    assert resolve.due_at is None and resolve.warn_at is None
    assert resolve.elapsed_seconds == 2 * H + 10 * M
    assert resolve.remaining_seconds == 37 * H + 30 * M - (2 * H + 10 * M)
    # If the citizen answered now (Wed 09:00), 35h20 would remain: due Tue 24 Mar 15:50.
    assert resolve.earliest_due_at == loc(2026, 3, 24, 15, 50)
    assert result.paused and result.state is S.PAUSED


def test_due_times_while_paused_and_after_resume():
    policy, calendar = ward()
    # Stored while paused: the resolve due is unknown (so the scan cannot flag it);
    # the acknowledge due is frozen once acknowledged.
    assert due_times(FRIDAY, [(ASKED, None)], policy, calendar, acknowledged_at=ACKED) == (
        loc(2026, 3, 17, 8, 20),
        None,
    )
    # Without acknowledged_at a pause before the acknowledge due hides that due too.
    assert due_times(FRIDAY, [(ASKED, None)], policy, calendar).acknowledge is None
    # Recomputed on resume: pushed later by the working time spent waiting (Mon 10:00 to
    # Wed 10:00 = 5h30 + 7h30 + 2h = 15h): from Fri 20 Mar 16:50 to Tue 24 Mar 16:50.
    resumed = due_times(FRIDAY, [(ASKED, ANSWERED)], policy, calendar, acknowledged_at=ACKED)
    assert resumed == (loc(2026, 3, 17, 8, 20), loc(2026, 3, 24, 16, 50))
    after = status(loc(2026, 3, 18, 11), acknowledged_at=ACKED, pauses=[(ASKED, ANSWERED)])
    assert after.resolve.due_at == resumed.resolve
    assert after.resolve.state is S.ON_TRACK
    assert after.resolve.elapsed_seconds == 2 * H + 10 * M + 1 * H


def test_inside_a_closed_pause_is_paused():
    pause = (loc(2026, 3, 16, 10), loc(2026, 3, 16, 11))
    result = status(loc(2026, 3, 16, 10, 30), acknowledged_at=ACKED, pauses=[pause])
    assert result.resolve.state is S.PAUSED
    assert result.resolve.due_at == loc(2026, 3, 23, 8, 50)  # one working hour later
    assert result.resolve.earliest_due_at is None


def test_pause_after_the_due_does_not_lift_a_breach():
    pause = (loc(2026, 3, 23, 9), None)
    result = status(loc(2026, 3, 23, 10), acknowledged_at=ACKED, pauses=[pause])
    assert result.resolve.state is S.BREACHED
    assert result.resolve.due_at == loc(2026, 3, 20, 16, 50)
    assert result.paused  # the clock is stopped, but the verdict stands
    assert result.state is S.BREACHED


def test_resolve_during_pause_is_judged_with_the_pause():
    resolved = loc(2026, 3, 24, 16, 50)  # the extended due exactly
    result = status(
        loc(2026, 4, 30),
        acknowledged_at=ACKED,
        resolved_at=resolved,
        ended_at=resolved,
        outcome="resolved",
        pauses=[(ASKED, ANSWERED)],
    )
    assert result.resolve.state is S.MET


# -- back-dated tickets -----------------------------------------------------------------------


def test_received_at_back_dating_starts_the_clock_then():
    # Logged on Wednesday for a call received Friday 16:50: the first assignment's clock
    # starts at received_at, so the acknowledge target is already breached when typed in.
    typed_in = loc(2026, 3, 18, 9)
    result = status(typed_in, start=FRIDAY)
    assert result.acknowledge.state is S.BREACHED
    assert result.resolve.state is S.ON_TRACK


# -- 24x7 policies ----------------------------------------------------------------------------


def test_urgent_police_across_midnight_on_tet():
    policy, calendar = policy_and_calendar("cong-an-ha-noi", "an-ninh-trat-tu.gay-roi", "urgent")
    assert (policy.id, calendar.code) == ("khan-cap", "24x7")
    start = loc(2026, 2, 16, 23, 50)  # Giao thừa: holidays do not stop a 24x7 clock
    assert due_times(start, [], policy, calendar) == (
        loc(2026, 2, 17, 0, 5),
        loc(2026, 2, 17, 3, 50),
    )
    timeline = [
        (loc(2026, 2, 17, 0, 1), S.ON_TRACK),
        (loc(2026, 2, 17, 0, 2), S.WARNING),  # 12 of 15 minutes
        (loc(2026, 2, 17, 0, 5), S.WARNING),
        (loc(2026, 2, 17, 0, 5, 1), S.BREACHED),
    ]
    for now, state in timeline:
        assert status(now, start=start, which=lambda: (policy, calendar)).acknowledge.state is state


def test_urgent_power_outage_overnight():
    policy, calendar = policy_and_calendar("evn-ha-noi", "dien.su-co-luoi-dien", "urgent")
    assert policy.id == "dien-nuoc-khan"
    start = loc(2026, 3, 14, 22)  # Saturday night
    assert due_times(start, [], policy, calendar) == (
        loc(2026, 3, 14, 22, 30),
        loc(2026, 3, 15, 6),
    )


def test_routing_rule_requests_khan_cap_at_the_switchboard():
    policy, calendar = policy_and_calendar("tong-dai-1022", "khac", "normal", requested="khan-cap")
    assert (policy.id, calendar.code) == ("khan-cap", "24x7")


def test_calendar_time_acknowledge_with_working_time_resolve():
    policy, calendar = policy_and_calendar("cdc-ha-noi", "y-te.covid", "high")
    assert (policy.id, calendar.code) == ("y-te-khan", "office")
    start = loc(2026, 3, 14, 10)  # Saturday
    # Acknowledge: 2h of plain time. Resolve: 2d = 15h of office time, Mon + Tue.
    assert due_times(start, [], policy, calendar) == (
        loc(2026, 3, 14, 12),
        loc(2026, 3, 17, 17),
    )
    result = status(loc(2026, 3, 14, 11), start=start, which=lambda: (policy, calendar))
    assert result.acknowledge.mode == "calendar"
    assert result.acknowledge.elapsed_seconds == 1 * H
    assert result.resolve.elapsed_seconds == 0
    assert (
        status(
            loc(2026, 3, 14, 12, 1), start=start, which=lambda: (policy, calendar)
        ).acknowledge.state
        is S.BREACHED
    )


def test_naive_datetimes_are_rejected():
    policy, calendar = ward()
    with pytest.raises(ValueError, match="timezone-aware"):
        sla_status(assigned_at=datetime(2026, 3, 13), policy=policy, calendar=calendar, now=FRIDAY)


# -- properties -------------------------------------------------------------------------------

UNITS = ["ubnd-phuong-ba-dinh", "cong-an-ha-noi", "cdc-ha-noi", "tong-dai-1022", "so-xay-dung"]
instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 1), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=0))
offsets = st.integers(0, 20 * 86400)


@st.composite
def setups(draw):
    """A policy (any of the shipped ones) on a unit's calendar, a start and closed pauses."""
    config = shipped()
    policy = draw(st.sampled_from(config.policies))
    unit = hanoi().units[draw(st.sampled_from(UNITS))]
    start = draw(instants)
    pauses = draw(
        st.lists(
            st.tuples(offsets, st.integers(0, 4 * 86400)).map(
                lambda p: (
                    start + timedelta(seconds=p[0]),
                    start + timedelta(seconds=p[0] + p[1]),
                )
            ),
            max_size=3,
        )
    )
    return policy, config.calendar_for(policy, unit), start, pauses


PROPERTY = settings(max_examples=120, deadline=None)
RANK = {S.ON_TRACK: 0, S.WARNING: 1, S.BREACHED: 2}


@PROPERTY
@given(setup=setups(), extra=st.tuples(offsets, st.none() | st.integers(0, 5 * 86400)))
def test_pausing_never_moves_a_due_earlier(setup, extra):
    policy, calendar, start, pauses = setup
    begin = start + timedelta(seconds=extra[0])
    pause = (begin, None if extra[1] is None else begin + timedelta(seconds=extra[1]))
    before = due_times(start, pauses, policy, calendar)
    after = due_times(start, [*pauses, pause], policy, calendar)
    for old, new in zip(before, after, strict=True):
        assert old is not None  # closed pauses always leave a computable due
        assert new is None or new >= old


@PROPERTY
@given(setup=setups(), steps=st.lists(offsets, min_size=2, max_size=8))
def test_state_is_monotone_over_time_for_an_open_assignment(setup, steps):
    policy, calendar, start, pauses = setup
    stored = due_times(start, pauses, policy, calendar)
    warn = warning_times(start, pauses, policy, calendar)
    previous = dict.fromkeys(("acknowledge", "resolve"), 0)
    for step in sorted(steps):
        now = start + timedelta(seconds=step)
        result = sla_status(
            assigned_at=start, policy=policy, calendar=calendar, now=now, pauses=pauses
        )
        for name, due, warn_at in zip(("acknowledge", "resolve"), stored, warn, strict=True):
            target = result.target(name)
            assert target.due_at == due and target.warn_at == warn_at
            assert target.elapsed_seconds + target.remaining_seconds == target.target_seconds
            assert (target.state is S.BREACHED) == (now > due)
            if target.state is S.PAUSED:
                continue  # only a pause may interrupt the sequence
            assert (target.state is not S.ON_TRACK) == (now >= warn_at)
            assert RANK[target.state] >= previous[name]
            previous[name] = RANK[target.state]


@PROPERTY
@given(setup=setups(), done=offsets)
def test_met_exactly_when_done_by_the_due(setup, done):
    policy, calendar, start, pauses = setup
    at = start + timedelta(seconds=done)
    pauses = [(s, min(e, at)) for s, e in pauses if s < at]  # the service ends a pause on resolve
    result = sla_status(
        assigned_at=start,
        policy=policy,
        calendar=calendar,
        now=at + timedelta(days=30),
        acknowledged_at=at,
        resolved_at=at,
        ended_at=at,
        outcome="resolved",
        pauses=pauses,
    )
    ack_due, resolve_due = due_times(start, pauses, policy, calendar, acknowledged_at=at)
    assert result.acknowledge.state is (S.MET if at <= ack_due else S.MISSED)
    assert result.resolve.state is (S.MET if at <= resolve_due else S.MISSED)
    assert result.resolve.due_at == resolve_due
