"""Deploy template.yaml into moto (or any endpoint boto3 is pointed at) for local runs and tests.

The template is the only description of the stack: this module reads it, resolves its intrinsic
functions and conditions, and creates the data resources it declares (tables, queues, keys and
aliases, secrets, event buses) with boto3. Functions are not deployed; their resolved settings
(environment, handler, event sources, HTTP routes) are collected into `LocalFunction`s for
`local.lambda_runtime` to invoke in-process.

boto3 takes the endpoint, region and credentials from the environment (`AWS_ENDPOINT_URL`,
`AWS_DEFAULT_REGION`, `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`), as a moto server needs.

Deploying again with the same stack name against the same endpoint reuses what exists (an
upsert: tables keep their items, secrets keep their value, queue attributes are updated); call
`reset_data` to empty the tables and queues.
"""

from __future__ import annotations

import json
import re
import secrets
import string
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import yaml
from botocore.exceptions import ClientError

LOCAL_API_ID = "abc123"
"""The id the local HTTP API answers as: `Ref HttpApi` and the events' `requestContext.apiId`."""

_NO_VALUE = object()
_PSEUDO_PARAMETERS = (
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
)
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_LOCAL_TAG_STACK = "qbo-local:stack"
_LOCAL_TAG_LOGICAL_ID = "qbo-local:logical-id"


class TemplateError(ValueError):
    """The template (or the parameters given for it) cannot be deployed locally."""


# --- YAML with CloudFormation's short-form tags ---------------------------------------------


class CloudFormationLoader(yaml.SafeLoader):
    """Reads `!Ref X` as `{"Ref": "X"}`, `!GetAtt A.B` as `{"Fn::GetAtt": ["A", "B"]}`, etc."""


def _construct_intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:  # pragma: no cover - yaml has no other node kinds
        raise TemplateError(f"unsupported node for !{suffix}")
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        logical_id, _, attribute = value.partition(".")
        value = [logical_id, attribute]
    return {f"Fn::{suffix}": value}


CloudFormationLoader.add_multi_constructor("!", _construct_intrinsic)


def load_template(path: str | Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as stream:
        template = yaml.load(stream, Loader=CloudFormationLoader)
    if not isinstance(template, dict) or "Resources" not in template:
        raise TemplateError(f"{path} is not a CloudFormation template")
    return template


# --- what the deployment produces -------------------------------------------------------------


@dataclass(frozen=True)
class SqsSource:
    event_name: str
    queue_url: str
    queue_arn: str
    batch_size: int
    function_response_types: tuple[str, ...]

    @property
    def reports_batch_item_failures(self) -> bool:
        return "ReportBatchItemFailures" in self.function_response_types


@dataclass(frozen=True)
class StreamSource:
    """A `DynamoDB` event: Lambda's event source mapping on a table's stream."""

    event_name: str
    stream_arn: str
    batch_size: int
    starting_position: str
    function_response_types: tuple[str, ...]
    maximum_retry_attempts: int
    """-1: until the record expires from the stream (Lambda's default)."""
    bisect_on_error: bool
    on_failure_queue_url: str | None

    @property
    def reports_batch_item_failures(self) -> bool:
        return "ReportBatchItemFailures" in self.function_response_types


@dataclass(frozen=True)
class EventBridgeSource:
    event_name: str
    event_bus_name: str
    rule_name: str
    pattern: dict[str, Any]
    delivery_queue_url: str
    """Local stand-in for the Lambda target: moto delivers the rule's matches to this queue."""
    delivery_queue_arn: str
    retry_policy: dict[str, Any]
    dead_letter_queue_url: str | None
    """The rule target's DeadLetterConfig (delivery failures only, as in AWS)."""


@dataclass(frozen=True)
class ScheduleSource:
    """A `Schedule` event (an EventBridge schedule rule): not run by a clock here; tests invoke
    the function with the event the rule would send (local/schedules.py)."""

    event_name: str
    schedule: str
    rule_name: str


@dataclass(frozen=True)
class HttpRoute:
    event_name: str
    method: str
    path: str
    authorizer: str | None
    """Name of the JWT authorizer guarding the route; None for `Auth: {Authorizer: NONE}`."""

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class LocalFunction:
    logical_id: str
    function_name: str
    function_arn: str
    code_uri: str
    handler: str
    runtime: str
    timeout: int
    memory_size: int
    environment: dict[str, str]
    sqs_sources: list[SqsSource] = field(default_factory=list)
    eventbridge_sources: list[EventBridgeSource] = field(default_factory=list)
    http_routes: list[HttpRoute] = field(default_factory=list)
    schedule_sources: list[ScheduleSource] = field(default_factory=list)
    stream_sources: list[StreamSource] = field(default_factory=list)
    dead_letter_queue_url: str | None = None
    """The function's DeadLetterQueue: where failed asynchronous invocations go."""
    maximum_retry_attempts: int = 2
    """Lambda's retries of a failed asynchronous invocation (EventInvokeConfig)."""


@dataclass
class LocalStack:
    stack_name: str
    region: str
    account_id: str
    parameters: dict[str, Any]
    resources: dict[str, str]
    """Logical id → Ref value: table name, queue URL, secret ARN, key id, bus name, alias name."""
    attributes: dict[str, dict[str, str]]
    """Logical id → its Fn::GetAtt attributes (Arn, QueueName, ...)."""
    resource_types: dict[str, str]
    tables: dict[str, str]
    """Logical id → table name."""
    queues: dict[str, str]
    """Logical id (or, for rule delivery queues, the queue's name) → queue URL."""
    functions: dict[str, LocalFunction]
    outputs: dict[str, Any]
    api_domain: str

    @property
    def environment(self) -> dict[str, str]:
        merged: dict[str, str] = {}
        for function in self.functions.values():
            for name, value in function.environment.items():
                if merged.setdefault(name, value) != value:
                    raise TemplateError(
                        f"functions disagree on {name}: {merged[name]!r} vs {value!r} "
                        f"({function.logical_id})"
                    )
        return merged


# --- intrinsic functions ----------------------------------------------------------------------


class _Resolver:
    def __init__(
        self,
        template: Mapping[str, Any],
        parameters: Mapping[str, Any],
        pseudo: Mapping[str, Any],
    ) -> None:
        self._template = template
        self._parameters = parameters
        self._pseudo = pseudo
        self._condition_values: dict[str, bool] = {}
        self.refs: dict[str, Any] = {}
        self.attributes: dict[str, dict[str, Any]] = {}

    def condition(self, name: str) -> bool:
        if name not in self._condition_values:
            conditions = self._template.get("Conditions") or {}
            if name not in conditions:
                raise TemplateError(f"unknown condition {name}")
            self._condition_values[name] = bool(self.resolve(conditions[name]))
        return self._condition_values[name]

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            items = (self.resolve(item) for item in node)
            return [item for item in items if item is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, argument),) = node.items()
            if key == "Ref":
                return self._ref(argument)
            if key == "Condition" and isinstance(argument, str):
                return self.condition(argument)
            if key.startswith("Fn::"):
                return self._function(key, argument)
        resolved = {key: self.resolve(value) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value is not _NO_VALUE}

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in self._pseudo:
            return self._pseudo[name]
        if name in self._parameters:
            return self._parameters[name]
        if name in self.refs:
            return self.refs[name]
        if name in (self._template.get("Parameters") or {}):
            raise TemplateError(f"parameter {name} has no default: pass a value for it")
        raise TemplateError(f"Ref {name}: no such parameter, or a resource not deployed (yet)")

    def _get_att(self, logical_id: str, attribute: str) -> Any:
        try:
            return self.attributes[logical_id][attribute]
        except KeyError:
            raise TemplateError(
                f"Fn::GetAtt {logical_id}.{attribute} is not available locally"
            ) from None

    def _function(self, key: str, argument: Any) -> Any:
        if key == "Fn::GetAtt":
            logical_id, attribute = (
                argument.split(".", 1) if isinstance(argument, str) else argument
            )
            return self._get_att(self.resolve(logical_id), self.resolve(attribute))
        if key == "Fn::Sub":
            return self._sub(argument)
        if key == "Fn::If":
            name, if_true, if_false = argument
            return self.resolve(if_true if self.condition(name) else if_false)
        if key == "Fn::Equals":
            left, right = (self.resolve(value) for value in argument)
            return _as_text(left) == _as_text(right)
        if key == "Fn::Not":
            return not self.resolve(argument[0])
        if key == "Fn::And":
            return all(self.resolve(value) for value in argument)
        if key == "Fn::Or":
            return any(self.resolve(value) for value in argument)
        if key == "Fn::Join":
            delimiter, values = argument
            return self.resolve(delimiter).join(_as_text(v) for v in self.resolve(values))
        if key == "Fn::Select":
            index, values = argument
            return self.resolve(values)[int(self.resolve(index))]
        if key == "Fn::Split":
            delimiter, value = argument
            return self.resolve(value).split(self.resolve(delimiter))
        if key == "Fn::FindInMap":
            map_name, top_key, second_key = (self.resolve(value) for value in argument[:3])
            return (self._template.get("Mappings") or {})[map_name][top_key][second_key]
        if key == "Fn::GetAZs":
            region = self.resolve(argument) or self._pseudo["AWS::Region"]
            return [f"{region}{zone}" for zone in "abc"]
        if key == "Fn::Base64":
            import base64

            return base64.b64encode(_as_text(self.resolve(argument)).encode()).decode()
        if key == "Fn::ToJsonString":
            return json.dumps(self.resolve(argument), separators=(",", ":"))
        raise TemplateError(f"{key} is not supported locally")

    def _sub(self, argument: Any) -> str:
        if isinstance(argument, list):
            text, variables = argument[0], self.resolve(argument[1])
        else:
            text, variables = argument, {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return _as_text(variables[name])
            if "." in name and name.split(".", 1)[0] not in self._pseudo:
                logical_id, attribute = name.split(".", 1)
                return _as_text(self._get_att(logical_id, attribute))
            return _as_text(self._ref(name))

        return _SUB_VARIABLE.sub(replace, text)


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_as_text(item) for item in value)
    return str(value)


def _references(node: Any) -> Iterator[str]:
    """Names a node refers to through Ref, Fn::GetAtt or Fn::Sub (parameters included)."""
    if isinstance(node, list):
        for item in node:
            yield from _references(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                yield value
            elif key == "Fn::GetAtt":
                target = value.split(".", 1)[0] if isinstance(value, str) else value[0]
                if isinstance(target, str):
                    yield target
            elif key == "Fn::Sub":
                text, variables = (value[0], value[1]) if isinstance(value, list) else (value, {})
                for name in _SUB_VARIABLE.findall(text):
                    if not name.startswith("!") and name not in variables:
                        yield name.split(".", 1)[0]
                yield from _references(variables)
            else:
                yield from _references(value)


# --- deployment -------------------------------------------------------------------------------

_DEPLOYABLE = (
    "AWS::DynamoDB::Table",
    "AWS::SQS::Queue",
    "AWS::SQS::QueuePolicy",
    "AWS::KMS::Key",
    "AWS::KMS::Alias",
    "AWS::SecretsManager::Secret",
    "AWS::Events::EventBus",
    "AWS::Events::Rule",
)
_SQS_ATTRIBUTES = (
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "DelaySeconds",
    "FifoQueue",
    "FifoThroughputLimit",
    "KmsDataKeyReusePeriodSeconds",
    "KmsMasterKeyId",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "RedriveAllowPolicy",
    "RedrivePolicy",
    "SqsManagedSseEnabled",
    "VisibilityTimeout",
)


class _Deployer:
    def __init__(
        self,
        template: dict[str, Any],
        stack_name: str,
        parameters: Mapping[str, Any],
        session: boto3.session.Session,
    ) -> None:
        self.template = template
        self.stack_name = stack_name
        self.session = session
        self.region = session.region_name or "us-east-1"
        self.account_id = self._account_id()
        self.parameters = _parameter_values(template, parameters)
        self.pseudo: dict[str, Any] = {
            "AWS::AccountId": self.account_id,
            "AWS::NotificationARNs": [],
            "AWS::Partition": "aws",
            "AWS::Region": self.region,
            "AWS::StackId": (
                f"arn:aws:cloudformation:{self.region}:{self.account_id}:stack/{stack_name}/local"
            ),
            "AWS::StackName": stack_name,
            "AWS::URLSuffix": "amazonaws.com",
        }
        self.resolver = _Resolver(template, self.parameters, self.pseudo)
        self.resource_types: dict[str, str] = {}
        self.tables: dict[str, str] = {}
        self.queues: dict[str, str] = {}
        self.queue_urls_by_arn: dict[str, str] = {}
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service)  # type: ignore[call-overload]
        return self._clients[service]

    def _account_id(self) -> str:
        try:
            return str(self.session.client("sts").get_caller_identity()["Account"])
        except ClientError:
            return "123456789012"

    def physical_name(self, logical_id: str) -> str:
        return f"{self.stack_name}-{logical_id}"

    # -- order ---------------------------------------------------------------------------------

    def included_resources(self) -> dict[str, dict[str, Any]]:
        included = {}
        for logical_id, resource in self.template["Resources"].items():
            condition = resource.get("Condition")
            if condition is None or self.resolver.condition(condition):
                included[logical_id] = resource
        return included

    def deploy(self) -> LocalStack:
        resources = self.included_resources()
        for logical_id, resource in resources.items():
            self.resource_types[logical_id] = resource["Type"]
            if resource["Type"] not in _DEPLOYABLE:
                self._placeholder(logical_id, resource["Type"])
        for logical_id in _creation_order(resources):
            resource = resources[logical_id]
            properties = self.resolver.resolve(resource.get("Properties") or {})
            self._create(logical_id, resource["Type"], properties)
        functions = {
            logical_id: self._function(logical_id, resource)
            for logical_id, resource in resources.items()
            if resource["Type"] == "AWS::Serverless::Function"
        }
        stack = LocalStack(
            stack_name=self.stack_name,
            region=self.region,
            account_id=self.account_id,
            parameters=dict(self.parameters),
            resources={
                logical_id: _as_text(value) for logical_id, value in self.resolver.refs.items()
            },
            attributes={
                logical_id: {name: _as_text(value) for name, value in attrs.items()}
                for logical_id, attrs in self.resolver.attributes.items()
            },
            resource_types=dict(self.resource_types),
            tables=dict(self.tables),
            queues=dict(self.queues),
            functions=functions,
            outputs=self._outputs(),
            api_domain=f"{LOCAL_API_ID}.execute-api.{self.region}.amazonaws.com",
        )
        stack.environment  # noqa: B018 - fails early when functions disagree
        return stack

    def _placeholder(self, logical_id: str, resource_type: str) -> None:
        """Ref/GetAtt values for resources that are not deployed (functions, APIs, layers)."""
        name = self.physical_name(logical_id)
        refs, attrs = self.resolver.refs, self.resolver.attributes
        if resource_type in ("AWS::Serverless::HttpApi", "AWS::ApiGatewayV2::Api"):
            refs[logical_id] = LOCAL_API_ID
            attrs[logical_id] = {"ApiEndpoint": f"https://{LOCAL_API_ID}.execute-api.amazonaws.com"}
        elif resource_type in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
            refs[logical_id] = name
            attrs[logical_id] = {
                "Arn": f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}"
            }
        elif resource_type in ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion"):
            refs[logical_id] = f"arn:aws:lambda:{self.region}:{self.account_id}:layer:{name}:1"
        else:
            refs[logical_id] = name

    def _create(self, logical_id: str, resource_type: str, properties: dict[str, Any]) -> None:
        creators: dict[str, Callable[[str, dict[str, Any]], None]] = {
            "AWS::DynamoDB::Table": self._table,
            "AWS::SQS::Queue": self._queue,
            "AWS::SQS::QueuePolicy": self._queue_policy,
            "AWS::KMS::Key": self._key,
            "AWS::KMS::Alias": self._alias,
            "AWS::SecretsManager::Secret": self._secret,
            "AWS::Events::EventBus": self._event_bus,
            "AWS::Events::Rule": self._rule,
        }
        creators[resource_type](logical_id, properties)

    # -- data resources ------------------------------------------------------------------------

    def _table(self, logical_id: str, props: dict[str, Any]) -> None:
        dynamodb = self.client("dynamodb")
        name = props.get("TableName") or self.physical_name(logical_id)
        billing_mode = props.get("BillingMode", "PROVISIONED")
        request: dict[str, Any] = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": billing_mode,
        }
        if billing_mode == "PROVISIONED":
            request["ProvisionedThroughput"] = props["ProvisionedThroughput"]
        if props.get("GlobalSecondaryIndexes"):
            request["GlobalSecondaryIndexes"] = [
                {k: v for k, v in index.items() if k != "ContributorInsightsSpecification"}
                for index in props["GlobalSecondaryIndexes"]
            ]
        if props.get("LocalSecondaryIndexes"):
            request["LocalSecondaryIndexes"] = props["LocalSecondaryIndexes"]
        if "StreamSpecification" in props:
            request["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        if "SSESpecification" in props:
            sse = props["SSESpecification"]
            request["SSESpecification"] = {
                "Enabled": bool(sse.get("SSEEnabled")),
                **({"SSEType": sse["SSEType"]} if "SSEType" in sse else {}),
                **({"KMSMasterKeyId": sse["KMSMasterKeyId"]} if "KMSMasterKeyId" in sse else {}),
            }
        try:
            description = dynamodb.create_table(**request)["TableDescription"]
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceInUseException":
                raise
            description = dynamodb.describe_table(TableName=name)["Table"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            current = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
            if current.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
                dynamodb.update_time_to_live(
                    TableName=name,
                    TimeToLiveSpecification={
                        "AttributeName": ttl["AttributeName"],
                        "Enabled": True,
                    },
                )
        pitr = props.get("PointInTimeRecoverySpecification") or {}
        if pitr.get("PointInTimeRecoveryEnabled"):
            dynamodb.update_continuous_backups(
                TableName=name,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )
        self.tables[logical_id] = name
        self.resolver.refs[logical_id] = name
        self.resolver.attributes[logical_id] = {
            "Arn": description["TableArn"],
            **(
                {"StreamArn": description["LatestStreamArn"]}
                if "LatestStreamArn" in description
                else {}
            ),
        }

    def _queue(self, logical_id: str, props: dict[str, Any]) -> None:
        fifo = bool(props.get("FifoQueue"))
        name = props.get("QueueName") or self.physical_name(logical_id) + (".fifo" if fifo else "")
        attributes = {key: _sqs_attribute(props[key]) for key in _SQS_ATTRIBUTES if key in props}
        url = self.create_queue(name, attributes)
        self.queues[logical_id] = url
        self.resolver.refs[logical_id] = url
        self.resolver.attributes[logical_id] = {
            "Arn": self.queue_arn(url),
            "QueueName": name,
            "QueueUrl": url,
        }

    def create_queue(self, name: str, attributes: dict[str, str]) -> str:
        sqs = self.client("sqs")
        try:
            url = str(sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"])
        except ClientError as error:
            if error.response["Error"]["Code"] not in ("QueueAlreadyExists", "QueueNameExists"):
                raise
            url = str(sqs.get_queue_url(QueueName=name)["QueueUrl"])
            settable = {k: v for k, v in attributes.items() if k != "FifoQueue"}
            if settable:
                sqs.set_queue_attributes(QueueUrl=url, Attributes=settable)
        self.queue_urls_by_arn[self.queue_arn(url)] = url
        return url

    def queue_arn(self, url: str) -> str:
        attributes = self.client("sqs").get_queue_attributes(
            QueueUrl=url, AttributeNames=["QueueArn"]
        )["Attributes"]
        return str(attributes["QueueArn"])

    def queue_url(self, arn: str) -> str:
        try:
            return self.queue_urls_by_arn[arn]
        except KeyError:
            raise TemplateError(f"{arn} is not a queue of this template") from None

    def _queue_policy(self, logical_id: str, props: dict[str, Any]) -> None:
        policy = json.dumps(props["PolicyDocument"])
        for url in props["Queues"]:
            self.client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})
        self.resolver.refs[logical_id] = self.physical_name(logical_id)

    def _key(self, logical_id: str, props: dict[str, Any]) -> None:
        kms = self.client("kms")
        key_id = self._existing_key(logical_id)
        if key_id is None:
            request: dict[str, Any] = {
                "Description": props.get("Description", ""),
                "KeyUsage": props.get("KeyUsage", "ENCRYPT_DECRYPT"),
                "KeySpec": props.get("KeySpec", "SYMMETRIC_DEFAULT"),
                "Tags": [
                    {"TagKey": _LOCAL_TAG_STACK, "TagValue": self.stack_name},
                    {"TagKey": _LOCAL_TAG_LOGICAL_ID, "TagValue": logical_id},
                ],
            }
            if "KeyPolicy" in props:
                request["Policy"] = json.dumps(props["KeyPolicy"])
            key_id = str(kms.create_key(**request)["KeyMetadata"]["KeyId"])
        if props.get("EnableKeyRotation"):
            kms.enable_key_rotation(KeyId=key_id)
        arn = str(kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"])
        self.resolver.refs[logical_id] = key_id
        self.resolver.attributes[logical_id] = {"Arn": arn, "KeyId": key_id}

    def _existing_key(self, logical_id: str) -> str | None:
        kms = self.client("kms")
        wanted = {_LOCAL_TAG_STACK: self.stack_name, _LOCAL_TAG_LOGICAL_ID: logical_id}
        for page in kms.get_paginator("list_keys").paginate():
            for key in page["Keys"]:
                tags = kms.list_resource_tags(KeyId=key["KeyId"]).get("Tags", [])
                found = {tag["TagKey"]: tag["TagValue"] for tag in tags}
                if all(found.get(k) == v for k, v in wanted.items()):
                    return str(key["KeyId"])
        return None

    def _alias(self, logical_id: str, props: dict[str, Any]) -> None:
        kms = self.client("kms")
        name, target = props["AliasName"], props["TargetKeyId"]
        try:
            kms.create_alias(AliasName=name, TargetKeyId=target)
        except ClientError as error:
            if error.response["Error"]["Code"] != "AlreadyExistsException":
                raise
            kms.update_alias(AliasName=name, TargetKeyId=target)
        self.resolver.refs[logical_id] = name

    def _secret(self, logical_id: str, props: dict[str, Any]) -> None:
        manager = self.client("secretsmanager")
        name = props.get("Name") or self.physical_name(logical_id)
        request: dict[str, Any] = {"Name": name, "SecretString": _secret_string(props)}
        if props.get("Description"):
            request["Description"] = props["Description"]
        if props.get("KmsKeyId"):
            request["KmsKeyId"] = props["KmsKeyId"]
        try:
            arn = manager.create_secret(**request)["ARN"]
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceExistsException":
                raise
            arn = manager.describe_secret(SecretId=name)["ARN"]  # keeps the value put since
        self.resolver.refs[logical_id] = arn
        self.resolver.attributes[logical_id] = {"Id": arn}

    def _event_bus(self, logical_id: str, props: dict[str, Any]) -> None:
        events = self.client("events")
        name = props.get("Name") or self.physical_name(logical_id)
        try:
            arn = events.create_event_bus(Name=name)["EventBusArn"]
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceAlreadyExistsException":
                raise
            arn = events.describe_event_bus(Name=name)["Arn"]
        self.resolver.refs[logical_id] = name
        self.resolver.attributes[logical_id] = {"Arn": arn, "Name": name}

    def _rule(self, logical_id: str, props: dict[str, Any]) -> None:
        """A rule on a bus with its targets as declared: moto delivers matched events to SQS
        targets itself, so a queue target needs nothing local."""
        events = self.client("events")
        bus = props.get("EventBusName", "default")
        name = props.get("Name") or self.physical_name(logical_id)[:64]
        arn = events.put_rule(
            Name=name,
            EventBusName=bus,
            EventPattern=json.dumps(props["EventPattern"]),
            State=props.get("State", "ENABLED"),
        )["RuleArn"]
        targets = [{"Id": target["Id"], "Arn": target["Arn"]} for target in props["Targets"]]
        events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
        self.resolver.refs[logical_id] = name
        self.resolver.attributes[logical_id] = {"Arn": arn}

    # -- functions -----------------------------------------------------------------------------

    def _function(self, logical_id: str, resource: dict[str, Any]) -> LocalFunction:
        globals_ = (self.template.get("Globals") or {}).get("Function") or {}
        own = resource.get("Properties") or {}
        props = {**globals_, **own}
        variables = {
            **((globals_.get("Environment") or {}).get("Variables") or {}),
            **((own.get("Environment") or {}).get("Variables") or {}),
        }
        environment = {
            name: _as_text(value) for name, value in self.resolver.resolve(variables).items()
        }
        name = self.resolver.refs[logical_id]
        function = LocalFunction(
            logical_id=logical_id,
            function_name=name,
            function_arn=self.resolver.attributes[logical_id]["Arn"],
            code_uri=str(self.resolver.resolve(props["CodeUri"])),
            handler=str(self.resolver.resolve(props["Handler"])),
            runtime=str(self.resolver.resolve(props.get("Runtime", ""))),
            timeout=int(self.resolver.resolve(props.get("Timeout", 3))),
            memory_size=int(self.resolver.resolve(props.get("MemorySize", 128))),
            environment=environment,
        )
        dead_letter = self.resolver.resolve(props.get("DeadLetterQueue") or {})
        if dead_letter.get("Type") == "SQS":
            function.dead_letter_queue_url = self.queue_url(dead_letter["TargetArn"])
        invoke_config = self.resolver.resolve(props.get("EventInvokeConfig") or {})
        function.maximum_retry_attempts = int(invoke_config.get("MaximumRetryAttempts", 2))
        for event_name, event in (own.get("Events") or {}).items():
            event_props = self.resolver.resolve(event.get("Properties") or {})
            if event["Type"] == "SQS":
                if event_props.get("Enabled", True):
                    function.sqs_sources.append(self._sqs_source(event_name, event_props))
            elif event["Type"] == "EventBridgeRule":
                function.eventbridge_sources.append(
                    self._eventbridge_source(logical_id, event_name, event_props)
                )
            elif event["Type"] == "DynamoDB":
                function.stream_sources.append(self._stream_source(event_name, event_props))
            elif event["Type"] == "HttpApi":
                function.http_routes.append(self._http_route(event_name, event, event_props))
            elif event["Type"] == "Schedule":
                rule_name = event_props.get("Name") or f"{name}-{event_name}"[:64]
                function.schedule_sources.append(
                    ScheduleSource(event_name, str(event_props["Schedule"]), rule_name)
                )
        return function

    def _sqs_source(self, event_name: str, props: dict[str, Any]) -> SqsSource:
        return SqsSource(
            event_name=event_name,
            queue_url=self.queue_url(props["Queue"]),
            queue_arn=props["Queue"],
            batch_size=int(props.get("BatchSize", 10)),
            function_response_types=tuple(props.get("FunctionResponseTypes") or ()),
        )

    def _stream_source(self, event_name: str, props: dict[str, Any]) -> StreamSource:
        on_failure = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
            "Destination"
        )
        return StreamSource(
            event_name=event_name,
            stream_arn=str(props["Stream"]),
            batch_size=int(props.get("BatchSize", 100)),
            starting_position=str(props["StartingPosition"]),
            function_response_types=tuple(props.get("FunctionResponseTypes") or ()),
            maximum_retry_attempts=int(props.get("MaximumRetryAttempts", -1)),
            bisect_on_error=bool(props.get("BisectBatchOnFunctionError", False)),
            on_failure_queue_url=self.queue_url(on_failure) if on_failure else None,
        )

    def _eventbridge_source(
        self, function_id: str, event_name: str, props: dict[str, Any]
    ) -> EventBridgeSource:
        events = self.client("events")
        bus = props.get("EventBusName", "default")
        name = f"{self.stack_name}-{function_id}-{event_name}"
        queue_url = self.create_queue(name[:80], {})
        self.queues[name] = queue_url
        queue_arn = self.queue_arn(queue_url)
        rule_name = props.get("RuleName") or name[:64]
        events.put_rule(
            Name=rule_name,
            EventBusName=bus,
            EventPattern=json.dumps(props["Pattern"]),
            State=props.get("State", "ENABLED"),
        )
        # The Lambda target is replaced by a queue: moto delivers matched events to SQS targets,
        # and local.lambda_runtime invokes the function with each delivered event.
        events.put_targets(
            Rule=rule_name,
            EventBusName=bus,
            Targets=[{"Id": props.get("Target", {}).get("Id", "local-delivery"), "Arn": queue_arn}],
        )
        dead_letter = (props.get("DeadLetterConfig") or {}).get("Arn")
        return EventBridgeSource(
            event_name=event_name,
            event_bus_name=bus,
            rule_name=rule_name,
            pattern=props["Pattern"],
            delivery_queue_url=queue_url,
            delivery_queue_arn=queue_arn,
            retry_policy=dict(props.get("RetryPolicy") or {}),
            dead_letter_queue_url=self.queue_url(dead_letter) if dead_letter else None,
        )

    def _http_route(
        self, event_name: str, event: dict[str, Any], props: dict[str, Any]
    ) -> HttpRoute:
        api_auth: dict[str, Any] = {}
        api_ref = (event.get("Properties") or {}).get("ApiId")
        api_id = api_ref.get("Ref") if isinstance(api_ref, dict) else None
        api_resource = self.template["Resources"].get(api_id) if api_id else None
        globals_api = (self.template.get("Globals") or {}).get("HttpApi") or {}
        if api_resource is not None:
            api_auth = (api_resource.get("Properties") or {}).get("Auth") or {}
        elif globals_api:
            api_auth = globals_api.get("Auth") or {}
        authorizer = (props.get("Auth") or {}).get("Authorizer", api_auth.get("DefaultAuthorizer"))
        return HttpRoute(
            event_name=event_name,
            method=str(props.get("Method", "ANY")).upper(),
            path=str(props.get("Path", "$default")),
            authorizer=None if authorizer in (None, "NONE") else str(authorizer),
        )

    def _outputs(self) -> dict[str, Any]:
        outputs: dict[str, Any] = {}
        for name, output in (self.template.get("Outputs") or {}).items():
            condition = output.get("Condition")
            if condition is not None and not self.resolver.condition(condition):
                continue
            try:
                outputs[name] = self.resolver.resolve(output["Value"])
            except TemplateError:
                continue  # refers to something that only exists in AWS
        return outputs


def _creation_order(resources: Mapping[str, Mapping[str, Any]]) -> list[str]:
    deployable = {lid for lid, resource in resources.items() if resource["Type"] in _DEPLOYABLE}
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(logical_id: str, path: tuple[str, ...]) -> None:
        if state.get(logical_id) == "done":
            return
        if state.get(logical_id) == "visiting":
            raise TemplateError("circular reference: " + " -> ".join((*path, logical_id)))
        state[logical_id] = "visiting"
        resource = resources[logical_id]
        depends_on = resource.get("DependsOn") or []
        needed = set(_references(resource.get("Properties") or {}))
        needed.update([depends_on] if isinstance(depends_on, str) else depends_on)
        for dependency in sorted(needed & deployable):
            visit(dependency, (*path, logical_id))
        state[logical_id] = "done"
        order.append(logical_id)

    for logical_id in sorted(deployable):
        visit(logical_id, ())
    return order


def resolved_property(
    template: Mapping[str, Any],
    logical_id: str,
    name: str,
    parameters: Mapping[str, Any] | None = None,
) -> Any:
    """One property of a resource as CloudFormation would see it under these parameters (the
    conditions applied, nothing created): what a template option turns on or off. None when
    the property is absent or resolves to AWS::NoValue."""
    resolver = _Resolver(template, _parameter_values(template, parameters or {}), {})
    properties = template["Resources"][logical_id].get("Properties") or {}
    if name not in properties:
        return None
    value = resolver.resolve(properties[name])
    return None if value is _NO_VALUE else value


def _parameter_values(template: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Given or default values. A parameter with neither is left out: it is an error only if
    something deployed locally refers to it (JwtIssuer, say, only configures the HTTP API)."""
    declared = template.get("Parameters") or {}
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise TemplateError(f"unknown parameters: {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        if name in overrides:
            value = overrides[name]
        elif "Default" in spec:
            value = spec["Default"]
        else:
            continue
        if spec.get("Type") == "CommaDelimitedList":
            if isinstance(value, str):
                value = [item.strip() for item in value.split(",")] if value else []
            value = [str(item) for item in value]
        else:
            value = _as_text(value)
            allowed = spec.get("AllowedValues")
            if allowed is not None and value not in [_as_text(v) for v in allowed]:
                raise TemplateError(f"parameter {name}={value!r} is not one of {allowed}")
        values[name] = value
    return values


def _sqs_attribute(value: Any) -> str:
    if isinstance(value, dict):
        return json.dumps(value)
    return _as_text(value)


def _secret_string(props: Mapping[str, Any]) -> str:
    if "SecretString" in props:
        return str(props["SecretString"])
    generate = props.get("GenerateSecretString") or {}
    alphabet = string.ascii_letters + string.digits
    if not generate.get("ExcludePunctuation"):
        alphabet += "!#$%&()*+,-.:;<=>?@[]^_{|}~"
    excluded = set(generate.get("ExcludeCharacters", ""))
    alphabet = "".join(c for c in alphabet if c not in excluded)
    generated = "".join(
        secrets.choice(alphabet) for _ in range(int(generate.get("PasswordLength", 32)))
    )
    if "SecretStringTemplate" in generate and "GenerateStringKey" in generate:
        value = json.loads(generate["SecretStringTemplate"])
        value[generate["GenerateStringKey"]] = generated
        return json.dumps(value)
    return generated


def deploy_local_stack(
    template_path: str | Path = "template.yaml",
    parameters: Mapping[str, Any] | None = None,
    stack_name: str = "qbo-sync-local",
    extra_environment: Mapping[str, str] | None = None,
    session: boto3.session.Session | None = None,
) -> LocalStack:
    """Create the template's data resources and describe its functions.

    `extra_environment` is laid over every function's resolved environment (the local runner
    points INTUIT_ENVIRONMENT and QBO_API_BASE_URL at its emulator this way).
    """
    template = load_template(template_path)
    deployer = _Deployer(template, stack_name, parameters or {}, session or boto3.session.Session())
    stack = deployer.deploy()
    for function in stack.functions.values():
        function.environment.update(extra_environment or {})
    return stack


# --- between tests ------------------------------------------------------------------------------

_READ_ONLY_QUEUE_ATTRIBUTES = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesDelayed",
    "ApproximateNumberOfMessagesNotVisible",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
)


def reset_data(stack: LocalStack, session: boto3.session.Session | None = None) -> None:
    """Delete every item of the stack's tables and every message of its queues."""
    session = session or boto3.session.Session(region_name=stack.region)
    dynamodb = session.client("dynamodb")
    for table in stack.tables.values():
        key_names = [
            key["AttributeName"]
            for key in dynamodb.describe_table(TableName=table)["Table"]["KeySchema"]
        ]
        placeholders = {f"#k{i}": name for i, name in enumerate(key_names)}
        for page in dynamodb.get_paginator("scan").paginate(
            TableName=table,
            ProjectionExpression=", ".join(placeholders),
            ExpressionAttributeNames=placeholders,
        ):
            items = page.get("Items", [])
            for start in range(0, len(items), 25):
                requests = [{"DeleteRequest": {"Key": item}} for item in items[start : start + 25]]
                unprocessed: dict[str, Any] = {table: requests}
                while unprocessed:
                    response = dynamodb.batch_write_item(RequestItems=unprocessed)
                    unprocessed = response.get("UnprocessedItems") or {}
    sqs = session.client("sqs")
    for url in stack.queues.values():
        # PurgeQueue is allowed once per 60 s per queue (moto enforces it too) and leaves FIFO
        # deduplication ids behind, so the queue is recreated instead: same name, same URL and
        # ARN, same attributes. AWS would refuse a new queue of a just-deleted name for 60 s;
        # moto does not, and this only ever runs against moto.
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        settable = {
            key: value
            for key, value in attributes.items()
            if key not in _READ_ONLY_QUEUE_ATTRIBUTES
        }
        sqs.delete_queue(QueueUrl=url)
        sqs.create_queue(QueueName=url.rsplit("/", 1)[1], Attributes=settable)
