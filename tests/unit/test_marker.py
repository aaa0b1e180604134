"""qbo/marker.py: the one "ours" marker. What each create writes is recognised by the lookup
of its own kind and id, and by no other id or kind."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from qbo_sync.events.payments import PaymentCompleted, PaymentRefunded
from qbo_sync.payouts.lines import payout_note
from qbo_sync.qbo.fields import invoice_note, payment_fields
from qbo_sync.qbo.marker import is_ours, noted_revision
from qbo_sync.qbo.refund_fields import refund_fields

IDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=40)


class _Invoice:
    def __init__(self, invoice_id: str, revision: int) -> None:
        self.id, self.revision = invoice_id, revision


def _notes(platform_id: str) -> dict[str, str]:
    at = datetime(2026, 12, 1, tzinfo=UTC)
    payment = PaymentCompleted(
        schema_version=1,
        payment_id=platform_id,
        contractor_id="ctr_1",
        invoice_id="inv_1",
        invoice_number="1",
        amount=Decimal("5.00"),
        currency="USD",
        paid_at=at,
        method="card",
    )
    refund = PaymentRefunded(
        schema_version=1,
        refund_id=platform_id,
        payment_id="pay_1",
        contractor_id="ctr_1",
        invoice_id="inv_1",
        invoice_number="1",
        amount=Decimal("5.00"),
        currency="USD",
        refunded_at=at,
        reason="duplicate",
    )
    return {
        "invoice": invoice_note(_Invoice(platform_id, 3)),  # type: ignore[arg-type]
        "payment": payment_fields(payment, "1", "2", "3", applied=Decimal("5"))["PrivateNote"],
        "refund": refund_fields(refund, "1", "2", "3")["PrivateNote"],
        "payout": payout_note(platform_id),
    }


@given(IDS, IDS)
def test_each_create_is_recognised_by_its_own_lookup_only(mine: str, other: str) -> None:
    for kind, note in _notes(mine).items():
        row = {"PrivateNote": note}
        assert is_ours(row, kind, mine)
        assert not any(is_ours(row, k, mine) for k in _notes(mine) if k != kind)
        if other != mine:
            assert not is_ours(row, kind, other)


def test_an_invoice_note_gives_its_revision_and_a_hand_keyed_one_none() -> None:
    note = invoice_note(_Invoice("inv_7", 4))  # type: ignore[arg-type]
    assert noted_revision({"PrivateNote": note}, "inv_7") == 4
    assert noted_revision({"PrivateNote": "keyed in by hand"}, "inv_7") is None
    assert noted_revision({}, "inv_7") is None
