"""Settings from the environment (prefix HOTLINE_), refusing unsafe values outside development."""

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from app.privacy.keys import PrivacyKeys

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRET = "development-only-secret-do-not-use-in-production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite+aiosqlite:///./hotline.db"
    rules_dir: Path = REPO_ROOT / "routing_rules"
    # Reference prefix of ticket numbers: HN-2026-000123.
    reference_prefix: str = "HN"
    timezone: str = "Asia/Ho_Chi_Minh"
    max_body_bytes: int = 1024 * 1024
    # Connections kept per process. Keep it at or above the requests one process serves at
    # once: past it, each extra connection is opened and closed per request (a TLS handshake and
    # a PostgreSQL backend each time): at 16 concurrent requests that cost ~12% of intake.
    db_pool_size: int = 20
    db_echo: bool = False
    # Tolerated client clock skew for received_at / occurred_at "in the future".
    clock_skew_seconds: int = 60
    # How long an Idempotency-Key is remembered; purged by the periodic maintenance loop.
    idempotency_ttl_hours: int = 24
    # Signs access and refresh tokens. Must be set (32+ characters) in production.
    secret_key: str = DEFAULT_SECRET
    access_token_minutes: int = 15
    refresh_token_days: int = 7
    login_max_failures: int = 5
    login_window_minutes: int = 15
    # How often each instance checks routing_rules/ for a new ruleset (0 disables polling).
    rules_poll_seconds: float = 5.0
    # How often each instance scans for SLA warnings and breaches (0 disables the scan).
    sla_scan_seconds: float = 60.0
    # How long a caller's role and units are remembered between requests. Disabling a user or
    # revoking a key still takes effect at once (PostgreSQL NOTIFY); this bounds how stale an
    # API key's last_used_at may get. SQLite never caches. 0 disables the cache.
    principal_cache_seconds: float = 30.0
    # Demo users (one per role) are created on start in development only.
    demo_users: bool = True
    # Personal data (docs/privacy.md). Keys of the keyed hashes: the audit key lets an auditor
    # find a phone in the access log; the pseudonym key stands in for anonymised callers and
    # can be destroyed (replaced) to make those pseudonyms irreversible. Unset: derived from
    # secret_key (set both explicitly in production so that each can be rotated on its own).
    audit_hash_key: str | None = None
    pseudonym_key: str | None = None
    # Retention, in days after a ticket reached a terminal status (closed, cancelled,
    # duplicate); None keeps that kind of data (the default: the city decides its periods).
    retention_caller_days: int | None = Field(default=None, ge=0)
    retention_description_days: int | None = Field(default=None, ge=0)
    retention_attachments_days: int | None = Field(default=None, ge=0)
    # How often each instance runs retention (0 disables it), and tickets per transaction.
    retention_run_seconds: float = 3600.0
    retention_batch: int = Field(default=200, ge=1)
    # Webhooks (docs/webhooks.md). How often each instance's relay looks for work when no
    # notification woke it (0 disables the relay); networks (comma-separated CIDRs) that
    # webhook URLs may resolve into although private, loopback or link-local.
    webhook_relay_seconds: float = 5.0
    webhook_allowed_networks: str = ""
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    # Requests in flight per endpoint, per instance.
    webhook_concurrency_per_endpoint: int = Field(default=16, ge=1)
    # An endpoint failing (no success) for this long is disabled.
    webhook_disable_after_hours: float = Field(default=72.0, gt=0)
    # Delivered (or abandoned) messages and their attempts are purged after this many days.
    webhook_retention_days: float = Field(default=30.0, gt=0)
    # After a secret rotation, how long the old secret still signs beside the new one.
    webhook_secret_grace_hours: float = Field(default=24.0, ge=0)
    # E-mail (docs/webhooks.md#e-mail): no host, no mail. TLS: none, starttls or tls.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_tls: Literal["none", "starttls", "tls"] = "none"
    smtp_user: str | None = None
    smtp_password: str | None = None
    mail_from: str = "Đường dây nóng 1022 <no-reply@1022.hanoi.gov.vn>"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @model_validator(mode="after")
    def _production_guards(self) -> "Settings":
        if self.env != "production":
            return self
        if self.is_sqlite:
            # Several app instances cannot share one SQLite file safely.
            raise ValueError("HOTLINE_DATABASE_URL must point to PostgreSQL in production")
        if self.secret_key == DEFAULT_SECRET or len(self.secret_key) < 32:
            raise ValueError(
                "HOTLINE_SECRET_KEY must be set to a random string of 32+ characters in production "
                "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        return self

    @property
    def privacy_keys(self) -> "PrivacyKeys":
        from app.privacy.keys import PrivacyKeys, derive_key

        return PrivacyKeys(
            audit_key=self.audit_hash_key or derive_key(self.secret_key, "audit"),
            pseudonym_key=self.pseudonym_key or derive_key(self.secret_key, "pseudonym"),
        )

    @property
    def create_demo_users(self) -> bool:
        return self.demo_users and self.env == "development"


@lru_cache
def get_settings() -> Settings:
    return Settings()
