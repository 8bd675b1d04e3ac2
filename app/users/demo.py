"""Demo users for a development install: one per role, plus agents for two wards."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.users.models import User
from app.users.service import create_user

# (username, password, role, units) — listed in the README. Never created in production.
DEMO_USERS = [
    ("operator", "operator1022", "operator", []),
    ("supervisor", "supervisor1022", "supervisor", []),
    ("admin", "admin1022", "admin", []),
    ("agent.tongdai", "agent1022", "unit_agent", ["tong-dai-1022"]),
    ("agent.caugiay", "agent1022", "unit_agent", ["ubnd-phuong-cau-giay"]),
    ("agent.badinh", "agent1022", "unit_agent", ["ubnd-phuong-ba-dinh"]),
]


async def ensure_demo_users(session: AsyncSession, *, known_units: set[str], now: datetime) -> int:
    """Create the demo users that do not exist yet; how many were created."""
    existing = set((await session.scalars(select(User.username))).all())
    created = 0
    for username, password, role, units in DEMO_USERS:
        if username in existing:
            continue
        await create_user(
            session,
            username=username,
            password=password,
            role=role,
            units=units,
            full_name=None,
            known_units=known_units,
            now=now,
        )
        created += 1
    return created
