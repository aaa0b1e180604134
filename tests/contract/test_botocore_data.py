"""The botocore data the layer's clients load (core/aws.py, local/botocore_data.py).

A client's first creation used to parse botocore's endpoints of 300 services (1.3 MB) and its
service's whole model, API reference included: about 20 ms of every cold start's first event.
The layer ships both cut to what it uses, and its loader looks there first.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from qbo_sync.core.aws import SERVICES

from local.botocore_data import DATA, generate

ROOT = Path(__file__).resolve().parents[2]

# Every file a client's creation opens, in a new process: the layer's clients, made as a first
# event makes them.
OPENED = """
import json, sys
opened = []
sys.addaudithook(lambda event, args: event == "open" and opened.append(str(args[0])))
from qbo_sync.core import aws
for service in aws.SERVICES:
    getattr(aws, service)()
print(json.dumps(opened))
"""


def test_the_data_is_this_botocores_cut_to_the_layers_services(tmp_path: Path) -> None:
    """Fails after a botocore upgrade until `python -m local.botocore_data` writes it again."""
    written = generate(tmp_path / "aws_data")
    committed = sorted(path.relative_to(DATA) for path in DATA.rglob("*.json"))
    assert committed == sorted(path.relative_to(tmp_path / "aws_data") for path in written)
    for path in written:
        assert path.read_bytes() == (DATA / path.relative_to(tmp_path / "aws_data")).read_bytes()


def test_the_data_keeps_every_partition_operation_and_shape_but_no_reference() -> None:
    from botocore.loaders import Loader

    botocore = Loader()
    endpoints = json.loads((DATA / "endpoints.json").read_text())
    full = botocore.load_data("endpoints")
    assert [p["partition"] for p in endpoints["partitions"]] == [
        p["partition"] for p in full["partitions"]
    ]
    aws_partition = endpoints["partitions"][0]
    assert aws_partition["partition"] == "aws"
    assert sorted(aws_partition["services"]) == sorted(SERVICES)
    models = sorted(DATA.glob("*/*/service-2.json"))
    assert sorted(path.parent.parent.name for path in models) == sorted(SERVICES)
    for path in models:
        model = json.loads(path.read_text())
        service, version = path.parent.parent.name, path.parent.name
        original = botocore.load_service_model(service, "service-2", version)
        assert model["metadata"] == original["metadata"]
        assert model["operations"].keys() == original["operations"].keys()
        assert model["shapes"].keys() == original["shapes"].keys()
        assert '"documentation"' not in path.read_text()


def test_a_clients_creation_reads_the_layers_data_not_botocores() -> None:
    done = subprocess.run(
        [sys.executable, "-c", OPENED],
        env={
            "PYTHONPATH": str(ROOT / "shared"),
            "PATH": "/usr/bin:/bin",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        },
        capture_output=True,
        text=True,
        check=True,
    )
    opened = [path for path in json.loads(done.stdout) if path.endswith((".json", ".json.gz"))]
    ours = [path for path in opened if path.startswith(str(DATA))]
    assert any(path.endswith("endpoints.json") for path in ours)
    assert len([path for path in ours if path.endswith("service-2.json")]) == len(SERVICES)
    botocores = [path for path in opened if not path.startswith(str(DATA))]
    assert [p for p in botocores if p.endswith(("endpoints.json", "service-2.json.gz"))] == []
