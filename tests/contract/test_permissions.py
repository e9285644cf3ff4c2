"""Least privilege, read from template.yaml: each function has its own role and nothing more.

SAM's generated roles carry AWS managed policies whose resources are `*` (logs of every group;
every stream in the account for a `Type: DynamoDB` event). So every function names an explicit
role, and these checks keep it that way.
"""

from __future__ import annotations

from typing import Any

import pytest

from infra.local.template import load

TEMPLATE = load()
FUNCTIONS = sorted(TEMPLATE.resources_of_type("AWS::Serverless::Function"))
# X-Ray has no resource-level permissions: the one grant on "*".
TRACING = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
STREAM_READS = [
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
]


def _role_of(function: str) -> tuple[str, dict[str, Any]]:
    props = TEMPLATE.function_properties(function)
    role = props.get("Role")
    assert isinstance(role, dict), f"{function} has no explicit Role: SAM would attach managed policies"
    (logical_id, attribute) = role["Fn::GetAtt"]
    assert attribute == "Arn"
    return logical_id, TEMPLATE.resource(logical_id)


def _statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    (policy,) = role["Properties"]["Policies"]
    return list(policy["PolicyDocument"]["Statement"])


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_function_has_its_own_role_assumed_by_lambda_only(function: str) -> None:
    logical_id, role = _role_of(function)
    assert role["Type"] == "AWS::IAM::Role"
    assert "Policies" not in TEMPLATE.resource(function)["Properties"], "SAM ignores Policies beside a Role"
    assert "ManagedPolicyArns" not in role["Properties"]
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust == {
        "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
    users = [f for f in FUNCTIONS if _role_of(f)[0] == logical_id]
    assert users == [function]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_function_writes_only_to_its_own_log_group(function: str) -> None:
    log_group = TEMPLATE.function_properties(function)["LoggingConfig"]["LogGroup"]["Ref"]
    logs = [
        s
        for s in _statements(_role_of(function)[1])
        if any(a.startswith("logs:") for a in _as_list(s["Action"]))
    ]
    assert logs == [
        {
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": {"Fn::GetAtt": [log_group, "Arn"]},
        }
    ]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_only_tracing_is_granted_on_every_resource(function: str) -> None:
    for statement in _statements(_role_of(function)[1]):
        assert statement["Effect"] == "Allow"
        actions = set(_as_list(statement["Action"]))
        assert not [a for a in actions if "*" in a], f"{function}: a wildcard action in {statement['Sid']}"
        if "*" in _as_list(statement["Resource"]):
            assert actions == TRACING, f"{function}: {statement['Sid']} is granted on every resource"


def test_no_function_uses_a_sam_event_that_attaches_a_managed_policy() -> None:
    for function in FUNCTIONS:
        events = TEMPLATE.function_properties(function).get("Events", {}).values()
        assert not [e for e in events if e["Type"] in ("DynamoDB", "Kinesis", "SQS", "MSK", "MQ")], function


def test_functions_fed_by_the_stream_may_read_this_tables_stream_and_no_other() -> None:
    fed = {
        mapping["Properties"]["FunctionName"]["Ref"]
        for mapping in TEMPLATE.resources_of_type("AWS::Lambda::EventSourceMapping").values()
        if mapping["Properties"]["EventSourceArn"] == {"Fn::GetAtt": ["AppTable", "StreamArn"]}
    }
    assert fed == {"NotifierFunction", "HandleFollowerFunction", "WebhookFanoutFunction", "ChangeLogFunction"}
    for function in fed:
        statements = _statements(_role_of(function)[1])
        stream = [s for s in statements if set(_as_list(s["Action"])) & set(STREAM_READS)]
        assert stream == [
            {
                "Sid": "ReadTheTableStream",
                "Effect": "Allow",
                "Action": STREAM_READS,
                "Resource": {"Fn::Sub": "${AppTable.Arn}/stream/*"},
            }
        ], function
    for function in [f for f in FUNCTIONS if f not in fed]:
        actions = {a for s in _statements(_role_of(function)[1]) for a in _as_list(s["Action"])}
        assert not set(STREAM_READS) & actions, function


# What DynamoDB allows on an index: reading. A write action granted on an index ARN means
# nothing today, but a statement that mixes them hides which resources a write may touch.
INDEX_READS = {"dynamodb:Query", "dynamodb:Scan"}


def _text(resource: Any) -> str:
    """A resource as the text CloudFormation will make of it (enough to recognise its kind)."""
    if isinstance(resource, str):
        return resource
    if "Fn::Sub" in resource:
        sub = resource["Fn::Sub"]
        return str(sub if isinstance(sub, str) else sub[0])
    if "Fn::GetAtt" in resource:
        return "${" + ".".join(resource["Fn::GetAtt"]) + "}"
    if "Ref" in resource:
        return "${" + str(resource["Ref"]) + "}"
    return str(resource)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_no_write_action_is_granted_on_an_index(function: str) -> None:
    for statement in _statements(_role_of(function)[1]):
        on_index = [r for r in _as_list(statement["Resource"]) if "/index/" in _text(r)]
        if on_index:
            actions = set(_as_list(statement["Action"]))
            assert actions <= INDEX_READS, (
                f"{function}: {statement['Sid']} grants {actions - INDEX_READS} on {on_index}"
            )


@pytest.mark.parametrize("function", FUNCTIONS)
def test_table_writes_name_the_table_and_nothing_else(function: str) -> None:
    writes = {
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:ConditionCheckItem",
    }
    for statement in _statements(_role_of(function)[1]):
        if set(_as_list(statement["Action"])) & writes:
            assert _as_list(statement["Resource"]) == [{"Fn::GetAtt": ["AppTable", "Arn"]}], (
                f"{function}: {statement['Sid']}"
            )


def test_the_platform_applications_role_manages_only_this_stages_applications() -> None:
    _, role = _role_of("PlatformApplicationsFunction")
    (manage,) = [s for s in _statements(role) if s["Sid"] == "ManagePlatformApplications"]
    resources = sorted(_text(r) for r in _as_list(manage["Resource"]))
    prefix = "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:app/"
    assert resources == [
        prefix + "APNS/career-journey-ios-${Stage}",
        prefix + "APNS_SANDBOX/career-journey-ios-${Stage}",
        prefix + "GCM/career-journey-android-${Stage}",
    ]
    # Its own credentials' secrets, and only when given.
    (read,) = [s for s in _statements(role) if s["Sid"] == "ReadPushCredentials"]
    assert read["Action"] == ["secretsmanager:GetSecretValue"]
    assert read["Resource"] == [
        {"Fn::If": ["HasApns", {"Ref": "ApnsCredentialsSecretArn"}, {"Ref": "AWS::NoValue"}]},
        {"Fn::If": ["HasFcm", {"Ref": "FcmCredentialsSecretArn"}, {"Ref": "AWS::NoValue"}]},
    ]


SECRETS = {"ClientIdKey": "CLIENT_ID_KEY_SECRET", "CursorSigningKey": "CURSOR_KEY_SECRET"}


@pytest.mark.parametrize("secret", sorted(SECRETS))
def test_a_secret_is_readable_by_exactly_the_functions_told_its_name(secret: str) -> None:
    """No secret in a plain environment variable: a function is told the secret's ARN (and may
    read it) or neither."""
    env = SECRETS[secret]
    told = {
        f
        for f in FUNCTIONS
        if TEMPLATE.function_properties(f).get("Environment", {}).get("Variables", {}).get(env)
        == {"Ref": secret}
    }
    readers = {
        f
        for f in FUNCTIONS
        for s in _statements(_role_of(f)[1])
        if "secretsmanager:GetSecretValue" in _as_list(s["Action"])
        and {"Ref": secret} in _as_list(s["Resource"])
    }
    assert told, f"no function reads {secret}"
    assert readers - {"KeyRotationFunction"} == told


def test_no_function_environment_holds_a_parameter_marked_no_echo() -> None:
    secret_parameters = {n for n, p in TEMPLATE.raw["Parameters"].items() if p.get("NoEcho")}
    for function in FUNCTIONS:
        variables = TEMPLATE.function_properties(function).get("Environment", {}).get("Variables", {})
        assert not [
            v for v in variables.values() if isinstance(v, dict) and v.get("Ref") in secret_parameters
        ]
    assert "CursorSigningKey" not in TEMPLATE.raw["Parameters"]
