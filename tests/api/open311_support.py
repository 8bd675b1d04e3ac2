"""Helpers of the Open311 tests: the GeoReport v2 JSON Schemas, XML back to JSON, a key."""

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

SCHEMAS = Path(__file__).resolve().parents[1] / "data" / "georeport_v2"
BASE = "http://test/open311/v2"


def _registry() -> Registry:
    resources = [
        (p.name, Resource.from_contents(json.loads(p.read_text()), default_specification=DRAFT7))
        for p in SCHEMAS.glob("*.json")
        if p.name != "swagger.json"
    ]
    return Registry().with_resources(resources)


REGISTRY = _registry()
DATETIME_FIELDS = ("requested_datetime", "updated_datetime", "expected_datetime")


def validate(document: Any, schema: str) -> None:
    """Against the published schema; and every datetime ISO 8601 with an offset."""
    validator = jsonschema.Draft7Validator(
        REGISTRY.contents(schema), registry=REGISTRY, format_checker=jsonschema.FormatChecker()
    )
    validator.validate(document)
    for item in document if isinstance(document, list) else [document]:
        for name in DATETIME_FIELDS:
            if item.get(name) is not None:
                assert datetime.fromisoformat(item[name]).utcoffset() is not None, item[name]


LISTS = {"attributes", "values", "endpoints", "formats"}


def _value(element: Element) -> Any:
    children = list(element)
    if element.tag in LISTS:
        return [_value(c) for c in children]
    if children:
        return {c.tag: _value(c) for c in children}
    return element.text


def xml_document(body: bytes) -> Any:
    """An XML answer as the JSON one would read, strings for scalars (XML has no types)."""
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = SafeET.fromstring(body)
    assert "}" not in root.tag  # no namespace
    if root.tag in ("services", "service_requests", "service_request_updates", "errors"):
        return [_value(c) for c in root]
    return _value(root)


def as_strings(value: Any) -> Any:
    """JSON values as XML carries them: booleans true/false, numbers as text, null as None."""
    if isinstance(value, dict):
        return {k: as_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_strings(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return None
    return str(value)


async def integration_key(client: Any, auth: Any, role: str = "integration") -> str:
    made = await client.post(
        "/admin/api-keys", json={"name": f"app-{role}", "role": role}, headers=auth("admin")
    )
    assert made.status_code == 201, made.text
    return str(made.json()["key"])
