"""Field checks shared by the entities: types, lengths, money, dates and references."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from . import faults
from .company import Company
from .jsonio import Json

CENT = Decimal("0.01")
SYSTEM = frozenset({"Id", "SyncToken", "sparse", "domain", "MetaData", "status"})


def check_allowed(body: Json, allowed: Iterable[str], entity: str) -> None:
    """QBO's parser refuses properties it does not know (code 2010), so a typo in a field
    name fails loudly instead of being dropped."""
    known = set(allowed) | SYSTEM
    for key in body:
        if key not in known:
            raise faults.unsupported_property(key, entity, sorted(known))


def text(value: Any, element: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise faults.bad_value(element, value)
    if len(value) > limit:
        raise faults.too_long(element, value, limit)
    return value


def required_text(value: Any, element: str, limit: int) -> str:
    result = text(value, element, limit)
    if result is None or result.strip() == "":
        raise faults.required(element)
    return result


def number(value: Any, element: str) -> Decimal:
    # QBO's JSON binding turns "12.50" into a number as readily as 12.50.
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str | float):
        raise faults.bad_value(element, value)
    try:
        result = Decimal(str(value))
    except InvalidOperation as exc:
        raise faults.bad_value(element, value) from exc
    if not result.is_finite():
        raise faults.bad_value(element, value)
    return result


def money(value: Any, element: str) -> Decimal:
    # Amounts are kept to the cent, as QBO keeps them.
    return number(value, element).quantize(CENT, rounding=ROUND_HALF_UP)


def required_money(value: Any, element: str) -> Decimal:
    if value is None:
        raise faults.required(element)
    return money(value, element)


def iso_date(value: Any, element: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise faults.bad_value(element, value)
    try:
        return date.fromisoformat(value[:10]).isoformat()
    except ValueError as exc:
        raise faults.bad_value(element, value) from exc


def ref_id(value: Any, element: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("value") in (None, ""):
        raise (
            faults.required(f"{element}.value")
            if isinstance(value, dict)
            else (faults.bad_value(element, value))
        )
    return str(value["value"])


def reference(company: Company, entity: str, value: Any, element: str) -> Json:
    """A reference must name an existing, active record; QBO fills in its name."""
    entity_id = ref_id(value, element)
    if entity_id is None:
        raise faults.required(element)
    row = company.get(entity, entity_id)
    if row is None:
        raise faults.invalid_reference(element, entity_id)
    if row.get("Active") is False:
        raise faults.inactive(element)
    return company.ref(entity, row)


def email(value: Any, element: str) -> Json | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise faults.bad_value(element, value)
    address = text(value.get("Address"), f"{element}.Address", 100)
    if address is not None and "@" not in address:
        raise faults.business("Invalid email address format", f"{element}.Address")
    return {**value, "Address": address} if address is not None else dict(value)


def nested_text(value: Any, element: str, limits: dict[str, int]) -> Json | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise faults.bad_value(element, value)
    for key, limit in limits.items():
        text(value.get(key), f"{element}.{key}", limit)
    return dict(value)
