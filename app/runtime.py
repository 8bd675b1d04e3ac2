"""The composition root: one typed object holding what a process builds once from its settings.

`build_runtime(settings, now)` reads the reference catalog, sla.yaml and the routing rules from
`settings.rules_dir`, opens the database engines (no connection yet) and makes the caches. The
API (`app.main.create_app`), the `hotline` command (`app.cli`) and the demo generator
(`app.reports.demo`) are all handed this one object; none of them rebuilds its parts.

What changes while a process runs changes inside the object, never by replacing an attribute:
the ruleset and sla.yaml are swapped atomically inside `rules` (LiveRuleset) and `sla_live`
(LiveSla) on a reload, so `router`, `sla` and `sla_keeper` always read the ones in force.
"""

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.catalog.catalog import Catalog
from app.catalog.loader import load_catalog
from app.config import Settings
from app.databases import Databases, open_databases
from app.db import make_engine, make_session_factory
from app.open311.attributes import ServiceExtras, load_definitions
from app.routing.live import LiveRuleset
from app.routing.schema import Router
from app.sla import SlaConfig, load_sla
from app.tickets.assignment_clock import SlaKeeper
from app.tickets.sla_reload import LiveSla
from app.users.principal_cache import PrincipalCache

if TYPE_CHECKING:
    from app.outbox.relay import Relay
    from app.privacy.keys import PrivacyKeys


@dataclass(eq=False)
class Runtime:
    """Everything one process shares between requests, commands and background loops.

    settings: the validated configuration (app.config.Settings).
    databases: the primary and read engines and their session factories (app.databases).
    catalog: areas, units and topics of the reference data, immutable once loaded.
    rules: the routing ruleset in force, reloadable (hot reload, SIGHUP, admin reload).
    sla_live: sla.yaml in force and the SlaKeeper built on it, reloadable.
    principals: the cache of signed-in users and API keys (app.users.principal_cache).
    open311_extras: the Open311 attributes of each topic, from topics.yaml.
    """

    settings: Settings
    databases: Databases
    catalog: Catalog
    rules: LiveRuleset
    sla_live: LiveSla
    principals: PrincipalCache
    open311_extras: dict[str, ServiceExtras] = field(default_factory=dict)

    @property
    def engine(self) -> AsyncEngine:
        """The primary engine (every write)."""
        return self.databases.primary

    @property
    def session_factory(self) -> async_sessionmaker[AsyncSession]:
        """Sessions on the primary database."""
        return self.databases.sessions

    @property
    def read_session_factory(self) -> async_sessionmaker[AsyncSession]:
        """Sessions on the read URL (a replica), or the primary's when none is set."""
        return self.databases.read_sessions

    @property
    def router(self) -> Router:
        """Routes facts with the ruleset in force at the moment of the call."""
        return self.rules.route

    @property
    def sla(self) -> SlaConfig:
        """The sla.yaml in force."""
        return self.sla_live.current

    @property
    def sla_keeper(self) -> SlaKeeper:
        """Due times and SLA states under the sla.yaml in force."""
        return self.sla_live.keeper

    @property
    def privacy_keys(self) -> "PrivacyKeys":
        """The keys of the access log's hashes and of pseudonyms (docs/privacy.md)."""
        return self.settings.privacy_keys

    @cached_property
    def relay(self) -> "Relay":
        """The outbox relay of this process, built on first use (app.outbox.setup)."""
        from app.outbox.setup import relay_of

        return relay_of(self)

    async def close(self) -> None:
        """Close the relay's client if one was built, then dispose of the engines."""
        if "relay" in self.__dict__:
            await self.relay.close()
        await self.databases.dispose()


def build_runtime(settings: Settings, now: datetime, *, command: bool = False) -> Runtime:
    """Build the runtime of a process from `settings` at `now` (UTC, when rules were loaded).

    command: for a `hotline` command rather than a server: one small pool on the direct URL
    (not through a transaction pooler), no read replica.
    Raises ReferenceDataError, RulesError or SlaConfigError (file and line) when a file in
    `settings.rules_dir` is invalid; opens no database connection.
    """
    catalog = load_catalog(settings.rules_dir)
    sla = load_sla(settings.rules_dir, catalog)
    if command:
        engine = make_engine(settings.direct_url, pool_size=2)
        sessions = make_session_factory(engine)
        databases = Databases(engine, engine, sessions, sessions)
    else:
        databases = open_databases(settings)
    return Runtime(
        settings=settings,
        databases=databases,
        catalog=catalog,
        rules=LiveRuleset(settings.rules_dir, catalog, now, sla_policies=sla.policy_ids),
        sla_live=LiveSla(settings.rules_dir, catalog, sla),
        principals=PrincipalCache(settings.principal_cache_seconds),
        open311_extras=load_definitions(settings.rules_dir),
    )
