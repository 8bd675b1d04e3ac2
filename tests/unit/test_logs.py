"""Log set-up: JSON lines in production, plain text in development, caller data redacted."""

import json
import logging

from pythonjsonlogger.orjson import OrjsonFormatter

from app.config import Settings
from app.logs import RequestIdFilter, logging_config, redact_query, request_id_var

PROD = {"env": "production", "secret_key": "s" * 40, "database_url": "postgresql+asyncpg://x/y"}


def _record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("hotline.access", logging.INFO, __file__, 1, message, args, None)
    record.__dict__.update(extra)
    return record


def test_production_writes_one_json_object_per_line_with_the_request_id():
    config = logging_config(Settings(**PROD))
    spec = dict(config["formatters"]["default"])
    assert spec.pop("()") == "pythonjsonlogger.orjson.OrjsonFormatter"
    formatter = OrjsonFormatter(**spec)
    token = request_id_var.set("req-9")
    try:
        record = _record("POST %s %d", "/api/v1/tickets", 201, status=201, route="/api/v1/tickets")
        RequestIdFilter().filter(record)
    finally:
        request_id_var.reset(token)
    line = formatter.format(record)
    assert "\n" not in line
    data = json.loads(line)
    assert data["message"] == "POST /api/v1/tickets 201"
    assert data["request_id"] == "req-9" and data["status"] == 201 and data["level"] == "INFO"
    assert data["logger"] == "hotline.access" and data["time"].endswith("+00:00")
    assert config["root"]["level"] == "INFO"
    assert config["loggers"]["uvicorn.access"]["level"] == "WARNING"  # ours replaces it


def test_development_writes_plain_text_and_the_level_is_a_setting():
    config = logging_config(Settings(env="development", log_level="WARNING"))
    assert "format" in config["formatters"]["default"]
    assert config["root"]["level"] == "WARNING"
    assert Settings(**PROD, log_format="plain").json_logs is False


def test_a_record_outside_any_request_is_marked_and_one_naming_its_own_id_keeps_it():
    outside = _record("scan")
    RequestIdFilter().filter(outside)
    assert outside.request_id == "-"
    own = _record("x", request_id="given")
    RequestIdFilter().filter(own)
    assert own.request_id == "given"


def test_query_strings_lose_caller_data_and_keep_their_shape():
    cases = {
        "caller_phone=0912345678&status=open": "caller_phone=[redacted]&status=open",
        "q=Nguy%E1%BB%85n+r%C3%A1c&limit=50": "q=[redacted]&limit=50",
        "note=goi+lai+0912+345+678+nhe": "note=goi+lai+[redacted]+nhe",
        "area=C%E1%BA%A7u+Gi%E1%BA%A5y&sla_state=warning": "area=C%E1%BA%A7u+Gi%E1%BA%A5y&sla_state=warning",
        "": "",
    }
    for query, logged in cases.items():
        assert redact_query(query) == logged
