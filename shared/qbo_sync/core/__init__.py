"""What every part of the layer stands on, and nothing of qbo-sync's own domains.

Owns: the settings (read and checked once per container), the typed AWS clients, DynamoDB
plumbing (serialisation, update expressions, pagination, conditional failures), the clock, and
the vocabulary that is compared (statuses and reason codes as enums, with the contractor-facing
reason sentences). Never imports another qbo_sync package.
"""
