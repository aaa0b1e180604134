"""SnapStart for the settings page's function (template parameter ApiSnapStart): the runtime
hooks it registers, and a restored container that opens its own connections (core/snapstart.py).
"""

from __future__ import annotations

import json
import sys
import types
from typing import Any

import pytest

from local.platform import Platform


def _connection(platform: Platform, contractor_id: str) -> dict[str, Any]:
    response = platform.api("GET", "/quickbooks/connection", contractor_id)
    assert response["statusCode"] == 200, response
    return dict(json.loads(response["body"]))


def _pooled(aws: Any) -> int:
    """Connection pools the layer's AWS clients hold open."""
    return sum(len(client._endpoint.http_session._manager.pools) for client in aws._made)


def _qbo_pooled() -> int:
    """Connection pools the QBO client holds open (the connect asked for the company's name)."""
    return len(sys.modules["qbo_sync.connection.services"].http_pool().pools)


def test_the_hooks_are_registered_where_the_runtime_has_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from qbo_sync.core import snapstart

    registered: dict[str, Any] = {}
    runtime_hooks = types.ModuleType("snapshot_restore_py")
    runtime_hooks.register_before_snapshot = lambda hook: registered.update(before=hook)  # type: ignore[attr-defined]
    runtime_hooks.register_after_restore = lambda hook: registered.update(after=hook)  # type: ignore[attr-defined]

    def before() -> None: ...
    def after() -> None: ...

    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # imports raise ImportError
    assert snapstart.install(before_snapshot=before, after_restore=after) is False
    assert registered == {}
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", runtime_hooks)
    assert snapstart.install(before_snapshot=before, after_restore=after) is True
    assert registered == {"before": before, "after": after}


def test_a_restored_container_serves_on_new_connections(
    platform: Platform, contractor: str
) -> None:
    app = sys.modules["functions.oauth.app"]  # the connect imported it, as a container would
    aws = sys.modules["qbo_sync.core.aws"]
    app._before_snapshot()
    assert _connection(platform, contractor)["status"] == "connected"
    assert _pooled(aws) > 0
    assert _qbo_pooled() > 0

    app._after_restore()

    assert _pooled(aws) == 0  # what the snapshot held is gone
    assert _qbo_pooled() == 0
    assert _connection(platform, contractor)["status"] == "connected"
    assert _pooled(aws) > 0
