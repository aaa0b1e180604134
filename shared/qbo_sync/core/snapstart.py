"""Lambda SnapStart's runtime hooks (template parameter ApiSnapStart; docs/performance.md).

With SnapStart, Lambda initialises a function once, when a version is published, snapshots the
memory, and starts each new execution environment from that snapshot. So whatever the init
built is shared by every restored environment: network connections opened before the snapshot
are dead after a restore, and a random generator seeded before it would repeat across
environments. The hooks come with the Python runtime (`snapshot_restore_py`, 3.12 and newer);
elsewhere (tests, a runtime without it) there is nothing to register.
"""

from __future__ import annotations

from collections.abc import Callable


def install(*, before_snapshot: Callable[[], None], after_restore: Callable[[], None]) -> bool:
    """Registers the function's hooks; False where the runtime has no SnapStart hooks."""
    try:
        from snapshot_restore_py import (
            register_after_restore,
            register_before_snapshot,
        )
    except ImportError:
        return False
    register_before_snapshot(before_snapshot)
    register_after_restore(after_restore)
    return True
