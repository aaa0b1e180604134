"""template.yaml's refund rule (docs/interface.md §9): the payments' queue, with their
durability."""

from __future__ import annotations

from tests.contract.test_template import PARAMETERS, RESOURCES


def test_refund_rule_queues_refunds_as_durably_as_the_payment_rule_queues_payments() -> None:
    payments = RESOURCES["PaymentCompletedRule"]["Properties"]
    refunds = RESOURCES["PaymentRefundedRule"]["Properties"]

    assert refunds["EventPattern"] == {
        "source": payments["EventPattern"]["source"],
        "detail-type": [{"Ref": "RefundEventDetailType"}],
    }
    assert PARAMETERS["RefundEventDetailType"]["Default"] == "Payment Refunded"
    assert refunds["EventBusName"] == payments["EventBusName"]
    assert refunds["Targets"] == payments["Targets"]  # the queue, retry policy and DLQ


def test_the_payment_queue_lets_the_refund_rule_deliver() -> None:
    policy = RESOURCES["PaymentEventsQueuePolicy"]["Properties"]["PolicyDocument"]
    sources = [
        statement["Condition"]["ArnEquals"]["aws:SourceArn"] for statement in policy["Statement"]
    ]

    assert {"Fn::GetAtt": ["PaymentRefundedRule", "Arn"]} in sources
