"""Operators' commands against a deployed stack's queues and tables (docs/operations.md)."""
