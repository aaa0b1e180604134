"""The use cases, one file each: the only code that calls across invoices/, payments/, ledger/
and notifications, and the one that emits events (apart from the reauthorization flip, which
connection/tokens.py emits from the write that makes it).

- export.py: an invoice-sent message, from the connection check to the export record, the
  parked payments and the Invoice Exported / Export Failed events.
- payment.py: a payment-completed event, and the Payment Recorded events of every run.
- reconnect.py: the OAuth callback, then what a reconnect resumes.
- retry.py: the contractor's retry of an export.
- void.py: an invoice-voided message (its QBO void, its record, the Invoice Voided event).
- refund.py: a payment-refunded event, the refunds that waited for their payment, and the
  Refund Recorded events.
"""
