"""Platform payments on their way into QuickBooks.

Owns the recording of one payment as one QBO Payment (recorder.py), through the ledger's claim,
park and record writes (ledger/entries.py). Imports nothing of invoices/ (an invoice's QBO ids
come from the ledger, or from the lookup workflows/ hands in), and emits no event.
"""
