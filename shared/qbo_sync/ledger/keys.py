"""The keys of the ledger's items, in one place."""

from __future__ import annotations

from qbo_sync.core.dynamo import Key, key

SKIPPED_PREFIX = "skipped#"
LEDGER_MARK = "#payments#"


def ledger_sk(realm_id: str, invoice_id: str = "") -> str:
    """The sort key of an invoice's ledger item; without an invoice id, the prefix all of a
    realm's ledger items share."""
    return f"{realm_id}{LEDGER_MARK}{invoice_id}"


def is_ledger_sk(sk: str) -> bool:
    return LEDGER_MARK in sk


def skipped_sk(invoice_id: str) -> str:
    return SKIPPED_PREFIX + invoice_id


def ledger_key(contractor_id: str, realm_id: str, invoice_id: str) -> Key:
    return key(contractor_id, ledger_sk(realm_id, invoice_id))


def skipped_key(contractor_id: str, invoice_id: str) -> Key:
    return key(contractor_id, skipped_sk(invoice_id))


# The ledger item's attribute of one payment's entry: "payment:<payment id>".
ENTRY_PREFIX = "payment:"


def recorded_payment_key(contractor_id: str, realm_id: str, payment_id: str) -> Key:
    """A recorded payment's item, found by the payment id alone (payment_index.py)."""
    return key(contractor_id, f"{realm_id}#recorded#{payment_id}")


def recorded_refund_key(contractor_id: str, realm_id: str, refund_id: str) -> Key:
    """A recorded refund's item, found by the refund id alone (payment_index.py)."""
    return key(contractor_id, f"{realm_id}#refunded#{refund_id}")


# The ledger item's attribute of one refund's entry: "refund:<refund id>" (the payment it
# refunds is in the entry: a payment's entry is rewritten whole by each payment write).
REFUND_PREFIX = "refund:"
# The payments a refund was ever claimed or refused for (a string set): a payment's claim
# carried by another payment's settle holds only while no refund names it (entries.py).
REFUNDED = "refunded_payments"
