"""Settings from the environment (prefix HOTLINE_), refusing unsafe values outside development."""

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.catalog.vocabulary import DEFAULT_TIMEZONE
from app.networks import Network, parse_networks

if TYPE_CHECKING:
    from app.privacy.keys import PrivacyKeys

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRET = "development-only-secret-do-not-use-in-production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    # Requests use this one: in production PgBouncer in transaction mode (see db_transaction_pooler).
    database_url: str = "sqlite+aiosqlite:///./hotline.db"
    # A session-holding connection to the primary, not through a transaction pooler: LISTEN /
    # NOTIFY (the caller cache's revocations), the periodic-work leader's advisory lock, and
    # migrations. Unset: database_url.
    direct_database_url: str | None = None
    # Reports and ticket search may read from a replica (they write nothing). Unset: database_url.
    read_database_url: str | None = None
    # database_url goes through a pooler in transaction mode (PgBouncer 1.18): no prepared
    # statements kept across transactions and no session state on those connections.
    db_transaction_pooler: bool = False
    rules_dir: Path = REPO_ROOT / "routing_rules"
    # Reference prefix of ticket numbers: HN-2026-000123.
    reference_prefix: str = "HN"
    timezone: str = DEFAULT_TIMEZONE  # IANA zone of local dates in reports and replays
    max_body_bytes: int = 1024 * 1024
    # Connections kept per process. Keep it at or above the requests one process serves at
    # once: past it, each extra connection is opened and closed per request (a TLS handshake and
    # a PostgreSQL backend each time): at 16 concurrent requests that cost ~12% of intake.
    db_pool_size: int = 20
    # Connections kept per process for read_database_url, when it is set.
    db_read_pool_size: int = 5
    db_echo: bool = False
    # Tolerated client clock skew for received_at / occurred_at "in the future".
    clock_skew_seconds: int = 60
    # How long an Idempotency-Key is remembered; purged by the periodic maintenance loop.
    idempotency_ttl_hours: int = 24
    # Signs access and refresh tokens. Must be set (32+ characters) in production.
    secret_key: str = DEFAULT_SECRET
    access_token_minutes: int = 15
    refresh_token_days: int = 7
    # Sign-in throttling (OWASP): per (username, client address), login_max_failures failures
    # in login_window_minutes are free; each further one makes that pair wait twice as long as
    # the last (30 s, 1 min, 2 min ... up to login_max_delay_seconds). Nobody is locked out: the
    # owner signing in from another address is not slowed by a stranger's guesses.
    login_max_failures: int = 5
    login_window_minutes: int = 15
    login_max_delay_seconds: int = 900
    # Failures per client address across all usernames in the window before that address is
    # refused (429) until the window ends. A switchboard behind one NAT address may need more,
    # or its network in login_exempt_networks (comma-separated CIDRs, exempt from this limit).
    login_address_limit: int = 100
    login_exempt_networks: str = ""
    # Proxies (comma-separated addresses or CIDRs, e.g. haproxy's) whose X-Forwarded-For names
    # the client; empty: the TCP peer is the client. See app/api/client_address.py.
    trusted_proxies: str = ""
    # How often each instance checks routing_rules/ for a new ruleset (0 disables polling).
    rules_poll_seconds: float = 5.0
    # How often each instance scans for SLA warnings and breaches (0 disables the scan).
    sla_scan_seconds: float = 60.0
    # How long a caller's role and units are remembered between requests. Disabling a user or
    # revoking a key still takes effect at once (PostgreSQL NOTIFY); this bounds how stale an
    # API key's last_used_at may get. SQLite never caches. 0 disables the cache.
    principal_cache_seconds: float = 30.0
    # /docs, /redoc and /openapi.json: None means served except in production.
    api_docs: bool | None = None
    # Strict-Transport-Security max-age; set it (e.g. 31536000) only when TLS terminates in
    # front of the app. 0 sends no HSTS header.
    hsts_seconds: int = 0
    # Log lines as JSON objects (production default) or plain text (development default).
    log_format: Literal["json", "plain"] | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # GET /metrics: a bearer token Prometheus sends, and/or the networks it may come from
    # (comma-separated CIDRs). In production one of them must be set, or /metrics answers 403.
    metrics_token: str | None = None
    metrics_networks: str | None = None
    # How often the periodic-work leader refreshes the open-assignment gauges.
    metrics_gauge_seconds: float = 30.0
    # A candidate that is not the periodic-work leader tries to become it this often; a dead
    # leader's work is taken over within this time after PostgreSQL drops its connection.
    leader_retry_seconds: float = 5.0
    # PostgreSQL ends the leader's lock connection when idle this long (a frozen process keeps
    # its socket open): the bound on how long a hung leader keeps the others waiting.
    leader_idle_timeout_seconds: float = 30.0
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
    # The web console (/console/): its session cookie is marked Secure when the app is served
    # over TLS (behind a TLS-terminating proxy too); sessions last this many hours.
    console_secure_cookie: bool = False
    console_session_hours: float = Field(default=10.0, gt=0)
    # Duplicate suggestions (app.search.similar; docs/search.md): what makes a ticket similar.
    similar_same_caller_days: int = Field(default=30, ge=1)
    similar_open_hours: int = Field(default=72, ge=1)
    similar_text_days: int = Field(default=30, ge=1)
    similar_text_min_ratio: float = Field(default=70.0, ge=0, le=100)
    similar_radius_m: float = Field(default=250.0, gt=0)
    similar_max: int = Field(default=5, ge=1, le=20)
    # Open311 GeoReport v2 (docs/open311.md): the one jurisdiction_id served; whether lists also
    # show tickets nobody made public (then without their description); status lookups allowed
    # per client address per minute; days after a resolution without feedback before the
    # ticket closes by itself.
    open311_jurisdiction: str = "ha-noi"
    open311_list_private: bool = False
    open311_lookups_per_minute: int = Field(default=30, ge=1)
    feedback_close_days: float = Field(default=7.0, gt=0)
    # Webhooks (docs/webhooks.md). How often each instance's relay looks for work when no
    # notification woke it (0 disables the relay); networks (comma-separated CIDRs) that
    # webhook URLs may resolve into although private, loopback or link-local.
    webhook_relay_seconds: float = 5.0
    # While this process serves requests, its relay waits up to this long before a round, and
    # pauses between batches (0: never waits): intake keeps the cores in a burst, the messages
    # go out in larger batches just after it (docs/webhooks.md#what-it-costs-measured).
    webhook_relay_defer_seconds: float = Field(default=2.0, ge=0)
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
    def trusted_proxy_networks(self) -> tuple[Network, ...]:
        return parse_networks(self.trusted_proxies)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def direct_url(self) -> str:
        """The URL for LISTEN/NOTIFY, session advisory locks and migrations."""
        return self.direct_database_url or self.database_url

    @property
    def read_url(self) -> str:
        """The URL reports and search read from (a replica, or the primary)."""
        return self.read_database_url or self.database_url

    @property
    def json_logs(self) -> bool:
        return (self.log_format or ("json" if self.env == "production" else "plain")) == "json"

    @model_validator(mode="after")
    def _checks(self) -> "Settings":
        """Every problem at once, one line each, naming the variable and never its value."""
        problems = []
        if self.database_url.startswith(("postgresql://", "postgres://")):
            problems.append(
                "HOTLINE_DATABASE_URL: use the asyncpg driver, postgresql+asyncpg://USER@HOST/DB"
            )
        elif not self.database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            problems.append(
                "HOTLINE_DATABASE_URL: expected postgresql+asyncpg://USER@HOST/DB or "
                "sqlite+aiosqlite:///PATH"
            )
        for name in ("trusted_proxies", "login_exempt_networks"):
            try:
                parse_networks(getattr(self, name))
            except ValueError as exc:
                problems.append(f"HOTLINE_{name.upper()}: {exc}")
        if self.env == "production":
            if self.is_sqlite:
                # Several app instances cannot share one SQLite file safely.
                problems.append("HOTLINE_DATABASE_URL must point to PostgreSQL in production")
            if self.secret_key == DEFAULT_SECRET or len(self.secret_key) < 32:
                problems.append(
                    "HOTLINE_SECRET_KEY must be set to a random string of 32+ characters in "
                    "production (e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')"
                )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @property
    def serves_api_docs(self) -> bool:
        return self.api_docs if self.api_docs is not None else self.env != "production"

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


def settings_problems(exc: ValidationError) -> list[str]:
    """One line per problem of a refused configuration, without the values given: pydantic's
    own message would print them, secrets included."""
    lines = []
    for error in exc.errors(include_input=False, include_url=False):
        message = str(error.get("msg", "")).removeprefix("Value error, ")
        field = ".".join(str(p) for p in error.get("loc", ()))
        for line in message.splitlines():
            lines.append(f"HOTLINE_{field.upper()}: {line}" if field else line)
    return lines


class ConfigurationError(Exception):
    """A refused configuration; its message lists every problem, one per line, no values."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@lru_cache
def get_settings() -> Settings:
    """The settings from the environment; ConfigurationError when they are refused."""
    try:
        return Settings()
    except ValidationError as exc:
        # `from None`: the ValidationError's text holds the values given, secrets included.
        raise ConfigurationError(settings_problems(exc)) from None
