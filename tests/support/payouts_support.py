"""What the payout tests share: recorded payments, the bank account chosen on the settings
page, payout-paid events as EventBridge delivers them, and the company's accounts as QBO's
own postings leave them."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from payments_support import CONSUMER, export, pay

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator


def paid(env: LocalEnvironment, contractor: str, number: str, amount: str, payment_id: str) -> None:
    """An invoice exported and paid in full by one payment."""
    export(env, contractor, number, amount)
    result = pay(
        env,
        samples.payment_completed(
            contractor, f"inv_{number}", number, amount, payment_id=payment_id
        ),
    )
    assert result.failed == 0, result.errors


def payment(payment_id: str, amount: str, fee: str = "0.00") -> dict[str, Any]:
    return {"type": "payment", "payment_id": payment_id, "amount": amount, "fee": fee}


def adjustment(description: str, amount: str) -> dict[str, Any]:
    return {"type": "adjustment", "description": description, "amount": amount}


def refund(refund_id: str, amount: str) -> dict[str, Any]:
    return {"type": "refund", "refund_id": refund_id, "amount": amount}


def pay_out(env: LocalEnvironment, detail: dict[str, Any]) -> Any:
    env.platform.pay_out(detail)
    return env.runtime.poll_sqs(CONSUMER)


def api(
    env: LocalEnvironment, method: str, path: str, contractor: str, **kwargs: Any
) -> tuple[int, Any]:
    response = env.platform.api(method, path, contractor, **kwargs)
    body = json.loads(response["body"]) if response.get("body") else None
    return int(response["statusCode"]), body


def accounts(qbo: QboEmulator, realm: str) -> dict[str, dict[str, Any]]:
    return {account["Name"]: account for account in qbo.entities(realm, "Account")}


def choose_bank(env: LocalEnvironment, qbo: QboEmulator, realm: str, contractor: str) -> str:
    checking = accounts(qbo, realm)["Checking"]["Id"]
    status, body = api(
        env,
        "PUT",
        "/quickbooks/settings",
        contractor,
        body=json.dumps({"payout_account_id": checking}),
    )
    assert status == 200, body
    return str(checking)


def undeposited(qbo: QboEmulator, realm: str) -> Decimal:
    """What Undeposited Funds holds: the payments received into it, less those deposited."""
    account = accounts(qbo, realm)["Undeposited Funds"]["Id"]
    received = sum(
        (
            p["TotalAmt"]
            for p in qbo.entities(realm, "Payment")
            if p["DepositToAccountRef"]["value"] == account
        ),
        Decimal("0"),
    )
    deposited = sum(
        (
            line["Amount"]
            for d in qbo.entities(realm, "Deposit")
            for line in d["Line"]
            if line.get("LinkedTxn")
        ),
        Decimal("0"),
    )
    return Decimal(received - deposited)


def posted_to(qbo: QboEmulator, realm: str, account_id: str) -> Decimal:
    """The sum of the deposits' lines on one account (fees, refunds clearing)."""
    return sum(
        (
            line["Amount"]
            for d in qbo.entities(realm, "Deposit")
            for line in d["Line"]
            if line.get("DepositLineDetail", {}).get("AccountRef", {}).get("value") == account_id
        ),
        Decimal("0"),
    )


def payouts_list(env: LocalEnvironment, contractor: str, **query: str) -> dict[str, Any]:
    status, body = api(env, "GET", "/quickbooks/payouts", contractor, query=query)
    assert status == 200, body
    return dict(body)


def payout_event(env: LocalEnvironment, detail: dict[str, Any]) -> dict[str, Any]:
    """A payout-paid event as Lambda receives it from PaymentEventsQueue (one record)."""
    bus_event = samples.payment_bus_event(env.stack, detail)
    bus_event["detail-type"] = env.stack.parameters["PayoutEventDetailType"]
    record = samples.sqs_record(
        json.dumps(bus_event), env.stack.attributes["PaymentEventsQueue"]["Arn"], env.stack.region
    )
    return {"Records": [record]}
