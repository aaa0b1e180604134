"""A list's page cursor, opaque to the settings page: base64 of DynamoDB's LastEvaluatedKey,
bound to the list's filter, and checked to name the contractor's own partition before it is
used, so that a cursor cannot be forged into another contractor's items."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

VERSION = 1


class InvalidCursor(ValueError):
    """Not a cursor this list gave out (for this filter and contractor)."""


def encode_cursor(last: dict[str, Any], filtered: str) -> str:
    document = {"v": VERSION, "s": filtered, "k": last}
    raw = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(
    cursor: str, filtered: str, attributes: tuple[str, str, str], contractor_id: str
) -> dict[str, Any]:
    """`attributes`: the index's partition and order key attributes, and the contractor's
    partition value; the table's own pk and sk come with them."""
    try:
        document = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise InvalidCursor(cursor) from None
    if not isinstance(document, dict) or document.get("v") != VERSION:
        raise InvalidCursor(cursor)
    key = document.get("k")
    partition, order, mine = attributes
    if document.get("s") != filtered or not isinstance(key, dict):
        raise InvalidCursor(cursor)
    if set(key) != {"pk", "sk", partition, order} or not all(map(_is_string, key.values())):
        raise InvalidCursor(cursor)
    if key[partition]["S"] != mine or key["pk"]["S"] != contractor_id:
        raise InvalidCursor(cursor)
    return key


def _is_string(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"S"} and isinstance(value["S"], str)
