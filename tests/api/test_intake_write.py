"""Intake writes its rows together or not at all (one statement on PostgreSQL, one transaction
on SQLite), and the statement is built from the table metadata without narrowing any column."""

import asyncio
import re
from datetime import UTC, datetime

from sqlalchemy import func, select, text

from app.routing.schema import Decision
from app.tickets.intake_pg import intake_statement
from app.tickets.models import Assignment, CoHandler, IdempotencyKey, Ticket, TicketEvent
from app.tickets.schemas import TicketCreate
from app.tickets.service import TicketService
from app.users.principal import Principal
from tests.conftest import routing_by, ticket_body


async def _counts(app) -> dict[str, int]:
    async with app.state.runtime.session_factory() as session:
        return {
            model.__tablename__: await session.scalar(select(func.count()).select_from(model))
            for model in (Ticket, Assignment, CoHandler, TicketEvent, IdempotencyKey)
        }


def _routes_with(co_handlers: tuple[str, ...]):
    def route(_facts, _exclude):
        return Decision(
            unit="ubnd-phuong-cau-giay",
            rule_id="test",
            ruleset_version="test",
            co_handlers=co_handlers,
        )

    return route


async def test_a_failing_row_leaves_nothing_behind_and_the_key_free(client, app):
    headers = {"Idempotency-Key": "atomic-1"}
    # The co-handler row is written last among the ticket's rows; an unknown unit breaks its
    # foreign key after the key, ticket and assignment rows went in.
    with routing_by(app, _routes_with(("no-such-unit",))):
        failed = await client.post("/tickets", json=ticket_body(), headers=headers)
    assert failed.status_code == 500
    assert set((await _counts(app)).values()) == {0}

    with routing_by(app, _routes_with(("cong-an-ha-noi",))):
        retried = await client.post("/tickets", json=ticket_body(), headers=headers)
    assert retried.status_code == 201
    assert await _counts(app) == {
        "ticket": 1,
        "assignment": 1,
        "co_handler": 1,
        "ticket_event": 2,
        "idempotency_key": 1,
    }
    ticket = retried.json()
    async with app.state.runtime.session_factory() as session:
        key = await session.get(IdempotencyKey, ("operator", "atomic-1"))
        events = (await session.scalars(select(TicketEvent).order_by(TicketEvent.id))).all()
    assert key is not None and key.ticket_id == ticket["id"]
    assert [(e.kind, e.assignment_id) for e in events] == [
        ("created", None),
        ("assigned", ticket["current_assignment"]["id"]),
    ]
    assert events[1].details["co_handlers"] == ["cong-an-ha-noi"]


def test_statement_names_every_column_and_casts_to_base_types():
    for with_key in (False, True):
        for assigned in (False, True):
            sql = intake_statement(with_key=with_key, assigned=assigned, events=2).sql
            insert = re.search(r"INSERT INTO ticket \(([^)]*)\)", sql)
            assert insert is not None
            assert set(insert.group(1).split(", ")) == {c.name for c in Ticket.__table__.columns}
            # varchar(n) in a cast would cut an over-long value instead of refusing it.
            assert "varchar" not in sql.lower()
            assert ("INTO idempotency_key" in sql) == with_key
            assert ("INTO assignment" in sql) == assigned


async def test_unrouted_intake_leaves_the_ticket_new_with_no_assignment(client, app):
    unrouted = Decision(unit=None, rule_id=None, ruleset_version="t")
    with routing_by(app, lambda _f, _e: unrouted):
        created = await client.post("/tickets", json=ticket_body())
    assert created.status_code == 201
    assert (created.json()["status"], created.json()["current_assignment"]) == ("new", None)
    counts = await _counts(app)
    assert (counts["ticket"], counts["assignment"], counts["ticket_event"]) == (1, 0, 2)


async def test_intake_joins_a_transaction_the_session_began_and_rolls_back_with_it(client, app):
    async with app.state.runtime.session_factory() as session:
        await session.execute(select(func.count()).select_from(Ticket))  # begins a transaction
        service = TicketService(
            session=session,
            catalog=app.state.runtime.catalog,
            router=app.state.runtime.router,
            now=datetime.now(UTC),
            principal=Principal(username="operator", role="operator"),
            sla=app.state.runtime.sla_keeper,
        )
        made = await service.create(TicketCreate(**ticket_body()), "in-tx-1")
        ticket = made.ticket
        assert not made.replayed and ticket.id is not None
        assert await session.get(Ticket, ticket.id) is not None  # visible inside
        await session.rollback()
    assert set((await _counts(app)).values()) == {0}


async def test_intake_recovers_at_once_when_the_server_drops_its_connections(
    client, app, is_postgres
):
    # Several requests at once leave several connections in the pool.
    warm = await asyncio.gather(*(client.post("/tickets", json=ticket_body()) for _ in range(8)))
    assert {r.status_code for r in warm} == {201}
    if is_postgres:  # SQLite has no server to lose
        async with app.state.runtime.engine.connect() as conn:
            await conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
    statuses = [(await client.post("/tickets", json=ticket_body())).status_code for _ in range(6)]
    # The first request may meet a dead pooled connection (503: retry), the next ones do not.
    assert statuses[1:] == [201] * 5 and statuses[0] in (201, 503)
