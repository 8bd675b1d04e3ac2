"""What intake writes, whatever the database: the rows of one new ticket (pure, no I/O).

The ticket service decides everything before anything is written (routing, SLA planning, the
events, the idempotency key) and hands over an `IntakeRows`. `rows_to_write` lays that out as
the rows of each table, in the order they go in, with `NEW_TICKET` and `NEW_ASSIGNMENT` standing
for the ids the database draws while writing them. Two adapters write the same rows:

- PostgreSQL, one statement (app.tickets.intake_pg; it commits on its own, the reason is there);
- any database, one insert per table in the session's transaction
  (app.tickets.repository.write_intake_generic; SQLite uses it).

The contract, which both keep (tests/api/test_intake_contract.py writes one ticket through each
and compares what landed):

1. The idempotency key row is the claim and goes in first. When the key exists already (an
   earlier request, or a concurrent one still running), nothing at all is written: a replay.
   Once the ticket exists, the key row names it (`ticket_id`).
2. The ticket, then its first assignment (when routing chose a unit), then the units informed
   of that assignment (co-handlers), then the events; each event's outbox row
   (app.outbox.capture) in the same transaction.
3. All of it lands or none of it does.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


class NewId:
    """Stands for the id of a row this intake creates, until the database has drawn it."""

    def __init__(self, table: str) -> None:
        self.table = table

    def __repr__(self) -> str:
        return f"<new {self.table} id>"


NEW_TICKET = NewId("ticket")
NEW_ASSIGNMENT = NewId("assignment")


@dataclass(frozen=True)
class IntakeRows:
    """What the ticket service decided for a new ticket, as column values by name.

    ticket: every ticket column (its id is drawn on the way, whatever the value here);
    assignment: every assignment column, or None for a ticket routing could not place (its
    id and ticket_id are filled on the way); co_handlers: unit codes informed of the
    assignment; events: ticket_event rows, `assignment_id` NEW_ASSIGNMENT for the assignment
    being created or None (a new ticket has no other), `ticket_id` filled on the way; key: the
    idempotency_key row (actor, key, request_hash, created_at) or None without a key.
    """

    ticket: dict[str, Any]
    assignment: dict[str, Any] | None
    co_handlers: Sequence[str]
    events: Sequence[dict[str, Any]]
    key: dict[str, Any] | None


@dataclass(frozen=True)
class RowsToWrite:
    """The rows of one intake per table, in write order. No row carries its own id (each is
    drawn by the database); columns pointing at a row of this intake hold NEW_TICKET or
    NEW_ASSIGNMENT."""

    key: dict[str, Any] | None  # idempotency_key: the claim, written first
    ticket: dict[str, Any]
    assignment: dict[str, Any] | None
    co_handlers: list[dict[str, Any]]  # co_handler
    events: list[dict[str, Any]]  # ticket_event, in order; outbox rows follow from them

    def tables(self) -> list[tuple[str, list[dict[str, Any]]]]:
        """(table name, rows) in the order they are written; tables without rows left out."""
        parts = [
            ("idempotency_key", [self.key] if self.key else []),
            ("ticket", [self.ticket]),
            ("assignment", [self.assignment] if self.assignment else []),
            ("co_handler", self.co_handlers),
            ("ticket_event", self.events),
        ]
        return [(name, rows) for name, rows in parts if rows]


def rows_to_write(intake: IntakeRows) -> RowsToWrite:
    """The rows an intake writes (see the module's contract).

    Raises ValueError for an event that names another assignment than the new one (a new
    ticket has none) or co-handlers without an assignment: both are the service's mistakes.
    """
    if intake.co_handlers and intake.assignment is None:
        raise ValueError("co-handlers are informed of an assignment; this ticket has none")
    events = []
    for event in intake.events:
        assignment_id = event["assignment_id"]
        if assignment_id is not None and (
            assignment_id is not NEW_ASSIGNMENT or intake.assignment is None
        ):
            raise ValueError(f"an intake event can only name the new assignment: {event!r}")
        row = {name: value for name, value in event.items() if name != "id"}
        row["ticket_id"] = NEW_TICKET
        events.append(row)
    assignment = None
    if intake.assignment is not None:
        assignment = {name: value for name, value in intake.assignment.items() if name != "id"}
        assignment["ticket_id"] = NEW_TICKET
    return RowsToWrite(
        key={**intake.key, "ticket_id": NEW_TICKET} if intake.key is not None else None,
        ticket={name: value for name, value in intake.ticket.items() if name != "id"},
        assignment=assignment,
        co_handlers=[
            {"ticket_id": NEW_TICKET, "assignment_id": NEW_ASSIGNMENT, "unit_code": unit}
            for unit in intake.co_handlers
        ],
        events=events,
    )


def with_ids(row: Mapping[str, Any], ids: Mapping[NewId, int | None]) -> dict[str, Any]:
    """The row with NEW_TICKET and NEW_ASSIGNMENT replaced by the ids the database drew."""
    return {name: ids[value] if isinstance(value, NewId) else value for name, value in row.items()}
