"""Brings up the whole system on this machine: moto (AWS), the Intuit/QBO emulator, the stack
declared by template.yaml, and the functions wired to them. The demo and the tests share it."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from local.clock import LocalClock
from local.lambda_runtime import LambdaRuntime
from local.platform import Platform
from local.qbo_emulator import QboEmulator
from local.stack import LocalStack, deploy_local_stack, reset_data

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The layer's package, importable here as it is in Lambda (/opt/python).
if str(PROJECT_ROOT / "shared") not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT / "shared"))
CLIENT_ID = "qbo-sync-local-client"
# Not a secret: it only opens the local emulator.
CLIENT_SECRET = "local-emulator-client-secret"
REDIRECT_URI = "https://api.qbo-sync.local/quickbooks/callback"
SETTINGS_PAGE_URL = "https://platform.local/settings/accounting"
# The HTTP API's JWT authorizer (template parameters JwtIssuer, JwtAudience); local.identity
# plays the identity provider that issues such tokens for the browser demo.
JWT_ISSUER = "https://id.qbo-sync.local/"
JWT_AUDIENCE = "settings-page"
# What a Lambda container holds in memory: the layer's package and the handlers.
_CONTAINER_PACKAGES = ("qbo_sync", "functions")
AWS_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


@dataclass
class LocalEnvironment:
    qbo: QboEmulator
    stack: LocalStack
    runtime: LambdaRuntime
    platform: Platform
    clock: LocalClock  # simulated time of moto's SQS and the QBO emulator
    redirect_uri: str = REDIRECT_URI

    def reset(self) -> None:
        """A clean slate between tests: empty tables and queues, the streams read to their end,
        a fresh emulator and invoicing service, real time again."""
        reset_data(self.stack)
        self.runtime.skip_streams()  # the emptied tables' REMOVE records emit nothing
        self.qbo.reset()
        self.platform.invoicing.reset()
        self.clock.rewind()
        self.register_intuit_app()

    def register_intuit_app(self) -> None:
        """Registers our app at the emulator (after every emulator reset)."""
        self.qbo.register_app(CLIENT_ID, CLIENT_SECRET, [self.redirect_uri])


@contextmanager
def local_environment(
    stack_name: str = "qbo-sync-local",
    overrides: dict[str, str] | None = None,
    *,
    settings_page_url: str = SETTINGS_PAGE_URL,
    redirect_uri: str = REDIRECT_URI,
    consent_page: bool = False,
) -> Iterator[LocalEnvironment]:
    """`overrides` replace function environment values (say, a quieter log level).

    `settings_page_url` and `redirect_uri` are the stack's SettingsPageUrl and OAuthRedirectUri
    (the browser demo serves both itself); `consent_page` makes the emulator show Intuit's
    consent page to a browser. An environment opened while another is running (a test module
    with its own stack) hands the process back as it found it: AWS variables and containers.
    """
    from moto.server import ThreadedMotoServer

    from local import moto_fifo, moto_transactions

    moto_fifo.install()
    moto_transactions.install()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log

    # Invocations copy the functions' environment into os.environ (as a container has it):
    # all of it is handed back, AWS endpoint and overrides such as a quieter log level included.
    saved_environ = dict(os.environ)
    outer_containers = _retire_containers()
    clock = LocalClock()
    clock.install()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    os.environ.update(AWS_ENVIRONMENT, AWS_ENDPOINT_URL=f"http://{host}:{port}")
    qbo = QboEmulator(consent_page=consent_page)
    qbo.start()
    clock.follow(qbo.advance)
    try:
        stack = deploy_local_stack(
            template_path=str(PROJECT_ROOT / "template.yaml"),
            parameters={
                "SettingsPageUrl": settings_page_url,
                "OAuthRedirectUri": redirect_uri,
                "JwtIssuer": JWT_ISSUER,
                "JwtAudience": JWT_AUDIENCE,
            },
            stack_name=stack_name,
            extra_environment={
                "INTUIT_ENVIRONMENT": qbo.discovery_url,
                "QBO_API_BASE_URL": qbo.api_base_url,
                **(overrides or {}),
            },
        )
        _store_client_credentials(stack)
        runtime = LambdaRuntime(stack, project_root=PROJECT_ROOT, clock=clock)
        platform = Platform(stack, runtime)
        env = LocalEnvironment(qbo, stack, runtime, platform, clock, redirect_uri)
        env.register_intuit_app()
        run_migrations(runtime)
        yield env
    finally:
        qbo.stop()
        moto.stop()
        clock.uninstall()
        _retire_containers()
        sys.modules.update(outer_containers)
        _restore_environ(saved_environ)


def run_migrations(runtime: LambdaRuntime) -> dict[str, object]:
    """What a deploy does through the Migrations custom resource: MigrateFunction runs the
    migrations the stack's tables have not had (docs/operations.md, "Upgrades")."""
    event = {"source": "local.stack", "detail-type": "Stack started", "detail": {}}
    return dict(runtime.invoke("MigrateFunction", event))


def _retire_containers() -> dict[str, ModuleType]:
    """The stack is gone, and so are its Lambda containers: module state (cached boto3 clients
    bound to this moto's port, settings, tokens) must not serve the next environment in this
    process. Dropping the modules makes the next invocation import them afresh, a cold start.
    Returns what was dropped, for an environment that ends to give the outer one back."""
    names = [name for name in sys.modules if name.partition(".")[0] in _CONTAINER_PACKAGES]
    return {name: sys.modules.pop(name) for name in names}


def _restore_environ(saved: dict[str, str]) -> None:
    os.environ.clear()
    os.environ.update(saved)


def _store_client_credentials(stack: LocalStack) -> None:
    import boto3

    secret = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    boto3.client("secretsmanager").put_secret_value(
        SecretId=stack.resources["IntuitCredentialsSecret"], SecretString=json.dumps(secret)
    )
