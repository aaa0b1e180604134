"""JSON in and out with Decimal money: amounts are parsed as Decimal and written back as
JSON numbers, never through float, so a total of 1234.56 stays exactly 1234.56."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

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


def to_xml(tag: str, value: Any) -> str:
    """QBO answers XML unless the client asks for JSON; a client that forgets the Accept
    header must see XML here too, not a silently helpful JSON body."""
    if isinstance(value, dict):
        inner = "".join(to_xml(k, v) for k, v in value.items())
        return f"<{tag}>{inner}</{tag}>"
    if isinstance(value, list):
        return "".join(to_xml(tag, v) for v in value)
    text = dumps(value) if not isinstance(value, str) else value
    return f"<{tag}>{escape(text)}</{tag}>"
