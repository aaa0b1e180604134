"""A fresh "container": import one handler module, serve one event, print what it answered.

Run as a script by bench.coldstart, in a new process whose environment is the function's.
Exits with os._exit so interpreter teardown (which Lambda never waits for) is not timed.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import uuid
from dataclasses import dataclass


@dataclass
class Context:
    function_name: str = "bench"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    memory_limit_in_mb: int = 512
    aws_request_id: str = str(uuid.uuid4())
    log_group_name: str = "/aws/lambda/bench"
    log_stream_name: str = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def main() -> None:
    module_name, event_path = sys.argv[1], sys.argv[2]
    with open(event_path) as file:
        event = json.load(file)
    started = time.perf_counter()
    module = importlib.import_module(module_name)
    imported = time.perf_counter()
    response = module.lambda_handler(event, Context())
    served = time.perf_counter()
    answer = {"response": response, "import_s": imported - started, "serve_s": served - imported}
    sys.stdout.write(json.dumps(answer, default=str) + "\n")
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
