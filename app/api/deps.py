"""Request-scoped dependencies: the session (one transaction per request), clock, caller, services."""

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.catalog import Catalog
from app.config import Settings
from app.db import transaction, utcnow
from app.errors import AppError, Forbidden, Unauthorized
from app.networks import parse_networks
from app.routing.schema import Router
from app.runtime import Runtime
from app.tickets.service import TicketService
from app.users import security
from app.users.principal import Principal
from app.users.principal_cache import PrincipalCache
from app.users.service import AuthPolicy, principal_for_api_key, principal_for_user
from app.users.throttle import ThrottlePolicy


def runtime_of(request: Request) -> Runtime:
    """The runtime the app was started with (app.runtime), for handlers and middleware."""
    return request.app.state.runtime


async def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


async def get_settings(request: Request) -> Settings:
    return request.app.state.runtime.settings


async def get_catalog(request: Request) -> Catalog:
    return request.app.state.runtime.catalog


async def get_router(request: Request) -> Router:
    """How tickets are routed: the ruleset in force. A dependency so that tests can swap it
    (app.dependency_overrides[get_router]) as they pin the clock with get_now."""
    return request.app.state.runtime.router


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request owns the transaction: commit after the handler, before the response is sent."""
    async with transaction(request.app.state.runtime.session_factory) as session:
        yield session


async def get_now() -> datetime:
    """The clock, as a dependency so tests can pin it. Async: sync dependencies cost a thread hop."""
    return utcnow()


async def get_principals(request: Request) -> PrincipalCache:
    return request.app.state.runtime.principals


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_read_session(request: Request, primary: SessionDep) -> AsyncIterator[AsyncSession]:
    """A transaction on the read URL (a replica), for reports and search, which write nothing
    and may be a replica's lag behind. Without a read URL: the request's own session, so that
    a request that also writes (an access record) holds one connection, not two."""
    runtime = runtime_of(request)
    if runtime.read_session_factory is runtime.session_factory:
        yield primary
        return
    async with transaction(runtime.read_session_factory) as session:
        yield session


ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session, scope="function")]
NowDep = Annotated[datetime, Depends(get_now)]
CatalogDep = Annotated[Catalog, Depends(get_catalog)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
PrincipalsDep = Annotated[PrincipalCache, Depends(get_principals)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
RouterDep = Annotated[Router, Depends(get_router)]

_bearer = HTTPBearer(auto_error=False, description="Access token from POST /api/v1/auth/token")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="Integration API key")


def auth_policy(settings: Settings) -> AuthPolicy:
    return AuthPolicy(
        secret_key=settings.secret_key,
        access_lifetime=timedelta(minutes=settings.access_token_minutes),
        refresh_lifetime=timedelta(days=settings.refresh_token_days),
        throttle=ThrottlePolicy(
            max_failures=settings.login_max_failures,
            window=timedelta(minutes=settings.login_window_minutes),
            max_delay=timedelta(seconds=settings.login_max_delay_seconds),
            address_limit=settings.login_address_limit,
            exempt=parse_networks(settings.login_exempt_networks),
        ),
    )


async def current_user(
    request: Request,
    now: NowDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    api_key: Annotated[str | None, Security(_api_key)],
) -> Principal:
    """The signed-in user (Bearer token) or integration (X-API-Key); 401 otherwise.

    Checked against the database, through a cache that forgets a disabled user or a revoked
    key at once (app.users.principal_cache); a lookup runs in a short transaction of its own.
    Runs on every request, so it keeps its own dependencies few: each costs a little, and
    settings and the cache are read from the runtime.
    """
    state = runtime_of(request)
    cache: PrincipalCache = state.principals
    if api_key:
        remembered_as = security.hash_api_secret(api_key)  # not the secret itself
        principal = cache.get(remembered_as)
        if principal is None:
            generation = cache.generation
            async with transaction(state.session_factory) as session:
                principal = await principal_for_api_key(session, key=api_key, now=now)
            if principal is None:
                raise Unauthorized("The API key is unknown or revoked.")
            cache.put(remembered_as, principal, generation)
        request.state.api_key_id = principal.api_key_id  # for the access log line
        return principal
    if bearer is None:
        raise Unauthorized(
            "Sign in first: POST /api/v1/auth/token with username and password, then send "
            "'Authorization: Bearer <access_token>' (integrations: 'X-API-Key')."
        )
    try:
        claims = security.read_token(bearer.credentials, state.settings.secret_key, "access", now)
    except security.InvalidToken as exc:
        raise Unauthorized(f"Invalid access token: {exc}.") from exc
    principal = cache.get(claims.user_id)
    if principal is None:
        generation = cache.generation
        async with transaction(state.session_factory) as session:
            principal = await principal_for_user(session, user_id=claims.user_id)
        if principal is None:
            raise Unauthorized("This account is disabled.")
        cache.put(claims.user_id, principal, generation)
    request.state.user_id = principal.user_id  # for the access log line
    return principal


UserDep = Annotated[Principal, Depends(current_user)]


def _check(user: Principal, permission: str, doing: str) -> None:
    if not user.can(permission):
        raise Forbidden(f"Your role ({user.role}) may not {doing}.", required=permission)


def require(permission: str, doing: str) -> Principal:
    """A dependency that lets the request through only with `permission` (403 otherwise)."""

    async def check(user: UserDep) -> Principal:
        _check(user, permission, doing)
        return user

    return Depends(check)


def ticket_service(permission: str, doing: str, *, reads_only: bool = False) -> TicketService:
    """A dependency giving the ticket service to a caller with `permission` (403 otherwise).

    reads_only: on a session of the read URL (search), which may lag behind the primary.
    Checking and building in one dependency keeps the tree short: FastAPI walks a dependency's
    whole subtree again wherever it appears, even when its value is cached.
    """

    async def build(
        request: Request,
        session: ReadSessionDep if reads_only else SessionDep,  # type: ignore[valid-type]
        now: NowDep,
        user: UserDep,
        router: RouterDep,
    ) -> TicketService:
        _check(user, permission, doing)
        return build_ticket_service(runtime_of(request), session, now, user, router)

    return Depends(build)


def build_ticket_service(
    runtime: Runtime,
    session: AsyncSession,
    now: datetime,
    user: Principal,
    router: Router | None = None,
) -> TicketService:
    """The ticket service for one request (shared with the console and Open311): the runtime's
    catalog, SLA keeper and settings; `router` from get_router (default: the ruleset in force)."""
    settings = runtime.settings
    return TicketService(
        session=session,
        catalog=runtime.catalog,
        router=router or runtime.router,
        now=now,
        principal=user,
        sla=runtime.sla_keeper,
        reference_prefix=settings.reference_prefix,
        clock_skew=timedelta(seconds=settings.clock_skew_seconds),
        privacy=runtime.privacy_keys,
    )


class UnsupportedMediaType(AppError):
    status, title, slug = 415, "Unsupported media type", "unsupported-media-type"


async def require_json(request: Request) -> None:
    """Bodies must be JSON; an empty body is fine for actions that need none."""
    has_body = (
        request.headers.get("content-length", "0") != "0" or "transfer-encoding" in request.headers
    )
    if not has_body:
        return
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json" and not ctype.endswith("+json"):
        raise UnsupportedMediaType(
            f"Send the body as JSON with 'Content-Type: application/json' (got '{ctype or 'none'}')."
        )
