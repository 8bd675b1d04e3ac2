"""Settings from the environment (prefix HOTLINE_), refusing unsafe values outside development."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite+aiosqlite:///./hotline.db"
    rules_dir: Path = REPO_ROOT / "routing_rules"
    # Reference prefix of ticket numbers: HN-2026-000123.
    reference_prefix: str = "HN"
    timezone: str = "Asia/Ho_Chi_Minh"
    max_body_bytes: int = 1024 * 1024
    db_pool_size: int = 10
    db_echo: bool = False
    # Tolerated client clock skew for received_at / occurred_at "in the future".
    clock_skew_seconds: int = 60
    idempotency_ttl_hours: int = 24

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @model_validator(mode="after")
    def _production_guards(self) -> "Settings":
        if self.env == "production" and self.is_sqlite:
            # Several app instances cannot share one SQLite file safely.
            raise ValueError("HOTLINE_DATABASE_URL must point to PostgreSQL in production")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
