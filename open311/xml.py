"""GeoReport v2's XML: a root element, one child per item named as the spec names it, fields as
elements, nulls as empty elements, booleans as true/false."""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring  # noqa: S405 - we only write XML

from kernel.text import clean_text

ITEM_NAMES = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "service_request_updates": "request_update",
}


def _fill(parent: Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _fill(SubElement(parent, key), child)
    elif isinstance(value, list):
        item = ITEM_NAMES.get(parent.tag, "item")
        for child in value:
            _fill(SubElement(parent, item), child)
    elif isinstance(value, bool):
        parent.text = "true" if value else "false"
    elif value is not None:
        # XML 1.0 cannot carry control characters at all, escaped or not: one stored before intake
        # cleaned them must not make a whole page of requests unreadable
        parent.text = clean_text(str(value))


def render(root: str, value: Any) -> bytes:
    element = Element(root)
    _fill(element, value)
    body: bytes = tostring(element, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body
