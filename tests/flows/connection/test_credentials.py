"""Intuit keys come from the secret: ones put there after a container started are used, without
a redeploy, once Powertools' cache of the secret (CREDENTIALS_MAX_AGE_SECONDS) has expired."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import boto3

from local.environment import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, LocalEnvironment
from local.platform import Platform

NEW_ID, NEW_SECRET = "qbo-sync-rotated-client", "rotated-client-secret"


@contextmanager
def _rotated(env: LocalEnvironment) -> Iterator[None]:
    """Production keys replace the first ones in the secret (and at Intuit, as a new app)."""
    secret_id = env.stack.resources["IntuitCredentialsSecret"]
    secrets = boto3.client("secretsmanager")
    env.qbo.register_app(NEW_ID, NEW_SECRET, [REDIRECT_URI])
    secrets.put_secret_value(
        SecretId=secret_id,
        SecretString=json.dumps({"client_id": NEW_ID, "client_secret": NEW_SECRET}),
    )
    _expire_cached_secret()
    try:
        yield
    finally:
        secrets.put_secret_value(
            SecretId=secret_id,
            SecretString=json.dumps({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}),
        )
        _expire_cached_secret()


def _expire_cached_secret() -> None:
    # What CREDENTIALS_MAX_AGE_SECONDS of waiting does; the container (and its AuthClient) stays.
    from qbo_sync.connection.intuit import _secrets

    _secrets().clear_cache()


def _client_id_in_consent_url(platform: Platform) -> str:
    location = platform.api("GET", "/quickbooks/connect", "ctr_123")["headers"]["Location"]
    return parse_qs(urlsplit(location).query)["client_id"][0]


def test_keys_put_into_the_secret_later_are_used_by_a_warm_container(
    env: LocalEnvironment, platform: Platform, realm: str
) -> None:
    platform.connect_quickbooks("ctr_123")  # the container is warm, with the first keys
    assert _client_id_in_consent_url(platform) == CLIENT_ID

    with _rotated(env):
        assert _client_id_in_consent_url(platform) == NEW_ID
        landed = platform.connect_quickbooks("ctr_123")  # the code exchange uses the new secret

    assert "quickbooks=connected" in landed
