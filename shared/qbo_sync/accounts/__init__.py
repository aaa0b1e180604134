"""The accounts of the connected company that qbo-sync uses by role (contracts.md §11): found
by name or created once per company, their ids cached on the connection's settings item.
"""
