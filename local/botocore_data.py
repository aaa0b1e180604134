"""Writes the botocore data the layer's clients load (shared/qbo_sync/core/aws_data/).

botocore ships the endpoints of some 300 services in one 1.3 MB `endpoints.json`, and each
service's model with its API reference in it: a client's first creation parses both, about 20 ms
of each cold start's first event (docs/performance.md, figure 1). The layer's loader
(core/aws.py) looks in `aws_data/` first, which holds the same files cut to what the layer uses:
the endpoints of the services it calls (every partition), and their models without
`documentation` (every operation and shape kept). Generated from this virtualenv's botocore;
after upgrading it, run `python -m local.botocore_data` (tests/contract/test_botocore_data.py
fails until then). What the data does not hold (endpoint rules, paginators, other services)
comes from the runtime's botocore as before.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DATA = PROJECT_ROOT / "shared" / "qbo_sync" / "core" / "aws_data"


def generate(target: Path) -> list[Path]:
    """Writes the data into `target` (emptied first); answers the files written."""
    from botocore.loaders import Loader
    from qbo_sync.core.aws import SERVICES

    # botocore's own data only: not ~/.aws/models, nor an AWS_DATA_PATH.
    botocore_only = Loader([Loader.BUILTIN_DATA_PATH], include_default_search_paths=False)
    if target.exists():
        shutil.rmtree(target)
    written = [_write(target / "endpoints.json", _endpoints(botocore_only, SERVICES))]
    for service in SERVICES:
        version = botocore_only.determine_latest_version(service, "service-2")
        model = botocore_only.load_data(f"{service}/{version}/service-2")
        path = target / service / version / "service-2.json"
        written.append(_write(path, _without_documentation(model)))
    return written


def _endpoints(loader: Any, services: tuple[str, ...]) -> dict[str, Any]:
    endpoints: dict[str, Any] = loader.load_data("endpoints")  # this loader's own copy
    for partition in endpoints["partitions"]:
        partition["services"] = {
            name: value for name, value in partition["services"].items() if name in services
        }
    return endpoints


def _without_documentation(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_documentation(v) for k, v in value.items() if k != "documentation"}
    if isinstance(value, list):
        return [_without_documentation(item) for item in value]
    return value


def _write(path: Path, data: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Compact: parsed on every cold start; one line a file, regenerated rather than edited.
    path.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    return path


def main() -> None:
    sys.path.insert(0, str(PROJECT_ROOT / "shared"))  # the layer, as the tests have it
    for path in generate(DATA):
        print(f"{path.relative_to(PROJECT_ROOT)}: {path.stat().st_size // 1024} kB")


if __name__ == "__main__":
    main()
