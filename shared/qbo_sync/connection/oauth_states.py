"""OAuthStateStore: single-use, short-lived `state` values that bind a callback to a contractor.

A state is bound twice: to the contractor who clicked Connect, and to that contractor's browser
(a random value kept in a cookie on the callback's path). Without the browser binding, an attacker
could start a flow and lure a victim into approving it: the victim's company would land on the
attacker's account.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import NamedTuple

from qbo_sync.core import aws
from qbo_sync.core.clock import now
from qbo_sync.core.dynamo import from_item, to_item

STATE_LIFETIME_SECONDS = 600


class IssuedState(NamedTuple):
    contractor_id: str
    expires_at: int


class NewState(NamedTuple):
    state: str
    browser_binding: str

    def __repr__(self) -> str:
        return "NewState(...)"


class OAuthStateStore:
    def __init__(self, table: str) -> None:
        self._table = table

    def issue(self, contractor_id: str) -> NewState:
        issued = NewState(secrets.token_urlsafe(32), secrets.token_urlsafe(32))  # 256 bits each
        item = {
            "state_hash": _digest(issued.state),
            "browser_hash": _digest(issued.browser_binding),
            "contractor_id": contractor_id,
            "expires_at": int(now()) + STATE_LIFETIME_SECONDS,
        }
        aws.dynamodb().put_item(TableName=self._table, Item=to_item(item))
        return issued

    def consume(self, state: str, browser_binding: str) -> IssuedState | None:
        """Deletes the state, whatever else is wrong, and returns what it was bound to.

        None if the state is unknown, used, expired, or was issued to another browser."""
        dynamodb = aws.dynamodb()
        try:
            response = dynamodb.delete_item(
                TableName=self._table,
                Key={"state_hash": {"S": _digest(state)}},
                ConditionExpression="attribute_exists(state_hash)",
                ReturnValues="ALL_OLD",
            )
        except dynamodb.exceptions.ConditionalCheckFailedException:
            return None
        values = from_item(response["Attributes"])
        issued = IssuedState(str(values["contractor_id"]), int(values["expires_at"]))
        same_browser = hmac.compare_digest(str(values["browser_hash"]), _digest(browser_binding))
        # TTL deletion is lazy (up to days late), so expiry is checked here, not left to DynamoDB.
        return issued if same_browser and issued.expires_at > now() else None


def _digest(state: str) -> str:
    # Only a hash is stored: a leaked table item cannot be replayed as a state.
    return hashlib.sha256(state.encode()).hexdigest()
