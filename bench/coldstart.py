"""Figure 1: cold start of each handler as a ratio to a process that only creates a boto3 client.

Every run is a new Python process: the handler's runs import its module and serve one first
event against the emulators (moto and the QBO emulator run in this, the parent, process). Runs
are interleaved (baseline, then each handler, in a shuffled order per round) so that a noisy
neighbour on the machine slows every kind alike, and the median of each kind is compared.

The handlers import the layer as a deploy builds it (`layer()`: shared/requirements.txt without
what the runtime provides, and qbo_sync), not this checkout's virtualenv, and run with -B, as
Lambda's read-only /opt keeps nothing they compile: "<function>" with the layer's bytecode
compiled at build time (shared/Makefile), "<function>@source" without it (the layer before).
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import (
    INVOICE_FUNCTION,
    OAUTH_FUNCTION,
    PAYMENT_FUNCTION,
    ROOT,
    connect,
    median,
    sqs_event,
)
from local import samples
from local.environment import LocalEnvironment

BASELINE = "baseline"
BASELINE_CODE = "import os, boto3; boto3.client('dynamodb'); os._exit(0)"
CONTRACTOR = "ctr_coldstart"
SERVE_ONCE = str(ROOT / "bench" / "serve_once.py")
HANDLERS = {
    OAUTH_FUNCTION: "functions.oauth.app",
    INVOICE_FUNCTION: "functions.invoice_sent.app",
    PAYMENT_FUNCTION: "functions.payment_completed.app",
}
IMPORT_LINE = re.compile(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)")
# A kind measured from another checkout (--compare-root): "<function id>@before".
BEFORE = "@before"
# A kind run on the layer without bytecode: "<function id>@source".
SOURCE = "@source"
# A kind run as Lambda runs it with the template's `Tracing: Active`: X-Ray's tracer loaded and
# its segments sent over UDP (to a socket of this process, never read): "<function id>@traced".
TRACED = "@traced"
TRACE_ID = "Root=1-67a1b2c3-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1"
# In the python3.12 runtime, not in the layer (.ci/check_build.py's RUNTIME_PROVIDED).
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "dateutil", "jmespath", "six", "urllib3")


TARGET_RATIOS = {"OAuthFunction": 1.3, "InvoiceSentFunction": 1.6, "PaymentCompletedFunction": 1.6}


def child_environment(
    env: LocalEnvironment,
    function_id: str | None,
    root: Path = ROOT,
    layer: Path | None = None,
    daemon: str | None = None,
) -> dict[str, str]:
    """This process's environment (AWS_ENDPOINT_URL, credentials) plus the function's own,
    with the layer (`root`/shared unless given) and the handlers of `root` on the path;
    `daemon`: X-Ray tracing on, as in Lambda, its segments sent to that address."""
    child = dict(os.environ)
    child.pop("PYTHONDONTWRITEBYTECODE", None)
    if function_id is not None:
        child.update(env.stack.functions[function_id].environment)
    child["PYTHONPATH"] = os.pathsep.join([str(layer or root / "shared"), str(root)])
    if daemon is not None and function_id is not None:
        child.update(
            LAMBDA_TASK_ROOT=str(root),
            AWS_LAMBDA_FUNCTION_NAME=function_id,
            _X_AMZN_TRACE_ID=TRACE_ID,
            AWS_XRAY_DAEMON_ADDRESS=daemon,
        )
    return child


def layer(folder: Path, bytecode: bool) -> Path:
    """The layer as shared/Makefile builds it, for this machine's Python and platform: its
    requirements without what the runtime provides, and qbo_sync; with bytecode compiled as
    the build compiles it, or none."""
    target = folder / ("bytecode" if bytecode else "source")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "install", "--quiet"]
    requirements = str(ROOT / "shared" / "requirements.txt")
    installed = subprocess.run(
        [*pip, "--no-compile", "--target", str(target), "-r", requirements],
        capture_output=True,  # pip's notes on this virtualenv's own packages are not the layer's
        text=True,
    )
    if installed.returncode != 0:
        raise RuntimeError(f"could not build the layer: {installed.stderr[-2000:]}")
    for child in list(target.iterdir()):
        name = child.name.partition("-")[0].removesuffix(".py").lower().removeprefix("python_")
        if name in RUNTIME_PROVIDED:
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    shutil.copytree(ROOT / "shared" / "qbo_sync", target / "qbo_sync")
    for cache in list(target.rglob("__pycache__")):
        shutil.rmtree(cache)
    if bytecode:
        compileall = [sys.executable, "-m", "compileall", "-q", "-j", "0"]
        compileall += ["--invalidation-mode", "unchecked-hash", str(target)]
        subprocess.run(compileall, check=True, capture_output=True)
    return target


class Events:
    """A new first event for every run: a new invoice (known client), the first payment of an
    invoice exported just before (here, unmeasured), a GET."""

    def __init__(self, env: LocalEnvironment, folder: Path) -> None:
        self.env = env
        self.folder = folder
        self.serial = 0
        connect(env, CONTRACTOR)
        self._export("CS-0")  # its client is known from here on, as most invoices' clients are

    def write(self, function_id: str, bus_shape: bool = False) -> str:
        """`bus_shape`: the payment as EventBridge invoked the function before it read a queue
        (for a --compare-root checkout from before that change)."""
        self.serial += 1
        if function_id == INVOICE_FUNCTION:
            event = sqs_event(self.env, self._invoice(f"CS-{self.serial}"))
        elif function_id == PAYMENT_FUNCTION:
            # Its own invoice, as a deposit pays an invoice with no payment yet: a payment of
            # one invoice every run paid would read and write a ledger item that grows with
            # the runs (the figure rose with --rounds).
            number = f"CS-PAID-{self.serial}"
            self._export(number)
            detail = samples.payment_completed(
                CONTRACTOR, f"inv_{number}", number, "1.00", payment_id=f"pay_cs_{self.serial}"
            )
            event = (
                samples.payment_bus_event(self.env.stack, detail)
                if bus_shape
                else samples.payment_event(self.env.stack, detail)
            )
        else:
            event = self._http_event()
        path = self.folder / f"event-{self.serial}.json"
        path.write_text(json.dumps(event))
        return str(path)

    @staticmethod
    def _invoice(number: str) -> dict[str, Any]:
        return samples.invoice_sent(
            CONTRACTOR, number, "Cold Start Client", [("Work", "1", "10.00")]
        )

    def _export(self, number: str) -> None:
        """Exported in this process: not a measured run."""
        event = sqs_event(self.env, self._invoice(number))
        response = self.env.runtime.invoke(INVOICE_FUNCTION, event)
        if response.get("batchItemFailures"):
            raise RuntimeError(f"could not export invoice {number}: {response}")

    def _http_event(self) -> dict[str, Any]:
        """GET /quickbooks/connection, as the settings page sends it on every visit."""
        runtime = self.env.runtime
        captured: dict[str, Any] = {}
        original = runtime.invoke

        def capture(function_id: str, event: Any) -> Any:
            captured.update(event)
            return {"statusCode": 200}

        runtime.invoke = capture  # type: ignore[method-assign]
        try:
            claims = self.env.platform.claims(CONTRACTOR)
            runtime.http(OAUTH_FUNCTION, "GET", "/quickbooks/connection", claims=claims)
        finally:
            runtime.invoke = original  # type: ignore[method-assign]
        return captured


def _takes_bus_events(root: Path) -> bool:
    """Whether that checkout's payment function is invoked by EventBridge (before the queue)."""
    return "Type: EventBridgeRule" in (root / "template.yaml").read_text()


def _served(function_id: str, response: Any) -> bool:
    if function_id == INVOICE_FUNCTION:
        return isinstance(response, dict) and not response.get("batchItemFailures")
    if function_id == PAYMENT_FUNCTION:
        queued = isinstance(response, dict) and response.get("batchItemFailures") == []
        return queued or (isinstance(response, dict) and response.get("status") == "recorded")
    return isinstance(response, dict) and response.get("statusCode") == 200


def run_once(
    env: LocalEnvironment,
    events: Events,
    kind: str,
    before: Path | None = None,
    layers: dict[bool, Path] | None = None,
    daemon: str | None = None,
) -> dict[str, float]:
    """`layers`: the built layer with (True) and without bytecode, for this checkout's kinds;
    `daemon`: the X-Ray daemon's address for the traced kinds."""
    function_id, _, other = kind.partition("@")
    root = before if other == BEFORE[1:] and before else ROOT
    built = None if root != ROOT or not layers else layers[other != SOURCE[1:]]
    if kind == BASELINE:
        command = [sys.executable, "-c", BASELINE_CODE]
        environ = child_environment(env, None)
    else:
        path = events.write(function_id, bus_shape=root != ROOT and _takes_bus_events(root))
        flags = ["-B"] if built else []  # Lambda's /opt is read-only: nothing compiled is kept
        command = [sys.executable, *flags, SERVE_ONCE, HANDLERS[function_id], path]
        traced = daemon if other == TRACED[1:] else None
        environ = child_environment(env, function_id, root, built, traced)
    started = time.perf_counter()
    done = subprocess.run(command, env=environ, cwd=root, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{kind} cold start failed: {done.stderr[-2000:]}")
    if kind == BASELINE:
        return {"wall_s": wall}
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    if not _served(function_id, answer["response"]):
        raise RuntimeError(f"{kind} did not serve its first event: {answer['response']}")
    return {"wall_s": wall, "import_s": answer["import_s"], "serve_s": answer["serve_s"]}


def import_times(
    env: LocalEnvironment,
    events: Events,
    kind: str,
    top: int = 10,
    root: Path = ROOT,
    layer: Path | None = None,
    daemon: str | None = None,
) -> list[dict[str, Any]]:
    """`python -X importtime` over the import and the first event (lazy imports included)."""
    path = events.write(kind, bus_shape=root != ROOT and _takes_bus_events(root))
    flags = ["-B"] if layer else []
    command = [sys.executable, *flags, "-X", "importtime", SERVE_ONCE, HANDLERS[kind], path]
    done = subprocess.run(
        command,
        env=child_environment(env, kind, root, layer, daemon),
        cwd=root,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{kind} importtime run failed: {done.stderr[-2000:]}")
    rows = []
    for line in done.stderr.splitlines():
        found = IMPORT_LINE.match(line)
        if found:
            self_us, cumulative_us, indent, module = found.groups()
            depth = len(indent) // 2
            rows.append(
                {
                    "module": module,
                    "cumulative_us": int(cumulative_us),
                    "self_us": int(self_us),
                    "depth": depth,
                }
            )
    rows.sort(key=lambda row: row["cumulative_us"], reverse=True)
    return rows[:top]


def measure(
    env: LocalEnvironment, rounds: int = 7, seed: int = 7, before: Path | None = None
) -> dict[str, Any]:
    """`before`: another checkout (say, a worktree of the previous commit) whose handlers are
    measured in the same shuffled rounds, as "<function id>@before"."""
    shuffle = random.Random(seed).shuffle
    measured = [
        *HANDLERS,
        *[f"{kind}{SOURCE}" for kind in HANDLERS],
        *[f"{kind}{TRACED}" for kind in HANDLERS],
        *([f"{kind}{BEFORE}" for kind in HANDLERS] if before else []),
    ]
    kinds = [BASELINE, *measured]
    samples_by_kind: dict[str, list[dict[str, float]]] = {kind: [] for kind in kinds}
    with (
        tempfile.TemporaryDirectory(prefix="qbo-bench-") as folder,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as daemon,
    ):
        daemon.bind(("127.0.0.1", 0))  # X-Ray's daemon for the traced kinds: nothing reads it
        address = "{}:{}".format(*daemon.getsockname())
        events = Events(env, Path(folder))
        layers = {bytecode: layer(Path(folder), bytecode) for bytecode in (True, False)}
        for kind in kinds:  # one unmeasured round: page cache and .pyc files warm for all alike
            run_once(env, events, kind, before, layers, address)
        for _ in range(rounds):
            order = list(kinds)
            shuffle(order)
            for kind in order:
                samples_by_kind[kind].append(run_once(env, events, kind, before, layers, address))
        importtime = {
            kind: import_times(
                env,
                events,
                kind.partition("@")[0],
                root=before if BEFORE in kind and before else ROOT,
                layer=None if BEFORE in kind else layers[SOURCE not in kind],
                daemon=address if TRACED in kind else None,
            )
            for kind in measured
        }
    baseline = median([run["wall_s"] for run in samples_by_kind[BASELINE]])
    handlers = {}
    for kind in measured:
        runs = samples_by_kind[kind]
        wall = median([run["wall_s"] for run in runs])
        handlers[kind] = {
            "wall_ms": wall * 1000,
            "ratio": wall / baseline,
            "import_ms": median([run["import_s"] for run in runs]) * 1000,
            "first_event_ms": median([run["serve_s"] for run in runs]) * 1000,
            "importtime_top10": importtime[kind],
        }
    return {
        "rounds": rounds,
        "before": str(before) if before else None,
        "baseline_ms": baseline * 1000,
        "handlers": handlers,
        "target_ratio": 1.3,
        # Issue 26: the settings page's function 1.3x, the queue consumers (no one waits on a
        # page for them) 1.6x.
        "target_ratios": {kind: TARGET_RATIOS.get(kind, 1.3) for kind in HANDLERS},
    }
