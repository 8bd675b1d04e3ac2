"""Async engine and session factory, shared column types and the constraint naming convention."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, TypeVar
from uuid import uuid4

from sqlalchemy import JSON, DateTime, Integer, MetaData, any_, bindparam, event, inspect
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm.instrumentation import manager_of_class
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

M = TypeVar("M", bound=SQLModel)

# Stable constraint names so that migrations can find, alter and drop them on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata: MetaData = SQLModel.metadata

# JSON everywhere; JSONB on PostgreSQL.
JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite keeps no offset of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@lru_cache
def _defaults(model: type[SQLModel]) -> dict[str, Callable[[], Any]]:
    """Each optional field's default, as a function (a fresh list or dict each time)."""
    return {
        name: field.default_factory or (lambda value=field.default: value)  # type: ignore[misc]
        for name, field in model.model_fields.items()
        if not field.is_required()
    }


def trusted_instance(model: type[M], values: dict[str, Any]) -> M:
    """A table-model instance from trusted column values, not attached to any session.

    SQLModel's constructor sends every field through pydantic and SQLAlchemy's attribute events
    (about 80 µs for a ticket, a measurable share of intake); this puts the same values in place
    directly (under 10 µs), the way the ORM builds an instance it loads. Missing fields take
    their defaults. Only for values already validated (tests check it equals the constructor).
    """
    defaults = _defaults(model)
    fields = {}
    for name in model.model_fields:
        if name in values:
            fields[name] = values[name]
        elif name in defaults:
            fields[name] = defaults[name]()
        else:
            raise TypeError(f"{model.__name__}: missing required field {name!r}")
    instance = manager_of_class(model).new_instance()
    instance.__dict__.update(fields)
    object.__setattr__(instance, "__pydantic_fields_set__", set(values) & fields.keys())
    object.__setattr__(instance, "__pydantic_extra__", None)
    object.__setattr__(instance, "__pydantic_private__", None)
    return instance


def set_fields(instance: SQLModel, values: dict[str, Any]) -> None:
    """Set several fields at once. On an instance no session has seen yet (transient), straight
    into place, as `trusted_instance` does; otherwise one by one, so that the session tracks them."""
    if inspect(instance).transient:
        instance.__dict__.update(values)
        instance.__pydantic_fields_set__.update(values)
    else:
        for name, value in values.items():
            setattr(instance, name, value)


def field_values(instance: SQLModel) -> dict[str, Any]:
    """Every field's current value by name (model_dump without serialisation; same objects)."""
    values = instance.__dict__
    return {name: values[name] for name in type(instance).model_fields}


def utcnow() -> datetime:
    return datetime.now(UTC)


def _configure_sqlite(engine: AsyncEngine, *, read_only: bool = False) -> None:
    """WAL, foreign keys, and BEGIN IMMEDIATE so that concurrent writers queue instead of failing.

    pysqlite's own transaction handling defers BEGIN and cannot upgrade a read snapshot to a write
    lock once another writer committed; taking the write lock up front avoids 'database is locked'.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not read_only:  # the writer set it on the file; a read-only connection cannot
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A read-only connection cannot take the write lock, and needs none.
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _unique_statement_name() -> str:
    return f"__hotline_{uuid4().hex}__"


def make_engine(
    url: str,
    *,
    pool_size: int = 10,
    echo: bool = False,
    transaction_pooler: bool = False,
    read_only: bool = False,
) -> AsyncEngine:
    """An engine for `url`; `pool_size` connections kept per process (SQLite: one).

    transaction_pooler: `url` is a pooler in transaction mode (PgBouncer 1.18), where each
    transaction may run on another server connection. Prepared statements then must not
    outlive their transaction: no statement caches, and a unique name for each statement so
    that two clients sharing a server connection never collide (SQLAlchemy's documented
    recipe). asyncpg's own unnamed statements re-parse when the cache is off. The pooler
    should run DEALLOCATE ALL after each transaction (docs/operations.md).

    read_only: for a SQLite file opened read-only (`file:...?mode=ro&uri=true`), transactions
    begin without taking the write lock. PostgreSQL needs nothing: the server refuses writes.
    """
    if url.startswith("sqlite"):
        # SQLite has one writer at a time, and every transaction here takes the write lock
        # (BEGIN IMMEDIATE). One connection, for which the pool queues requests in order, beats
        # many connections polling a lock: SQLite's busy handler sleeps up to 100 ms between
        # tries, and 32 concurrent clients saw waits of over 2 s.
        engine = create_async_engine(
            url, echo=echo, pool_size=1, max_overflow=0, hide_parameters=True
        )
        _configure_sqlite(engine, read_only=read_only)
        return engine
    connect_args: dict[str, Any] = {}
    if transaction_pooler:
        connect_args = {
            "statement_cache_size": 0,
            "prepared_statement_cache_size": 0,
            "prepared_statement_name_func": _unique_statement_name,
        }
    engine = create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=1800,
        # Statement parameters are callers' names and phones: never in an error message.
        hide_parameters=True,
        connect_args=connect_args,
    )
    event.listen(engine.sync_engine, "checkout", _refuse_closed_connection)
    return engine


def _refuse_closed_connection(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """Never hand out a pooled connection the server has already closed.

    After a restart or a pg_terminate_backend, the driver knows its socket is gone as soon as
    the event loop has read the EOF; refusing it here makes the pool open a fresh one (it
    retries a checkout that raises DisconnectionError), so that a request after the outage
    does not fail on a dead connection. A local flag, no round trip: unlike pool_pre_ping it
    costs intake nothing, and a connection dropped but not yet noticed still fails once and
    is then replaced with the whole pool (app.tickets.intake_pg._fetch_pooled).
    """
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the server closed this pooled connection")


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # Every table must be mapped before the first flush resolves foreign keys.
    import app.models  # noqa: F401

    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def transaction(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One transaction per unit of work: commit on success, roll back on any error.

    A session that never began one (a request answered from caches and raw statements) holds
    no connection and no objects: it is dropped without the cost of a commit and a close.
    """
    session = factory()
    try:
        yield session
        if session.in_transaction():
            await session.commit()
    except BaseException:
        if session.in_transaction():
            await session.rollback()
        raise
    finally:
        if session.in_transaction() or session.identity_map:
            await session.close()


def ids_in(session: AsyncSession, column: Any, ids: list[int]) -> Any:
    """`column IN ids` for a page of ids. PostgreSQL: `column = ANY($1)`, one array parameter:
    SQLAlchemy renders an IN list as one parameter per id, processed one by one on every
    execution (a millisecond or two per 50-ticket page), and a new statement text per length.
    Elsewhere the plain IN list."""
    if session.bind.dialect.name != "postgresql":
        return column.in_(ids)
    return column == any_(bindparam(None, ids, type_=ARRAY(Integer)))
