"""The use cases, one file each: the only code that calls across invoices/, payments/ and
ledger/. None emits an event: each state change is written once, and the outbox (outbox.py,
OutboxFunction) derives the events from the tables' change streams.

- export.py: an invoice-sent message, from the connection check to the export record and the
  parked payments.
- payment.py: a payment-completed event.
- reconnect.py: the OAuth callback, then what a reconnect resumes.
- retry.py: the contractor's retry of an export.
- keep_connections.py: the daily keeper of idle and expiring connections.
- void.py: an invoice-voided message (its QBO void, its record, the Invoice Voided event).
- refund.py: a payment-refunded event, the refunds that waited for their payment, and the
  Refund Recorded events.
"""
