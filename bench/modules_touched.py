"""Which of the layer's modules one steady-state export and one payment run through, and the
layer's longest function: the layout's own figures (issue "one owner for each piece of state").

    python -m bench.modules_touched            # this checkout
    cd OTHER && python /path/to/bench/modules_touched.py   # another checkout, for before/after

A profile hook records every function of `shared/qbo_sync` called while the handler serves an
invoice-sent message for a known client (its customer exported before) and then a payment of it.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path.cwd()
sys.path[:0] = [str(ROOT / "shared"), str(ROOT)]

from bench.common import INVOICE_FUNCTION, PAYMENT_FUNCTION, connect, environment, sqs_event  # noqa: E402
from local import samples  # noqa: E402

LAYER = ROOT / "shared" / "qbo_sync"


def touched(action: Any) -> list[str]:
    seen: set[str] = set()

    def profile(frame: Any, event: str, _: Any) -> None:
        if event == "call":
            filename = frame.f_code.co_filename
            if filename.startswith(str(LAYER)):
                seen.add(Path(filename).relative_to(LAYER).as_posix())

    sys.setprofile(profile)
    try:
        action()
    finally:
        sys.setprofile(None)
    return sorted(seen)


def longest_functions(top: int = 3) -> list[tuple[int, str]]:
    found = []
    for path in LAYER.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                found.append((lines, f"{path.relative_to(LAYER).as_posix()}:{node.name}"))
    return sorted(found, reverse=True)[:top]


def main() -> None:
    with environment("qbo-sync-trace") as env:
        contractor = "ctr_trace"
        connect(env, contractor)
        first = samples.invoice_sent(contractor, "T-1", "Trace Client", [("Work", "1", "10.00")])
        env.runtime.invoke(INVOICE_FUNCTION, sqs_event(env, first))  # the client becomes known
        steady = samples.invoice_sent(contractor, "T-2", "Trace Client", [("Work", "1", "20.00")])
        export = touched(lambda: env.runtime.invoke(INVOICE_FUNCTION, sqs_event(env, steady)))
        payment = samples.payment_completed(contractor, "inv_T-2", "T-2", "20.00")
        event = samples.payment_event(env.stack, payment)
        pay = touched(lambda: env.runtime.invoke(PAYMENT_FUNCTION, event))
    modules = sorted(p.relative_to(LAYER).as_posix() for p in LAYER.rglob("*.py"))
    report = {
        "layer_modules": len(modules),
        "export_modules": export,
        "payment_modules": pay,
        "longest_functions": longest_functions(),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
