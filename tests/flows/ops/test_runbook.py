"""docs/operations.md's dead-letter steps, run against the local stack with the operators'
commands (python -m qbo_sync_admin): read why a message is parked, send it back unchanged (it
is parked again: nothing in QuickBooks twice), fix the cause, send it back (it is exported)."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout

from export_support import CONSUMER

from local import samples
from local.environment import LocalEnvironment, run_migrations
from local.qbo_emulator import QboEmulator
from qbo_sync_admin.__main__ import dead_letters, main, metered_reads, migrations, redrive
from tests.conftest import by_doc_number


def test_a_parked_invoice_is_read_sent_back_parked_again_then_exported_after_the_fix(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    dead_letter_queue = env.stack.resources["InvoiceSentDeadLetterQueue"]
    queue = env.stack.resources["InvoiceSentQueue"]
    held = [
        qbo.add_item(realm, "Invoice 88", Active=False),
        qbo.add_item(realm, "Invoice 88 (inv_88)", Active=False),
    ]
    env.platform.send_invoice(samples.invoice_sent(contractor, "88", "Ann", [("Work", "1", "5")]))
    env.runtime.poll_sqs(CONSUMER)

    # 1. Read it: why it is there, in the operator's words.
    out = io.StringIO()
    [letter] = dead_letters(dead_letter_queue, bodies=False, out=out)
    assert letter["kind"].startswith("parked by the function")
    assert "no free item name" in letter["reason"]
    assert "body" not in letter and "Ann" not in out.getvalue()

    # 2. Sent back unchanged, before the cause is fixed: parked again, nothing written.
    env.clock.advance(31)  # the listing hid it for 30 s
    assert redrive(dead_letter_queue, queue) == 1
    env.runtime.poll_sqs(CONSUMER)
    env.clock.advance(31)
    [again] = dead_letters(dead_letter_queue, bodies=False, out=io.StringIO())
    assert "no free item name" in again["reason"]
    assert "88" not in by_doc_number(qbo, realm)

    # 3. The contractor makes the item active again in QuickBooks; sent back, it is exported.
    with qbo._state.lock:
        company = qbo._state.company(realm)
        company.get("Item", held[0])["Active"] = True
    env.clock.advance(31)
    assert redrive(dead_letter_queue, queue) == 1
    result = env.runtime.poll_sqs(CONSUMER)

    assert result.failed == 0, result.errors
    assert "88" in by_doc_number(qbo, realm)
    assert dead_letters(dead_letter_queue, bodies=False, out=io.StringIO()) == []


def test_the_operator_reads_metered_reads_and_migrations(
    env: LocalEnvironment, contractor: str, realm: str
) -> None:
    operations = env.stack.tables["OperationsTable"]
    run_migrations(env.runtime)

    reads = metered_reads(operations)
    assert reads[realm] >= 1 and reads["total"] == reads[realm]
    [migration] = migrations(operations)
    assert (migration["migration"], migration["status"]) == (1, "done")
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["migrations", "--table", operations]) == 0
    assert json.loads(out.getvalue())[0]["status"] == "done"
