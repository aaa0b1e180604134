"""The event an EventBridge schedule rule sends its target (detail-type "Scheduled Event"), for
a function's `Schedule` event in template.yaml: what tests invoke a scheduled function with."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from local.stack import LocalStack


def scheduled_event(
    stack: LocalStack, function_id: str, at: datetime | None = None
) -> dict[str, Any]:
    function = stack.functions[function_id]
    if not function.schedule_sources:
        raise KeyError(f"{function_id} has no Schedule event in template.yaml")
    source = function.schedule_sources[0]
    rule_arn = f"arn:aws:events:{stack.region}:{stack.account_id}:rule/{source.rule_name}"
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": stack.account_id,
        "time": (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": stack.region,
        "resources": [rule_arn],
        "detail": {},
    }
