"""Push messages "sent" while the local stack runs, for `GET /_local/push` to list.

The functions run in the gateway's process, so whatever stands in for the push service
appends here and the gateway reads the same list. What stands in is a botocore hook (`watch`)
on the SNS clients of this process: every Publish to a platform endpoint that the emulator
accepted is recorded with what that endpoint's device would receive. moto keeps the same
messages in its backend (`PlatformEndpoint.messages`), but without a time or an order across
endpoints, and a disabled endpoint's refused publish is never there: the hook sees the call
as the function made it, and its answer.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

SENT: list[dict[str, Any]] = []
_LOCK = threading.Lock()


def record(endpoint: str, message: Any, sent_at: datetime | None = None) -> dict[str, Any]:
    """Remember one push message (oldest first) and answer the entry as listed."""
    when = (sent_at or datetime.now(UTC)).astimezone(UTC)
    entry = {"endpoint": endpoint, "message": message, "sentAt": when.strftime("%Y-%m-%dT%H:%M:%SZ")}
    with _LOCK:
        SENT.append(entry)
    return entry


def items() -> list[dict[str, Any]]:
    """A snapshot of the messages sent so far, oldest first."""
    with _LOCK:
        return list(SENT)


def clear() -> None:
    """Forget every message (tests use it to start from nothing)."""
    with _LOCK:
        SENT.clear()


def watch(events: Any) -> None:
    """Record every SNS Publish to a platform endpoint made through `events`' clients.

    `events` is a botocore event emitter: a session's (clients made from it later copy its
    hooks; the stack uses boto3's default session, which the functions' clients come from) or
    one client's (`client.meta.events`, as tests do).
    """
    events.register("before-parameter-build.sns.Publish", _remember_publish, unique_id="local-push-request")
    events.register("after-call.sns.Publish", _record_publish, unique_id="local-push-record")


def _remember_publish(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    # after-call sees the response but not the parameters; the request context carries them over.
    context["local_push"] = {
        "endpoint": params.get("TargetArn"),
        "message": params.get("Message"),
        "structure": params.get("MessageStructure"),
    }


def _record_publish(http_response: Any, context: dict[str, Any], **_: Any) -> None:
    request = context.get("local_push") or {}
    endpoint = request.get("endpoint")
    if not endpoint or ":endpoint/" not in endpoint or http_response is None:
        return  # a topic or an SMS, not a device
    if http_response.status_code >= 300:
        return  # refused (a disabled endpoint, say): nothing reached the device
    record(endpoint, delivered_message(endpoint, request.get("message"), request.get("structure")))


def delivered_message(endpoint_arn: str, message: Any, structure: str | None) -> Any:
    """What the device behind `endpoint_arn` receives of a Publish, as SNS picks it.

    With MessageStructure=json SNS sends the endpoint's platform its own entry (APNS, GCM, ...)
    or else `default`; platform entries are JSON documents in strings, shown here decoded.
    """
    if structure != "json" or not isinstance(message, str):
        return message
    try:
        per_platform = json.loads(message)
    except ValueError:
        return message
    # arn:aws:sns:<region>:<account>:endpoint/<PLATFORM>/<application>/<id>
    platform = endpoint_arn.split(":endpoint/", 1)[1].split("/", 1)[0]
    chosen = per_platform.get(platform, per_platform.get("default"))
    if isinstance(chosen, str) and platform in per_platform:
        try:
            return json.loads(chosen)
        except ValueError:
            return chosen
    return chosen
