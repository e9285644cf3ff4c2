"""What a first deploy on a new account and the people who run it rely on, read from template.yaml."""

from __future__ import annotations

import json
import re
import shlex
import tomllib

from infra.local.template import ROOT, load

TEMPLATE = load()
PARAMETERS = TEMPLATE.raw["Parameters"]


def test_a_first_deploy_needs_no_parameter_at_all() -> None:
    """Every parameter has a default: `sam deploy` on a new account asks for nothing (push,
    alarms' topic and SES are optional; the secrets the stack needs it makes itself)."""
    assert not [name for name, p in PARAMETERS.items() if "Default" not in p]


def test_push_is_made_only_when_its_credentials_are_given() -> None:
    conditions = TEMPLATE.raw["Conditions"]
    assert conditions["HasApns"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "ApnsCredentialsSecretArn"}, ""]}]}
    assert conditions["HasFcm"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "FcmCredentialsSecretArn"}, ""]}]}
    resources = TEMPLATE.resources
    assert resources["IosPlatformApplication"]["Condition"] == "HasApns"
    assert resources["AndroidPlatformApplication"]["Condition"] == "HasFcm"
    for name in (
        "PlatformApplicationsFunction",
        "PlatformApplicationsFunctionRole",
        "PlatformApplicationsFunctionLogs",
    ):
        assert resources[name]["Condition"] == "HasPush", name
    # Whatever names an application does so under the same condition.
    text = json.dumps({k: v for k, v in resources.items() if "Condition" not in v})
    for app, condition in (("IosPlatformApplication", "HasApns"), ("AndroidPlatformApplication", "HasFcm")):
        assert text.count(f'{{"Ref": "{app}"}}') == text.count(f'["{condition}", {{"Ref": "{app}"}}')
    # Credentials only as secrets' ARNs: no NoEcho parameter carries one.
    assert not [n for n, p in PARAMETERS.items() if p.get("NoEcho")]


def test_the_table_and_user_pool_are_kept_and_protected() -> None:
    for name in ("AppTable", "UserPool", "ClientIdKey", "CursorSigningKey"):
        resource = TEMPLATE.resource(name)
        assert resource["DeletionPolicy"] == "RetainExceptOnCreate", name
        assert resource["UpdateReplacePolicy"] == "Retain", name
    assert TEMPLATE.resource("AppTable")["Properties"]["DeletionProtectionEnabled"] is True
    assert TEMPLATE.resource("UserPool")["Properties"]["DeletionProtection"] == "ACTIVE"


def test_the_user_pool_has_case_insensitive_names_optional_totp_and_production_email() -> None:
    pool = TEMPLATE.resource("UserPool")["Properties"]
    assert pool["UsernameConfiguration"] == {"CaseSensitive": False}
    assert pool["MfaConfiguration"] == {"Ref": "MfaConfiguration"}
    assert PARAMETERS["MfaConfiguration"]["AllowedValues"] == ["OFF", "OPTIONAL"]
    assert pool["EnabledMfas"] == {"Fn::If": ["HasMfa", ["SOFTWARE_TOKEN_MFA"], {"Ref": "AWS::NoValue"}]}
    (condition, ses, default) = pool["EmailConfiguration"]["Fn::If"]
    assert condition == "HasSes"
    assert ses["EmailSendingAccount"] == "DEVELOPER"
    assert ses["SourceArn"] == {"Ref": "SesIdentityArn"}
    assert default == {"EmailSendingAccount": "COGNITO_DEFAULT"}


def test_the_access_log_carries_what_an_operator_needs_and_no_token() -> None:
    api = next(iter(TEMPLATE.resources_of_type("AWS::Serverless::HttpApi").values()))
    fields = json.loads(api["Properties"]["AccessLogSettings"]["Format"])
    assert {
        "requestId",
        "routeKey",
        "status",
        "latencyMs",
        "integrationStatus",
        "integrationLatencyMs",
        "responseLength",
        "userAgent",
        "integrationError",
    } <= set(fields)
    assert fields["integrationStatus"] == "$context.integrationStatus"
    assert fields["integrationLatencyMs"] == "$context.integrationLatency"
    assert fields["responseLength"] == "$context.responseLength"
    assert fields["userAgent"] == "$context.identity.userAgent"
    # The route key, never the path: public routes carry their secret token in the path.
    assert not [v for v in fields.values() if re.search(r"\$context\.(path|http\.path)\b", v)]


def test_the_cursor_key_is_generated_by_the_stack_and_rotated() -> None:
    secret = TEMPLATE.resource("CursorSigningKey")["Properties"]["GenerateSecretString"]
    assert (secret["SecretStringTemplate"], secret["GenerateStringKey"]) == ("{}", "current")
    (schedule,) = TEMPLATE.resources_of_type("AWS::SecretsManager::RotationSchedule").values()
    props = schedule["Properties"]
    assert props["SecretId"] == {"Ref": "CursorSigningKey"}
    assert props["RotationLambdaARN"] == {"Fn::GetAtt": ["KeyRotationFunction", "Arn"]}
    assert props["RotationRules"] == {"AutomaticallyAfterDays": {"Ref": "CursorKeyRotationDays"}}
    (permission,) = [
        p["Properties"]
        for p in TEMPLATE.resources_of_type("AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "secretsmanager.amazonaws.com"
    ]
    assert permission["SourceArn"] == {"Ref": "CursorSigningKey"}


def test_samconfig_deploys_each_stage_with_parameters_the_template_has() -> None:
    with (ROOT / "samconfig.toml").open("rb") as fh:
        config = tomllib.load(fh)
    assert set(config) >= {"default", "prod"}
    for env, tables in config.items():
        if env == "version":
            continue
        deploy = tables["deploy"]["parameters"]
        assert deploy["capabilities"] == "CAPABILITY_IAM", env
        assert deploy["confirm_changeset"] is True, env
        overrides = dict(pair.split("=", 1) for pair in shlex.split(deploy["parameter_overrides"]))
        assert set(overrides) <= set(PARAMETERS), env
        assert tables["global"]["parameters"]["stack_name"] == f"career-journey-{overrides['Stage']}", env
    # What the template makes is only named, never the IAM roles: CAPABILITY_IAM suffices.
    assert not [
        r for r in TEMPLATE.resources_of_type("AWS::IAM::Role").values() if "RoleName" in r["Properties"]
    ]
