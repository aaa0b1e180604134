"""core/aws.py's clients: botocore's loader is told the services the layer calls
(`aws.SERVICES`), so each must reach its service, and a client for any other fails at once."""

from __future__ import annotations

import pytest
from botocore.exceptions import UnknownServiceError

from local.environment import LocalEnvironment


def test_each_service_the_layer_calls_answers(env: LocalEnvironment) -> None:
    from qbo_sync.core import aws

    assert aws.dynamodb().list_tables()["TableNames"]
    assert aws.sqs().list_queues()["QueueUrls"]
    assert "Keys" in aws.kms().list_keys()
    assert aws.events().list_event_buses()["EventBuses"]
    assert "SecretList" in aws.secretsmanager().list_secrets()
    assert {getattr(aws, name)().meta.service_model.service_name for name in aws.SERVICES} == set(
        aws.SERVICES
    )


def test_paginators_load_through_the_same_loader(env: LocalEnvironment) -> None:
    from qbo_sync.core import aws

    table = aws.dynamodb().list_tables()["TableNames"][0]
    pages = aws.dynamodb().get_paginator("scan").paginate(TableName=table)
    assert [page["Count"] for page in pages] == [0]


def test_a_service_not_listed_is_refused_by_name(env: LocalEnvironment) -> None:
    from qbo_sync.core import aws

    with pytest.raises(UnknownServiceError, match="s3"):
        aws._typed("s3")
