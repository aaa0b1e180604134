"""Fuzzing the invoice-sent consumer (hypothesis).

Random and hostile bodies: each example is one SQS FIFO batch handed to the function's real
handler, as Lambda's event source mapping hands it over. Whatever the bodies, the batch never
fails: a body the contract does not allow is refused (a dead-letter copy with the reason, then
acknowledged); a valid one is handled as usual (there: no contractor is connected, so it is
recorded as skipped). No example may make a record fail, because a failed record would be
retried for nothing and hold up its contractor's other invoices.

Valid but awkward invoices (any characters in numbers and names, lines whose rate does not
multiply out, long texts, odd contact details) sent to a connected company: each one lands in
QuickBooks with its number and its total to the cent.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import time
import uuid
from decimal import Decimal
from typing import Any

import boto3
import pytest
from export_support import CONSUMER, dead_letters
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator
from tests.conftest import LogCapture

GROUP = "ctr_fuzz"
REFUSED = "Invoice-sent message refused"
SKIPPED = "Invoice not exported: QuickBooks is not connected"

# SQS accepts only these characters in a body (#x9, #xA, #xD, #x20-#xD7FF, #xE000-#xFFFD,
# #x10000-#x10FFFF); anything else is refused by SendMessage and never reaches the function.
SQS_TEXT = st.characters(
    exclude_categories=["Cs"], exclude_characters="\ufffe\uffff", min_codepoint=0x09
).filter(lambda ch: ch in "\t\n\r" or ord(ch) >= 0x20)

HOSTILE_STRINGS = st.sampled_from(
    [
        "",
        " ",
        "\u0000",
        "'; drop table invoices; --",
        'O\'Neil "the" \\ back\\slash',
        "Zoë 東京 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \u202etxet\u202c",
        "a:b\tc\nd",
        "x" * 22,
        "y" * 600,
        "1e999999",
        "-1e-999999",
        "NaN",
        "Infinity",
        "-0",
        "0.001",
        "12.345",
        "99999999999999999999.99",
        "0x1F",
        "١٢٣",  # Arabic-Indic digits: int() reads them, a decimal-string contract does not
        "2026-02-30",
        "9999-12-31T23:59:59Z",
        "{}",
    ]
)
HOSTILE_NUMBERS = st.sampled_from(
    [0, -1, 1, 2**31, 2**63, 10**40, -(10**40), 1e308, -1e308, 1e-300, 0.1, 1.005, 12.345]
)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(SQS_TEXT, max_size=30)
    | HOSTILE_STRINGS
    | HOSTILE_NUMBERS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(SQS_TEXT, max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
PATHS = [
    ("schema_version",),
    ("event_id",),
    ("contractor_id",),
    ("sent_at",),
    ("invoice",),
    ("invoice", "id"),
    ("invoice", "number"),
    ("invoice", "revision"),
    ("invoice", "issue_date"),
    ("invoice", "due_date"),
    ("invoice", "currency"),
    ("invoice", "total"),
    ("invoice", "memo"),
    ("invoice", "lines"),
    ("invoice", "lines", 0),
    ("invoice", "lines", 0, "description"),
    ("invoice", "lines", 0, "quantity"),
    ("invoice", "lines", 0, "unit_price"),
    ("invoice", "lines", 0, "amount"),
    ("client",),
    ("client", "id"),
    ("client", "display_name"),
    ("client", "company_name"),
    ("client", "email"),
    ("client", "phone"),
    ("client", "billing_address"),
    ("client", "billing_address", "country"),
]


def _valid_message(**invoice: Any) -> dict[str, Any]:
    message = samples.invoice_sent(GROUP, "1042", "Jane O'Neil", [("Cabinets", "2", "500.00")])
    message["invoice"].update(invoice)
    return message


@st.composite
def mutated_messages(draw: st.DrawFn) -> str:
    """A valid message with a few of its fields replaced by hostile values or removed."""
    message = _valid_message()
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        *parents, last = draw(st.sampled_from(PATHS))
        parent: Any = message
        for key in parents:  # an earlier mutation may have removed or replaced a parent
            if isinstance(parent, dict):
                parent = parent.get(key)
            elif isinstance(parent, list) and isinstance(key, int) and key < len(parent):
                parent = parent[key]
            else:
                parent = None
        settable = isinstance(parent, dict) or (
            isinstance(parent, list) and isinstance(last, int) and last < len(parent)
        )
        if isinstance(parent, dict) and draw(st.booleans()):
            parent.pop(last, None)
        elif settable:
            parent[last] = draw(JSON_VALUES)
    return json.dumps(message, ensure_ascii=draw(st.booleans()))


NUMERIC_PATHS = [
    ("schema_version",),
    ("invoice", "revision"),
    ("invoice", "total"),
    ("invoice", "lines", 0, "quantity"),
    ("invoice", "lines", 0, "unit_price"),
    ("invoice", "lines", 0, "amount"),
]


@st.composite
def edge_numbers(draw: st.DrawFn) -> str:
    """A valid message but for one number at an edge (huge, tiny, negative, as text or not)."""
    message = _valid_message()
    *parents, last = draw(st.sampled_from(NUMERIC_PATHS))
    parent: Any = message
    for key in parents:
        parent = parent[key]
    value = draw(HOSTILE_NUMBERS | HOSTILE_STRINGS | HOSTILE_NUMBERS.map(str))
    parent[last] = value
    return json.dumps(message)


def _truncated(body: str, cut: int) -> str:
    return body[: max(0, min(cut, len(body) - 1))]


BODIES = st.one_of(
    st.text(SQS_TEXT, max_size=200),  # random text
    JSON_VALUES.map(json.dumps),  # random JSON of any shape
    mutated_messages(),  # almost valid: hostile values where the contract is strict
    edge_numbers(),
    st.builds(_truncated, st.just(json.dumps(_valid_message())), st.integers(0, 600)),
    st.integers(1, 5000).map(lambda depth: "[" * depth + "]" * depth),  # deeply nested
    st.just(json.dumps(_valid_message()).replace('"1000.00"', "1e99999")),
    st.just(json.dumps(_valid_message())),  # valid: skipped, as nobody is connected
)


def _record(env: LocalEnvironment, body: str) -> dict[str, Any]:
    """An SQS FIFO record as Lambda's event source mapping delivers it."""
    now = str(int(time.time() * 1000))
    return {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": uuid.uuid4().hex,
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": now,
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": now,
            "SequenceNumber": str(time.time_ns()) + "0" * 1,
            "MessageGroupId": GROUP,
            "MessageDeduplicationId": hashlib.sha256(body.encode()).hexdigest(),
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": env.stack.attributes["InvoiceSentQueue"]["Arn"],
        "awsRegion": env.stack.region,
    }


def _dead_letter_count(env: LocalEnvironment) -> int:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=env.stack.resources["InvoiceSentDeadLetterQueue"],
        AttributeNames=["ApproximateNumberOfMessages"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


@settings(
    max_examples=100,
    deadline=None,
    database=None,  # nothing written into the checkout; a failure prints how to reproduce it
    print_blob=True,
    # The session's stack is shared on purpose: examples add up in its tables and queues.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(bodies=st.lists(BODIES, min_size=1, max_size=3))
# A revision beyond DynamoDB's 38 digits once failed every delivery instead of being refused.
@example(bodies=[json.dumps(_valid_message(revision=10**40))])
def test_any_body_is_refused_or_handled_and_never_fails_the_batch(
    env: LocalEnvironment, caplog: pytest.LogCaptureFixture, bodies: list[str]
) -> None:
    # caplog, not a handler of our own: Powertools filters its records out of every other
    # root handler present when a Logger is created.
    caplog.set_level(logging.INFO)
    caplog.clear()
    records = [_record(env, body) for body in bodies]
    dead_before = _dead_letter_count(env)

    response = env.runtime.invoke(CONSUMER, {"Records": records})

    assert response == {"batchItemFailures": []}
    ids = {record["messageId"] for record in records}
    messages = [log.getMessage() for log in caplog.records]
    refusals = [log for log in caplog.records if log.getMessage() == REFUSED]
    # Each record is refused (naming which field and why) or handled (here: skipped).
    assert all(getattr(log, "message_id", None) in ids for log in refusals)
    assert all(getattr(log, "problems", None) for log in refusals)
    assert len(refusals) + messages.count(SKIPPED) == len(records)
    assert _dead_letter_count(env) - dead_before == len(refusals)


def test_the_fuzzed_bodies_include_refusals_and_valid_messages(
    env: LocalEnvironment, logs: LogCapture
) -> None:
    # The property above is only worth something if both outcomes occur: the valid sample
    # is skipped, a mutated copy of it is refused.
    valid = json.dumps(_valid_message())
    broken = copy.deepcopy(_valid_message())
    broken["invoice"]["total"] = "1e99999"

    response = env.runtime.invoke(
        CONSUMER, {"Records": [_record(env, valid), _record(env, json.dumps(broken))]}
    )

    assert response == {"batchItemFailures": []}
    assert len(logs.records(SKIPPED)) == 1
    [refused] = logs.records(REFUSED)
    assert [problem.split(":")[0] for problem in refused["problems"]] == ["invoice.total"]


# -- any valid invoice lands, to the cent ------------------------------------------------------

CENTS = st.integers(0, 10**7).map(lambda cents: Decimal(cents) / 100)
QUANTITIES = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(1000), places=4)
PRICES = st.decimals(min_value=Decimal(0), max_value=Decimal(10000), places=4)
SOME_TEXT = st.text(SQS_TEXT, min_size=1, max_size=40)


@st.composite
def invoice_lines(draw: st.DrawFn) -> list[dict[str, str]]:
    """Lines whose amount is quantity x price (rounded to the cent) or any other amount."""
    lines = []
    for _ in range(draw(st.integers(0, 4))):
        quantity, price = draw(QUANTITIES), draw(PRICES)
        rounded = (quantity * price).quantize(Decimal("0.01"))
        amount = rounded if draw(st.booleans()) else draw(CENTS)
        line = {
            "description": draw(st.text(SQS_TEXT, max_size=50)),
            "quantity": str(quantity),
            "amount": str(amount),
        }
        if draw(st.booleans()):
            line["unit_price"] = str(price)
        lines.append(line)
    return lines


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    number=st.text(SQS_TEXT, min_size=1, max_size=21),
    name=SOME_TEXT,
    lines=invoice_lines(),
    total=CENTS,
    memo=st.none() | st.text(SQS_TEXT, max_size=300),
    contact=st.fixed_dictionaries(
        {
            "email": st.none() | SOME_TEXT,
            "phone": st.none() | SOME_TEXT,
            "company_name": st.none() | SOME_TEXT,
        }
    ),
    street=st.none() | SOME_TEXT,
)
def test_any_valid_invoice_lands_in_quickbooks_with_its_number_and_exact_total(
    env: LocalEnvironment,
    qbo: QboEmulator,
    contractor: str,
    realm: str,
    number: str,
    name: str,
    lines: list[dict[str, str]],
    total: Decimal,
    memo: str | None,
    contact: dict[str, str | None],
    street: str | None,
) -> None:
    invoice_id = f"inv_{uuid.uuid4().hex}"
    message = samples.invoice_sent(
        contractor, number, name, invoice_id=invoice_id, client_id=f"cli_{uuid.uuid4().hex}"
    )
    total = sum((Decimal(line["amount"]) for line in lines), Decimal(0)) if lines else total
    assume(total > 0)
    message["invoice"].update(lines=lines, total=str(total), memo=memo)
    message["client"].update(contact)
    message["client"]["billing_address"].update(line1=street, country=street)

    env.platform.send_invoice(message)
    result = env.runtime.poll_sqs(CONSUMER)

    assert (result.failed, result.succeeded) == (0, 1)
    assert dead_letters(env) == []
    [invoice] = [i for i in qbo.entities(realm, "Invoice") if invoice_id in i["PrivateNote"]]
    assert Decimal(str(invoice["TotalAmt"])) == total
    assert invoice["DocNumber"] == number
