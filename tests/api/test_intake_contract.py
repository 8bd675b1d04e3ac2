"""One intake contract, two adapters (app.tickets.intake_rows): the same ticket written through
PostgreSQL's one statement and through the generic inserts lands as the same rows, the rows the
contract lays out, with their outbox rows in the same transaction. On SQLite only the generic
adapter can run; it is held to the contract's rows all the same."""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.db import field_values
from app.outbox.models import OutboxMessage
from app.outbox.types import EVENT_TYPES
from app.tickets.intake_pg import write_intake_pg
from app.tickets.intake_rows import (
    NEW_ASSIGNMENT,
    NEW_TICKET,
    IntakeRows,
    RowsToWrite,
    rows_to_write,
)
from app.tickets.models import Assignment, CoHandler, IdempotencyKey, Ticket, TicketEvent
from app.tickets.repository import write_intake_generic

Adapter = Callable[[Any, RowsToWrite], Awaitable[tuple[int, int | None] | None]]
RECEIVED = datetime(2026, 11, 27, 1, 30, tzinfo=UTC)  # 08:30 in Hanoi
NOW = RECEIVED + timedelta(minutes=2)


def _intake(*, key: str | None = "contract-1", assigned: bool = True) -> IntakeRows:
    """A ticket as the service hands it over: every column, the planned assignment, a co-handler,
    the two intake events and an idempotency key."""
    unit = "ubnd-phuong-cau-giay" if assigned else None
    ticket = Ticket(
        **{
            "channel": "phone",
            "status": "assigned" if assigned else "new",
            "priority": "normal",
            "caller_name": "Nguyễn Văn An",
            "caller_phone": "+84912345678",
            "description": "Rác thải ùn ứ đầu ngõ 25 Trần Thái Tông",
            "search_text": "rac thai un u dau ngo 25 tran thai tong",
            "topic_code": "moi-truong.rac-thai",
            "area_code": "phuong-cau-giay",
            "area_resolution": {"input": "Cầu Giấy", "outcome": "resolved"},
            "address": "Ngõ 25 Trần Thái Tông",
            "latitude": 21.0362,
            "longitude": 105.7906,
            "tags": ["goi-lai"],
            "callback_requested": True,
            "received_at": RECEIVED,
            "created_at": NOW,
            "updated_at": NOW,
            "last_event_at": RECEIVED,
            "current_unit_code": unit,
            "sla_due_at": RECEIVED + timedelta(hours=8) if assigned else None,
            "sla_warn_at": RECEIVED + timedelta(hours=6) if assigned else None,
            "created_by": "operator",
        },
    )
    assignment = None
    if assigned:
        assignment = Assignment(
            **{
                "ticket_id": 0,
                "unit_code": unit,
                "assigned_at": RECEIVED,
                "rule_id": "ward-committee",
                "ruleset_version": "test",
                "acknowledge_due_at": RECEIVED + timedelta(hours=2),
                "resolve_due_at": RECEIVED + timedelta(hours=8),
            },
        )

    def event(kind: str, assignment_id: object, details: dict[str, Any]) -> dict[str, Any]:
        return {
            "ticket_id": 0,
            "assignment_id": assignment_id,
            "kind": kind,
            "occurred_at": RECEIVED,
            "recorded_at": NOW,
            "actor": "operator",
            "details": details,
        }

    events = [event("created", None, {"channel": "phone"})]
    if assigned:
        events.append(
            event("assigned", NEW_ASSIGNMENT, {"unit": unit, "co_handlers": ["cong-an-ha-noi"]})
        )
    else:
        events.append(event("unrouted", None, {}))
    return IntakeRows(
        ticket=field_values(ticket),
        assignment=field_values(assignment) if assignment else None,
        co_handlers=("cong-an-ha-noi",) if assigned else (),
        events=events,
        key=(
            {"actor": "operator", "key": key, "request_hash": "ab" * 32, "created_at": NOW}
            if key
            else None
        ),
    )


async def _landed(session: Any, ticket_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every row of the ticket, by table, with the ids the database drew put back as NEW_TICKET
    and NEW_ASSIGNMENT (an outbox row's event as its position in the history)."""
    tables = {
        "idempotency_key": IdempotencyKey.__table__,
        "ticket": Ticket.__table__,
        "assignment": Assignment.__table__,
        "co_handler": CoHandler.__table__,
        "ticket_event": TicketEvent.__table__,
    }
    connection = await session.connection()
    found: dict[str, list[dict[str, Any]]] = {}
    for name, table in tables.items():
        own = table.c.id if name == "ticket" else table.c.ticket_id
        in_order = select(table).where(own == ticket_id).order_by(*table.primary_key.columns)
        rows = await connection.execute(in_order)
        found[name] = [dict(row) for row in rows.mappings()]
    new_ids = {("ticket", ticket_id): NEW_TICKET}
    new_ids.update((("assignment", a["id"]), NEW_ASSIGNMENT) for a in found["assignment"])
    positions = {e["id"]: i for i, e in enumerate(found["ticket_event"])}
    outbox = OutboxMessage.__table__
    messages = await connection.execute(
        select(outbox).where(outbox.c.ticket_id == ticket_id).order_by(outbox.c.id)
    )
    found["outbox_message"] = [
        {**dict(m), "event_id": positions[m["event_id"]]} for m in messages.mappings()
    ]
    for rows in found.values():
        for row in rows:
            row.pop("id", None)
            for column in ("ticket_id", "assignment_id"):
                if column in row and row[column] is not None:
                    row[column] = new_ids[(column.removesuffix("_id"), row[column])]
    return {name: rows for name, rows in found.items() if rows}


def _contract(rows: RowsToWrite) -> dict[str, list[dict[str, Any]]]:
    """The rows the contract lays out, and the outbox row of each announced event."""
    expected = dict(rows.tables())
    expected["outbox_message"] = [
        {
            "type": EVENT_TYPES[e["kind"]],
            "ticket_id": NEW_TICKET,
            "event_id": i,
            "data": None,
            "created_at": e["recorded_at"],
            "dispatched_at": None,
        }
        for i, e in enumerate(rows.events)
        if e["kind"] in EVENT_TYPES
    ]
    return expected


def _adapters(is_postgres: bool) -> dict[str, Adapter]:
    adapters: dict[str, Adapter] = {"generic": write_intake_generic}
    if is_postgres:
        adapters["postgresql"] = write_intake_pg
    return adapters


async def _write_and_read(app: Any, adapter: Adapter, intake: IntakeRows) -> Any:
    """Write through the adapter in a transaction, read back what landed, try the same key
    again (a replay: nothing more is written), and roll back."""
    async with app.state.runtime.session_factory() as session:
        await session.connection()  # begun: the adapter writes in it, the test rolls it back
        written = await adapter(session, rows_to_write(intake))
        assert written is not None
        ticket_id, assignment_id = written
        landed = await _landed(session, ticket_id)
        if intake.key is not None:
            assert await adapter(session, rows_to_write(intake)) is None
            assert await _landed(session, ticket_id) == landed
        await session.rollback()
    return landed, assignment_id


async def test_both_adapters_write_the_rows_of_the_contract(client, app, is_postgres):
    for shape in (
        {"key": "contract-1", "assigned": True},
        {"key": None, "assigned": False},
    ):
        intake = _intake(**shape)
        expected = _contract(rows_to_write(intake))
        landed = {}
        for name, adapter in _adapters(is_postgres).items():
            landed[name], assignment_id = await _write_and_read(app, adapter, intake)
            assert landed[name] == expected, (name, shape)
            assert (assignment_id is not None) == shape["assigned"]
        if is_postgres:
            assert landed["postgresql"] == landed["generic"]


async def test_a_rolled_back_intake_leaves_no_row_and_no_outbox_message(client, app, is_postgres):
    # The session began a transaction but ran nothing on it yet: PostgreSQL's statement must
    # still join it rather than commit on its own (the driver defers BEGIN to the first query).
    for adapter in _adapters(is_postgres).values():
        await _write_and_read(app, adapter, _intake())
        async with app.state.runtime.session_factory() as session:
            for model in (
                Ticket,
                Assignment,
                CoHandler,
                TicketEvent,
                IdempotencyKey,
                OutboxMessage,
            ):
                assert (await session.scalars(select(model))).all() == []
