"""What counts as a value. QBO's JSON binding reads an empty string as "not given" and answers
only the properties that have values: python-quickbooks sends `"TxnDate": ""`, `"Notes": ""`
and a dozen more on every save (its objects default to ""), its own sandbox tests create
invoices and customers that way, and Intuit's response samples never show an empty string
(developer.intuit.com, API reference, Customer/Invoice "Sample Response")."""

from __future__ import annotations

from typing import Any


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value == "")


def drop_blank(value: Any) -> Any:
    """The same value with every None or "" property removed, at any depth. Empty lists stay:
    Intuit's samples show `"LinkedTxn": []`."""
    if isinstance(value, dict):
        return {k: drop_blank(v) for k, v in value.items() if not blank(v)}
    if isinstance(value, list):
        return [drop_blank(v) for v in value]
    return value
