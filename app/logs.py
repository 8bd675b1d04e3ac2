"""Logging set-up: one JSON object per line in production, plain text in development.

Every record carries the id of the request it was written in (`request_id`, '-' outside
requests: start-up, background work), so a handled error's line and the request's access line
can be joined. The same configuration is given to uvicorn (log_config), so that every worker
process and uvicorn's own messages log the same way.

`redacted_traceback` writes an exception's traceback without its messages (drivers put row
data in them: a caller's phone in "Failing row contains ..."), for the API's last-resort
handler (app.api.failsafe) and the background loops (app.periodic, app.main) alike.
"""

import logging
import logging.config
import re
import traceback
from contextvars import ContextVar
from typing import Any
from urllib.parse import parse_qsl, urlencode

from app.config import Settings

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")

# Query parameters whose values may carry caller data (a phone, a name, words of the
# description) are never logged; any other value that looks like a phone number neither.
SENSITIVE_PARAMS = frozenset({"caller_phone", "phone", "caller", "caller_name", "email", "q"})
_PHONE_LIKE = re.compile(r"\+?\d[\d .\-()]{6,}\d")
REDACTED = "[redacted]"


def redact_query(query: str) -> str:
    """The query string with caller data replaced by [redacted]; parameter names kept."""
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True)
    safe = [
        (name, REDACTED if name in SENSITIVE_PARAMS else _PHONE_LIKE.sub(REDACTED, value))
        for name, value in pairs
    ]
    return urlencode(safe, safe="[]")


class RequestIdFilter(logging.Filter):
    """Stamps each record with the current request's id (unless it names one already)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


def logging_config(settings: Settings) -> dict[str, Any]:
    """A logging.config.dictConfig dictionary for `settings` (format and level)."""
    if settings.json_logs:
        formatter: dict[str, Any] = {
            "()": "pythonjsonlogger.orjson.OrjsonFormatter",
            "fmt": ["levelname", "name", "message", "request_id"],
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",  # ISO 8601, UTC
        }
    else:
        formatter = {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"default": formatter},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["request_id"],
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["default"], "level": settings.log_level},
        "loggers": {
            # uvicorn's loggers go to the root handler; its access log is replaced by ours
            # (hotline.access, one line per request with the route template and request id).
            "uvicorn": {"handlers": [], "propagate": True, "level": settings.log_level},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"},
            "alembic.runtime.plugins": {"level": "WARNING"},
        },
    }


def configure_logging(settings: Settings) -> None:
    logging.config.dictConfig(logging_config(settings))


def redacted_traceback(exc: BaseException) -> str:
    """The traceback of `exc` and its causes with each exception's message left out."""
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        chain.append(current)
        seen.add(id(current))
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    parts = []
    for index, item in enumerate(reversed(chain)):
        if index:
            parts.append("\nwhich led to:\n")
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(item.__traceback__))
        kind = type(item)
        parts.append(f"{kind.__module__}.{kind.__qualname__} (message withheld)\n")
    return "".join(parts)
