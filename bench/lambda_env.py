"""The environment a function of template.yaml gets in Lambda, resolved to dummy values.

The template's variables (Globals folded in) with every `Ref`/`Fn::Sub` resolved the way a
deploy of the default stage would, plus the variables the Lambda runtime itself sets. Nothing
here is a real credential or a real resource.
"""

from __future__ import annotations

from typing import Any

from infra.local.template import Function, Template, evaluate_conditions, load, resolve

REGION = "us-east-1"
ACCOUNT = "123456789012"
STACK = "career-journey-bench"


def _parameter_value(name: str, spec: dict[str, Any]) -> str:
    if "Default" in spec:
        return str(spec["Default"])
    # No default (a secret such as ApnsSigningKey): a dummy that meets the length rules.
    dummy = f"bench-{name}-not-a-secret"
    return dummy.ljust(int(spec.get("MinLength", 0)), "x")


def references(template: Template | None = None) -> dict[str, str]:
    """What `Ref`, `${Name}` and `${Name.Attr}` resolve to in a dummy deploy of the template."""
    template = template or load()
    refs = {
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT,
        "AWS::StackName": STACK,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
    }
    for name, spec in template.raw.get("Parameters", {}).items():
        refs[name] = _parameter_value(name, spec)
    for logical_id in template.resources:
        refs[logical_id] = f"{STACK}-{logical_id}"
        refs[f"{logical_id}.Arn"] = f"arn:aws:bench:{REGION}:{ACCOUNT}:{logical_id}"
    table_id = next(iter(template.resources_of_type("AWS::DynamoDB::Table")))
    refs[table_id] = table_name(template, refs)
    refs[f"{table_id}.Arn"] = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{refs[table_id]}"
    for pool_id in template.resources_of_type("AWS::Cognito::UserPool"):
        refs[pool_id] = f"{REGION}_Bench0001"
    # As a deployed stack with push set up (its applications' ARNs in the environment).
    refs["ApnsCredentialsSecretArn"] = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:bench-apns"
    refs["FcmCredentialsSecretArn"] = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:bench-fcm"
    evaluate_conditions(template, refs)
    return refs


def table_name(template: Template | None = None, refs: dict[str, str] | None = None) -> str:
    """The DynamoDB table's name as the template's default stage names it."""
    template = template or load()
    if refs is None:
        refs = references(template)
    name = resolve(template.table_properties.get("TableName", "app-table"), refs)
    return name if isinstance(name, str) else "app-table"


def lambda_environment(function: Function) -> dict[str, str]:
    """The variables `function` sees in Lambda: its template environment and the runtime's own."""
    template = load()
    refs = references(template)
    props = template.resource(function.logical_id)["Properties"]
    memory = props.get("MemorySize") or template.raw["Globals"]["Function"].get("MemorySize", 128)
    env = {
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "AWS_LAMBDA_FUNCTION_NAME": f"{STACK}-{function.logical_id}",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "AWS_LAMBDA_LOG_LEVEL": "INFO",
        "_HANDLER": props["Handler"],
        "TZ": ":UTC",
    }
    for key, value in function.environment.items():
        resolved = resolve(value, refs)
        env[key] = resolved if isinstance(resolved, str) else str(resolved)
    return env
