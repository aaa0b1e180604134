"""Typed boto3 clients, created on first use and reused for the container's life.

One function per service, so mypy (boto3-stubs) checks every call the layer makes."""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient

# botocore sessions are not thread-safe, and the layer's threads (and tests') may ask at once.
_creating = threading.Lock()
_made: list[Any] = []  # every client _client made, for close_connections


# Every service the layer calls: one function below each.
SERVICES = ("dynamodb", "sqs", "kms", "events", "secretsmanager")
# botocore's endpoints and these services' models cut to what the layer uses (about 20 ms of a
# cold start's first event parsed 300 services' endpoints and each model's API reference):
# written by `python -m local.botocore_data`, which says how.
DATA = os.path.join(os.path.dirname(__file__), "aws_data")


def dynamodb() -> DynamoDBClient:
    return _typed("dynamodb")


def sqs() -> SQSClient:
    return _typed("sqs")


def kms() -> KMSClient:
    return _typed("kms")


def events() -> EventBridgeClient:
    return _typed("events")


def secretsmanager() -> SecretsManagerClient:
    return _typed("secretsmanager")


def close_connections() -> None:
    """Closes the pooled HTTP connections of every client made so far; the clients stay, and
    open new connections when next called (after a SnapStart restore, those made before the
    snapshot are dead)."""
    with _creating:
        for client in list(_made):
            client._endpoint.http_session.close()


def _typed(service: str) -> Any:
    with _creating:
        return _client(service)


@cache
def _client(service: str) -> Any:
    from botocore.config import Config

    # One session for every client: each new session parses botocore's endpoint and service
    # indexes again, tens of milliseconds per client of a cold start. No client-side parameter
    # validation: mypy checks every call's parameters against the stubs, the services check
    # them again, and validating each request costs a few percent of a message's CPU.
    with _collector_paused():
        client = _session().create_client(service, config=Config(parameter_validation=False))
    _made.append(client)
    return client


@contextmanager
def _collector_paused() -> Iterator[None]:
    """A client's service model lives as long as the container, like what its import loaded:
    the same pause of the cyclic collector and freeze as core/startup.py's, about 10 ms of a
    cold start's first event."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.freeze()
            gc.enable()


@cache
def _session() -> Any:
    # botocore's session, not boto3's: the boto3 package's import loads s3transfer (about 20 ms
    # of a cold start) and its session adds only resources, which nothing here uses.
    import botocore.session  # heavy: imported only when a client is first needed

    session = botocore.session.get_session()
    session.register_component("data_loader", _loader(session.get_config_variable("data_path")))
    return session


def _loader(data_path: str | None) -> Any:
    """botocore's loader (as botocore.loaders.create_loader makes it), told which services
    exist, and looking in DATA before botocore's own data. Before it loads any kind of file (a
    service's model, its endpoint rules, its paginators) botocore lists every service folder it
    ships, about 450 with a stat each, only to check the name: about 10 ms of every cold start
    (bench figure 1)."""
    from botocore.loaders import Loader

    class KnownServices(Loader):
        def list_available_services(self, type_name: str) -> list[str]:
            return list(SERVICES)

    paths = data_path.split(os.pathsep) if data_path else []  # AWS_DATA_PATH still comes first
    return KnownServices(
        extra_search_paths=[*(os.path.expanduser(os.path.expandvars(p)) for p in paths), DATA]
    )
