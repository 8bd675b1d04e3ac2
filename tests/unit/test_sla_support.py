"""Shared helpers for the SLA policy and state tests (no tests here)."""

import textwrap
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from app.catalog.catalog import Catalog
from app.catalog.loader import load_catalog
from app.sla import SlaConfig, load_sla

ROOT = Path(__file__).resolve().parents[2]
RULES_DIR = ROOT / "routing_rules"
HCM = ZoneInfo("Asia/Ho_Chi_Minh")
H = 3600
M = 60

# A valid calendars section for hand-written test configs.
CALENDARS = """\
calendars:
  office:
    weekly:
      mon-fri: "08:00-12:00, 13:30-17:00"
  24x7:
    always_open: true
"""


@cache
def hanoi() -> Catalog:
    return load_catalog(RULES_DIR)


@cache
def shipped() -> SlaConfig:
    """The sla.yaml that ships in routing_rules/."""
    return load_sla(RULES_DIR, hanoi())


def loc(y, mo, d, h=0, mi=0, s=0) -> datetime:
    """A Hanoi wall-clock time, as a UTC instant."""
    return datetime(y, mo, d, h, mi, s, tzinfo=HCM).astimezone(UTC)


def write_sla(directory: Path, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "sla.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return directory


def policy_and_calendar(unit_code, topic=None, priority="normal", channel="phone", **kw):
    """What the service does: the unit's policy and calendar from the shipped config."""
    config = shipped()
    unit = hanoi().units[unit_code]
    policy = config.policy_for(unit.code, unit.kind, topic, priority, channel, **kw)
    return policy, config.calendar_for(policy, unit)
