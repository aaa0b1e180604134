"""A moto server and template.yaml's stack deployed into it, for the tests of local/.

The AWS environment variables point at this moto only while a test of this folder runs, so the
rest of the suite (which brings up its own moto through local.environment) is not disturbed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from local_support import EXTRA_ENVIRONMENT, PARAMETERS, STACK_NAME, TEMPLATE, aws_pointed_at
from moto.server import ThreadedMotoServer

from local.stack import LocalStack, deploy_local_stack, reset_data


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def deployed_stack(moto_endpoint: str) -> LocalStack:
    with aws_pointed_at(moto_endpoint):
        return deploy_local_stack(
            template_path=TEMPLATE,
            parameters=PARAMETERS,
            stack_name=STACK_NAME,
            extra_environment=EXTRA_ENVIRONMENT,
        )


@pytest.fixture
def aws(moto_endpoint: str) -> Iterator[None]:
    with aws_pointed_at(moto_endpoint):
        yield


@pytest.fixture
def stack(deployed_stack: LocalStack, aws: None) -> LocalStack:
    """The deployed stack with empty tables and queues."""
    reset_data(deployed_stack)
    return deployed_stack


@pytest.fixture
def sqs(aws: None) -> Any:
    return boto3.client("sqs")
