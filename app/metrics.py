"""Prometheus metrics of one app process, merged across the workers of an instance.

`hotline serve` points PROMETHEUS_MULTIPROC_DIR at a directory of its own before any worker
starts (prepare_multiprocess_dir); every worker then writes its values to memory-mapped files
there, and GET /metrics on any worker reads them all (MultiProcessCollector). Without the
variable (tests, a bare `uvicorn app.main:create_app`) the values live in process memory.

Labels are low-cardinality on purpose: route templates (never paths), methods, status classes,
channels, unit kinds, SLA states. No ids and no free text. Names and meanings: docs/operations.md.
"""

import os
import shutil
import tempfile
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

HTTP_REQUESTS = Counter(
    "hotline_http_requests",
    "HTTP requests answered, by route template, method and status class (2xx, 4xx, 5xx).",
    ["route", "method", "status"],
)
HTTP_DURATION = Histogram(
    "hotline_http_request_duration_seconds",
    "Time from the request's first byte to the response's last, by route template and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
TICKETS_CREATED = Counter(
    "hotline_tickets_created", "Tickets created (idempotent replays not counted).", ["channel"]
)
SLA_EVENTS = Counter(
    "hotline_sla_events_written",
    "SLA events written by the scan: kind is warning or breach.",
    ["kind"],
)
OPEN_ASSIGNMENTS = Gauge(
    "hotline_open_assignments",
    "Open assignments by unit kind and SLA state (on_track, warning, breached, paused), "
    "counted by the periodic-work leader every HOTLINE_METRICS_GAUGE_SECONDS.",
    ["unit_kind", "sla_state"],
    multiprocess_mode="mostrecent",
)
OPEN_ASSIGNMENTS_COUNTED = Gauge(
    "hotline_open_assignments_counted_timestamp_seconds",
    "When hotline_open_assignments was last counted (Unix time).",
    multiprocess_mode="mostrecent",
)
SLA_SCAN_COMPLETED = Gauge(
    "hotline_sla_scan_completed_timestamp_seconds",
    "When an SLA scan last finished without error (Unix time); alert when it falls behind.",
    multiprocess_mode="max",
)
LEADER = Gauge(
    "hotline_periodic_leader",
    "1 in the process that holds the periodic-work lock (SLA scan, purges, gauges).",
    multiprocess_mode="livesum",
)
RULESET_PROCESSES = Gauge(
    "hotline_ruleset_processes",
    "Worker processes serving each routing ruleset version (all on one version when settled).",
    ["version"],
    multiprocess_mode="livesum",
)
RULES_RELOAD_FAILURES = Counter(
    "hotline_rules_reload_failures", "Routing rule reloads refused (invalid files)."
)
DB_POOL_IN_USE = Gauge(
    "hotline_db_pool_connections_in_use",
    "Database connections checked out of the process pools (pool: primary or read).",
    ["pool"],
    multiprocess_mode="livesum",
)
OUTBOX_PENDING = Gauge(
    "hotline_outbox_pending",
    "Outbox items still to do by stage: fanout (messages not yet fanned out), webhook "
    "(deliveries with an attempt still to make, retries included), mail; counted by the "
    "periodic-work leader every HOTLINE_METRICS_GAUGE_SECONDS, at most 100000.",
    ["stage"],
    multiprocess_mode="mostrecent",
)
OUTBOX_OLDEST_AGE = Gauge(
    "hotline_outbox_oldest_pending_age_seconds",
    "Seconds the oldest pending item of a stage has waited past its due time (fanout: since "
    "written; webhook, mail: since its attempt fell due); 0 when none is late.",
    ["stage"],
    multiprocess_mode="mostrecent",
)
OUTBOX_COUNTED = Gauge(
    "hotline_outbox_counted_timestamp_seconds",
    "When the outbox backlog gauges were last counted (Unix time).",
    multiprocess_mode="mostrecent",
)
WEBHOOK_ENDPOINTS_DISABLED = Gauge(
    "hotline_webhook_endpoints_disabled",
    "Webhook endpoints switched off (410 Gone, failing too long, or by an administrator).",
    multiprocess_mode="mostrecent",
)
WEBHOOK_ATTEMPTS = Counter(
    "hotline_webhook_attempts",
    "Webhook delivery attempts by outcome: delivered (2xx), redirect (3xx), client_error "
    "(4xx), server_error (5xx), timeout, refused (address not allowed), connection_error.",
    ["outcome"],
)

SLA_STATES = ("on_track", "warning", "breached", "paused")


def status_class(status: int) -> str:
    return f"{status // 100}xx"


def prepare_multiprocess_dir() -> Path:
    """Give this process and the workers it starts one fresh directory for metric files.

    An existing PROMETHEUS_MULTIPROC_DIR is emptied (values of an earlier run would add up);
    otherwise a new temporary directory is made. Call before any worker starts.
    """
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        path = Path(given)
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
    else:
        path = Path(tempfile.mkdtemp(prefix="hotline-metrics-"))
        os.environ[MULTIPROC_ENV] = str(path)
    return path


def forget_dead_workers() -> None:
    """Drop the live gauges of worker processes that are gone (killed, restarted by uvicorn),
    so that pool, leader and ruleset gauges count only the living."""
    directory = os.environ.get(MULTIPROC_ENV)
    if not directory:
        return
    pids = set()
    for path in Path(directory).glob("gauge_live*_*.db"):
        pid = path.stem.rsplit("_", 1)[-1]
        if pid.isdigit():
            pids.add(int(pid))
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            _multiprocess.mark_process_dead(pid, directory)
        except PermissionError:  # alive, another user's
            pass


def render() -> tuple[bytes, str]:
    """The exposition of every metric of this instance (all its workers): (body, media type)."""
    directory = os.environ.get(MULTIPROC_ENV)
    if not directory:
        return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
    registry = CollectorRegistry()
    _multiprocess.MultiProcessCollector(registry, path=directory)
    return generate_latest(registry), CONTENT_TYPE_LATEST


class RulesetGauge:
    """Keeps hotline_ruleset_processes at 1 for the version this process serves."""

    def __init__(self) -> None:
        self.version: str | None = None

    def serving(self, version: str) -> None:
        if version == self.version:
            return
        if self.version is not None:
            RULESET_PROCESSES.labels(self.version).set(0)
        RULESET_PROCESSES.labels(version).set(1)
        self.version = version
