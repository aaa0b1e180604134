"""template.yaml and samconfig.toml say what the deployment will be: these tests read them.

Nothing is deployed: each test asserts a property of the files (wiring, data protection, least
privilege, runtime) that `make deploy-check`'s linters do not, or not as this project needs.
"""

from __future__ import annotations

import inspect
import os
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.stack import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES: dict[str, dict[str, Any]] = TEMPLATE["Resources"]
PARAMETERS: dict[str, Any] = TEMPLATE.get("Parameters", {})
CONDITIONS: dict[str, Any] = TEMPLATE.get("Conditions", {})
GLOBAL_FUNCTION: dict[str, Any] = TEMPLATE.get("Globals", {}).get("Function", {})
FUNCTIONS = {
    logical_id: resource["Properties"]
    for logical_id, resource in RESOURCES.items()
    if resource["Type"] == "AWS::Serverless::Function"
}
RETAIN = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}

# docs/interface.md §1, and which of them each function needs: the OAuth routes use all of them,
# the consumers only what reaching QuickBooks takes.
INTUIT_ACCESS = {"INTUIT_ENVIRONMENT", "QBO_API_BASE_URL", "INTUIT_CREDENTIALS_SECRET"}
CONTRACT_NEEDS = {
    "OAuthFunction": INTUIT_ACCESS
    | {"OAUTH_REDIRECT_URI", "SETTINGS_PAGE_URL", "CONTRACTOR_ID_CLAIM", "PAYMENTS_ENABLED_CLAIM"},
    "InvoiceSentFunction": INTUIT_ACCESS,
    "PaymentCompletedFunction": INTUIT_ACCESS,
}
# What each kind of variable must name, by the end of its name.
EXPECTED_TARGET_TYPE = {
    "_TABLE": "AWS::DynamoDB::Table",
    "_QUEUE_URL": "AWS::SQS::Queue",
    "_KEY_ID": "AWS::KMS::Key",
    "_BUS_NAME": "AWS::Events::EventBus",
    "_SECRET": "AWS::SecretsManager::Secret",
}
# Actions that have no resource-level permissions, so IAM only accepts them with Resource "*".
NEEDS_STAR_RESOURCE = {
    "xray:PutTraceSegments",  # X-Ray: no resource-level permissions at all
    "xray:PutTelemetryRecords",
    "cloudwatch:PutMetricData",  # scoped by a cloudwatch:namespace condition, not a resource
}
# Read by the code but set by Lambda, Powertools or the local runner, not by the template.
RUNTIME_VARIABLE = re.compile(r"^(AWS_|LAMBDA_|POWERTOOLS_|_X_AMZN_)")


# --- reading the template -------------------------------------------------------------------


def environment(function: dict[str, Any]) -> dict[str, Any]:
    """Globals' variables, overridden by the function's own, as SAM merges them."""
    merged = dict(GLOBAL_FUNCTION.get("Environment", {}).get("Variables", {}))
    merged.update(function.get("Environment", {}).get("Variables", {}))
    return merged


def parameter_value(node: Any) -> Any:
    """A value, or the default of the parameter it refers to."""
    if isinstance(node, dict) and set(node) == {"Ref"} and node["Ref"] in PARAMETERS:
        return PARAMETERS[node["Ref"]]["Default"]
    return node


def setting(function: dict[str, Any], name: str) -> Any:
    return function.get(name, GLOBAL_FUNCTION.get(name))


def references(node: Any) -> Iterator[tuple[str, str]]:
    """(kind, name) for every Ref, Fn::GetAtt, Fn::Sub variable and Fn::If condition in node."""
    if isinstance(node, list):
        for item in node:
            yield from references(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref":
                yield "Ref", value
            elif key == "Fn::GetAtt":
                yield "GetAtt", value[0] if isinstance(value, list) else value.split(".")[0]
            elif key == "Fn::Sub":
                text, variables = value if isinstance(value, list) else (value, {})
                for name in re.findall(r"\$\{([^!}][^}]*)\}", text):
                    if name not in variables:
                        yield "Sub", name.split(".")[0]
                yield from references(variables)
            elif key == "Fn::If":
                yield "Condition", value[0]
                yield from references(value[1:])
            else:
                yield from references(value)


def target(node: Any) -> str:
    """The one resource or parameter a value names (a Ref, a GetAtt or a bare-name Sub)."""
    found = {name for kind, name in references(node) if kind != "Condition"}
    assert len(found) == 1, f"{node!r} names {sorted(found) or 'nothing'}, not one resource"
    return found.pop()


def of_type(resource_type: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in RESOURCES.items() if r["Type"] == resource_type}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --- environment variables ------------------------------------------------------------------


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_environment_variables_name_what_the_template_declares(logical_id: str) -> None:
    declared = set(RESOURCES) | set(PARAMETERS)
    for variable, value in environment(FUNCTIONS[logical_id]).items():
        for kind, name in references(value):
            known = set(CONDITIONS) if kind == "Condition" else declared
            assert name in known or name.startswith("AWS::"), f"{variable}: {kind} {name}"


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_resource_variables_name_the_right_kind_of_resource(logical_id: str) -> None:
    for variable, value in environment(FUNCTIONS[logical_id]).items():
        for suffix, resource_type in EXPECTED_TARGET_TYPE.items():
            if variable.endswith(suffix):
                name = target(value)
                assert RESOURCES[name]["Type"] == resource_type, f"{variable} names {name}"


def test_configuration_variables_are_the_template_parameters() -> None:
    function = FUNCTIONS["OAuthFunction"]
    for variable, parameter in {
        "SETTINGS_PAGE_URL": "SettingsPageUrl",
        "OAUTH_REDIRECT_URI": "OAuthRedirectUri",
        "CONTRACTOR_ID_CLAIM": "ContractorIdClaim",
        "PAYMENTS_ENABLED_CLAIM": "PaymentsEnabledClaim",
        "INTUIT_ENVIRONMENT": "IntuitEnvironment",
        "DEPOSIT_ACCOUNT_ID": "DepositAccountId",
    }.items():
        assert environment(function)[variable] == {"Ref": parameter}, variable


@pytest.mark.parametrize("logical_id", sorted(CONTRACT_NEEDS))
def test_functions_get_the_contract_configuration_they_need(logical_id: str) -> None:
    missing = CONTRACT_NEEDS[logical_id] - set(environment(FUNCTIONS[logical_id]))
    assert not missing, f"{logical_id} lacks {sorted(missing)} (docs/interface.md §1)"


def variables_the_code_reads() -> set[str]:
    read = re.compile(r"""(?:getenv|environ\.get|env\.get|environ\[)\(?\s*["']([A-Z][A-Z0-9_]*)""")
    sources = [*(ROOT / "shared" / "qbo_sync").rglob("*.py"), *(ROOT / "functions").rglob("*.py")]
    names = {name for path in sources for name in read.findall(path.read_text())}
    return {name for name in names if not RUNTIME_VARIABLE.match(name)}


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_every_variable_the_code_reads_is_set(logical_id: str) -> None:
    read = variables_the_code_reads()
    assert "SETTINGS_PAGE_URL" in read  # the scan finds settings.py's reads
    missing = read - set(environment(FUNCTIONS[logical_id]))
    assert not missing, f"{logical_id} is not given {sorted(missing)}"


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_no_cold_start_scans_the_packages_for_pydantic_plugins(logical_id: str) -> None:
    # Without it, the first model built reads every installed package's entry points.
    assert environment(FUNCTIONS[logical_id]).get("PYDANTIC_DISABLE_PLUGINS") == "__all__"


# --- code -----------------------------------------------------------------------------------


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_handler_imports_from_its_code_uri_and_the_layer(logical_id: str) -> None:
    function = FUNCTIONS[logical_id]
    code = ROOT / function["CodeUri"]
    module, _, attribute = function["Handler"].rpartition(".")
    assert (code / f"{module}.py").is_file(), f"{code}/{module}.py"
    # A fresh interpreter: every function's module is called app, and Lambda puts only the
    # function's directory and the layer (shared/, as SharedLayer packages it) on the path.
    probe = (
        "import importlib, sys\n"
        f"sys.path[:0] = [{str(code)!r}, {str(ROOT / 'shared')!r}]\n"
        f"assert callable(getattr(importlib.import_module({module!r}), {attribute!r}))\n"
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env["AWS_DEFAULT_REGION"] = "us-east-1"
    result = subprocess.run(
        [sys.executable, "-I", "-c", probe], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr


def test_runtime_is_current_python_on_arm64() -> None:
    for logical_id, function in FUNCTIONS.items():
        runtime = setting(function, "Runtime")
        match = re.fullmatch(r"python3\.(\d+)", str(runtime))
        assert match and int(match[1]) >= 12, f"{logical_id}: {runtime}"
        assert setting(function, "Architectures") == ["arm64"], logical_id
        layers = [target(layer) for layer in setting(function, "Layers") or []]
        for layer in layers:
            props = RESOURCES[layer]["Properties"]
            assert runtime in props["CompatibleRuntimes"], layer
            assert props["CompatibleArchitectures"] == ["arm64"], layer


def test_layer_builds_without_docker_for_the_runtime() -> None:
    layer = RESOURCES["SharedLayer"]
    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    makefile = (ROOT / layer["Properties"]["ContentUri"] / "Makefile").read_text()
    assert "build-SharedLayer:" in makefile
    runtime = str(GLOBAL_FUNCTION["Runtime"]).removeprefix("python")
    assert re.search(rf"^LAMBDA_PYTHON \?= {re.escape(runtime)}$", makefile, re.M)
    assert re.search(r"^LAMBDA_PLATFORM \?= manylinux\S*_aarch64$", makefile, re.M)
    assert "--only-binary=:all:" in makefile


# --- data protection ------------------------------------------------------------------------


@pytest.mark.parametrize("logical_id", sorted(of_type("AWS::DynamoDB::Table")))
def test_tables_are_recoverable_encrypted_and_retained(logical_id: str) -> None:
    table = RESOURCES[logical_id]
    props = table["Properties"]
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert {key: table.get(key) for key in RETAIN} == RETAIN


def ttl_attribute(variable: str) -> str:
    table = RESOURCES[target(environment(FUNCTIONS["OAuthFunction"])[variable])]
    ttl = table["Properties"].get("TimeToLiveSpecification", {})
    assert ttl.get("Enabled") is True, f"the {variable} table has no TTL"
    return str(ttl["AttributeName"])


def test_oauth_states_expire_by_the_attribute_the_code_writes() -> None:
    attribute = ttl_attribute("OAUTH_STATES_TABLE")
    source = (ROOT / "shared" / "qbo_sync" / "connection" / "oauth_states.py").read_text()
    assert f'"{attribute}": int(' in source


@pytest.mark.parametrize(
    ("index", "partition", "projection"),
    [
        ("ExportsByContractor", "exports_pk", "ALL"),
        ("ExportsByStatus", "exports_status_pk", "ALL"),
        ("ExportsByClient", "exports_client_pk", "KEYS_ONLY"),
        ("ExportsByNumber", "exports_number_pk", "KEYS_ONLY"),
    ],
)
def test_the_export_list_reads_an_index_for_each_of_its_filters(
    index: str, partition: str, projection: str
) -> None:
    """docs/interface.md §14: status, client and invoice number are Queries on a key, newest
    first (exports_sk), never a scan or a filter; ledger/listing.py names the same indexes."""
    table = RESOURCES["MappingsTable"]["Properties"]
    indexes = {found["IndexName"]: found for found in table["GlobalSecondaryIndexes"]}
    schema = [(k["AttributeName"], k["KeyType"]) for k in indexes[index]["KeySchema"]]
    assert schema == [(partition, "HASH"), ("exports_sk", "RANGE")]
    assert indexes[index]["Projection"] == {"ProjectionType": projection}
    source = (ROOT / "shared" / "qbo_sync" / "ledger" / "listing.py").read_text()
    assert f'"{index}"' in source and f'"{partition}"' in source


def test_idempotency_records_expire_by_powertools_attribute() -> None:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    defaults = inspect.signature(DynamoDBPersistenceLayer.__init__).parameters
    assert ttl_attribute("IDEMPOTENCY_TABLE") == defaults["expiry_attr"].default


@pytest.mark.parametrize("logical_id", sorted(of_type("AWS::KMS::Key")))
def test_keys_rotate_have_a_policy_and_are_retained(logical_id: str) -> None:
    key = RESOURCES[logical_id]
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["Properties"]["KeyPolicy"]["Statement"]
    assert {name: key.get(name) for name in RETAIN} == RETAIN


def dead_letter_queues() -> set[str]:
    """Queues that something sends its failures to: SQS redrive, Lambda, EventBridge rules,
    stream event sources' on-failure destinations."""
    found = {
        target(queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])
        for queue in of_type("AWS::SQS::Queue").values()
        if "RedrivePolicy" in queue["Properties"]
    }
    for function in FUNCTIONS.values():
        if "DeadLetterQueue" in function:
            found.add(target(function["DeadLetterQueue"]["TargetArn"]))
        for event in function.get("Events", {}).values():
            if "DeadLetterConfig" in event["Properties"]:
                found.add(target(event["Properties"]["DeadLetterConfig"]["Arn"]))
            on_failure = event["Properties"].get("DestinationConfig", {}).get("OnFailure")
            if on_failure:
                found.add(target(on_failure["Destination"]))
    return found


@pytest.mark.parametrize("logical_id", sorted(of_type("AWS::SQS::Queue")))
def test_queues_are_encrypted(logical_id: str) -> None:
    props = RESOURCES[logical_id]["Properties"]
    assert props.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in props


WORK_QUEUES = sorted(set(of_type("AWS::SQS::Queue")) - dead_letter_queues())


@pytest.mark.parametrize("logical_id", WORK_QUEUES)
def test_queues_redrive_to_a_dead_letter_queue_of_their_kind(logical_id: str) -> None:
    props = RESOURCES[logical_id]["Properties"]
    redrive = props.get("RedrivePolicy")
    assert redrive, f"{logical_id} has no dead-letter queue"
    # A safety net above the consumers' own give-up (core/delivery.py): room for the attempts
    # of a message and of those it holds up in its FIFO group, which SQS receives with it.
    from qbo_sync.core.delivery import gives_up

    window = next(attempt for attempt in range(1, 1000) if gives_up(attempt))
    assert 3 * window <= int(parameter_value(redrive["maxReceiveCount"])) <= 1000
    dead_letter = RESOURCES[target(redrive["deadLetterTargetArn"])]["Properties"]
    assert bool(dead_letter.get("FifoQueue")) == bool(props.get("FifoQueue"))


@pytest.mark.parametrize("logical_id", sorted(dead_letter_queues()))
def test_dead_letter_queues_keep_messages_the_longest_sqs_allows(logical_id: str) -> None:
    assert RESOURCES[logical_id]["Type"] == "AWS::SQS::Queue"
    # 14 days: time for an operator to see the alarm, fix the cause and redrive.
    assert int(RESOURCES[logical_id]["Properties"]["MessageRetentionPeriod"]) == 1_209_600


def sqs_consumers() -> Iterator[tuple[str, str, int]]:
    for logical_id, function in FUNCTIONS.items():
        for event in function.get("Events", {}).values():
            if event["Type"] == "SQS":
                yield logical_id, target(event["Properties"]["Queue"]), setting(function, "Timeout")


def test_consumed_queues_hide_a_message_six_times_the_consumer_timeout() -> None:
    consumers = list(sqs_consumers())
    fifo = [queue for _, queue, _ in consumers if RESOURCES[queue]["Properties"].get("FifoQueue")]
    assert fifo, "the invoice-sent FIFO queue has a consumer"
    for logical_id, queue, timeout in consumers:
        visibility = int(RESOURCES[queue]["Properties"]["VisibilityTimeout"])
        assert visibility >= 6 * int(timeout), f"{queue} {visibility} s < 6 x {logical_id}'s"


# --- least privilege ------------------------------------------------------------------------


def role_statements() -> Iterator[tuple[str, dict[str, Any]]]:
    """Identity-policy statements: roles' inline policies, IAM policies, functions' Policies."""
    for logical_id, resource in RESOURCES.items():
        props = resource.get("Properties", {})
        documents = []
        if resource["Type"] == "AWS::IAM::Role":
            documents = [policy["PolicyDocument"] for policy in props.get("Policies", [])]
        elif resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            documents = [props["PolicyDocument"]]
        elif resource["Type"] == "AWS::Serverless::Function":
            documents = [p for p in as_list(props.get("Policies", [])) if isinstance(p, dict)]
        for document in documents:
            for statement in as_list(document.get("Statement", [])):
                yield logical_id, statement


def test_no_star_resource_where_a_resource_can_be_named() -> None:
    statements = list(role_statements())
    assert len(statements) > 10  # the roles were found
    for logical_id, statement in statements:
        if statement["Effect"] == "Allow" and "*" in as_list(statement["Resource"]):
            broad = set(as_list(statement["Action"])) - NEEDS_STAR_RESOURCE
            assert not broad, f"{logical_id} {statement.get('Sid')}: {sorted(broad)} on *"


def test_no_wildcard_actions_in_roles() -> None:
    for logical_id, statement in role_statements():
        wild = [action for action in as_list(statement["Action"]) if "*" in action]
        assert not wild, f"{logical_id} {statement.get('Sid')}: {wild}"


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_functions_use_their_own_role_not_sam_managed_policies(logical_id: str) -> None:
    function = FUNCTIONS[logical_id]
    # A SAM-generated role would attach AWSLambdaBasicExecutionRole etc., whose Resource is "*".
    assert "Policies" not in function
    role = target(function["Role"])
    assert RESOURCES[role]["Type"] == "AWS::IAM::Role"
    others = [name for name, f in FUNCTIONS.items() if name != logical_id and "Role" in f]
    assert all(target(FUNCTIONS[other]["Role"]) != role for other in others)


def test_only_the_outbox_may_emit_events() -> None:
    """Events come from the tables' streams (the outbox), never from the writers."""
    emitters = {
        logical_id.removesuffix("Role")
        for logical_id, statement in role_statements()
        if "events:PutEvents" in as_list(statement["Action"])
    }
    assert emitters == {"OutboxFunction"}


@pytest.mark.parametrize("table", ["MappingsTable", "ConnectionsTable"])
def test_the_outbox_reads_each_table_whose_changes_are_events(table: str) -> None:
    stream = RESOURCES[table]["Properties"]["StreamSpecification"]
    assert stream == {"StreamViewType": "NEW_AND_OLD_IMAGES"}  # old and new: what changed
    [source] = [
        event["Properties"]
        for event in FUNCTIONS["OutboxFunction"]["Events"].values()
        if event["Type"] == "DynamoDB" and target(event["Properties"]["Stream"]) == table
    ]
    assert source["StartingPosition"] == "TRIM_HORIZON"  # nothing written before is skipped
    assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert target(source["DestinationConfig"]["OnFailure"]["Destination"]) == "OutboxFailuresQueue"


# --- outputs and samconfig.toml -------------------------------------------------------------


def test_outputs_give_what_operators_and_the_platform_need() -> None:
    outputs = TEMPLATE["Outputs"]
    for name in ("ApiUrl", "CallbackUrl", "InvoiceSentQueueUrl", "EventBusName"):
        assert name in outputs, name
    for output in outputs.values():
        for kind, name in references(output["Value"]):
            known = set(CONDITIONS) if kind == "Condition" else set(RESOURCES) | set(PARAMETERS)
            assert name in known or name.startswith("AWS::"), f"{kind} {name}"


SAMCONFIG = tomllib.loads((ROOT / "samconfig.toml").read_text())


def overrides(environment_name: str) -> dict[str, str]:
    """parameter_overrides of an environment's commands, as `Key=Value ...` or a list."""
    found: dict[str, str] = {}
    for command in SAMCONFIG[environment_name].values():
        value = command.get("parameters", {}).get("parameter_overrides", [])
        items = shlex.split(value) if isinstance(value, str) else value
        for item in items:
            key, _, text = item.partition("=")
            found[key] = text
    return found


def stack_name(environment_name: str) -> str:
    sections = SAMCONFIG[environment_name]
    deploy = sections.get("deploy", {}).get("parameters", {})
    return str(deploy.get("stack_name") or sections["global"]["parameters"]["stack_name"])


def test_samconfig_has_a_sandbox_default_and_a_production_environment() -> None:
    assert {"default", "prod"} <= set(SAMCONFIG)
    assert stack_name("default") != stack_name("prod")
    assert overrides("prod").get("IntuitEnvironment") == "production"
    assert overrides("default").get("IntuitEnvironment", "sandbox") == "sandbox"
    assert PARAMETERS["IntuitEnvironment"]["Default"] == "sandbox"


@pytest.mark.parametrize("environment_name", ["default", "prod"])
def test_samconfig_overrides_name_template_parameters(environment_name: str) -> None:
    assert set(overrides(environment_name)) <= set(PARAMETERS)
    for name, value in overrides(environment_name).items():
        allowed = PARAMETERS[name].get("AllowedValues")
        assert allowed is None or value in allowed, f"{name}={value}"
    deploy = SAMCONFIG[environment_name]["deploy"]["parameters"]
    # The template creates unnamed roles: CloudFormation refuses them without this.
    assert "CAPABILITY_IAM" in deploy["capabilities"].split()


# --- docs/deployment.md names what the template declares ----------------------------------------


def deployment_section() -> str:
    return (ROOT / "docs" / "deployment.md").read_text()


def operations_parameters_section() -> str:
    """docs/operations.md's table of the parameters operations added (the README's table is
    another helper's to restructure; the two tables together name every parameter)."""
    runbook = (ROOT / "docs" / "operations.md").read_text()
    start = runbook.index("\n## Template parameters\n")
    end = runbook.find("\n## ", start + 1)
    return runbook[start : end if end != -1 else len(runbook)]


def test_readme_parameter_table_is_the_template_parameters() -> None:
    rows = re.findall(r"^\| `(\w+)` \| (.+?) \|", deployment_section(), re.M)
    rows += re.findall(r"^\| `(\w+)` \| (.+?) \|", operations_parameters_section(), re.M)
    assert {name for name, _ in rows} == set(PARAMETERS)
    for name, default in rows:
        expected = PARAMETERS[name].get("Default")
        shown = {"required": None, "empty": ""}.get(default, default.strip("`"))
        assert shown == (None if expected is None else str(expected)), name


def test_readme_commands_read_outputs_and_stacks_that_exist() -> None:
    section = deployment_section()
    used = set(re.findall(r"(?:\$\(|`)out (\w+)", section))
    assert {"CredentialsSecretArn", "CallbackUrl", "InvoiceSentQueueUrl"} <= used
    assert used <= set(TEMPLATE["Outputs"]), used - set(TEMPLATE["Outputs"])
    assert '"${STACK:-' + stack_name("default") + '}"' in section
    assert "STACK=" + stack_name("prod") in section
