"""The intake issue's yardstick: a bare FastAPI + SQLModel handler inserting three rows.

Nothing of Hotline runs here: no auth, area lookup, routing, SLA or idempotency. Run it on the
same machine as the real service to see what the full intake costs above the bare minimum:

    psql -h 127.0.0.1 -U postgres -c 'CREATE DATABASE bare_reference'
    BARE_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/bare_reference \\
      .venv/bin/uvicorn bench.bare_reference:app --workers 2 --port 8023 \\
      --loop uvloop --http httptools --no-access-log
    TOKEN=x wrk -t1 -c32 -d15s --latency -s bench/intake.lua http://127.0.0.1:8023

The tables are created on start (a throwaway database; no migrations).
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, FastAPI
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlmodel import Field, SQLModel

URL = os.environ.get(
    "BARE_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/bare_reference"
)
engine = create_async_engine(URL, pool_size=20)
sessions = async_sessionmaker(engine, expire_on_commit=False)


class BareTicket(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    channel: str
    description: str
    area: str | None = None
    created_at: datetime


class BareAssignment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="bareticket.id")
    unit: str
    assigned_at: datetime


class BareEvent(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="bareticket.id")
    kind: str
    at: datetime


class TicketIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    channel: str
    description: str
    area: str | None = None


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    async with engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
    yield
    await engine.dispose()


app = FastAPI(lifespan=lifespan)


async def get_session() -> AsyncIterator[AsyncSession]:
    async with sessions() as session:
        yield session


@app.post("/api/v1/tickets", status_code=201)
async def create(body: TicketIn, session: Annotated[AsyncSession, Depends(get_session)]) -> dict:
    now = datetime.now(UTC)
    ticket = BareTicket(
        channel=body.channel, description=body.description, area=body.area, created_at=now
    )
    session.add(ticket)
    await session.flush()
    session.add(BareAssignment(ticket_id=ticket.id, unit="tong-dai-1022", assigned_at=now))
    session.add(BareEvent(ticket_id=ticket.id, kind="created", at=now))
    await session.commit()
    return {"id": ticket.id, "channel": ticket.channel, "created_at": now.isoformat()}
