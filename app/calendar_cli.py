"""`hotline calendar show YEAR`: each SLA calendar's effective days off and extra working
days in a year, marked as coming from the holidays library or from an sla.yaml override."""

import sys
from pathlib import Path

from app.catalog.loader import load_catalog
from app.sla import SlaConfigError, load_sla
from app.sla.calendar_year import year_exceptions


def show_calendars(year: int, only: list[str] | None, rules_dir: Path) -> int:
    """Print the year of the calendars named in `only` (default all); the exit status."""
    try:
        config = load_sla(rules_dir, load_catalog(rules_dir))
    except SlaConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    names = only or list(config.calendars)
    unknown = [n for n in names if n not in config.calendars]
    if unknown:
        print(f"unknown calendar(s): {', '.join(unknown)}; known: {', '.join(config.calendars)}")
        return 1
    for name in names:
        cal = config.calendars[name]
        print(f"{name} ({cal.tz}), {year}")
        if cal.always_open:
            print("  always open (24x7): no days off, holidays do not apply")
            continue
        days = year_exceptions(cal, year)
        for title, worked in (("days off", False), ("extra working days", True)):
            print(f"  {title}:")
            rows = [d for d in days if d.worked == worked]
            for d in rows:
                hours = ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in d.periods)
                what = f"{hours}  " if worked else ""
                print(f"    {d.day} {d.day:%a}  [{d.source:8}]  {what}{d.reason}")
            if not rows:
                print("    (none)")
    return 0
