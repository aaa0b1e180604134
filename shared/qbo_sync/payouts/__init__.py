"""Payouts: one QBO Deposit per platform payout, into the connection's bank account, with the
payments it pays out linked (out of Undeposited Funds) and fees, refunds and adjustments as
lines (docs/interface.md §10).

Owns: the payout item (mapping table, pk = contractor id, sk = "<realm>#payout#<payout id>",
records.py), its listing through the two sparse indexes template.yaml declares (listing.py),
the deposit's pure field builders (lines.py); its one QBO write is workflows/payout.py's adapter
of once.py.
Imports nothing of payments/ or the ledger: workflows/payout.py hands it the QBO ids of what it
deposits. Emits no event: records.py answers the state before each write.
"""
