"""What the settings page's function loads before its first request (bench figure 1, issue 26).

The page's first request (GET /quickbooks/connection) needs neither the event models (pydantic)
nor the QuickBooks client (requests): the routes that do import their workflows when called. A
route module that imports a workflow at the top puts them back on every cold start, as a merge
once did without any test noticing.

No function imports boto3: its package loads s3transfer, about 20 ms of each cold start
(core/aws.py makes the clients from botocore's session). Nor requests, another 20 ms: the QBO
client speaks urllib3, and only intuit-oauth's token calls load requests, when they are made.
Each imports with the garbage collector paused, and freezes what it loaded (core/startup.py);
so does each client's first use, which loads its service model (core/aws.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOT_AT_IMPORT = (
    "pydantic",
    "qbo_sync.events",
    "requests",
    "qbo_sync.qbo.client",
    "intuitlib.client",
)


FUNCTIONS = sorted(path.parent.name for path in (ROOT / "functions").glob("*/app.py"))


def _loaded_by(module: str) -> set[str]:
    return set(_after_import(module, "sorted(sys.modules)"))


def _after_import(module: str, expression: str, traced: bool = False) -> Any:
    """`expression`, evaluated in a new process once `module` is imported; `traced`: in
    Lambda's environment with X-Ray tracing on, as the template deploys every function."""
    code = f"import gc, json, sys\nimport {module}\nprint(json.dumps({expression}))\n"
    path = f"{ROOT / 'shared'}:{ROOT}"
    lambda_environment = {"LAMBDA_TASK_ROOT": str(ROOT), "AWS_LAMBDA_FUNCTION_NAME": "f"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={
            "PYTHONPATH": path,
            "PATH": "/usr/bin:/bin",
            "AWS_DEFAULT_REGION": "us-east-1",
            **(lambda_environment if traced else {}),
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def test_the_settings_page_function_imports_no_event_model_or_quickbooks_client() -> None:
    loaded = _loaded_by("functions.oauth.app")
    assert "qbo_sync.api.customers" in loaded  # the module under test was imported at all
    assert sorted(set(NOT_AT_IMPORT) & loaded) == []


def test_each_queue_consumer_loads_the_event_models_it_reads_only() -> None:
    """One module per queue's events (qbo_sync/events/): each model class costs a consumer's
    cold start about a millisecond, and the invoice models are most of them."""
    invoices = _loaded_by("functions.invoice_sent.app")
    payments = _loaded_by("functions.payment_completed.app")
    assert "qbo_sync.events.invoices" in invoices
    assert "qbo_sync.events.payments" in payments
    assert sorted({"qbo_sync.events.payments", "qbo_sync.events.payouts"} & invoices) == []
    assert "qbo_sync.events.invoices" not in payments


def test_the_payment_function_loads_a_refund_or_payout_with_the_first_of_its_kind() -> None:
    """Most of its cold starts serve a payment: a refund's and a payout's models and workflows
    load when one comes (the route's `flow`), and so does an export's for a waiting payment."""
    payments = _loaded_by("functions.payment_completed.app")
    invoices = _loaded_by("functions.invoice_sent.app")
    later = {"qbo_sync.events.payouts", "qbo_sync.workflows.payout", "qbo_sync.workflows.refund"}
    assert "qbo_sync.workflows.payment" in payments
    assert sorted(later & payments) == []
    assert sorted({"qbo_sync.workflows.payment", "qbo_sync.workflows.refund"} & invoices) == []


@pytest.mark.parametrize("function", FUNCTIONS)
def test_no_function_imports_boto3(function: str) -> None:
    loaded = _loaded_by(f"functions.{function}.app")
    assert f"functions.{function}.app" in loaded
    assert sorted({"boto3", "s3transfer"} & loaded) == []


@pytest.mark.parametrize("function", FUNCTIONS)
def test_no_function_imports_requests(function: str) -> None:
    loaded = _loaded_by(f"functions.{function}.app")
    assert f"functions.{function}.app" in loaded
    assert "requests" not in loaded


@pytest.mark.parametrize("function", FUNCTIONS)
def test_with_tracing_on_the_tracer_loads_nothing_the_layer_does_not_call(function: str) -> None:
    """Powertools' Tracer patches every library X-Ray knows that is installed, importing each:
    requests and sqlite3 on every cold start in Lambda. core/tracing.py patches botocore."""
    loaded = set(_after_import(f"functions.{function}.app", "sorted(sys.modules)", traced=True))
    assert "aws_xray_sdk.ext.botocore.patch" in loaded  # tracing was on
    assert sorted({"requests", "sqlite3"} & loaded) == []


@pytest.mark.parametrize("traced", [False, True], ids=["untraced", "traced"])
@pytest.mark.parametrize("function", FUNCTIONS)
def test_no_function_builds_powertools_parser_models(function: str, traced: bool) -> None:
    """Powertools' batch package builds every AWS event model of its parser (about 15 ms) when
    pydantic was imported before it (its `batch/types.py` looks in sys.modules); the handlers
    import it first, which isort's order keeps only while nothing earlier imports pydantic."""
    loaded = set(_after_import(f"functions.{function}.app", "sorted(sys.modules)", traced))
    assert f"functions.{function}.app" in loaded
    assert "aws_lambda_powertools.utilities.parser.models" not in loaded


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_function_freezes_what_it_imported_and_collects_again(function: str) -> None:
    enabled, frozen = _after_import(
        f"functions.{function}.app", "[gc.isenabled(), gc.get_freeze_count()]"
    )
    assert enabled
    assert frozen > 10_000  # the modules it loaded, out of every later collection


def test_a_clients_first_use_is_frozen_too() -> None:
    before, after, enabled = _after_import(
        "functions.invoice_sent.app",
        "[gc.get_freeze_count(), __import__('qbo_sync.core.aws').core.aws.dynamodb() and"
        " gc.get_freeze_count(), gc.isenabled()]",
    )
    assert enabled
    assert after - before > 10_000  # botocore and the DynamoDB model, out of every collection


FROZEN_DATACLASSES = """sorted(
    f"{c.__module__}.{c.__qualname__}"
    for m in list(sys.modules.values())
    if getattr(m, "__name__", "").startswith("qbo_sync")
    for c in vars(m).values()
    if isinstance(c, type) and c.__module__ == m.__name__
    and getattr(getattr(c, "__dataclass_params__", None), "frozen", False)
    and not {*c.__dataclass_fields__, *vars(c)} & {"count", "index"}
)"""


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_functions_records_are_named_tuples(function: str) -> None:
    """A frozen dataclass costs a cold start about 0.5 ms to build (it compiles six methods);
    a NamedTuple, a tenth of that: 37 of them were 18 ms of the invoice function's import. The
    only frozen dataclasses left have a field or method named as a tuple's (`count`, `index`)."""
    assert _after_import(f"functions.{function}.app", FROZEN_DATACLASSES) == []
