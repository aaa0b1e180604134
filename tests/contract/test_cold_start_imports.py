"""What the settings page's function loads before its first request (bench figure 1, issue 26).

The page's first request (GET /quickbooks/connection) needs neither the event models (pydantic)
nor the QuickBooks client (requests): the routes that do import their workflows when called. A
route module that imports a workflow at the top puts them back on every cold start, as a merge
once did without any test noticing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOT_AT_IMPORT = (
    "pydantic",
    "qbo_sync.events",
    "requests",
    "qbo_sync.qbo.client",
    "intuitlib.client",
)


def _loaded_by(module: str) -> set[str]:
    code = f"import json, sys\nimport {module}\nprint(json.dumps(sorted(sys.modules)))\n"
    path = f"{ROOT / 'shared'}:{ROOT}"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": path, "PATH": "/usr/bin:/bin"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(done.stdout))


def test_the_settings_page_function_imports_no_event_model_or_quickbooks_client() -> None:
    loaded = _loaded_by("functions.oauth.app")
    assert "qbo_sync.api.customers" in loaded  # the module under test was imported at all
    assert sorted(set(NOT_AT_IMPORT) & loaded) == []
