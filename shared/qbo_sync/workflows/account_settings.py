"""The settings page's account pickers and choices (docs/interface.md §11): the company's accounts
of a kind, the connection's choices, and a change of them, checked against the company first;
choosing the payout bank account sends the payouts that waited for one again."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from qbo_sync.accounts.chart import AccountKind, accounts_of_kind, is_account_of_kind
from qbo_sync.accounts.clearing import SETTING, AccountRole
from qbo_sync.accounts.settings import CHOICES, JOB_TRACKING, JOB_TRACKING_VALUES, settings_store
from qbo_sync.api.errors import InvalidAccount, InvalidRequest, NotConnected
from qbo_sync.connection import services
from qbo_sync.connection.store import Connection

logger = Logger(child=True)

KIND_OF_FIELD = {field: kind for field, kind in SETTING.values()}


def list_accounts(contractor_id: str, kind: str | None) -> dict[str, Any]:
    try:
        wanted = AccountKind(kind or "")
    except ValueError:
        names = ", ".join(k.value for k in AccountKind)
        raise InvalidRequest("invalid_type", "type must be one of: " + names) from None
    connection = _connected(contractor_id)
    return {"items": accounts_of_kind(services.qbo_client(connection), wanted)}


def view_settings(contractor_id: str) -> dict[str, Any]:
    connection = _connected(contractor_id)
    return settings_store(connection.contractor_id, connection.realm_id).get().view()


def change_settings(contractor_id: str, body: Any) -> dict[str, Any]:
    """`body`: the request's JSON, some of the settings (null clears a choice; a null
    job_tracking is `off`)."""
    connection = _connected(contractor_id)
    choices = _choices(body)
    qbo = services.qbo_client(connection)
    for field, value in choices.items():  # all checked before anything is written
        if field not in KIND_OF_FIELD or value is None:
            continue
        if not is_account_of_kind(qbo, value, KIND_OF_FIELD[field]):
            raise InvalidAccount(field, KIND_OF_FIELD[field].value)
    store = settings_store(connection.contractor_id, connection.realm_id)
    before, after = store.choose(choices)
    payout_field, _ = SETTING[AccountRole.PAYOUT]
    chosen = after.chosen(payout_field)
    if chosen and chosen != before.chosen(payout_field):
        # Imported here: the settings routes load a payout's modules (and the event models)
        # only when a bank account is chosen and waiting payouts are sent again.
        from qbo_sync.workflows.payout import resume_all_waiting

        resume_all_waiting(contractor_id)
    logger.info("Account settings changed", fields=sorted(choices))
    return after.view()


def _choices(body: Any) -> dict[str, str | None]:
    if not isinstance(body, dict) or not body:
        raise InvalidRequest(
            "invalid_settings", "Send a JSON object with some of: " + ", ".join(CHOICES)
        )
    unknown = sorted(set(body) - {*CHOICES, JOB_TRACKING})
    if unknown:
        raise InvalidRequest("invalid_settings", f"Unknown setting: {unknown[0]}")
    tracking = body.get(JOB_TRACKING)
    if tracking is not None and tracking not in JOB_TRACKING_VALUES:
        raise InvalidRequest(
            "invalid_settings", f"{JOB_TRACKING} must be one of: " + ", ".join(JOB_TRACKING_VALUES)
        )
    for field, value in body.items():
        if field == JOB_TRACKING:
            continue
        if value is not None and (not isinstance(value, str) or not value):
            raise InvalidRequest("invalid_settings", f"{field} must be an account id or null")
    return dict(body)


def _connected(contractor_id: str) -> Connection:
    connection = services.connections().get(contractor_id)
    if connection is None or not connection.usable:
        raise NotConnected(contractor_id)
    return connection
