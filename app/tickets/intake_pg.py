"""Intake as one statement on PostgreSQL: idempotency key, ticket, assignment, co-handlers, events
and their outbox rows.

A single statement is its own transaction: every row lands or none does, in one round trip
instead of a BEGIN, five inserts or updates and a COMMIT. The rows go in through data-modifying
CTEs in dependency order. The ticket id is drawn from its sequence first so that the key row
can name it; foreign keys are checked at the end of the statement, when the ticket exists.

With a key, `ON CONFLICT DO NOTHING` makes the claim: a concurrent request holding the same key
waits for it to commit, then inserts nothing, and the statement returns no row (a replay).

The SQL is generated from the table metadata, so new columns need no change here; parameters
are cast to their base types (text, not varchar(n)) so that an over-long value is an error,
as it is in a plain INSERT, rather than silently cut.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, String, Table

from app.outbox.capture import NOTIFY_CHANNEL
from app.outbox.types import EVENT_TYPES
from app.tickets.models import Assignment, IdempotencyKey, Ticket, TicketEvent

# Marks the event row that belongs to the assignment being created (its id is not known yet).
NEW_ASSIGNMENT = object()

# Parameter types by what a column stores (TypeDecorators by their implementation).
_PARAM_TYPES = (
    (JSON, "jsonb"),
    (DateTime, "timestamptz"),
    (Boolean, "bool"),
    (Integer, "int8"),
    (Float, "float8"),
    (String, "text"),
)


def _param_type(table: Table, name: str) -> str:
    stored = table.c[name].type
    stored = getattr(stored, "impl_instance", stored)
    return next(pg for base, pg in _PARAM_TYPES if isinstance(stored, base))


@dataclass(frozen=True)
class IntakeRows:
    """What intake writes, as column values by name. Ids, and the columns that point at the new
    ticket and assignment, are filled in on the way."""

    ticket: dict[str, Any]
    assignment: dict[str, Any] | None
    co_handlers: Sequence[str]
    # ticket_event rows without ticket_id; assignment_id NEW_ASSIGNMENT for the new one.
    events: Sequence[dict[str, Any]]
    key: dict[str, Any] | None  # idempotency_key row without ticket_id


class _Params:
    """Collects `$n::type` placeholders in order, each with a function reading its value."""

    def __init__(self) -> None:
        self.readers: list[Any] = []

    def add(self, reader: Any, pg_type: str) -> str:
        self.readers.append((reader, pg_type == "jsonb"))
        return f"${len(self.readers)}::{pg_type}"

    def column(self, table: Table, name: str, reader: Any) -> str:
        return self.add(reader, _param_type(table, name))


def _columns(table: Table, *skip: str) -> list[str]:
    return [c.name for c in table.columns if c.name not in skip]


def _row_params(params: _Params, table: Table, names: list[str], part: str) -> str:
    def reader(rows: IntakeRows, name: str) -> Any:
        return getattr(rows, part)[name]

    return ", ".join(params.column(table, n, lambda rows, n=n: reader(rows, n)) for n in names)


@dataclass(frozen=True)
class IntakeStatement:
    sql: str
    _params: _Params

    def arguments(self, rows: IntakeRows) -> list[Any]:
        values = []
        for reader, is_json in self._params.readers:
            value = reader(rows)
            values.append(json.dumps(value, ensure_ascii=False) if is_json else value)
        return values


@lru_cache
def intake_statement(*, with_key: bool, assigned: bool, events: int) -> IntakeStatement:
    """The statement for one shape of intake; returns (ticket_id, assignment_id), or no row
    when the idempotency key was taken already."""
    params = _Params()
    ticket_t, assignment_t = Ticket.__table__, Assignment.__table__
    event_t, key_t = TicketEvent.__table__, IdempotencyKey.__table__
    ctes = ["new_ticket AS (SELECT nextval(pg_get_serial_sequence('ticket', 'id')) AS id)"]
    source = "new_ticket"
    if with_key:
        key_cols = _columns(key_t, "ticket_id")
        ctes.append(
            f"claimed AS (INSERT INTO idempotency_key ({', '.join(key_cols)}, ticket_id) "
            f"SELECT {_row_params(params, key_t, key_cols, 'key')}, id FROM new_ticket "
            "ON CONFLICT DO NOTHING RETURNING ticket_id AS id)"
        )
        source = "claimed"
    ticket_cols = _columns(ticket_t, "id")
    ctes.append(
        f"new_row AS (INSERT INTO ticket (id, {', '.join(ticket_cols)}) "
        f"SELECT id, {_row_params(params, ticket_t, ticket_cols, 'ticket')} FROM {source} "
        "RETURNING id)"
    )
    assignment_id = "NULL::int8"
    if assigned:
        a_cols = _columns(assignment_t, "id", "ticket_id")
        ctes.append(
            f"new_assignment AS (INSERT INTO assignment (ticket_id, {', '.join(a_cols)}) "
            f"SELECT id, {_row_params(params, assignment_t, a_cols, 'assignment')} FROM new_row "
            "RETURNING id, ticket_id)"
        )
        units = params.add(lambda rows: list(rows.co_handlers), "text[]")
        ctes.append(
            "informed AS (INSERT INTO co_handler (ticket_id, assignment_id, unit_code) "
            f"SELECT ticket_id, id, unnest({units}) FROM new_assignment)"
        )
        assignment_id = "(SELECT id FROM new_assignment)"
    e_cols = _columns(event_t, "id", "ticket_id", "assignment_id")
    values = []
    for i in range(events):

        def own(rows: IntakeRows, i: int = i) -> bool:
            return rows.events[i]["assignment_id"] is NEW_ASSIGNMENT

        def event(rows: IntakeRows, name: str, i: int = i) -> Any:
            return rows.events[i][name]

        flag = params.add(own, "bool")
        cells = ", ".join(
            params.column(event_t, n, lambda rows, n=n, i=i: event(rows, n, i)) for n in e_cols
        )
        values.append(f"({i}, {flag}, {cells})")
    ctes.append(
        f"history AS (INSERT INTO ticket_event (ticket_id, assignment_id, {', '.join(e_cols)}) "
        f"SELECT new_row.id, CASE WHEN e.own THEN {assignment_id} END, "
        f"{', '.join('e.' + n for n in e_cols)} FROM new_row, "
        f"(VALUES {', '.join(values)}) AS e(ord, own, {', '.join(e_cols)}) ORDER BY e.ord "
        "RETURNING id, ticket_id, kind, recorded_at)"
    )
    ctes.append(outbox_cte())
    # The notification reaches the relays at commit; none when the key was taken (no row).
    sql = (
        f"WITH {', '.join(ctes)} SELECT id, {assignment_id}, "
        f"pg_notify('{NOTIFY_CHANNEL}', '') FROM new_row"
    )
    return IntakeStatement(sql, params)


def outbox_cte() -> str:
    """The outbox rows (app.outbox.capture) for the announced events among `history`'s rows:
    one per event, fanned out to subscriptions later, so that intake's cost does not grow with
    the number of subscriptions. The kind-to-type table is our own constants, inlined."""
    kinds = ", ".join(f"('{kind}', '{type_}')" for kind, type_ in EVENT_TYPES.items())
    return (
        "announced AS (INSERT INTO outbox_message (type, ticket_id, event_id, created_at) "
        "SELECT t.type, h.ticket_id, h.id, h.recorded_at FROM history AS h "
        f"JOIN (VALUES {kinds}) AS t(kind, type) ON t.kind = h.kind)"
    )
