"""DynamoDB attribute values to and from Python, as boto3's TypeSerializer and TypeDeserializer
convert them (tests/unit/test_dynamo_types.py holds the two equal on generated values), without
importing boto3: the boto3 package's import loads s3transfer's transfer manager, which no
function here uses, about 20 ms of every cold start (bench figure 1; the clients come from
botocore's session, core/aws.py). Binary values come back as bytes rather than boto3's Binary.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Set
from decimal import Clamped, Context, Decimal, Inexact, Overflow, Rounded, Underflow
from typing import Any

# boto3's: DynamoDB numbers have 38 digits; a value that would be rounded is refused, not stored.
DYNAMODB_CONTEXT = Context(
    Emin=-128, Emax=126, prec=38, traps=[Clamped, Overflow, Inexact, Rounded, Underflow]
)


def serialize(value: Any) -> dict[str, Any]:
    """{"S": ...}, {"N": ...} and so on, for a value boto3's TypeSerializer accepts."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if _is_number(value):
        return {"N": _number(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bytes | bytearray):
        return {"B": value}
    if isinstance(value, Set):
        for kind, test, convert in _SETS:
            if all(test(member) for member in value):
                return {kind: [convert(member) for member in value]}
    if isinstance(value, Mapping):
        return {"M": {key: serialize(member) for key, member in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [serialize(member) for member in value]}
    raise TypeError(f'Unsupported type "{type(value)}" for value "{value}"')


def deserialize(value: dict[str, Any]) -> Any:
    if not value:
        raise TypeError("Value must be a nonempty dictionary whose key is a valid dynamodb type.")
    kind, data = next(iter(value.items()))
    try:
        convert = _FROM[kind]
    except KeyError:
        raise TypeError(f"Dynamodb type {kind} is not supported") from None
    return convert(data)


def _is_number(value: Any) -> bool:
    if isinstance(value, float):
        raise TypeError("Float types are not supported. Use Decimal types instead.")
    return isinstance(value, int | Decimal)


def _number(value: int | Decimal) -> str:
    number = str(DYNAMODB_CONTEXT.create_decimal(value))
    if number in ("Infinity", "NaN"):
        raise TypeError("Infinity and NaN not supported")
    return number


def _same(value: Any) -> Any:
    return value


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_bytes(value: Any) -> bool:
    return isinstance(value, bytes | bytearray)


_SETS: tuple[tuple[str, Callable[[Any], bool], Callable[[Any], Any]], ...] = (
    ("NS", _is_number, _number),
    ("SS", _is_str, _same),
    ("BS", _is_bytes, _same),
)

_FROM: dict[str, Callable[[Any], Any]] = {
    "NULL": lambda _: None,
    "BOOL": _same,
    "N": DYNAMODB_CONTEXT.create_decimal,
    "S": _same,
    "B": bytes,
    "NS": lambda data: {DYNAMODB_CONTEXT.create_decimal(n) for n in data},
    "SS": set,
    "BS": lambda data: {bytes(b) for b in data},
    "L": lambda data: [deserialize(member) for member in data],
    "M": lambda data: {key: deserialize(member) for key, member in data.items()},
}
