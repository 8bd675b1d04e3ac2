"""The intake issue's yardstick: a bare FastAPI + SQLModel handler inserting three rows.

Nothing of Hotline runs here: no auth, area lookup, routing, SLA or idempotency. Run it on the
same machine as the real service to see what the full intake costs above the bare minimum:

    psql -h 127.0.0.1 -U postgres -c 'CREATE DATABASE bare_reference'
    BARE_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/bare_reference \\
      .venv/bin/python bench/bare_reference.py --workers 2 --port 8023
    TOKEN=x wrk -t1 -c32 -d15s --latency -s bench/intake.lua http://127.0.0.1:8023
    .venv/bin/python bench/intake.py --url http://127.0.0.1:8023 --api-key x --requests 10000

Launched this way (not with `uvicorn bench.bare_reference:app` directly) the figure can be
trusted to come from every worker asked for:
- the tables are created once, before the workers start (a throwaway database; no
  migrations). Each worker creating them on start raced on a fresh database: one worker died
  and the yardstick ran on the other;
- a worker that dies stops the whole server with exit status 1 and an error naming it, rather
  than being replaced quietly;
- at shutdown each worker logs how many tickets it created, so a lopsided split shows.
"""

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated

import uvicorn
from fastapi import Depends, FastAPI
from pydantic import BaseModel, ConfigDict
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel
from uvicorn.supervisors.multiprocess import Multiprocess

logger = logging.getLogger("uvicorn.error")

URL = os.environ.get(
    "BARE_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/bare_reference"
)
engine = create_async_engine(URL, pool_size=20)
sessions = async_sessionmaker(engine, expire_on_commit=False)


class Bare(SQLModel, registry=registry()):
    """Tables of their own: the launcher's module and the workers' import of it (the same file
    loaded twice in a spawned worker) must not define them in one shared MetaData."""


class BareTicket(Bare, table=True):
    id: int | None = Field(default=None, primary_key=True)
    channel: str
    description: str
    area: str | None = None
    created_at: datetime


class BareAssignment(Bare, table=True):
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="bareticket.id")
    unit: str
    assigned_at: datetime


class BareEvent(Bare, table=True):
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="bareticket.id")
    kind: str
    at: datetime


class TicketIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    channel: str
    description: str
    area: str | None = None


created = 0  # tickets this worker created, logged at shutdown


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    async with engine.connect() as conn:
        tables = set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
    missing = set(Bare.metadata.tables) - tables
    if missing:
        raise RuntimeError(
            f"tables {sorted(missing)} are missing: start the yardstick with "
            "`python bench/bare_reference.py`, which creates them before its workers start"
        )
    yield
    logger.info("worker [%d] created %d tickets", os.getpid(), created)
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
    global created
    created += 1
    return {"id": ticket.id, "channel": ticket.channel, "created_at": now.isoformat()}


async def create_tables() -> None:
    """Create the three tables if missing; run once, before any worker starts."""
    async with engine.begin() as conn:
        await conn.run_sync(Bare.metadata.create_all)
    await engine.dispose()  # the workers are forked: they must not share its connections


class LoudSupervisor(Multiprocess):
    """uvicorn's supervisor, except that a worker that dies ends the run with an error instead
    of being replaced: a replacement would hide that part of the figure came from fewer
    workers. `lost` says which worker died and how."""

    lost: str | None = None

    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return
        for process in self.processes:
            if not process.process.is_alive():
                self.lost = f"worker [{process.pid}] exited with status {process.exitcode}"
                logger.error("%s: stopping the server; discard this run's figures", self.lost)
                self.should_exit.set()
                return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8023)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(create_tables())
    config = uvicorn.Config(
        "bench.bare_reference:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        loop="uvloop",
        http="httptools",
        access_log=False,
    )
    supervisor = LoudSupervisor(config, sockets=[config.bind_socket()])
    supervisor.run()
    if supervisor.lost:
        sys.exit(f"bare_reference: {supervisor.lost}")


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    main()
