"""A contractor's history (docs/interface.md §15): invoices sent before the company was connected.

Owns: the history request items (store.py) and the company's hand-keyed invoice numbers kept
with a request (numbers.py). workflows/history_request.py sequences a request, workflows/history.py
each replayed message.
"""
