"""Platform refunds on their way into QuickBooks (docs/interface.md §9).

Owns the recording of one refund as one QBO RefundReceipt (recorder.py), through the ledger's
refund entries (ledger/refunds.py), out of the connection's refunds clearing account
(accounts/clearing.py). Imports nothing of invoices/ or payments/, and emits no event.
"""
