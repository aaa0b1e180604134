"""A connection's accounts: which QuickBooks accounts its payouts, fees, refunds and income go
to (docs/interface.md §11).

Owns: the settings item (mapping table, pk = contractor id, sk = "<realm>#settings"), per
connection and never per stack, written by settings.py only; the chart's reads (chart.py: the
accounts of a kind, an id checked to be an active account of that kind); and the clearing
accounts (clearing.py: the contractor's choice, else found by name or created once per company
and remembered on the settings item). Emits no event.
"""
