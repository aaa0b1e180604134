"""The connected QuickBooks company's own setup: its sales tax model (Automated Sales Tax, manual
US sales tax, or tax codes on every line outside the US), its tax codes and rates, its home
currency and whether multicurrency is on. `setup.py` owns the one item that keeps it per company
and is the only code that reads it from QuickBooks."""
