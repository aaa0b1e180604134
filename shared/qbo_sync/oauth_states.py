"""OAuthStateStore: single-use, short-lived `state` values that bind a callback to a contractor."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from qbo_sync import aws
from qbo_sync.clock import now
from qbo_sync.dynamo import from_item, is_conditional_failure, to_item

STATE_LIFETIME_SECONDS = 600


@dataclass(frozen=True)
class IssuedState:
    contractor_id: str
    expires_at: int


class OAuthStateStore:
    def __init__(self, table: str) -> None:
        self._table = table

    def issue(self, contractor_id: str) -> str:
        state = secrets.token_urlsafe(32)  # 256 bits
        item = {
            "state_hash": _digest(state),
            "contractor_id": contractor_id,
            "expires_at": int(now()) + STATE_LIFETIME_SECONDS,
        }
        aws.client("dynamodb").put_item(TableName=self._table, Item=to_item(item))
        return state

    def consume(self, state: str) -> IssuedState | None:
        """Deletes the state and returns what it was bound to; None if unknown, used or expired."""
        try:
            response = aws.client("dynamodb").delete_item(
                TableName=self._table,
                Key={"state_hash": {"S": _digest(state)}},
                ConditionExpression="attribute_exists(state_hash)",
                ReturnValues="ALL_OLD",
            )
        except Exception as error:
            if is_conditional_failure(error):
                return None
            raise
        values = from_item(response["Attributes"])
        issued = IssuedState(str(values["contractor_id"]), int(values["expires_at"]))
        # TTL deletion is lazy (up to days late), so expiry is checked here, not left to DynamoDB.
        return issued if issued.expires_at > now() else None


def _digest(state: str) -> str:
    # Only a hash is stored: a leaked table item cannot be replayed as a state.
    return hashlib.sha256(state.encode()).hexdigest()
