"""QuickBooks Online's Accounting API, as the layer speaks it.

Owns: the HTTP client (entities, queries, the one retry policy, requestids), the fault table
(QBO's fault code -> our exception -> the contractor's reason), and the pure builders that
turn platform things into QBO entity fields. Never touches DynamoDB, SQS or the bus, and knows
nothing of connections: it is handed a token source.
"""
