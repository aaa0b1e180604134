"""What one poll of a function's event sources did (local/lambda_runtime.py, local/streams.py)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PollResult:
    invocations: int = 0
    succeeded: int = 0
    """Records (SQS) or events (EventBridge) the handler processed."""
    failed: int = 0
    """Records reported failed or in a batch that raised; events that failed every attempt."""
    dead_lettered: int = 0
    """Events sent to the function's dead-letter queue (asynchronous invocations), or stream
    records reported to the on-failure destination after their retries."""
    errors: list[str] = field(default_factory=list)

    def add(self, other: PollResult) -> PollResult:
        self.invocations += other.invocations
        self.succeeded += other.succeeded
        self.failed += other.failed
        self.dead_lettered += other.dead_lettered
        self.errors.extend(other.errors)
        return self
