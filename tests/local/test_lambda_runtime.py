"""local/lambda_runtime.py hands the stack's handlers the events Lambda's event sources would."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from local_support import PROJECT_ROOT, Recorder, aws_pointed_at, queue_depth, receive_all

from local.lambda_runtime import LambdaRuntime
from local.stack import LocalStack, deploy_local_stack

INVOICE = "InvoiceSentFunction"
PAYMENT = "PaymentCompletedFunction"
OAUTH = "OAuthFunction"


def _send_invoice(sqs: Any, stack: LocalStack, body: dict[str, Any], group: str = "ctr_1") -> str:
    return str(
        sqs.send_message(
            QueueUrl=stack.resources["InvoiceSentQueue"],
            MessageBody=json.dumps(body),
            MessageGroupId=group,
            MessageDeduplicationId=body["event_id"],
            MessageAttributes={"origin": {"DataType": "String", "StringValue": "invoicing"}},
        )["MessageId"]
    )


def _put_payment(stack: LocalStack, detail: dict[str, Any], **overrides: str) -> None:
    entry: Any = {
        "EventBusName": stack.resources["EventBus"],
        "Source": stack.parameters["PaymentEventSource"],
        "DetailType": stack.parameters["PaymentEventDetailType"],
        "Detail": json.dumps(detail),
        **overrides,
    }
    response = boto3.client("events").put_events(Entries=[entry])
    assert response["FailedEntryCount"] == 0


def test_invoice_sent_message_reaches_the_handler_as_an_sqs_fifo_event(
    stack: LocalStack, sqs: Any
) -> None:
    handler = Recorder()
    runtime = LambdaRuntime(stack, PROJECT_ROOT, handlers={INVOICE: handler})
    message_id = _send_invoice(sqs, stack, {"event_id": "evt_1", "contractor_id": "ctr_1"})

    result = runtime.poll_sqs(INVOICE)

    assert (result.invocations, result.succeeded, result.failed) == (1, 1, 0)
    (record,) = handler.events[0]["Records"]
    assert record["messageId"] == message_id
    assert json.loads(record["body"]) == {"event_id": "evt_1", "contractor_id": "ctr_1"}
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == stack.attributes["InvoiceSentQueue"]["Arn"]
    assert record["awsRegion"] == "us-east-1"
    assert record["attributes"]["MessageGroupId"] == "ctr_1"
    assert record["attributes"]["MessageDeduplicationId"] == "evt_1"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "SenderId", "SequenceNumber"} <= set(record["attributes"])
    assert record["messageAttributes"]["origin"]["stringValue"] == "invoicing"
    assert record["messageAttributes"]["origin"]["dataType"] == "String"
    context = handler.contexts[0]
    assert context.function_name == f"{stack.stack_name}-{INVOICE}"
    assert 0 < context.get_remaining_time_in_millis() <= stack.functions[INVOICE].timeout * 1000
    assert queue_depth(sqs, stack.resources["InvoiceSentQueue"]) == 0


def test_batches_hold_at_most_batch_size_records(stack: LocalStack, sqs: Any) -> None:
    handler = Recorder()
    runtime = LambdaRuntime(stack, PROJECT_ROOT, handlers={INVOICE: handler})
    for i in range(13):
        _send_invoice(sqs, stack, {"event_id": f"evt_{i}"}, group=f"ctr_{i}")

    result = runtime.poll_sqs(INVOICE)

    assert result.succeeded == 13
    assert all(len(event["Records"]) <= 10 for event in handler.events)
    assert result.invocations == len(handler.events) >= 2


def test_failed_record_comes_back_and_after_max_receive_count_lands_in_the_dlq(
    stack: LocalStack, sqs: Any
) -> None:
    def fail_bad(event: dict[str, Any]) -> dict[str, Any]:
        return {
            "batchItemFailures": [
                {"itemIdentifier": r["messageId"]}
                for r in event["Records"]
                if json.loads(r["body"])["event_id"] == "bad"
            ]
        }

    handler = Recorder(fail_bad)
    runtime = LambdaRuntime(stack, PROJECT_ROOT, handlers={INVOICE: handler})
    _send_invoice(sqs, stack, {"event_id": "good"}, group="ctr_1")
    _send_invoice(sqs, stack, {"event_id": "bad"}, group="ctr_2")

    result = runtime.poll_sqs(INVOICE)

    deliveries = [json.loads(r["body"])["event_id"] for e in handler.events for r in e["Records"]]
    assert deliveries.count("good") == 1
    assert deliveries.count("bad") == 5  # the RedrivePolicy's maxReceiveCount
    assert (result.succeeded, result.failed) == (1, 5)
    assert queue_depth(sqs, stack.resources["InvoiceSentQueue"]) == 0
    dead = receive_all(sqs, stack.resources["InvoiceSentDeadLetterQueue"])
    assert [json.loads(m["Body"])["event_id"] for m in dead] == ["bad"]


def test_a_raising_handler_fails_the_whole_batch(stack: LocalStack, sqs: Any) -> None:
    def boom(event: Any) -> None:
        raise RuntimeError("boom")

    runtime = LambdaRuntime(stack, PROJECT_ROOT, handlers={INVOICE: Recorder(boom)})
    _send_invoice(sqs, stack, {"event_id": "a"}, group="g1")
    _send_invoice(sqs, stack, {"event_id": "b"}, group="g2")

    result = runtime.poll_sqs(INVOICE, max_batches=1)

    assert (result.invocations, result.succeeded, result.failed) == (1, 0, 2)
    assert "boom" in result.errors[0]
    assert queue_depth(sqs, stack.resources["InvoiceSentQueue"]) == 2


def test_a_malformed_batch_response_fails_the_whole_batch(stack: LocalStack, sqs: Any) -> None:
    respond = Recorder(lambda event: {"batchItemFailures": [{"itemIdentifier": "not-in-batch"}]})
    runtime = LambdaRuntime(stack, PROJECT_ROOT, handlers={INVOICE: respond})
    _send_invoice(sqs, stack, {"event_id": "a"})

    result = runtime.poll_sqs(INVOICE, max_batches=1)

    assert result.failed == 1
    assert queue_depth(sqs, stack.resources["InvoiceSentQueue"]) == 1


def test_payment_event_on_the_bus_reaches_the_payment_function(stack: LocalStack, sqs: Any) -> None:
    queue = stack.resources["PaymentEventsQueue"]
    _put_payment(stack, {"payment_id": "pay_1"})
    _put_payment(stack, {"payment_id": "other"}, Source="someone.else")
    # (Payment Refunded events have their own rule to this queue:
    # tests/flows/refunds/test_refunds.py.)
    _put_payment(stack, {"payment_id": "other"}, DetailType="Payment Disputed")
    assert queue_depth(sqs, queue) == 1  # the rule queued the one it matches

    handler = Recorder()
    runtime = LambdaRuntime(stack, PROJECT_ROOT, handlers={PAYMENT: handler})
    result = runtime.poll_sqs(PAYMENT)

    assert (result.invocations, result.succeeded) == (1, 1)
    ((record,),) = [e["Records"] for e in handler.events]
    assert record["eventSourceARN"] == stack.attributes["PaymentEventsQueue"]["Arn"]
    event = json.loads(record["body"])
    assert event["source"] == "platform.payments"
    assert event["detail-type"] == "Payment Completed"
    assert event["detail"] == {"payment_id": "pay_1"}
    assert event["account"] == stack.account_id
    assert {"id", "time", "region", "version", "resources"} <= set(event)
    assert queue_depth(sqs, queue) == 0


def test_failing_payment_event_is_delivered_again_then_dead_lettered_whole(
    stack: LocalStack, sqs: Any
) -> None:
    def boom(event: Any) -> None:
        raise ValueError("QuickBooks said no")

    handler = Recorder(boom)
    runtime = LambdaRuntime(stack, PROJECT_ROOT, handlers={PAYMENT: handler})
    _put_payment(stack, {"payment_id": "pay_2"})

    result = runtime.poll_sqs(PAYMENT)

    assert len(handler.events) == 5  # the queue's maxReceiveCount (this stack's parameter)
    assert (result.invocations, result.failed) == (5, 5)
    (dead,) = receive_all(sqs, stack.resources["PaymentEventsDeadLetterQueue"])
    assert json.loads(dead["Body"])["detail"] == {"payment_id": "pay_2"}


def test_http_request_becomes_a_payload_2_event_with_stringified_jwt_claims(
    stack: LocalStack,
) -> None:
    handler = Recorder(lambda event: {"statusCode": 200, "body": "{}"})
    runtime = LambdaRuntime(stack, PROJECT_ROOT, handlers={OAUTH: handler})

    response = runtime.http(
        OAUTH,
        "get",
        "/quickbooks/connect?x=1",
        query={"tag": ["a", "b"]},
        headers={"Accept": "application/json", "Cookie": "s=1; t=2"},
        claims={"contractor_id": "ctr_1", "payments_enabled": True, "scope": "read write"},
    )

    assert response == {"statusCode": 200, "body": "{}"}
    (event,) = handler.events
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /quickbooks/connect"
    assert event["rawPath"] == "/quickbooks/connect"
    assert event["rawQueryString"] == "x=1&tag=a&tag=b"
    assert event["queryStringParameters"] == {"x": "1", "tag": "a,b"}
    assert event["headers"]["accept"] == "application/json"
    assert "cookie" not in event["headers"]
    assert event["cookies"] == ["s=1", "t=2"]
    context = event["requestContext"]
    assert context["domainName"] == stack.api_domain == "abc123.execute-api.us-east-1.amazonaws.com"
    assert context["apiId"] == "abc123"
    assert context["stage"] == "$default"
    assert context["http"]["method"] == "GET"
    assert context["authorizer"]["jwt"] == {
        "claims": {"contractor_id": "ctr_1", "payments_enabled": "true", "scope": "read write"},
        "scopes": ["read", "write"],
    }
    assert event["isBase64Encoded"] is False


def test_public_callback_route_carries_no_authorizer(stack: LocalStack) -> None:
    handler = Recorder(lambda event: {"statusCode": 302})
    runtime = LambdaRuntime(stack, PROJECT_ROOT, handlers={OAUTH: handler})

    runtime.http(OAUTH, "GET", "https://abc123.example/quickbooks/callback?code=c&state=s")

    (event,) = handler.events
    assert event["routeKey"] == "GET /quickbooks/callback"
    assert event["queryStringParameters"] == {"code": "c", "state": "s"}
    assert "authorizer" not in event["requestContext"]


def test_api_gateway_answers_for_missing_tokens_and_unknown_routes(stack: LocalStack) -> None:
    handler = Recorder()
    runtime = LambdaRuntime(stack, PROJECT_ROOT, handlers={OAUTH: handler})

    assert runtime.http(OAUTH, "GET", "/quickbooks/connection")["statusCode"] == 401
    assert runtime.http(OAUTH, "POST", "/quickbooks/connection", claims={})["statusCode"] == 404
    assert handler.events == []


def test_drain_runs_every_source_until_the_queues_are_empty(stack: LocalStack, sqs: Any) -> None:
    payments = Recorder()

    def export_and_announce(event: dict[str, Any]) -> None:
        # a consumer whose work causes an event for another function
        for record in event["Records"]:
            _put_payment(stack, {"payment_id": json.loads(record["body"])["event_id"]})

    runtime = LambdaRuntime(
        stack, PROJECT_ROOT, handlers={INVOICE: Recorder(export_and_announce), PAYMENT: payments}
    )
    _send_invoice(sqs, stack, {"event_id": "evt_9"})

    total = runtime.drain(timeout_s=10)

    bodies = [json.loads(r["body"]) for event in payments.events for r in event["Records"]]
    assert [body["detail"] for body in bodies] == [{"payment_id": "evt_9"}]
    assert total.succeeded == 2


def test_handler_is_imported_from_code_uri_with_the_function_environment(
    moto_endpoint: str, tmp_path: Path
) -> None:
    (tmp_path / "shared" / "tmplib").mkdir(parents=True)
    (tmp_path / "shared" / "tmplib" / "__init__.py").write_text("LAYER = 'shared'\n")
    (tmp_path / "fns_runtime_test" / "echo").mkdir(parents=True)
    (tmp_path / "fns_runtime_test" / "echo" / "app.py").write_text(
        "import os\nfrom tmplib import LAYER\nAT_IMPORT = os.environ['GREETING']\n"
        "def handler(event, context):\n"
        "    return {'import': AT_IMPORT, 'layer': LAYER, 'event': event}\n"
    )
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Echo:\n"
        "    Type: AWS::Serverless::Function\n    Properties:\n"
        "      CodeUri: fns_runtime_test/echo/\n      Handler: app.handler\n"
        "      Environment: {Variables: {GREETING: !Sub 'hello ${AWS::StackName}'}}\n"
    )
    with aws_pointed_at(moto_endpoint):
        stack = deploy_local_stack(tmp_path / "template.yaml", stack_name="echo")
        runtime = LambdaRuntime(stack, tmp_path)
        try:
            assert runtime.invoke("Echo", {"n": 1}) == {
                "import": "hello echo",
                "layer": "shared",
                "event": {"n": 1},
            }
            assert "fns_runtime_test.echo.app" in sys.modules
        finally:
            for name in ("fns_runtime_test.echo.app", "fns_runtime_test.echo", "fns_runtime_test"):
                sys.modules.pop(name, None)
            sys.modules.pop("tmplib", None)
            os.environ.pop("GREETING", None)
            for path in (str(tmp_path), str(tmp_path / "shared")):
                if path in sys.path:
                    sys.path.remove(path)


def test_unknown_function_is_named_in_the_error(stack: LocalStack) -> None:
    with pytest.raises(KeyError, match="OAuthFunction"):
        LambdaRuntime(stack, PROJECT_ROOT).function("Nope")


OUTBOX = "OutboxFunction"


def _write_connection(stack: LocalStack, contractor_id: str) -> None:
    boto3.client("dynamodb").put_item(
        TableName=stack.resources["ConnectionsTable"],
        Item={"contractor_id": {"S": contractor_id}, "token": {"B": b"\x00\xff"}},
    )


def _contractors(event: Any) -> list[str]:
    return [r["dynamodb"]["NewImage"]["contractor_id"]["S"] for r in event["Records"]]


def test_table_writes_reach_the_stream_function_in_order_as_lambda_shapes_them(
    stack: LocalStack,
) -> None:
    handler = Recorder()
    runtime = LambdaRuntime(stack, PROJECT_ROOT, handlers={OUTBOX: handler})
    runtime.skip_streams()  # what earlier tests wrote
    for contractor in ("c1", "c2"):
        _write_connection(stack, contractor)

    result = runtime.poll_streams()

    assert (result.invocations, result.succeeded, result.failed) == (1, 2, 0)
    [event] = handler.events
    assert _contractors(event) == ["c1", "c2"]
    first = event["Records"][0]
    assert first["eventName"] == "INSERT" and first["eventSource"] == "aws:dynamodb"
    assert first["eventSourceARN"] == stack.attributes["ConnectionsTable"]["StreamArn"]
    assert first["dynamodb"]["NewImage"]["token"] == {"B": "AP8="}  # base64, as Lambda's JSON
    assert isinstance(first["dynamodb"]["ApproximateCreationDateTime"], int)
    assert runtime.poll_streams().invocations == 0  # checkpointed


def test_a_partial_batch_failure_is_delivered_again_from_the_failed_record_on(
    stack: LocalStack,
) -> None:
    def fail_c2_once(event: Any) -> Any:
        records = event["Records"]
        failing = [r for r in records if r["dynamodb"]["NewImage"]["contractor_id"]["S"] == "c2"]
        if failing and len(handler.events) == 1:
            return {
                "batchItemFailures": [{"itemIdentifier": failing[0]["dynamodb"]["SequenceNumber"]}]
            }
        return {"batchItemFailures": []}

    handler = Recorder(fail_c2_once)
    runtime = LambdaRuntime(stack, PROJECT_ROOT, handlers={OUTBOX: handler})
    runtime.skip_streams()
    for contractor in ("c1", "c2", "c3"):
        _write_connection(stack, contractor)

    runtime.poll_streams()
    runtime.poll_streams()  # "a while later": Lambda's retry

    assert [_contractors(event) for event in handler.events] == [["c1", "c2", "c3"], ["c2", "c3"]]


def test_a_batch_that_keeps_failing_goes_to_the_on_failure_queue_and_the_stream_goes_on(
    stack: LocalStack, sqs: Any
) -> None:
    def boom(event: Any) -> None:
        if "c1" in _contractors(event):
            raise ValueError("EventBridge said no")

    handler = Recorder(boom)
    runtime = LambdaRuntime(stack, PROJECT_ROOT, handlers={OUTBOX: handler})
    runtime.skip_streams()
    _write_connection(stack, "c1")
    source = next(
        s for s in runtime.function(OUTBOX).stream_sources if "Connection" in s.event_name
    )

    for _ in range(source.maximum_retry_attempts + 1):
        runtime.poll_streams()
    _write_connection(stack, "c2")
    runtime.poll_streams()

    assert len(handler.events) == source.maximum_retry_attempts + 2
    assert _contractors(handler.events[-1]) == ["c2"]
    (reported,) = receive_all(sqs, stack.resources["OutboxFailuresQueue"])
    info = json.loads(reported["Body"])["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1 and info["streamArn"] == source.stream_arn
