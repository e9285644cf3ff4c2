"""The local stack: `python -m infra.local.stack` (what `make run` runs).

Starts the AWS emulator (moto, in this process), creates the template's table, user pool, app
client, resource server and push applications from template.yaml, seeds a demo user and a demo
partner (allowed every partner scope), serves the API gateway with the template's authorizers and
the partners' token endpoint `POST /oauth2/token` (recording every push for `GET /_local/push`),
writes
`$LOCAL_STATE_DIR/stack.json` (default `.local/`) and runs until Ctrl-C or SIGTERM.
Everything binds to 127.0.0.1 only.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from infra.local.template import ROOT, Template, evaluate_conditions, load, resolve

HOST = "127.0.0.1"
ACCOUNT_ID = "123456789012"
DEMO_USERNAME = "demo@example.com"
DEMO_PARTNER_NAME = "Demo Coaching"
STAGE = "local"


@dataclass(frozen=True)
class Settings:
    """Where the stack listens and writes, from the environment."""

    api_port: int
    aws_port: int
    region: str
    state_dir: Path

    @classmethod
    def from_env(cls) -> Settings:
        """Read API_PORT, AWS_PORT, AWS_DEFAULT_REGION and LOCAL_STATE_DIR."""
        state = Path(os.environ.get("LOCAL_STATE_DIR", ".local"))
        return cls(
            api_port=int(os.environ.get("API_PORT", "3000")),
            aws_port=int(os.environ.get("AWS_PORT", "5000")),
            region=os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
            state_dir=state if state.is_absolute() else ROOT / state,
        )


def port_is_free(port: int) -> bool:
    """Whether a loopback port can be bound now (moto's server would hang on a taken port)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def base_refs(template: Template, region: str) -> dict[str, str]:
    """Values for `Ref`/`Sub`: parameter defaults, pseudo parameters and local overrides."""
    refs = {
        name: str(p["Default"]) for name, p in template.raw.get("Parameters", {}).items() if "Default" in p
    }
    refs.update(
        {
            "Stage": STAGE,
            "AWS::Region": region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::StackName": f"career-journey-{STAGE}",
            "AWS::URLSuffix": "amazonaws.com",
            # Push is on locally: the emulator takes any credentials, so the secrets these
            # name are never read (create_platform_applications).
            "ApnsCredentialsSecretArn": f"arn:aws:secretsmanager:{region}:{ACCOUNT_ID}:secret:local-apns",
            "FcmCredentialsSecretArn": f"arn:aws:secretsmanager:{region}:{ACCOUNT_ID}:secret:local-fcm",
        }
    )
    evaluate_conditions(template, refs)
    return refs


def function_environment(
    template: Template, refs: dict[str, str], aws_url: str, region: str
) -> dict[str, str]:
    """The process environment the functions run with: theirs from the template, resolved."""
    env: dict[str, str] = {}
    for fn in template.functions():
        for key, value in fn.environment.items():
            resolved = str(resolve(value, refs))
            if key in env and env[key] != resolved:
                # All functions share this process, hence one environment.
                print(
                    f"local stack: {key} differs between functions; {fn.logical_id}'s wins", file=sys.stderr
                )
            env[key] = resolved
    env.update(
        {
            "AWS_ENDPOINT_URL": aws_url,
            "AWS_DEFAULT_REGION": region,
            "AWS_REGION": region,
            "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
            "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
            # Keep the console to the request log and real warnings.
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            # The emulator answers in tens to hundreds of milliseconds, and under load it queues
            # requests one at a time: the functions wait longer for it than for DynamoDB (whose
            # 2 s read timeout keeps the 503 inside a deployed function's timeout).
            "DYNAMODB_READ_TIMEOUT_SECONDS": "15",
        }
    )
    return env


def write_state(path: Path, info: dict[str, Any]) -> None:
    """Write stack.json atomically, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


@contextmanager
def running_stack(settings: Settings, template: Template | None = None) -> Iterator[dict[str, Any]]:
    """Everything up and serving; yields stack.json's content, tears it all down on exit."""
    import boto3
    import requests
    from werkzeug.serving import make_server

    from infra.local import aws, push
    from infra.local.emulator import Emulator
    from infra.local.gateway import Gateway, local_functions
    from infra.local.oauth import (
        PartnerClients,
        TokenEndpoint,
        TokenKey,
        create_resource_servers,
        template_authorizers,
    )
    from infra.local.queues import QueuePoller, create_queues, queue_sources
    from infra.local.scheduler import Scheduler, Timer, scheduled_event, timers_for
    from infra.local.streams import StreamPoller, stream_sources
    from infra.partners import register_partner
    from shared.domain.partners import SCOPES

    template = template or load()
    for port in (settings.aws_port, settings.api_port):
        if not port_is_free(port):
            raise SystemExit(f"local stack: port {port} on {HOST} is taken (set API_PORT / AWS_PORT)")
    # Request lines come from the gateway; moto's and werkzeug's own would double them.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # Metrics are disabled locally, so Powertools' "no metrics to publish" would fire on every call.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ["AWS_DEFAULT_REGION"] = settings.region

    with ExitStack() as stack:
        emulator = Emulator(HOST, settings.aws_port)
        emulator.start()
        stack.callback(emulator.stop)
        aws_url = f"http://{HOST}:{settings.aws_port}"
        session = boto3.session.Session(region_name=settings.region)
        dynamodb = session.client("dynamodb", endpoint_url=aws_url)
        cognito = session.client("cognito-idp", endpoint_url=aws_url)
        sns = session.client("sns", endpoint_url=aws_url)

        refs = base_refs(template, settings.region)
        table_name = aws.create_table(dynamodb, template, refs)
        table = dynamodb.describe_table(TableName=table_name)["Table"]
        ((table_id, _),) = template.resources_of_type("AWS::DynamoDB::Table").items()
        refs.update({table_id: table_name, f"{table_id}.Arn": table["TableArn"]})
        if "LatestStreamArn" in table:
            refs[f"{table_id}.StreamArn"] = table["LatestStreamArn"]
        identity = aws.create_identity(cognito, template, refs)
        create_resource_servers(cognito, template, refs)
        aws.create_platform_applications(sns, template, refs)
        # The template's secrets (the client id key, the cursor keys), their ARNs as their Refs:
        # fresh values each start, so cursors from an earlier run do not verify.
        aws.create_secrets(session.client("secretsmanager", endpoint_url=aws_url), template, refs)
        # The template's queues (the webhook queue and its dead letters, on-failure queues).
        sqs = session.client("sqs", endpoint_url=aws_url)
        create_queues(sqs, template, refs)
        # Partners' webhooks point at loopback receivers locally (deployed, never).
        os.environ["WEBHOOKS_ALLOW_LOOPBACK"] = "true"
        demo_password = aws.generate_password()
        aws.sign_up_confirmed(cognito, identity, DEMO_USERNAME, demo_password)

        # The emulator signs user tokens with moto's key; partner tokens are signed here, with a
        # key of this run, under the pool's issuer (as the user tokens carry it).
        token_key = TokenKey()
        issuer = f"https://cognito-idp.{settings.region}.amazonaws.com/{identity.user_pool_id}"
        jwks_url = f"{aws_url}/{identity.user_pool_id}/.well-known/jwks.json"
        # Fail now, not on the first request, if the emulator does not serve the key set.
        if not requests.get(jwks_url, timeout=5).json().get("keys"):
            raise RuntimeError(f"the emulator serves no JWKS at {jwks_url}")
        authorizers = template_authorizers(
            template,
            refs,
            token_key=token_key,
            partner_clients=PartnerClients(cognito, identity.user_pool_id),
            jwks_url=jwks_url,
        )
        default_authorizer = template.http_api_default_authorizer()

        os.environ.update(function_environment(template, refs, aws_url, settings.region))
        # The functions' clients come from boto3's default session and copy its hooks when
        # made, which is after this (functions are imported on their first request).
        if boto3.DEFAULT_SESSION is None:
            boto3.setup_default_session()
        assert boto3.DEFAULT_SESSION is not None
        push.watch(boto3.DEFAULT_SESSION.events)
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        # Registered as an operator would (`python -m infra.partners register --local`), through
        # the functions' own table client now that their environment is set.
        demo_partner = register_partner(cognito, identity.user_pool_id, DEMO_PARTNER_NAME, SCOPES)
        functions = local_functions(template, refs)
        gateway = Gateway(
            template.routes(),
            functions,
            authorizers.get(default_authorizer) if default_authorizer else None,
            authorizers=authorizers,
            token_endpoint=TokenEndpoint(cognito, identity.user_pool_id, issuer, token_key),
            region=settings.region,
            openapi_path=ROOT / "docs" / "openapi.json",
        )
        server = make_server(HOST, settings.api_port, gateway, threaded=True)
        serving = threading.Thread(target=server.serve_forever, name="local-gateway", daemon=True)
        serving.start()
        stack.callback(server.server_close)
        stack.callback(serving.join, 5)
        stack.callback(server.shutdown)

        def fire(timer: Timer) -> None:
            functions[timer.function].invoke(scheduled_event(time_now(), settings.region))

        sources = stream_sources(template)
        if sources and "LatestStreamArn" in table:
            poller = StreamPoller(
                session.client("dynamodbstreams", endpoint_url=aws_url),
                table["LatestStreamArn"],
                sources,
                lambda function, event: functions[function].invoke(event),
            )
            poller.start()
            stack.callback(poller.stop)

        queue_poller = QueuePoller(
            sqs,
            queue_sources(template),
            refs,
            settings.region,
            lambda function, event: functions[function].invoke(event),
        )
        queue_poller.start()
        stack.callback(queue_poller.stop)

        timers = [t for fn in template.functions() for t in timers_for(fn.logical_id, fn.schedules)]
        scheduler = Scheduler(timers, fire)
        scheduler.start()
        stack.callback(scheduler.stop)

        api_url = f"http://{HOST}:{settings.api_port}"
        info = {
            "apiUrl": api_url,
            "awsEndpointUrl": aws_url,
            "region": settings.region,
            "userPoolId": identity.user_pool_id,
            "userPoolClientId": identity.user_pool_client_id,
            "tableName": table_name,
            "tokenUrl": f"{api_url}/oauth2/token",
            "partners": [
                {k: demo_partner[k] for k in ("partnerId", "clientId", "clientSecret")},
            ],
            "demoUser": {"username": DEMO_USERNAME, "password": demo_password},
        }
        state_file = settings.state_dir / "stack.json"
        write_state(state_file, info)
        # A stale stack.json would point tools at ports nobody listens on.
        stack.callback(state_file.unlink, missing_ok=True)
        yield info


def time_now() -> Any:
    """Now, in UTC (a function so the scheduler's clock is one place)."""
    from datetime import UTC, datetime

    return datetime.now(UTC)


def main() -> int:
    """Run the stack until Ctrl-C or SIGTERM."""
    settings = Settings.from_env()
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    started = time.monotonic()
    with running_stack(settings) as info:
        print(
            f"local stack up in {time.monotonic() - started:.1f}s: API {info['apiUrl']}, "
            f"AWS {info['awsEndpointUrl']}, state {settings.state_dir / 'stack.json'}",
            flush=True,
        )
        print(f"demo user {info['demoUser']['username']} / {info['demoUser']['password']}", flush=True)
        while not stop.wait(0.5):
            pass
        print("local stack: stopping", flush=True)
        stopping = time.monotonic()
    print(f"local stack: stopped in {time.monotonic() - stopping:.1f}s", flush=True)
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Everything is shut down and the state file is gone. Skip the interpreter's final garbage
    # collection: after a long session the emulator holds millions of objects (every item
    # version it keeps for the stream, copies of tables), and collecting them takes longer
    # than stopping did, with nothing left to release that the OS does not release anyway.
    os._exit(code)
