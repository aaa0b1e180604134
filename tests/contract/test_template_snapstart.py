"""The ApiSnapStart option (docs/performance.md): SnapStart for the settings page's function,
off by default, and the HTTP API reaching the function through its published alias either way."""

from __future__ import annotations

from pathlib import Path

import pytest

from local.stack import load_template, resolved_property

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
FUNCTION = "OAuthFunction"


def snap_start(parameters: dict[str, str]) -> object:
    return resolved_property(TEMPLATE, FUNCTION, "SnapStart", parameters)


def test_snapstart_is_off_by_default() -> None:
    assert TEMPLATE["Parameters"]["ApiSnapStart"]["Default"] == "false"
    assert snap_start({}) == {"ApplyOn": "None"}
    assert snap_start({"ApiSnapStart": "false"}) == {"ApplyOn": "None"}


def test_snapstart_on_applies_to_published_versions() -> None:
    assert snap_start({"ApiSnapStart": "true"}) == {"ApplyOn": "PublishedVersions"}


@pytest.mark.parametrize("value", ["true", "false"])
def test_the_api_reaches_the_function_through_its_alias(value: str) -> None:
    """SAM points every HttpApi route of a function with AutoPublishAlias at the alias; the
    snapshot belongs to the version the alias names, never to $LATEST."""
    alias = resolved_property(TEMPLATE, FUNCTION, "AutoPublishAlias", {"ApiSnapStart": value})
    assert alias == "live"
    events = TEMPLATE["Resources"][FUNCTION]["Properties"]["Events"]
    assert events and all(event["Type"] == "HttpApi" for event in events.values())


def test_snapstart_runs_on_a_runtime_that_has_it() -> None:
    """Python SnapStart needs python3.12 or newer, and the function has no provisioned
    concurrency, EFS or ephemeral storage above 512 MB, which SnapStart does not support."""
    runtime = TEMPLATE["Globals"]["Function"]["Runtime"]
    assert runtime.startswith("python3.") and int(runtime.split(".")[1]) >= 12
    properties = TEMPLATE["Resources"][FUNCTION]["Properties"]
    assert "ProvisionedConcurrencyConfig" not in properties
    assert "FileSystemConfigs" not in properties
    assert properties.get("EphemeralStorage", {}).get("Size", 512) <= 512


def test_the_function_registers_the_restore_hooks() -> None:
    source = (ROOT / "functions" / "oauth" / "app.py").read_text()
    assert "snapstart.install(before_snapshot=" in source
