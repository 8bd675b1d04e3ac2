"""People and integrations that call the API, and the login throttle."""

from datetime import datetime

from sqlalchemy import text
from sqlmodel import Field, SQLModel

from app.db import JSONType, UTCDateTime


class User(SQLModel, table=True):
    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=80, unique=True)
    full_name: str | None = Field(default=None, max_length=200)
    role: str = Field(max_length=20)
    password_hash: str = Field(max_length=200)
    active: bool = True
    created_at: datetime = Field(sa_type=UTCDateTime)
    # Signed into each console session cookie; signing out adds one, which revokes every
    # cookie signed before it (app.console.session).
    console_session_version: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})


class UserUnit(SQLModel, table=True):
    """A unit agent's membership of a responding unit."""

    __tablename__ = "user_unit"

    user_id: int = Field(foreign_key="app_user.id", primary_key=True)
    unit_code: str = Field(foreign_key="unit.code", primary_key=True, max_length=80)


class ApiKey(SQLModel, table=True):
    """A key for an integration (telephony, citizen apps). Only a hash of the secret is kept."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    # The public part of the key, for lookup: hk_<prefix>_<secret>.
    prefix: str = Field(max_length=16, unique=True)
    secret_hash: str = Field(max_length=64)
    role: str = Field(max_length=20)
    units: list[str] = Field(default_factory=list, sa_type=JSONType)
    created_by: str = Field(max_length=80)
    created_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginThrottle(SQLModel, table=True):
    """Failed sign-ins in the current window, for one (username, client address) pair
    ("u:<username> a:<address>") or for one client address across usernames ("a:<address>").
    See app.users.throttle."""

    __tablename__ = "login_throttle"

    key: str = Field(primary_key=True, max_length=200)
    failures: int = 0
    window_started_at: datetime = Field(sa_type=UTCDateTime)
    # Until then the pair's next attempt is refused (429) without checking the password.
    blocked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
