"""Register a partner: `python -m infra.partners register --name NAME [--scopes a,b,...] TARGET`.

TARGET is `--stack STACK_NAME [--region R]` (a deployed stack) or `--local [--state FILE]` (the
running local stack, `.local/stack.json` by default). Either way the partner gets:

- a Cognito app client in the stack's user pool with a secret and the client-credentials grant
  only, allowed the chosen scopes as tokens carry them (`partner/clients.read`), access tokens
  valid 60 minutes;
- in AWS, its client id added to the stack's `PartnerClientIds` parameter (a stack update that
  keeps the template and every other parameter), the audience of the API's `PartnerToken` JWT
  authorizer; locally the gateway asks the emulator's pool instead, so nothing to update;
- its entry in the partner registry (`shared.store.partners`): the directory and the lookup
  from its client id.

It prints one JSON object: `partnerId`, `name`, `scopes`, `clientId`, `clientSecret` (shown this
once: hand it to the partner over a safe channel) and `tokenUrl`, where the partner exchanges
the credentials for tokens.

The steps run in an order that leaves nothing half-made: the app client first; then (in AWS) the
stack update; then the registry. When a later step fails the app client is deleted again (a
client id left in `PartnerClientIds` then names no client, which is harmless).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared.domain.ids import new_id
from shared.domain.partners import SCOPES, bare_scope, token_scope, valid_name
from shared.domain.timeutil import to_rfc3339, utc_now

ROOT = Path(__file__).resolve().parents[1]
PARTNER_CLIENT_IDS = "PartnerClientIds"
_NO_AUDIENCE_PARAMETER = f"the stack has no {PARTNER_CLIENT_IDS} parameter: deploy the current template"
_STATE_KEYS = ("awsEndpointUrl", "region", "userPoolId", "tableName", "tokenUrl")
# The emulator takes any credentials; real ones are never sent to it.
_EMULATOR_KEY = "testing"
NO_PARTNERS = "none"  # the parameter's placeholder before the first partner
ACCESS_TOKEN_MINUTES = 60
REQUIRED_OUTPUTS = ("UserPoolId", "TableName", "PartnerTokenUrl")
# Cognito's ClientName pattern is [\w\s+=,.@-]+ (ASCII word characters), 1 to 128 long.
_CLIENT_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_ +=,.@-]")


class RegistrationError(Exception):
    """The operator's input or the target stack does not allow the registration."""


# ---------------------------------------------------------------- input


def parse_scopes(text: str | None) -> list[str]:
    """`clients.read,profile.read` (bare or `partner/...`) -> bare scopes in SCOPES order.

    None means every scope.
    """
    if text is None:
        return list(SCOPES)
    given = [s.strip() for s in text.split(",") if s.strip()]
    bare = [s if s in SCOPES else bare_scope(s) for s in given]
    unknown = [g for g, b in zip(given, bare, strict=True) if b is None]
    if unknown:
        raise RegistrationError(f"unknown scopes: {', '.join(unknown)} (known: {', '.join(SCOPES)})")
    if not bare:
        raise RegistrationError("give at least one scope")
    return [s for s in SCOPES if s in bare]


def check_name(name: str) -> str:
    """The partner's display name, or RegistrationError."""
    if not valid_name(name):
        raise RegistrationError("the name must be 1 to 80 characters, no control characters, no outer spaces")
    return name


def app_client_name(name: str, partner_id: str) -> str:
    """A ClientName Cognito accepts that an operator recognises in the console."""
    readable = _CLIENT_NAME_UNSAFE.sub("-", name)[:64]
    return f"partner-{readable}-{partner_id}"


def app_client_request(
    user_pool_id: str, name: str, partner_id: str, scopes: Sequence[str]
) -> dict[str, Any]:
    """CreateUserPoolClient parameters of a partner's app client: a secret, the
    client-credentials grant and nothing else, the scopes as tokens carry them."""
    return {
        "UserPoolId": user_pool_id,
        "ClientName": app_client_name(name, partner_id),
        "GenerateSecret": True,
        "AllowedOAuthFlows": ["client_credentials"],
        "AllowedOAuthFlowsUserPoolClient": True,
        "AllowedOAuthScopes": [token_scope(s) for s in scopes],
        # No user sign-in through this client (refresh is the one flow Cognito insists on).
        "ExplicitAuthFlows": ["ALLOW_REFRESH_TOKEN_AUTH"],
        "AccessTokenValidity": ACCESS_TOKEN_MINUTES,
        "TokenValidityUnits": {"AccessToken": "minutes"},
        "PreventUserExistenceErrors": "ENABLED",
        "EnableTokenRevocation": True,
    }


# ---------------------------------------------------------------- registration


def use_table(table_name: str, *, region: str | None = None, endpoint_url: str | None = None) -> None:
    """Point `shared.store` (the functions' DynamoDB client and settings) at a stack's table."""
    from shared.config import settings
    from shared.store import table

    os.environ["TABLE_NAME"] = table_name
    if region:
        os.environ["AWS_DEFAULT_REGION"] = region
    if endpoint_url:
        os.environ["AWS_ENDPOINT_URL"] = endpoint_url
    settings.cache_clear()
    table.reset_clients()


def register_partner(
    cognito: Any,
    user_pool_id: str,
    name: str,
    scopes: Iterable[str],
    *,
    before_recording: Callable[[str], None] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Make the partner's app client and record the partner (the table is `shared.store`'s).

    `before_recording` is called with the new client id before the registry is written (in
    AWS: let the API's authorizer accept it). Answers partnerId, name, scopes (bare), clientId,
    clientSecret and createdAt.
    """
    from shared.store import partners

    check_name(name)
    bare = parse_scopes(",".join(scopes))
    partner_id = new_id()
    client = cognito.create_user_pool_client(**app_client_request(user_pool_id, name, partner_id, bare))[
        "UserPoolClient"
    ]
    client_id = str(client["ClientId"])
    created_at = to_rfc3339(now or utc_now())
    try:
        if before_recording is not None:
            before_recording(client_id)
        partners.register(
            {
                "partnerId": partner_id,
                "name": name,
                "scopes": bare,
                "appClientId": client_id,
                "createdAt": created_at,
            }
        )
    except BaseException:
        try:
            cognito.delete_user_pool_client(UserPoolId=user_pool_id, ClientId=client_id)
        except Exception as cleanup:  # the first failure is what the operator must see
            print(f"partners: could not delete app client {client_id}: {cleanup}", file=sys.stderr)
        raise
    return {
        "partnerId": partner_id,
        "name": name,
        "scopes": bare,
        "clientId": client_id,
        "clientSecret": str(client["ClientSecret"]),
        "createdAt": created_at,
    }


# ---------------------------------------------------------------- AWS


def stack_outputs(stack: Mapping[str, Any]) -> dict[str, str]:
    """A described stack's Outputs as {key: value}; RegistrationError when one we need is missing."""
    outputs = {str(o["OutputKey"]): str(o["OutputValue"]) for o in stack.get("Outputs", [])}
    missing = [k for k in REQUIRED_OUTPUTS if k not in outputs]
    if missing:
        raise RegistrationError(f"the stack has no output {', '.join(missing)}: deploy the current template")
    return outputs


def partner_client_ids(value: str) -> list[str]:
    """The client ids a `PartnerClientIds` value lists (without the `none` placeholder)."""
    ids = [i.strip() for i in value.split(",")]
    return [i for i in ids if i and i != NO_PARTNERS]


def updated_parameters(parameters: Iterable[Mapping[str, Any]], client_id: str) -> list[dict[str, Any]]:
    """UpdateStack's Parameters: `PartnerClientIds` plus `client_id`, every other one as it was."""
    out: list[dict[str, Any]] = []
    found = False
    for parameter in parameters:
        key = str(parameter["ParameterKey"])
        if key != PARTNER_CLIENT_IDS:
            out.append({"ParameterKey": key, "UsePreviousValue": True})
            continue
        found = True
        ids = partner_client_ids(str(parameter.get("ParameterValue", "")))
        if client_id not in ids:
            ids.append(client_id)
        out.append({"ParameterKey": key, "ParameterValue": ",".join(ids)})
    if not found:
        raise RegistrationError(_NO_AUDIENCE_PARAMETER)
    return out


def update_capabilities(stack: Mapping[str, Any]) -> list[str]:
    """What UpdateStack must acknowledge: what the stack was deployed with, and at least what a
    SAM template with IAM roles needs."""
    return sorted({*stack.get("Capabilities", []), "CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"})


def add_to_audience(cfn: Any, stack_name: str, client_id: str, *, wait: bool = True) -> None:
    """Update the stack's `PartnerClientIds` to include `client_id` (template and other
    parameters unchanged) and, with `wait`, until the update completes."""
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    cfn.update_stack(
        StackName=stack_name,
        UsePreviousTemplate=True,
        Parameters=updated_parameters(stack.get("Parameters", []), client_id),
        Capabilities=update_capabilities(stack),
    )
    if wait:
        cfn.get_waiter("stack_update_complete").wait(
            StackName=stack_name, WaiterConfig={"Delay": 5, "MaxAttempts": 180}
        )


def register_in_stack(
    cfn: Any,
    cognito: Any,
    stack_name: str,
    name: str,
    scopes: Iterable[str],
    *,
    wait: bool = True,
) -> dict[str, Any]:
    """Register a partner with a deployed stack; answers what `register_partner` does and tokenUrl."""
    check_name(name)
    bare = parse_scopes(",".join(scopes))
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    outputs = stack_outputs(stack)
    if not any(p["ParameterKey"] == PARTNER_CLIENT_IDS for p in stack.get("Parameters", [])):
        # Fail before making anything.
        raise RegistrationError(_NO_AUDIENCE_PARAMETER)
    use_table(outputs["TableName"], region=cfn.meta.region_name)
    result = register_partner(
        cognito,
        outputs["UserPoolId"],
        name,
        bare,
        before_recording=lambda client_id: add_to_audience(cfn, stack_name, client_id, wait=wait),
    )
    return {**result, "tokenUrl": outputs["PartnerTokenUrl"]}


# ---------------------------------------------------------------- the local stack


def default_state_file() -> Path:
    """Where the local stack writes stack.json (`$LOCAL_STATE_DIR`, default `.local/`)."""
    state = Path(os.environ.get("LOCAL_STATE_DIR", ".local"))
    return (state if state.is_absolute() else ROOT / state) / "stack.json"


def read_state(path: Path) -> dict[str, Any]:
    """The running local stack's stack.json."""
    try:
        state: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise RegistrationError(f"no {path}: start the local stack first (make run)") from exc
    missing = [k for k in _STATE_KEYS if k not in state]
    if missing:
        raise RegistrationError(f"{path} lacks {', '.join(missing)}")
    return state


def local_cognito(state: Mapping[str, Any]) -> Any:
    """A Cognito client on the emulator (fake credentials: never real ones to the emulator)."""
    import boto3

    return boto3.client(
        "cognito-idp",
        endpoint_url=state["awsEndpointUrl"],
        region_name=state["region"],
        aws_access_key_id=_EMULATOR_KEY,
        aws_secret_access_key=_EMULATOR_KEY,
    )


def register_local(
    state: Mapping[str, Any], name: str, scopes: Iterable[str], *, cognito: Any = None
) -> dict[str, Any]:
    """Register a partner with the running local stack (no CloudFormation there)."""
    check_name(name)
    bare = parse_scopes(",".join(scopes))
    for variable in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(variable, None)
    os.environ["AWS_ACCESS_KEY_ID"] = _EMULATOR_KEY
    os.environ["AWS_SECRET_ACCESS_KEY"] = _EMULATOR_KEY
    use_table(state["tableName"], region=state["region"], endpoint_url=state["awsEndpointUrl"])
    result = register_partner(cognito or local_cognito(state), state["userPoolId"], name, bare)
    return {**result, "tokenUrl": state["tokenUrl"]}


# ---------------------------------------------------------------- the command


def parser() -> argparse.ArgumentParser:
    """The command line."""
    top = argparse.ArgumentParser(prog="python -m infra.partners", description="Manage API partners.")
    commands = top.add_subparsers(dest="command", required=True)
    register = commands.add_parser(
        "register", help="register a partner: an OAuth2 client-credentials app client and its registry entry"
    )
    register.add_argument("--name", required=True, help="the partner's display name (1 to 80 characters)")
    register.add_argument(
        "--scopes",
        help=f"comma-separated scopes the partner may ask for (default: all: {','.join(SCOPES)})",
    )
    target = register.add_mutually_exclusive_group(required=True)
    target.add_argument("--stack", metavar="STACK_NAME", help="a deployed CloudFormation stack")
    target.add_argument("--local", action="store_true", help="the running local stack")
    register.add_argument("--region", help="the stack's region (default: the AWS configuration's)")
    register.add_argument(
        "--state", type=Path, help="with --local: the stack.json to read (default: .local/stack.json)"
    )
    register.add_argument(
        "--no-wait", action="store_true", help="with --stack: do not wait for the stack update to finish"
    )
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; the registered partner goes to stdout as JSON."""
    args = parser().parse_args(argv)
    try:
        name = check_name(args.name)
        scopes = parse_scopes(args.scopes)
        if args.local:
            if args.region or args.no_wait:
                raise RegistrationError("--region and --no-wait go with --stack")
            result = register_local(read_state(args.state or default_state_file()), name, scopes)
        else:
            if args.state:
                raise RegistrationError("--state goes with --local")
            import boto3

            session = boto3.session.Session(region_name=args.region)
            result = register_in_stack(
                session.client("cloudformation"),
                session.client("cognito-idp"),
                args.stack,
                name,
                scopes,
                wait=not args.no_wait,
            )
    except RegistrationError as exc:
        print(f"partners: {exc}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError) as exc:
        print(f"partners: AWS refused: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    print("partners: the client secret is shown only now; hand it to the partner safely.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
