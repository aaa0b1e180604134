"""Sent invoices on their way into QuickBooks.

Owns: the mapping items (mapping table, sk = "<realm>#invoice#...", "#customer#...",
"#account#income"), the invoices kept while a connection needs reauthorization
("pending#<invoice id>"), the invoice-sent queue's sends and its dead-letter copies, and the
exporter, which writes QBO's Customer, Item and Invoice and returns what it wrote. Imports
nothing of payments/, emits no event, and writes no ledger item: workflows/export.py does that
with what the exporter returns.
"""
