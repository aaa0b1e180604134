"""An invoice's ledger: the one item per invoice and company that the settings page lists.

Owns: the ledger item (mapping table, pk = contractor id, sk = "<realm>#payments#<invoice id>")
with the invoice's export record and its payments' entries, and the "skipped#<invoice id>" item
of an invoice sent while nothing was connected. The only code that builds these keys or reads
and writes these items; everything else asks it. Emits no event and calls no QBO: it answers
with the state before each write, so workflows/ can tell what changed.
"""
