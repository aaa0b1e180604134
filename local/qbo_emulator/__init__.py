"""A local emulator of Intuit OAuth 2.0 and the QuickBooks Online Accounting API."""

from .emulator import QboEmulator
from .state import RequestRecord

__all__ = ["QboEmulator", "RequestRecord"]
