"""Figure 6: the layer built as shared/Makefile's build-SharedLayer builds it, and each function's
folder, in MB (unzipped, which is what Lambda's 250 MB limit counts)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.common import ROOT

LIMIT_MB = 250
LAMBDA_PYTHON = "3.12"
LAMBDA_PLATFORM = "manylinux2014_aarch64"


def _size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1_000_000


def _function_size_mb(folder: Path) -> float:
    return (
        sum(
            f.stat().st_size
            for f in folder.rglob("*")
            if f.is_file() and "__pycache__" not in f.parts
        )
        / 1_000_000
    )


def measure() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="qbo-layer-") as folder:
        target = Path(folder) / "python"
        # The layer exactly as `sam build` makes it: shared/Makefile's own target.
        done = subprocess.run(
            [
                "make",
                "--no-print-directory",
                "-C",
                str(ROOT / "shared"),
                "build-SharedLayer",
                f"ARTIFACTS_DIR={folder}",
                f"PIP={sys.executable} -m pip --disable-pip-version-check",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"could not build the layer: {done.stderr[-2000:]}")
        layer = _size_mb(target)
        largest = sorted(
            (
                (child.name, _size_mb(child) if child.is_dir() else child.stat().st_size / 1e6)
                for child in target.iterdir()
            ),
            key=lambda pair: pair[1],
            reverse=True,
        )[:5]
    functions = {
        folder.name: _function_size_mb(folder)
        for folder in sorted((ROOT / "functions").iterdir())
        if folder.is_dir()
    }
    return {
        "layer_mb": layer,
        "layer_largest_mb": dict(largest),
        "functions_mb": functions,
        "limit_mb": LIMIT_MB,
        "platform": f"{LAMBDA_PLATFORM} cp{LAMBDA_PYTHON}",
    }
