"""JSON in and out with Decimal money: amounts are parsed as Decimal and written back as
JSON numbers, never through float, so a total of 1234.56 stays exactly 1234.56."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape, quoteattr

Json = dict[str, Any]


class BadJson(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise BadJson(f"{name} is not a number")


def loads(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"), parse_float=Decimal, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadJson(str(exc)) from exc


def dumps(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        items = (json.dumps(str(k)) + ":" + dumps(v) for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    return json.dumps(value)


def _is_attribute(key: str, value: Any) -> bool:
    # Intuit's XML schema: lower-case names (domain, sparse, code, element, type, name,
    # startPosition, maxResults) are attributes, capitalised ones are elements.
    return key[:1].islower() and key != "value" and not isinstance(value, dict | list)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else dumps(value)


def to_xml(tag: str, value: Any) -> str:
    """QBO answers XML unless the client asks for JSON; a client that forgets the Accept
    header must see XML here too, not a silently helpful JSON body. A reference's `value` is
    the element's text: `<CustomerRef name="Jane">1</CustomerRef>`."""
    if isinstance(value, list):
        return "".join(to_xml(tag, v) for v in value)
    if not isinstance(value, dict):
        return f"<{tag}>{escape(_text(value))}</{tag}>"
    attributes = "".join(
        f" {k}={quoteattr(_text(v))}" for k, v in value.items() if _is_attribute(k, v)
    )
    inner = "".join(
        to_xml(k, v) for k, v in value.items() if k != "value" and not _is_attribute(k, v)
    )
    if "value" in value:
        inner = escape(_text(value["value"])) + inner
    return f"<{tag}{attributes}>{inner}</{tag}>"
