"""A contractor's QuickBooks connection: connect, callback, disconnect, and its tokens.

Owns: the connection item (ConnectionsTable), the OAuth state items (OAuthStatesTable), the
tokens' encryption and refresh under a lease, Intuit's OAuth endpoints, and the QBO client whose
token follows refreshes. Emits one event only: the reauthorization flip, from the write that
makes it. Never touches invoices, payments or the ledger: what a reconnect resumes is
workflows/reconnect.py's.
"""
