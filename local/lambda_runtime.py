"""Invoke the stack's handlers in-process, the way Lambda's event sources would.

- `http` builds an API Gateway HTTP API (payload format 2.0) event for one of the function's
  routes; routes behind the JWT authorizer answer 401 without invoking when no claims are given,
  as API Gateway does for a request without a valid token.
- `poll_sqs` is the SQS event source mapping: batches, partial batch responses, failed records
  left in flight until their visibility timeout ends, as Lambda leaves them (or the later time a
  function set with ChangeMessageVisibility); the queue's RedrivePolicy moves them to the DLQ
  after maxReceiveCount. With a `LocalClock`, waiting for the next message to become visible
  moves simulated time forward instead of sleeping, so hours of back-off pass in seconds;
  without one (a burst's worker process, which cannot reach moto's in-process model), failed
  records are made visible again at once.
- `poll_eventbridge` is EventBridge's asynchronous invocation: one event per invocation, Lambda's
  retries, then the function's dead-letter queue with Lambda's DLQ message attributes.
- `poll_streams` is the DynamoDB Streams event source mapping (local/streams.py). Unless
  `drive_streams` is off, every other invocation ends by delivering the streams' new records,
  as Lambda would shortly after, whether the function returned or raised: a write made just
  before a function died still reaches the outbox.
- `drain` runs all of them until every source is empty.

Timeouts are not enforced (a Python call cannot be pre-empted); a handler that runs longer than
its Timeout is logged. Asynchronous retries happen immediately rather than after Lambda's
back-off, so tests do not wait.
"""

from __future__ import annotations

import base64
import importlib
import json
import logging
import os
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import boto3

from local.clock import LocalClock, next_visible_in, settle_in_flight
from local.poll_result import PollResult
from local.stack import EventBridgeSource, HttpRoute, LocalFunction, LocalStack, SqsSource
from local.streams import StreamPoller

logger = logging.getLogger(__name__)

Handler = Callable[[Any, Any], Any]

_SQS_RECORD_ATTRIBUTES = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageGroupId",
    "MessageDeduplicationId",
    "AWSTraceHeader",
)
_SOURCE_IP = "203.0.113.10"
# How far one poll may move a LocalClock before it gives up on a queue that never empties.
MAX_SIMULATED_SECONDS = 30 * 24 * 3600
SETTLE_SECONDS = 0.5
_USER_AGENT = "qbo-sync-local/1.0"


@dataclass
class LambdaContext:
    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline_monotonic: float
    identity: Any = None
    client_context: Any = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline_monotonic - time.monotonic()) * 1000))


class LambdaRuntime:
    def __init__(
        self,
        stack: LocalStack,
        project_root: Path | str = Path("."),
        *,
        handlers: Mapping[str, Handler] | None = None,
        session: boto3.session.Session | None = None,
        clock: LocalClock | None = None,
    ) -> None:
        """`handlers` replaces the template's handler of the given functions (for tests)."""
        self.stack = stack
        self.clock = clock
        self.project_root = Path(project_root).resolve()
        self._overrides = dict(handlers or {})
        self._handlers: dict[str, Handler] = {}
        self._session = session or boto3.session.Session(region_name=stack.region)
        self._sqs: Any = None
        # Off in processes that share the streams with another runtime (a burst's workers):
        # one reader per stream, or events would go out once per reader.
        self.drive_streams = True
        self._stream_poller: StreamPoller | None = None
        # One reader at a time: the outbox's own invocations, and other threads' (the browser
        # demo serves requests from several), do not read the stream again meanwhile.
        self._reading_streams = threading.Lock()

    @property
    def sqs(self) -> Any:
        if self._sqs is None:
            self._sqs = self._session.client("sqs")
        return self._sqs

    def function(self, function_id: str) -> LocalFunction:
        try:
            return self.stack.functions[function_id]
        except KeyError:
            known = ", ".join(sorted(self.stack.functions))
            raise KeyError(f"no function {function_id} in the stack ({known})") from None

    # -- handlers ------------------------------------------------------------------------------

    def handler(self, function_id: str) -> Handler:
        if function_id in self._overrides:
            return self._overrides[function_id]
        if function_id not in self._handlers:
            function = self.function(function_id)
            self._apply_environment(function)
            for path in (self.project_root / "shared", self.project_root):
                if str(path) not in sys.path:
                    sys.path.insert(0, str(path))
            module_name, attribute = self._module_of(function)
            module = importlib.import_module(module_name)
            self._handlers[function_id] = getattr(module, attribute)
        return self._handlers[function_id]

    def _module_of(self, function: LocalFunction) -> tuple[str, str]:
        """`functions/oauth/` + `app.lambda_handler` → (`functions.oauth.app`, `lambda_handler`).

        Package-qualified, because every function's module is called `app`.
        """
        module_path, _, attribute = function.handler.rpartition(".")
        code_dir = (self.project_root / function.code_uri).resolve()
        package = code_dir.relative_to(self.project_root).parts
        return ".".join((*package, *module_path.split("."))), attribute

    def _apply_environment(self, function: LocalFunction) -> None:
        os.environ.update(function.environment)

    def invoke(self, function_id: str, event: Any) -> Any:
        """Call the handler once with `event` and a fresh context, as a direct invocation."""
        function = self.function(function_id)
        handler = self.handler(function_id)
        self._apply_environment(function)
        self._follow_clock()
        context = self._context(function)
        started = time.monotonic()
        try:
            return handler(event, context)
        finally:
            elapsed = time.monotonic() - started
            if elapsed > function.timeout:
                logger.warning(
                    "%s ran %.1f s, longer than its Timeout of %d s: Lambda would have stopped it",
                    function_id,
                    elapsed,
                    function.timeout,
                )
            if self.drive_streams and not function.stream_sources:
                self.poll_streams()

    # -- DynamoDB Streams ----------------------------------------------------------------------

    @property
    def _streams(self) -> StreamPoller:
        if self._stream_poller is None:
            consumers = [f for f in self.stack.functions.values() if f.stream_sources]
            self._stream_poller = StreamPoller(self._session, self.invoke, consumers)
        return self._stream_poller

    def poll_streams(self) -> PollResult:
        """Delivers the stream records written since the last poll to their functions."""
        result = PollResult()
        if not self._reading_streams.acquire(blocking=False):
            return result  # the reader that holds it delivers these records too
        try:
            for function in self.stack.functions.values():
                if function.stream_sources:
                    self._streams.poll(function, result)
        finally:
            self._reading_streams.release()
        return result

    def skip_streams(self) -> None:
        """Counts every stream record so far as delivered (after the tables were emptied)."""
        self._streams.skip_to_latest()

    def _follow_clock(self) -> None:
        """The layer's wall clock (qbo_sync/core/clock.py) reads the simulated one, as a real
        container's clock agrees with SQS's and Intuit's: token expiry, leases and the stored
        times then match what the emulator sees."""
        module = sys.modules.get("qbo_sync.core.clock")
        if self.clock is not None and module is not None:
            module.time = self.clock.time_module  # type: ignore[attr-defined]

    def _context(self, function: LocalFunction) -> LambdaContext:
        request_id = str(uuid.uuid4())
        day = datetime.now(UTC).strftime("%Y/%m/%d")
        return LambdaContext(
            function_name=function.function_name,
            function_version="$LATEST",
            invoked_function_arn=function.function_arn,
            memory_limit_in_mb=function.memory_size,
            aws_request_id=request_id,
            log_group_name=f"/aws/lambda/{function.function_name}",
            log_stream_name=f"{day}/[$LATEST]{uuid.uuid4().hex}",
            deadline_monotonic=time.monotonic() + function.timeout,
        )

    # -- HTTP API ------------------------------------------------------------------------------

    def http(
        self,
        function_id: str,
        method: str,
        path: str,
        *,
        query: Mapping[str, str | Sequence[str]] | None = None,
        headers: Mapping[str, str] | None = None,
        claims: Mapping[str, Any] | None = None,
        body: str | bytes | Mapping[str, Any] | list[Any] | None = None,
    ) -> dict[str, Any]:
        """Send one request through the function's HTTP API route and return its response.

        `path` may carry a query string or be a whole URL (a redirect's Location). Claim values
        are stringified as API Gateway's JWT authorizer does (`true` → "true").
        """
        method = method.upper()
        split = urlsplit(path)
        raw_path = split.path or "/"
        pairs = parse_qsl(split.query, keep_blank_values=True)
        for name, value in (query or {}).items():
            values = [value] if isinstance(value, str) else list(value)
            pairs.extend((name, item) for item in values)

        function = self.function(function_id)
        match = _match_route(function.http_routes, method, raw_path)
        if match is None:
            return _gateway_response(404, "Not Found")
        route, path_parameters = match
        if route.authorizer is not None and claims is None:
            return _gateway_response(401, "Unauthorized")
        event = self._http_event(route, method, raw_path, pairs, headers, claims, body)
        event["pathParameters"] = path_parameters
        if not path_parameters:
            del event["pathParameters"]
        response = self.invoke(function_id, event)
        if not isinstance(response, dict):
            raise TypeError(f"{function_id} returned {type(response).__name__}, not a dict")
        return response

    def http_function(self, method: str, path: str) -> str | None:
        """The function whose HTTP API route matches, as API Gateway picks the integration."""
        for function_id, function in self.stack.functions.items():
            if _match_route(function.http_routes, method.upper(), urlsplit(path).path):
                return function_id
        return None

    def _http_event(
        self,
        route: HttpRoute,
        method: str,
        raw_path: str,
        query_pairs: list[tuple[str, str]],
        headers: Mapping[str, str] | None,
        claims: Mapping[str, Any] | None,
        body: str | bytes | Mapping[str, Any] | list[Any] | None,
    ) -> dict[str, Any]:
        now = datetime.now(UTC)
        request_id = base64.b32encode(uuid.uuid4().bytes).decode()[:16]
        merged: dict[str, str] = {
            "accept": "*/*",
            "host": self.stack.api_domain,
            "user-agent": _USER_AGENT,
            "x-amzn-trace-id": f"Root=1-{int(now.timestamp()):08x}-{uuid.uuid4().hex[:24]}",
            "x-forwarded-for": _SOURCE_IP,
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
        }
        if route.authorizer is not None:
            merged["authorization"] = "Bearer local.jwt.token"
        encoded_body: str | None = None
        is_base64 = False
        if isinstance(body, Mapping | list):
            encoded_body = json.dumps(body)
            merged["content-type"] = "application/json"
        elif isinstance(body, bytes):
            encoded_body, is_base64 = base64.b64encode(body).decode(), True
        elif body is not None:
            encoded_body = body
        merged.update({name.lower(): value for name, value in (headers or {}).items()})
        if encoded_body is not None:
            length = len(body) if isinstance(body, bytes) else len(encoded_body.encode())
            merged["content-length"] = str(length)
        cookie_header = merged.pop("cookie", None)

        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": route.route_key,
            "rawPath": raw_path,
            "rawQueryString": urlencode(query_pairs),
            "headers": merged,
        }
        # API Gateway leaves these keys out rather than sending them empty.
        if cookie_header:
            event["cookies"] = [c.strip() for c in cookie_header.split(";") if c.strip()]
        if query_pairs:
            parameters: dict[str, list[str]] = {}
            for name, value in query_pairs:
                parameters.setdefault(name, []).append(value)
            event["queryStringParameters"] = {k: ",".join(v) for k, v in parameters.items()}
        request_context: dict[str, Any] = {
            "accountId": self.stack.account_id,
            "apiId": self.stack.api_domain.split(".", 1)[0],
            "domainName": self.stack.api_domain,
            "domainPrefix": self.stack.api_domain.split(".", 1)[0],
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": _SOURCE_IP,
                "userAgent": merged.get("user-agent", _USER_AGENT),
            },
            "requestId": request_id,
            "routeKey": route.route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        }
        if route.authorizer is not None and claims is not None:
            scope = claims.get("scope")
            request_context["authorizer"] = {
                "jwt": {
                    "claims": {name: _claim_text(value) for name, value in claims.items()},
                    "scopes": str(scope).split() if scope else None,
                }
            }
        event["requestContext"] = request_context
        if encoded_body is not None:
            event["body"] = encoded_body
        event["isBase64Encoded"] = is_base64
        return event

    # -- SQS -----------------------------------------------------------------------------------

    def poll_sqs(
        self,
        function_id: str,
        *,
        max_batches: int | None = None,
        wait: bool = False,
        timeout_s: float = 20.0,
    ) -> PollResult:
        """Deliver the function's SQS messages in batches until its queues are empty.

        With `wait`, messages that are in flight or delayed are waited for (up to `timeout_s`)
        instead of counting the queue as empty.
        """
        function = self.function(function_id)
        result = PollResult()
        deadline = time.monotonic() + timeout_s
        since = self.clock.offset if self.clock is not None else 0.0
        for source in function.sqs_sources:
            while max_batches is None or result.invocations < max_batches:
                messages = self._receive(source.queue_url, source.batch_size, wait)
                if messages:
                    self._deliver_batch(function, source, messages, result)
                elif self._wait_for_visibility(source.queue_url, since):
                    continue
                elif not (wait and time.monotonic() < deadline and self._pending(source.queue_url)):
                    break
        return result

    def _wait_for_visibility(self, queue_url: str, since: float) -> bool:
        """With a clock: moves simulated time to when the queue's next in-flight or delayed
        message can be received; False when none is waiting (or there is no clock)."""
        if self.clock is None:
            return False
        seconds = next_visible_in(queue_url, self.clock)
        if seconds is None:
            return False
        if self.clock.offset + seconds - since > MAX_SIMULATED_SECONDS:
            raise TimeoutError(f"{queue_url} still has messages after simulated days")
        # A little past it: the messages one call deferred together come back together (their
        # deadlines differ by the milliseconds between the calls), as a FIFO group must.
        self.clock.advance(seconds + SETTLE_SECONDS)
        return True

    def _receive(self, queue_url: str, batch_size: int, wait: bool) -> list[dict[str, Any]]:
        if self.clock is not None:
            settle_in_flight(queue_url)
        # One ReceiveMessage returns at most 10; Lambda's larger batches need a batching window.
        response = self.sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=max(1, min(batch_size, 10)),
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=1 if wait else 0,
        )
        return list(response.get("Messages", []))

    def _pending(self, queue_url: str) -> bool:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=queue_url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        return any(int(value) for value in attributes.values())

    def _deliver_batch(
        self,
        function: LocalFunction,
        source: SqsSource,
        messages: list[dict[str, Any]],
        result: PollResult,
    ) -> None:
        records = [self._sqs_record(source, message) for message in messages]
        batch_ids = {record["messageId"] for record in records}
        result.invocations += 1
        try:
            response = self.invoke(function.logical_id, {"Records": records})
        except Exception as error:
            logger.exception("%s failed its batch of %d", function.logical_id, len(records))
            result.errors.append(f"{function.logical_id}: {error!r}")
            failed = batch_ids
        else:
            failed = _batch_item_failures(source, response, batch_ids)
        result.failed += len(failed)
        result.succeeded += len(batch_ids) - len(failed)
        done = [m for m in messages if m["MessageId"] not in failed]
        retry = [m for m in messages if m["MessageId"] in failed]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=source.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
                ],
            )
        if retry and self.clock is None:
            # Lambda leaves failed records to reappear after the visibility timeout; without a
            # clock to move they reappear at once. Each receive counts towards maxReceiveCount.
            self.sqs.change_message_visibility_batch(
                QueueUrl=source.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                    for i, m in enumerate(retry)
                ],
            )

    def _sqs_record(self, source: SqsSource, message: dict[str, Any]) -> dict[str, Any]:
        attributes = message.get("Attributes", {})
        record: dict[str, Any] = {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": self._bus_body(message["Body"]),
            "attributes": {
                name: attributes[name] for name in _SQS_RECORD_ATTRIBUTES if name in attributes
            },
            "messageAttributes": {
                name: _lambda_message_attribute(value)
                for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": source.queue_arn,
            "awsRegion": self.stack.region,
        }
        if "MD5OfMessageAttributes" in message:
            record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
        return record

    def _bus_body(self, body: str) -> str:
        """moto 5.2.5 leaves `account` out of the events a rule delivers to an SQS target; AWS
        sends it. Any other body is passed on as it is."""
        try:
            event = json.loads(body)
        except ValueError:
            return body
        if not isinstance(event, dict) or "detail-type" not in event or "account" in event:
            return body
        return json.dumps({**event, "account": self.stack.account_id})

    # -- EventBridge ---------------------------------------------------------------------------

    def poll_eventbridge(
        self,
        function_id: str,
        *,
        max_events: int | None = None,
        wait: bool = False,
        timeout_s: float = 20.0,
    ) -> PollResult:
        """Invoke the function once per event its rules matched, until none are left.

        A failing event is retried `maximum_retry_attempts` times (EventInvokeConfig, default
        2), then sent to the function's DeadLetterQueue with Lambda's attributes (RequestID,
        ErrorCode, ErrorMessage). Without a DeadLetterQueue it is dropped, as in AWS.
        """
        function = self.function(function_id)
        result = PollResult()
        deadline = time.monotonic() + timeout_s
        handled = 0
        for source in function.eventbridge_sources:
            while max_events is None or handled < max_events:
                limit = 10 if max_events is None else max(1, min(10, max_events - handled))
                messages = self._receive(source.delivery_queue_url, limit, wait)
                if not messages:
                    if (
                        wait
                        and time.monotonic() < deadline
                        and self._pending(source.delivery_queue_url)
                    ):
                        continue
                    break
                for message in messages:
                    self._deliver_event(function, source, json.loads(message["Body"]), result)
                    self.sqs.delete_message(
                        QueueUrl=source.delivery_queue_url, ReceiptHandle=message["ReceiptHandle"]
                    )
                    handled += 1
        return result

    def _deliver_event(
        self,
        function: LocalFunction,
        source: EventBridgeSource,
        event: dict[str, Any],
        result: PollResult,
    ) -> None:
        # moto 5.2.5 leaves `account` out of the events it delivers to targets; AWS sends it.
        event.setdefault("account", self.stack.account_id)
        error: Exception | None = None
        for _attempt in range(1 + function.maximum_retry_attempts):
            result.invocations += 1
            try:
                self.invoke(function.logical_id, event)
            except Exception as exc:
                logger.exception("%s failed event %s", function.logical_id, event.get("id"))
                result.errors.append(f"{function.logical_id}: {exc!r}")
                error = exc
            else:
                result.succeeded += 1
                return
        result.failed += 1
        if function.dead_letter_queue_url is None or error is None:
            logger.error(
                "%s: event %s dropped after %d attempts (no DeadLetterQueue)",
                function.logical_id,
                event.get("id"),
                1 + function.maximum_retry_attempts,
            )
            return
        message = (str(error) or type(error).__name__)[:1024]
        self.sqs.send_message(
            QueueUrl=function.dead_letter_queue_url,
            MessageBody=json.dumps(event),
            MessageAttributes={
                "RequestID": {"DataType": "String", "StringValue": str(uuid.uuid4())},
                "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                "ErrorMessage": {"DataType": "String", "StringValue": message},
            },
        )
        result.dead_lettered += 1

    # -- everything ----------------------------------------------------------------------------

    def drain(self, timeout_s: float = 30.0) -> PollResult:
        """Poll every function's sources round-robin until all their queues are empty.

        Raises TimeoutError if messages are still there after `timeout_s` (a record that fails
        for ever on a queue without a dead-letter queue, for instance).
        """
        deadline = time.monotonic() + timeout_s
        total = PollResult()
        while True:
            progressed = False
            for function_id, function in self.stack.functions.items():
                if function.sqs_sources:
                    step = self.poll_sqs(function_id, max_batches=1)
                    progressed |= step.invocations > 0
                    total.add(step)
                if function.eventbridge_sources:
                    step = self.poll_eventbridge(function_id, max_events=10)
                    progressed |= step.invocations > 0
                    total.add(step)
            busy = [url for url in self._source_queues() if self._pending(url)]
            if not progressed and busy and self.clock is not None:
                waits = [w for w in (next_visible_in(url, self.clock) for url in busy) if w]
                if waits:
                    self.clock.advance(min(waits) + SETTLE_SECONDS)
                    continue
            if not progressed and not busy:
                return total
            if time.monotonic() > deadline:
                raise TimeoutError(f"queues still not empty after {timeout_s} s: {busy}")
            if not progressed:
                time.sleep(0.05)

    def _source_queues(self) -> list[str]:
        urls: list[str] = []
        for function in self.stack.functions.values():
            urls.extend(source.queue_url for source in function.sqs_sources)
            urls.extend(source.delivery_queue_url for source in function.eventbridge_sources)
        return urls


def _batch_item_failures(source: SqsSource, response: Any, batch_ids: set[str]) -> set[str]:
    """The records Lambda would return to the queue, given the handler's response."""
    if not source.reports_batch_item_failures or not isinstance(response, dict):
        return set()
    failures = response.get("batchItemFailures")
    if not failures:
        return set()
    failed: set[str] = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in batch_ids:
            return set(batch_ids)  # Lambda treats a malformed response as a failed batch
        failed.add(identifier)
    return failed


def _lambda_message_attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    attribute: dict[str, Any] = {
        "stringListValues": list(value.get("StringListValues", [])),
        "binaryListValues": [
            base64.b64encode(item).decode() for item in value.get("BinaryListValues", [])
        ],
        "dataType": value["DataType"],
    }
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return attribute


def _claim_text(value: Any) -> str:
    """API Gateway's JWT authorizer hands claims over as strings, arrays as "[a b]"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + " ".join(_claim_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def _match_route(
    routes: Sequence[HttpRoute], method: str, path: str
) -> tuple[HttpRoute, dict[str, str]] | None:
    for route in routes:
        if route.method not in (method, "ANY"):
            continue
        pattern = re.sub(
            r"\\\{([^}]+)\\\}",
            lambda m: (
                f"(?P<{m.group(1)[:-1]}>.+)"
                if m.group(1).endswith("+")
                else f"(?P<{m.group(1)}>[^/]+)"
            ),
            re.escape(route.path),
        )
        found = re.fullmatch(pattern, path)
        if found is not None:
            return route, dict(found.groupdict())
    return None


def _gateway_response(status: int, message: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"message": message}),
        "isBase64Encoded": False,
    }
