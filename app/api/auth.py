"""/api/v1/auth: sign in (OAuth2 password flow), refresh, and who am I."""

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from pydantic import BaseModel, Field

from app.api.checked_route import CheckedRoute
from app.api.client_address import client_address
from app.api.deps import NowDep, SessionDep, SettingsDep, UserDep, auth_policy
from app.errors import Unauthorized
from app.users import security
from app.users.service import authenticate, issue_tokens, principal_for_user

router = APIRouter(route_class=CheckedRoute, prefix="/auth", tags=["auth"])


class TokenOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires")


class RefreshIn(BaseModel):
    refresh_token: str


class MeOut(BaseModel):
    username: str
    role: str
    units: list[str]


def _no_store(response: Response) -> None:
    # RFC 6749 5.1: responses carrying tokens must not be cached.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"


@router.post("/token", response_model=TokenOut)
async def sign_in(
    username: Annotated[str, Form(max_length=80)],
    password: Annotated[str, Form(max_length=1024)],
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> TokenOut:
    """OAuth2 password flow: form fields `username` and `password`.

    Repeated failures for one username from one client address are slowed down with growing
    delays, and too many failures from one address across usernames are refused: both answer
    429 with Retry-After (see app.users.throttle). The tokens are never cached (no-store).
    """
    policy = auth_policy(settings)
    address = client_address(request, settings.trusted_proxy_networks)
    try:
        user = await authenticate(
            session,
            username=username,
            password=password,
            address=address,
            policy=policy,
            now=now,
        )
    except Unauthorized:
        # The failure count must survive the error response: commit it before raising.
        await session.commit()
        raise
    assert user.id is not None
    _no_store(response)
    return TokenOut(**issue_tokens(user.id, policy, now))


@router.post("/refresh", response_model=TokenOut)
async def refresh(
    body: RefreshIn, response: Response, session: SessionDep, settings: SettingsDep, now: NowDep
) -> TokenOut:
    """A new token pair for a valid refresh token of a still-active user."""
    policy = auth_policy(settings)
    try:
        claims = security.read_token(body.refresh_token, settings.secret_key, "refresh", now)
    except security.InvalidToken as exc:
        raise Unauthorized(f"Invalid refresh token: {exc}.") from exc
    # Checked again now: a user disabled since the token was issued gets no new one.
    if await principal_for_user(session, user_id=claims.user_id) is None:
        raise Unauthorized("This account is disabled.")
    _no_store(response)
    return TokenOut(**issue_tokens(claims.user_id, policy, now))


@router.get("/me", response_model=MeOut)
async def me(user: UserDep) -> MeOut:
    """The caller's username, role and units."""
    return MeOut(username=user.username, role=user.role, units=sorted(user.units))
