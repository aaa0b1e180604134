"""What the settings page reads: the connection, the exports and the payouts (docs/interface.md §2,
§5, §12, §14), each list paged by the one helper in listing.py. Writes nothing."""
