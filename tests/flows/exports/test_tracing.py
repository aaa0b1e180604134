"""X-Ray where tracing is on (in Lambda, unless POWERTOOLS_TRACE_DISABLED: core/tracing.py):
every call out of the layer is one subsegment, AWS's through X-Ray's botocore patch,
QuickBooks' through `remote_call` (urllib3 2 is out of X-Ray's http.client patch's sight), and
the tracer loads no library the layer does not call.

The invoice function runs in a process of its own with Lambda's tracing environment, and its
segments go, as Lambda's do, over UDP to an X-Ray daemon: here a socket of the test's."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator
from tests.support.export_support import INVOKE_IN_ANOTHER_PROCESS, PROJECT_ROOT

FUNCTION = "InvoiceSentFunction"
TRACE_ID = "Root=1-67a1b2c3-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1"


@pytest.fixture
def daemon() -> Iterator[socket.socket]:
    """The X-Ray daemon's UDP port, as Lambda's environment names it."""
    listening = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listening.bind(("127.0.0.1", 0))
    listening.settimeout(2.0)
    yield listening
    listening.close()


def _traced_first_event(env: LocalEnvironment, daemon: socket.socket, event: Any) -> Any:
    """The function's answer and the modules its process loaded."""
    host, port = daemon.getsockname()
    environment = {
        **os.environ,
        **env.runtime.function(FUNCTION).environment,
        "LAMBDA_TASK_ROOT": str(PROJECT_ROOT),
        "AWS_LAMBDA_FUNCTION_NAME": FUNCTION,
        "_X_AMZN_TRACE_ID": TRACE_ID,
        "AWS_XRAY_DAEMON_ADDRESS": f"{host}:{port}",
        "AWS_XRAY_CONTEXT_MISSING": "RUNTIME_ERROR",
    }
    done = subprocess.run(
        [
            *(sys.executable, "-c", INVOKE_IN_ANOTHER_PROCESS, str(PROJECT_ROOT)),
            *("0", "traced-1", json.dumps(event)),
        ],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    printed = dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)
    return json.loads(printed["RESULT"]), set(json.loads(printed["LOADED"]))


def _subsegments(daemon: socket.socket) -> list[dict[str, Any]]:
    """Every subsegment the daemon received, nested ones included."""
    found: list[dict[str, Any]] = []

    def walk(entity: dict[str, Any]) -> None:
        found.append(entity)
        for child in entity.get("subsegments", []):
            walk(child)

    while True:
        try:
            datagram = daemon.recv(65_536)
        except TimeoutError:
            return found
        header, _, body = datagram.decode().partition("\n")
        assert json.loads(header) == {"format": "json", "version": 1}
        walk(json.loads(body))


def _invoice_event(env: LocalEnvironment, contractor: str, number: str) -> dict[str, Any]:
    message = samples.invoice_sent(contractor, number, "Traced Client", [("Work", "1", "42.00")])
    return samples.invoice_event(env.stack, message)


def test_every_call_out_is_one_subsegment(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, daemon: socket.socket
) -> None:
    before = qbo.count_requests()

    answer, loaded = _traced_first_event(env, daemon, _invoice_event(env, contractor, "TR-1"))

    assert answer == {"batchItemFailures": []}
    assert sorted({"requests", "sqlite3"} & loaded) == []  # Powertools' default patches did
    subsegments = _subsegments(daemon)
    aws = [s for s in subsegments if s.get("namespace") == "aws"]
    http = [s for s in subsegments if s.get("namespace") == "remote"]
    assert {s["name"] for s in aws} >= {"dynamodb", "kms"}
    assert all("operation" in s["aws"] for s in aws)
    # Each QuickBooks request once (the company's first invoice: its setup's reads, then the
    # Customer, the Item, the Invoice), and no query string: a query can name a client.
    quickbooks = env.runtime.function(FUNCTION).environment["QBO_API_BASE_URL"]
    assert {s["name"] for s in http} == {"QuickBooks Online"}
    requests = [s["http"] for s in http]
    assert len(requests) == qbo.count_requests() - before
    assert [r["request"]["method"] for r in requests].count("POST") == 3
    assert all(r["request"]["url"].startswith(quickbooks) for r in requests)
    assert all("?" not in r["request"]["url"] for r in requests)
    assert {r["response"]["status"] for r in requests} == {200}
    assert "## lambda_handler" in {s["name"] for s in subsegments}


def test_a_token_refresh_is_a_subsegment_of_its_own(
    env: LocalEnvironment, qbo: QboEmulator, realm: str, contractor: str, daemon: socket.socket
) -> None:
    qbo.expire_access_tokens(realm)  # Intuit ends the token early: a 401, a refresh, again
    tokens_before = qbo.count_requests(kind="oauth", path_suffix="/tokens/bearer")

    answer, _ = _traced_first_event(env, daemon, _invoice_event(env, contractor, "TR-2"))

    assert answer == {"batchItemFailures": []}
    remote = [s for s in _subsegments(daemon) if s.get("namespace") == "remote"]
    oauth = [s["http"] for s in remote if s["name"] == "Intuit OAuth"]
    tokens = qbo.count_requests(kind="oauth", path_suffix="/tokens/bearer") - tokens_before
    assert len(oauth) == 1 == tokens
    assert oauth[0]["request"]["method"] == "POST"
    assert oauth[0]["request"]["url"].endswith("/oauth2/v1/tokens/bearer")
    assert oauth[0]["response"]["status"] == 200
    statuses = [s["http"]["response"]["status"] for s in remote if s["name"] == "QuickBooks Online"]
    assert statuses[0] == 401 and 401 not in statuses[1:]
