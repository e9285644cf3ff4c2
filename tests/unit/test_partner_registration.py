"""`python -m infra.partners register` on moto in-process: the app client, the registry, the stack update."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra import partners as command
from infra.partners import (
    RegistrationError,
    app_client_name,
    parse_scopes,
    register_in_stack,
    register_partner,
    update_capabilities,
    updated_parameters,
)
from shared.domain.ids import is_id
from shared.domain.partners import SCOPES
from shared.store import partners as registry
from tests.support.aws import REGION, TABLE_NAME, Aws

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
TOKEN_URL = "https://career-journey-dev-123456789012.auth.us-east-1.amazoncognito.com/oauth2/token"


def _cognito() -> Any:
    return boto3.client("cognito-idp", region_name=REGION)


def _client_ids(aws: Aws) -> set[str]:
    clients = _cognito().list_user_pool_clients(UserPoolId=aws.user_pool_id, MaxResults=60)
    return {c["ClientId"] for c in clients["UserPoolClients"]}


# ---------------------------------------------------------------- input


def test_scopes_default_to_all_and_are_checked() -> None:
    assert parse_scopes(None) == list(SCOPES)
    assert parse_scopes("profile.read, clients.read") == ["clients.read", "profile.read"]
    assert parse_scopes("partner/cares.read,cares.read") == ["cares.read"]
    for bad in ("", " , ", "clients.write", "other/clients.read", "clients.read,admin"):
        with pytest.raises(RegistrationError):
            parse_scopes(bad)


def test_names_are_checked_and_client_names_are_what_cognito_accepts() -> None:
    for bad in ("", " padded", "line\nbreak", "x" * 81):
        with pytest.raises(RegistrationError):
            command.check_name(bad)
    name = app_client_name("Ação & Coaching / Lda." + "x" * 100, "01J0000000000000000000000Z")
    assert re.fullmatch(r"[\w\s+=,.@-]{1,128}", name, re.ASCII)
    assert name.startswith("partner-A")
    assert name.endswith("-01J0000000000000000000000Z")


# ---------------------------------------------------------------- registration


def test_registration_makes_a_client_credentials_app_client_and_the_registry_items(aws: Aws) -> None:
    result = register_partner(_cognito(), aws.user_pool_id, "Acme Coaching", ["profile.read", "clients.read"])
    assert set(result) == {"partnerId", "name", "scopes", "clientId", "clientSecret", "createdAt"}
    assert is_id(result["partnerId"])
    assert result["scopes"] == ["clients.read", "profile.read"]
    assert RFC3339.fullmatch(result["createdAt"])

    client = _cognito().describe_user_pool_client(UserPoolId=aws.user_pool_id, ClientId=result["clientId"])[
        "UserPoolClient"
    ]
    assert client["ClientSecret"] == result["clientSecret"]
    assert client["AllowedOAuthFlows"] == ["client_credentials"]
    assert client["AllowedOAuthFlowsUserPoolClient"] is True
    assert client["AllowedOAuthScopes"] == ["partner/clients.read", "partner/profile.read"]
    assert client["ExplicitAuthFlows"] == ["ALLOW_REFRESH_TOKEN_AUTH"]
    assert client["AccessTokenValidity"] == 60
    assert client["TokenValidityUnits"]["AccessToken"] == "minutes"
    assert client["ClientName"].startswith("partner-Acme Coaching-")

    assert registry.get_partner(result["partnerId"]) == {
        "partnerId": result["partnerId"],
        "name": "Acme Coaching",
        "scopes": ["clients.read", "profile.read"],
        "createdAt": result["createdAt"],
        "appClientId": result["clientId"],
    }
    assert registry.partner_of_app_client(result["clientId"]) == result["partnerId"]
    items, _ = registry.directory(25, None)
    assert items == [
        {
            "partnerId": result["partnerId"],
            "name": "Acme Coaching",
            "scopes": ["clients.read", "profile.read"],
            "createdAt": result["createdAt"],
        }
    ]
    # The secret is in the command's answer, never in the table.
    assert all(result["clientSecret"] not in json.dumps(item) for item in aws.all_items())


def test_a_failure_after_the_app_client_deletes_it_and_records_nothing(aws: Aws) -> None:
    before = _client_ids(aws)

    def refuse(client_id: str) -> None:
        assert client_id not in before
        raise RuntimeError("stack update failed")

    with pytest.raises(RuntimeError, match="stack update failed"):
        register_partner(_cognito(), aws.user_pool_id, "Acme", SCOPES, before_recording=refuse)
    assert _client_ids(aws) == before
    assert aws.all_items() == []


def test_bad_input_makes_nothing(aws: Aws) -> None:
    before = _client_ids(aws)
    with pytest.raises(RegistrationError):
        register_partner(_cognito(), aws.user_pool_id, "Acme", ["clients.read", "root"])
    with pytest.raises(RegistrationError):
        register_partner(_cognito(), aws.user_pool_id, "\tAcme", ["clients.read"])
    assert _client_ids(aws) == before
    assert aws.all_items() == []


# ---------------------------------------------------------------- the stack update


def test_the_parameter_update_adds_the_client_and_keeps_everything_else() -> None:
    stack_parameters = [
        {"ParameterKey": "Stage", "ParameterValue": "dev"},
        {"ParameterKey": "FcmServiceAccountJson", "ParameterValue": "****"},
        {"ParameterKey": "PartnerClientIds", "ParameterValue": "none"},
    ]
    assert updated_parameters(stack_parameters, "c1") == [
        {"ParameterKey": "Stage", "UsePreviousValue": True},
        {"ParameterKey": "FcmServiceAccountJson", "UsePreviousValue": True},
        {"ParameterKey": "PartnerClientIds", "ParameterValue": "c1"},
    ]
    later = [{"ParameterKey": "PartnerClientIds", "ParameterValue": "c1, c2"}]
    assert updated_parameters(later, "c3") == [
        {"ParameterKey": "PartnerClientIds", "ParameterValue": "c1,c2,c3"}
    ]
    assert updated_parameters(later, "c2") == [
        {"ParameterKey": "PartnerClientIds", "ParameterValue": "c1,c2"}
    ]
    with pytest.raises(RegistrationError, match="PartnerClientIds"):
        updated_parameters([{"ParameterKey": "Stage", "ParameterValue": "dev"}], "c1")


def test_capabilities_keep_the_stacks_and_add_what_sam_needs() -> None:
    assert update_capabilities({}) == ["CAPABILITY_AUTO_EXPAND", "CAPABILITY_IAM"]
    assert update_capabilities({"Capabilities": ["CAPABILITY_NAMED_IAM"]}) == [
        "CAPABILITY_AUTO_EXPAND",
        "CAPABILITY_IAM",
        "CAPABILITY_NAMED_IAM",
    ]


def _deploy(aws: Aws, *, outputs: bool = True) -> Any:
    """A stack standing in for the deployed template: its parameters and the outputs read."""
    template = {
        "Parameters": {
            "Stage": {"Type": "String"},
            "FcmServiceAccountJson": {"Type": "String", "NoEcho": True},
            "PartnerClientIds": {"Type": "CommaDelimitedList", "Default": "none"},
        },
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": (
            {
                "UserPoolId": {"Value": aws.user_pool_id},
                "TableName": {"Value": TABLE_NAME},
                "PartnerTokenUrl": {"Value": TOKEN_URL},
            }
            if outputs
            else {"Other": {"Value": "x"}}
        ),
    }
    cfn = boto3.client("cloudformation", region_name=REGION)
    cfn.create_stack(
        StackName="career-journey-dev",
        TemplateBody=json.dumps(template),
        Parameters=[
            {"ParameterKey": "Stage", "ParameterValue": "dev"},
            {"ParameterKey": "FcmServiceAccountJson", "ParameterValue": "{}"},
        ],
    )
    return cfn


def _record_updates(cfn: Any) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        sent.append(dict(params))

    cfn.meta.events.register("provide-client-params.cloudformation.UpdateStack", record)
    return sent


def test_registering_with_a_stack_updates_its_audience_then_records_the_partner(aws: Aws) -> None:
    cfn = _deploy(aws)
    updates = _record_updates(cfn)
    result = register_in_stack(cfn, _cognito(), "career-journey-dev", "Acme", ["clients.read"])
    assert result["tokenUrl"] == TOKEN_URL
    (update,) = updates
    assert update["StackName"] == "career-journey-dev"
    assert update["UsePreviousTemplate"] is True
    assert sorted(update["Capabilities"]) == ["CAPABILITY_AUTO_EXPAND", "CAPABILITY_IAM"]
    parameters = {p["ParameterKey"]: p for p in update["Parameters"]}
    assert parameters["PartnerClientIds"] == {
        "ParameterKey": "PartnerClientIds",
        "ParameterValue": result["clientId"],
    }
    assert parameters["Stage"] == {"ParameterKey": "Stage", "UsePreviousValue": True}
    assert parameters["FcmServiceAccountJson"] == {
        "ParameterKey": "FcmServiceAccountJson",
        "UsePreviousValue": True,
    }
    stack = cfn.describe_stacks(StackName="career-journey-dev")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert registry.partner_of_app_client(result["clientId"]) == result["partnerId"]


def test_a_stack_without_the_outputs_is_refused_before_anything_is_made(aws: Aws) -> None:
    cfn = _deploy(aws, outputs=False)
    before = _client_ids(aws)
    with pytest.raises(RegistrationError, match="UserPoolId"):
        register_in_stack(cfn, _cognito(), "career-journey-dev", "Acme", SCOPES)
    assert _client_ids(aws) == before


def test_the_command_with_a_stack_prints_the_credentials_once(
    aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    _deploy(aws)
    code = command.main(
        ["register", "--name", "Acme", "--scopes", "clients.read,plans.read", "--stack", "career-journey-dev"]
    )
    assert code == 0
    out, err = capsys.readouterr()
    printed = json.loads(out)
    assert set(printed) == {
        "partnerId",
        "name",
        "scopes",
        "clientId",
        "clientSecret",
        "createdAt",
        "tokenUrl",
    }
    assert printed["scopes"] == ["clients.read", "plans.read"]
    assert printed["tokenUrl"] == TOKEN_URL
    assert "secret" in err
    assert printed["clientSecret"] not in err


def test_the_command_locally_reads_stack_json(
    aws: Aws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    state = {
        "apiUrl": "http://127.0.0.1:3000",
        "awsEndpointUrl": "http://127.0.0.1:5000",
        "region": REGION,
        "userPoolId": aws.user_pool_id,
        "tableName": TABLE_NAME,
        "tokenUrl": "http://127.0.0.1:3000/oauth2/token",
    }
    (tmp_path / "stack.json").write_text(json.dumps(state))
    pointed: list[tuple[str, str | None, str | None]] = []
    real_use_table = command.use_table

    def use_table(table_name: str, *, region: str | None = None, endpoint_url: str | None = None) -> None:
        pointed.append((table_name, region, endpoint_url))
        real_use_table(table_name, region=region)  # moto in-process stands in for the endpoint

    monkeypatch.setattr(command, "use_table", use_table)
    monkeypatch.setattr(command, "local_cognito", lambda state: _cognito())
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    code = command.main(
        ["register", "--name", "Local Coach", "--local", "--state", str(tmp_path / "stack.json")]
    )
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["tokenUrl"] == state["tokenUrl"]
    assert printed["scopes"] == list(SCOPES)
    assert pointed == [(TABLE_NAME, REGION, "http://127.0.0.1:5000")]
    assert registry.partner_of_app_client(printed["clientId"]) == printed["partnerId"]


def test_the_command_refuses_bad_input_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nothing.json"
    assert command.main(["register", "--name", "Acme", "--local", "--state", str(missing)]) == 2
    assert "start the local stack" in capsys.readouterr().err
    assert command.main(["register", "--name", "Acme", "--scopes", "everything", "--local"]) == 2
    assert "unknown scopes" in capsys.readouterr().err
    assert command.main(["register", "--name", "Acme", "--stack", "s", "--state", str(missing)]) == 2
    with pytest.raises(SystemExit):
        command.main(["register", "--name", "Acme", "--stack", "s", "--local"])
