"""The accounts qbo-sync finds or creates in each company (contracts.md §11), by role.

Per company, never one id for all contractors: found by name among the active accounts of the
role's type, or created, once, and its id cached on the connection's settings item in the
mapping table (pk = contractor id, sk = "<realm>#settings"), which this module alone writes.
With the id cached, `account_for` makes no QBO request.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from aws_lambda_powertools import Logger

from qbo_sync.connection import services
from qbo_sync.connection.store import Connection
from qbo_sync.core import aws
from qbo_sync.core.dynamo import from_item, key, to_item
from qbo_sync.core.settings import get_settings
from qbo_sync.qbo.client import quote, request_id

logger = Logger(child=True)


class AccountRole(StrEnum):
    FEES = "fees"
    REFUNDS_CLEARING = "refunds_clearing"


@dataclass(frozen=True)
class _Default:
    name: str
    account_type: str
    sub_type: str
    attribute: str  # on the settings item


_DEFAULTS = {
    AccountRole.FEES: _Default(
        "Payment processing fees", "Expense", "OtherMiscellaneousServiceCost", "fee_account_id"
    ),
    AccountRole.REFUNDS_CLEARING: _Default(
        "Refunds clearing",
        "Other Current Asset",
        "OtherCurrentAssets",
        "refund_clearing_account_id",
    ),
}


def account_for(connection: Connection, role: AccountRole) -> str:
    """The QBO account id the connection uses for `role`."""
    default = _DEFAULTS[role]
    table = get_settings().mappings_table
    item_key = key(connection.contractor_id, f"{connection.realm_id}#settings")
    item = aws.dynamodb().get_item(TableName=table, Key=item_key, ConsistentRead=True).get("Item")
    cached = from_item(item).get(default.attribute) if item else None
    if cached:
        return str(cached)
    found = _find_or_create(connection, role, default)
    # if_not_exists: a racing invocation that cached first wins, and both use its id.
    response = aws.dynamodb().update_item(
        TableName=table,
        Key=item_key,
        UpdateExpression="SET #a = if_not_exists(#a, :id)",
        ExpressionAttributeNames={"#a": default.attribute},
        ExpressionAttributeValues=to_item({":id": found}),
        ReturnValues="UPDATED_NEW",
    )
    return str(from_item(response["Attributes"])[default.attribute])


def _find_or_create(connection: Connection, role: AccountRole, default: _Default) -> str:
    qbo = services.qbo_client(connection)
    statement = (
        f"select * from Account where Name = {quote(default.name)} "
        f"and AccountType = {quote(default.account_type)}"
    )
    for row in qbo.query(statement):
        if row.get("Active", True):
            return str(row["Id"])
    fields = {
        "Name": default.name,
        "AccountType": default.account_type,
        "AccountSubType": default.sub_type,
    }
    requestid = request_id(connection.contractor_id, connection.realm_id, "account", role)
    created = qbo.create("Account", fields, requestid)
    logger.info("Account created in QuickBooks", role=role, qbo_account_id=created["Id"])
    return str(created["Id"])
