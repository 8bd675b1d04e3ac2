"""/api/v1/admin: users and API keys (admins only)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from app.api.checked_route import CheckedRoute
from app.api.deps import CatalogDep, NowDep, PrincipalsDep, SessionDep, require, require_json
from app.timefmt import InstantOut
from app.users import service as users
from app.users.principal import Principal

router = APIRouter(
    route_class=CheckedRoute, prefix="/admin", tags=["admin"], dependencies=[Depends(require_json)]
)
Users = Annotated[Principal, require("users:manage", "manage users")]
Keys = Annotated[Principal, require("apikeys:manage", "manage API keys")]


class UserIn(BaseModel):
    username: str = Field(max_length=80)
    password: str = Field(min_length=8, max_length=200)
    role: str
    units: list[str] = Field(default_factory=list)
    full_name: str | None = Field(default=None, max_length=200)


class UserOut(BaseModel):
    username: str
    full_name: str | None
    role: str
    units: list[str]
    active: bool


class ApiKeyIn(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    role: str
    units: list[str] = Field(default_factory=list)


class ApiKeyOut(BaseModel):
    id: int
    name: str
    prefix: str
    role: str
    units: list[str]
    created_by: str
    created_at: InstantOut
    revoked_at: InstantOut | None
    last_used_at: InstantOut | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The full key. Shown only in this response: store it now.")


def _key_out(key: object) -> dict[str, object]:
    return ApiKeyOut.model_validate(key, from_attributes=True).model_dump()


@router.get("/users", response_model=list[UserOut])
async def list_users(_: Users, session: SessionDep) -> list[UserOut]:
    """Every user with role and units."""
    return [
        UserOut(
            username=u.username, full_name=u.full_name, role=u.role, units=units, active=u.active
        )
        for u, units in await users.list_users(session)
    ]


@router.post("/users", response_model=UserOut, status_code=201)
async def create_user(
    body: UserIn, _: Users, session: SessionDep, catalog: CatalogDep, now: NowDep
) -> UserOut:
    """Create a user; unit agents need at least one unit."""
    user = await users.create_user(
        session,
        username=body.username,
        password=body.password,
        role=body.role,
        units=body.units,
        full_name=body.full_name,
        known_units=set(catalog.units),
        now=now,
    )
    return UserOut(
        username=user.username,
        full_name=user.full_name,
        role=user.role,
        units=sorted(body.units),
        active=True,
    )


@router.post("/users/{username}/disable", response_model=UserOut)
async def disable_user(
    username: str, _: Users, session: SessionDep, principals: PrincipalsDep
) -> UserOut:
    """Disable a user: their tokens stop working at once."""
    user = await users.set_active(session, username=username, active=False)
    principals.forget(user_id=user.id)
    return UserOut(
        username=user.username, full_name=user.full_name, role=user.role, units=[], active=False
    )


@router.post("/users/{username}/enable", response_model=UserOut)
async def enable_user(username: str, _: Users, session: SessionDep) -> UserOut:
    """Enable a disabled user again."""
    user = await users.set_active(session, username=username, active=True)
    return UserOut(
        username=user.username, full_name=user.full_name, role=user.role, units=[], active=True
    )


@router.get("/api-keys", response_model=list[ApiKeyOut])
async def list_api_keys(_: Keys, session: SessionDep) -> list[ApiKeyOut]:
    """Every API key (without secrets)."""
    return [ApiKeyOut(**_key_out(k)) for k in await users.list_api_keys(session)]


@router.post("/api-keys", response_model=ApiKeyCreated, status_code=201)
async def create_api_key(
    body: ApiKeyIn, admin: Keys, session: SessionDep, catalog: CatalogDep, now: NowDep
) -> ApiKeyCreated:
    """Create a key for an integration; the secret is in this response only."""
    key, full = await users.create_api_key(
        session,
        name=body.name,
        role=body.role,
        units=body.units,
        created_by=admin.username,
        known_units=set(catalog.units),
        now=now,
    )
    return ApiKeyCreated(**_key_out(key), key=full)


@router.post("/api-keys/{key_id}/revoke", response_model=ApiKeyOut)
async def revoke_api_key(
    key_id: Annotated[int, Path(ge=1, lt=2**31)],
    _: Keys,
    session: SessionDep,
    now: NowDep,
    principals: PrincipalsDep,
) -> ApiKeyOut:
    """Revoke a key: requests with it fail at once."""
    key = await users.revoke_api_key(session, key_id=key_id, now=now)
    principals.forget(api_key_id=key_id)
    return ApiKeyOut(**_key_out(key))
