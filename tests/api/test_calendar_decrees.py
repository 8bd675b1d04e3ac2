"""Holiday decrees the holidays package lacks, shipped as sla.yaml overrides (issue #10)."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from tests.conftest import create_ticket

HN = ZoneInfo("Asia/Ho_Chi_Minh")


async def test_new_year_2026_swap_moves_a_ward_due_to_monday(client, clock):
    # Wed 31 Dec 2025 16:00, a ward committee, 8 working hours to acknowledge: 1h on Wednesday,
    # Thursday is New Year's Day, Friday 2 Jan is swapped off (12729/VPCP-KGVX), then Monday.
    clock.now = datetime(2026, 1, 6, 9, 0, tzinfo=HN)
    ticket = await create_ticket(client, received_at="2025-12-31T16:00:00+07:00")
    current = ticket["current_assignment"]
    assert current["unit"]["code"] == "ubnd-phuong-cau-giay"
    assert current["acknowledge_due_at"] == "2026-01-05T16:30:00+07:00"  # was Fri 2 Jan 16:30


async def test_saturday_10_january_2026_is_worked(client):
    office = client._transport.app.state.runtime.sla.calendars["office"]
    assert office.periods_on(date(2026, 1, 2)) == ()
    assert office.local_periods(date(2026, 1, 10)) == office.standard_periods
    assert "12729/VPCP-KGVX" in office.override_notes[date(2026, 1, 2)]
