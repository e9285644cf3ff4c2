"""Create the template's AWS resources in the emulator, from template.yaml's own properties.

CloudFormation property names mostly equal the API's parameter names; where they differ the
translation is spelled out here. Properties the API does not know are reported, not dropped
silently, so a new template property either gets translated or is seen to be ignored.
"""

from __future__ import annotations

import json
import secrets
import string
import sys
from dataclasses import dataclass
from typing import Any

from infra.local.template import Template, is_made, resolve

ACCOUNT_ID = "123456789012"


def _api_members(client: Any, operation: str) -> set[str]:
    shape = client.meta.service_model.operation_model(operation).input_shape
    return set(shape.members)


def _warn_unused(kind: str, unused: set[str]) -> None:
    if unused:
        print(f"local stack: {kind}: not emulated: {', '.join(sorted(unused))}", file=sys.stderr)


def table_request(properties: dict[str, Any], refs: dict[str, str]) -> dict[str, Any]:
    """CreateTable parameters for an `AWS::DynamoDB::Table`'s Properties."""
    props = {k: resolve(v, refs) for k, v in properties.items()}
    request: dict[str, Any] = {}
    for name in (
        "TableName", "AttributeDefinitions", "KeySchema", "LocalSecondaryIndexes", "BillingMode",
        "ProvisionedThroughput", "TableClass", "DeletionProtectionEnabled", "Tags",
    ):  # fmt: skip
        if name in props:
            request[name] = props[name]
    if "GlobalSecondaryIndexes" in props:
        # CFN lets an index carry ContributorInsightsSpecification; CreateTable does not.
        request["GlobalSecondaryIndexes"] = [
            {k: v for k, v in gsi.items() if k != "ContributorInsightsSpecification"}
            for gsi in props["GlobalSecondaryIndexes"]
        ]
    if "StreamSpecification" in props:
        # CFN implies the stream is on by giving a view type; the API wants it said.
        request["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    if "SSESpecification" in props:
        sse = props["SSESpecification"]
        request["SSESpecification"] = {
            "Enabled": bool(sse.get("SSEEnabled", False)),
            **{k: v for k, v in sse.items() if k in ("SSEType", "KMSMasterKeyId")},
        }
    return request


def create_table(dynamodb: Any, template: Template, refs: dict[str, str]) -> str:
    """Create the table with its TTL and point-in-time recovery; answer its name."""
    props = template.table_properties
    request = table_request(props, refs)
    handled = {
        *request,
        "TimeToLiveSpecification",
        "PointInTimeRecoverySpecification",
        "ContributorInsightsSpecification",
    }
    _warn_unused("AppTable", set(props) - handled)
    dynamodb.create_table(**request)
    name = str(request["TableName"])
    dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1})
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        dynamodb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
        )
    pitr = props.get("PointInTimeRecoverySpecification")
    if pitr and pitr.get("PointInTimeRecoveryEnabled"):
        dynamodb.update_continuous_backups(
            TableName=name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
    return name


# CFN name -> API name, where they differ.
_POOL_RENAMES = {"UserPoolName": "PoolName"}
_CLIENT_RENAMES: dict[str, str] = {}


def user_pool_request(cognito: Any, properties: dict[str, Any], refs: dict[str, str]) -> dict[str, Any]:
    """CreateUserPool parameters for an `AWS::Cognito::UserPool`'s Properties."""
    return _translate(cognito, "CreateUserPool", "UserPool", properties, refs, _POOL_RENAMES)


def user_pool_client_request(
    cognito: Any, properties: dict[str, Any], refs: dict[str, str]
) -> dict[str, Any]:
    """CreateUserPoolClient parameters for an `AWS::Cognito::UserPoolClient`'s Properties."""
    return _translate(cognito, "CreateUserPoolClient", "UserPoolClient", properties, refs, _CLIENT_RENAMES)


def _translate(
    client: Any,
    operation: str,
    kind: str,
    properties: dict[str, Any],
    refs: dict[str, str],
    renames: dict[str, str],
) -> dict[str, Any]:
    members = _api_members(client, operation)
    request: dict[str, Any] = {}
    unused = set()
    for cfn_name, value in properties.items():
        api_name = renames.get(cfn_name, cfn_name)
        if api_name in members:
            request[api_name] = resolve(value, refs)
        else:
            unused.add(cfn_name)
    _warn_unused(kind, unused)
    return request


@dataclass(frozen=True)
class Identity:
    """The local user pool and its mobile app client."""

    user_pool_id: str
    user_pool_client_id: str


def create_identity(cognito: Any, template: Template, refs: dict[str, str]) -> Identity:
    """Create the template's user pool and its app client; `refs` gains their ids and ARNs."""
    ((pool_id_logical, pool),) = template.resources_of_type("AWS::Cognito::UserPool").items()
    created = cognito.create_user_pool(**user_pool_request(cognito, pool["Properties"], refs))["UserPool"]
    refs[pool_id_logical] = created["Id"]
    refs[f"{pool_id_logical}.Arn"] = created["Arn"]
    refs[f"{pool_id_logical}.ProviderName"] = (
        f"cognito-idp.{refs['AWS::Region']}.amazonaws.com/{created['Id']}"
    )
    client_ids = {}
    for logical_id, res in template.resources_of_type("AWS::Cognito::UserPoolClient").items():
        request = user_pool_client_request(cognito, res["Properties"], refs)
        client = cognito.create_user_pool_client(**request)["UserPoolClient"]
        refs[logical_id] = client["ClientId"]
        client_ids[logical_id] = client["ClientId"]
    if len(client_ids) != 1:
        raise RuntimeError(f"expected one app client in the template, found {sorted(client_ids)}")
    return Identity(user_pool_id=created["Id"], user_pool_client_id=next(iter(client_ids.values())))


# CloudFormation has no SNS platform application type; the template makes them through a custom
# resource (functions/platform_apps), whose properties are these.
PLATFORM_APPLICATION_TYPE = "Custom::PlatformApplication"
_PLATFORM_APPLICATION_PROPERTIES = {"Name", "Platform", "Attributes"}
# How CloudFormation reaches the custom resource's function, and the credentials it reads from
# Secrets Manager (which the emulator does not need: it takes any): nothing to emulate.
_CUSTOM_RESOURCE_PLUMBING = {
    "ServiceToken",
    "ServiceTimeout",
    "CredentialsSecretArn",
    "SecretAttributes",
    "Revision",
}


def create_platform_applications(sns: Any, template: Template, refs: dict[str, str]) -> dict[str, str]:
    """Create the template's push applications in the emulator, as its custom resource would.

    `refs` (with the template's conditions evaluated) gains each one's ARN (its `Ref` and
    `.Arn`); answers {logical id: ARN}. An application whose condition does not hold is not
    made. The credentials' secret is not read: the emulator needs none.
    """
    created = {}
    for logical_id, res in template.resources_of_type(PLATFORM_APPLICATION_TYPE).items():
        if not is_made(res, refs):
            continue
        props = res.get("Properties", {})
        _warn_unused(logical_id, set(props) - _PLATFORM_APPLICATION_PROPERTIES - _CUSTOM_RESOURCE_PLUMBING)
        attributes = {str(k): str(resolve(v, refs)) for k, v in (props.get("Attributes") or {}).items()}
        arn = sns.create_platform_application(
            Name=str(resolve(props["Name"], refs)),
            Platform=str(resolve(props["Platform"], refs)),
            Attributes=attributes,
        )["PlatformApplicationArn"]
        refs[logical_id] = arn
        refs[f"{logical_id}.Arn"] = arn
        created[logical_id] = arn
    return created


def generate_password(length: int = 20) -> str:
    """A password every sensible Cognito policy accepts: lower, upper, digit and symbol."""
    alphabet = string.ascii_letters + string.digits
    core = "".join(secrets.choice(alphabet) for _ in range(length - 4))
    return (
        core
        + secrets.choice(string.ascii_lowercase)
        + secrets.choice(string.ascii_uppercase)
        + (secrets.choice(string.digits) + "!")
    )


def sign_up_confirmed(cognito: Any, identity: Identity, email: str, password: str) -> str:
    """Sign a person up as the app does, confirm them as an admin would; answer their `sub`."""
    response = cognito.sign_up(
        ClientId=identity.user_pool_client_id,
        Username=email,
        Password=password,
        UserAttributes=[{"Name": "email", "Value": email}],
    )
    cognito.admin_confirm_sign_up(UserPoolId=identity.user_pool_id, Username=email)
    return str(response["UserSub"])


def create_secrets(secretsmanager: Any, template: Template, refs: dict[str, str]) -> dict[str, str]:
    """Each `AWS::SecretsManager::Secret` of the template, its value generated as the template
    asks (`GenerateSecretString`: length, no punctuation; with `SecretStringTemplate` and
    `GenerateStringKey`, that JSON object with the generated string under the key, as
    CloudFormation makes it); answers logical id -> ARN (its Ref). A fresh value each time."""
    made: dict[str, str] = {}
    for logical_id, resource in template.resources_of_type("AWS::SecretsManager::Secret").items():
        if not is_made(resource, refs):
            continue
        props = resource.get("Properties", {})
        generate = props.get("GenerateSecretString", {})
        alphabet = string.ascii_letters + string.digits
        if not generate.get("ExcludePunctuation"):
            alphabet += "!#$%&()*+,-.:;<=>?@[]^_{|}~"
        length = int(generate.get("PasswordLength", 32))
        value = "".join(secrets.choice(alphabet) for _ in range(length))
        if "SecretStringTemplate" in generate or "GenerateStringKey" in generate:
            # CloudFormation wants both or neither.
            if not ("SecretStringTemplate" in generate and "GenerateStringKey" in generate):
                raise ValueError(f"{logical_id}: SecretStringTemplate and GenerateStringKey go together")
            shape = json.loads(str(resolve(generate["SecretStringTemplate"], refs)))
            if not isinstance(shape, dict):
                raise ValueError(f"{logical_id}: SecretStringTemplate is not a JSON object")
            value = json.dumps({**shape, str(generate["GenerateStringKey"]): value})
        arn = secretsmanager.create_secret(
            Name=str(resolve(props.get("Name", logical_id), refs)),
            Description=str(props.get("Description", "")),
            SecretString=value,
        )["ARN"]
        made[logical_id] = arn
    refs.update(made)
    return made
