"""GeoReport v2 documents as JSON or XML. Pure.

XML follows the spec's examples: no namespace, UTF-8 with its declaration, a list is an element
whose children are named for one item (a one-element list stays a list), None is an empty
element, booleans are `true`/`false`; a character XML 1.0 does not allow becomes U+FFFD.
"""

import json
import re
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

# List fields and the element name of one of their items.
ITEM_TAGS = {
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "notes": "note",
}
# Root element and item element of each top-level list document.
ROOTS = {
    "services": ("services", "service"),
    "requests": ("service_requests", "request"),
    "updates": ("service_request_updates", "request_update"),
    "errors": ("errors", "error"),
}
# Characters XML 1.0 does not allow (most C0 controls, lone surrogates, U+FFFE/U+FFFF): valid in
# a JSON string and so in a stored ticket, they would make the whole document ill-formed.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
MEDIA_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}


def to_json(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode()


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return NOT_XML.sub("\ufffd", str(value))


def _fill(element: Element, value: Any, tag: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _fill(SubElement(element, key), item, key)
    elif isinstance(value, list):
        child_tag = ITEM_TAGS.get(tag, "item")
        for item in value:
            _fill(SubElement(element, child_tag), item, child_tag)
    else:
        element.text = _text(value)


def to_xml(document: Any, kind: str) -> bytes:
    """`kind` is a key of ROOTS for a list document, else the root element of an object."""
    root_tag, item_tag = ROOTS.get(kind, (kind, None))
    root = Element(root_tag)
    if item_tag is not None:
        for item in document:
            _fill(SubElement(root, item_tag), item, item_tag)
    else:
        _fill(root, document, root_tag)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root, encoding="unicode").encode()


def render(document: Any, kind: str, fmt: str) -> tuple[bytes, str]:
    """(body, media type) of a document in `fmt` ('json' or 'xml')."""
    body = to_json(document) if fmt == "json" else to_xml(document, kind)
    return body, MEDIA_TYPES[fmt]
