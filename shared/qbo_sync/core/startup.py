"""A container's start without the garbage collector: imported first by each handler module,
which calls `started()` once its own import is done.

What a container loads when it starts (modules, botocore's service models and clients, the
event models) lives as long as the container. CPython's cyclic collector would traverse all of
it several times while it is being loaded, for nothing: about a third of the settings page's
import above the floor (bench figure 1, `docs/performance.md`). So the collector is paused for
the import, and what it loaded is then frozen (`gc.freeze`: moved out of every later
collection, which also makes each invocation's full collections cheaper), the pattern Python's
documentation gives for objects that live as long as the process. Reference counting frees
everything else as usual meanwhile; only cycles made during the import wait, and an import
makes few.
"""

from __future__ import annotations

import gc

gc.disable()


def started() -> None:
    """The handler's module is loaded: keep it out of collections and collect again."""
    gc.freeze()
    gc.enable()
