"""Work kept while QuickBooks needed reauthorization goes on by itself after the reconnect."""

from __future__ import annotations

import json
from decimal import Decimal

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator
from tests.conftest import by_doc_number


def test_invoice_and_payment_kept_during_reauthorization_land_after_reconnect(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    qbo.revoke_refresh_tokens(realm)  # the company disconnected the app inside QuickBooks
    qbo.expire_access_tokens(realm)
    env.platform.send_invoice(
        samples.invoice_sent(contractor, "77", "Kept Client", [("Deck", "1", "500.00")])
    )
    env.runtime.poll_sqs("InvoiceSentFunction")
    env.platform.complete_payment(
        samples.payment_completed(contractor, "inv_77", "77", "500.00", payment_id="pay_kept")
    )
    env.runtime.poll_sqs("PaymentCompletedFunction")
    status = json.loads(env.platform.api("GET", "/quickbooks/connection", contractor)["body"])
    assert status["status"] == "reauthorization_required"
    assert qbo.entities(realm, "Invoice") == []

    landed = env.platform.connect_quickbooks(contractor)  # no retry click anywhere
    env.runtime.drain()

    assert landed.endswith("quickbooks=connected")
    invoices = by_doc_number(qbo, realm)
    assert list(invoices) == ["77"]
    assert Decimal(str(invoices["77"]["Balance"])) == 0
    assert len(qbo.entities(realm, "Payment")) == 1
    assert env.runtime.poll_sqs("InvoiceSentFunction").invocations == 0  # nothing loops
