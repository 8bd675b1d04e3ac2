"""Intake on PostgreSQL in one statement: the rows of app.tickets.intake_rows (idempotency key,
ticket, assignment, co-handlers, events and their outbox rows), in one round trip instead of a
BEGIN, five inserts or updates and a COMMIT.

The rows go in through data-modifying CTEs in dependency order. The ticket id is drawn from its
sequence first so that the key row can name it; foreign keys are checked at the end of the
statement, when the ticket exists. With a key, `ON CONFLICT DO NOTHING` makes the claim: a
concurrent request holding the same key waits for it to commit, then inserts nothing, and the
statement returns no row (a replay).

## It commits on its own

This is the one place that says so; others refer here. When the request's session has not
begun a transaction (the usual case: the caller comes from a cache, routing and SLA planning
run in memory, so nothing was read), the statement runs on a pooled connection outside any
transaction and commits as it finishes, before the request's own commit. Why:

- it saves two round trips (BEGIN and COMMIT) on the hot path, and holds a connection for one
  statement rather than for the rest of the request;
- it gives nothing up: a single statement is atomic (every row lands or none does), and the
  idempotency key makes an early commit harmless: when the request fails after it or its
  answer is lost, a retry with the same key replays the ticket instead of filing another.

So a ticket filed this way stays filed even if the request later fails (without a key, a retry
files a second one, as it would after any lost answer). When the session has begun a
transaction (a caller that read or wrote first, as tests/api/test_intake_write.py does), the
statement runs in it and commits or rolls back with the rest.

The statement wakes the webhook relays (NOTIFY at commit) unless this process did so in the
last 0.1 s; then a NOTIFY follows after the window (app.outbox.wakeup).

The SQL is generated from the table metadata, so new columns need no change here; parameters
are cast to their base types (text, not varchar(n)) so that an over-long value is an error,
as it is in a plain INSERT, rather than silently cut.
"""

import json
import weakref
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, String, Table
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.util import await_, greenlet_spawn

from app.outbox.capture import NOTIFY_CHANNEL
from app.outbox.types import EVENT_TYPES
from app.outbox.wakeup import WakeUps
from app.tickets.intake_rows import NEW_ASSIGNMENT, RowsToWrite
from app.tickets.models import Assignment, IdempotencyKey, Ticket, TicketEvent

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
    def reader(rows: RowsToWrite, name: str) -> Any:
        return getattr(rows, part)[name]

    return ", ".join(params.column(table, n, lambda rows, n=n: reader(rows, n)) for n in names)


@dataclass(frozen=True)
class IntakeStatement:
    """One shape of the intake statement: its SQL, and the parameters in placeholder order."""

    sql: str
    _params: _Params

    def arguments(self, rows: RowsToWrite) -> list[Any]:
        """The statement's parameters for these rows (JSON columns as JSON text)."""
        values = []
        for reader, is_json in self._params.readers:
            value = reader(rows)
            values.append(json.dumps(value, ensure_ascii=False) if is_json else value)
        return values


@lru_cache
def intake_statement(
    *, with_key: bool, assigned: bool, events: int, notify: bool = True
) -> IntakeStatement:
    """The statement for one shape of intake; returns (ticket_id, assignment_id), or no row
    when the idempotency key was taken already. `notify`: it wakes the relays at commit.

    The columns that hold NEW_TICKET or NEW_ASSIGNMENT in the rows (app.tickets.intake_rows)
    are read from the CTE that created that row; every other column is a parameter.
    """
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
        units = params.add(lambda rows: [r["unit_code"] for r in rows.co_handlers], "text[]")
        ctes.append(
            "informed AS (INSERT INTO co_handler (ticket_id, assignment_id, unit_code) "
            f"SELECT ticket_id, id, unnest({units}) FROM new_assignment)"
        )
        assignment_id = "(SELECT id FROM new_assignment)"
    e_cols = _columns(event_t, "id", "ticket_id", "assignment_id")
    values = []
    for i in range(events):

        def own(rows: RowsToWrite, i: int = i) -> bool:
            return rows.events[i]["assignment_id"] is NEW_ASSIGNMENT

        def event(rows: RowsToWrite, name: str, i: int = i) -> Any:
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
    wake = f", pg_notify('{NOTIFY_CHANNEL}', '')" if notify else ""
    sql = f"WITH {', '.join(ctes)} SELECT id, {assignment_id}{wake} FROM new_row"
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


async def write_intake_pg(
    session: AsyncSession, rows: RowsToWrite
) -> tuple[int, int | None] | None:
    """Write one intake's rows in one statement: (ticket id, assignment id), or None when the
    idempotency key was taken already.

    In the session's transaction if it has begun one, else on a pooled connection of its own,
    committing at once (see this module's docstring, "It commits on its own").
    """
    shape = {
        "with_key": rows.key is not None,
        "assigned": rows.assignment is not None,
        "events": len(rows.events),
    }
    if session.in_transaction():
        # Through SQLAlchemy's adapter, not the driver: the adapter issues the BEGIN it has
        # deferred, when nothing ran on this connection yet (else the statement would commit).
        # Its NOTIFY goes with the request's commit, whenever that comes.
        statement = intake_statement(**shape)
        connection = await session.connection()
        result = await connection.exec_driver_sql(statement.sql, tuple(statement.arguments(rows)))
        row = result.first()
    else:
        engine = session.bind.sync_engine
        wake_ups = wake_ups_of(engine)
        notify = wake_ups.claim()
        statement = intake_statement(**shape, notify=notify)
        row = await greenlet_spawn(_fetch_pooled, engine, statement.sql, statement.arguments(rows))
        if row is not None and not notify:
            wake_ups.owe(lambda: greenlet_spawn(_fetch_pooled, engine, _NOTIFY, []))
    return (row[0], row[1]) if row is not None else None


_NOTIFY = f"SELECT pg_notify('{NOTIFY_CHANNEL}', '')"
# One WakeUps per engine (a process serving one database has one); forgotten with the engine.
_WAKE_UPS: "weakref.WeakKeyDictionary[Engine, WakeUps]" = weakref.WeakKeyDictionary()


def wake_ups_of(engine: Engine) -> WakeUps:
    """The WakeUps of intake statements on `engine` in this process."""
    found = _WAKE_UPS.get(engine)
    if found is None:
        found = _WAKE_UPS[engine] = WakeUps()
    return found


def _fetch_pooled(engine: Engine, sql: str, arguments: list[Any]) -> Any:
    """Run one statement on a pooled connection, outside any transaction (it commits itself).

    The driver is called directly, in one hop into SQLAlchemy's pool and back: about 60 µs
    less than through an AsyncConnection. SQLAlchemy never sees the driver's errors here, so
    a connection the server dropped is handled as SQLAlchemy handles its own: that connection
    is discarded, and so is every other pooled one (a restart or failover drops them all), so
    that one request fails, not one per pooled connection (tests/api/test_intake_write.py).
    """
    pooled = engine.raw_connection()
    try:
        return await_(pooled.driver_connection.fetchrow(sql, *arguments))
    except Exception as exc:
        if pooled.driver_connection.is_closed():
            pooled.invalidate(exc)
            engine.dispose(close=False)
        raise
    finally:
        pooled.close()
