"""The profile and account API: my profile, my devices, my inbox, export and erasure of my account."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from botocore.exceptions import BotoCoreError, ClientError

from shared.api.etag import check_if_match, current_on_stale, etag
from shared.api.idempotency import idempotent
from shared.api.pagination import DEFAULT_LIMIT, decode_cursor, encode_cursor
from shared.api.params import Cursor, IdempotencyKey, IfMatch, IfNoneMatch, Limit, path_id
from shared.api.problems import problem_responses
from shared.api.ratelimit import ERASURE, EXPORT, limit_person
from shared.api.resolver import App, json_response, lambda_entry
from shared.domain.errors import AccountErased, NotFound, PreconditionFailed, ServiceUnavailable
from shared.domain.ids import new_id
from shared.domain.merge_patch import apply_merge_patch
from shared.domain.timeutil import to_rfc3339, utc_now
from shared.logic import blocks as block_logic
from shared.models.block import Block, BlockInput
from shared.models.common import Page, validate_document
from shared.models.export import AccountExport
from shared.models.notification import Notification
from shared.models.profile import Device, DeviceInput, Profile, ProfileInput, ProfilePatch
from shared.observability import logger, metrics
from shared.push import delete_endpoints, register_endpoint
from shared.store import blocks, devices, notifications, profiles

app = App()


def _profile_response(stored: profiles.StoredProfile, status: int = 200) -> Response[Profile]:
    body = Profile.model_validate(stored.data).model_dump(by_alias=True, mode="json")
    return json_response(status, body, {"ETag": etag(stored.version)})


def _on_stale(user_id: str) -> AbstractContextManager[None]:
    """A 412 shows my profile as GET does now (the one read, or one more after a race)."""
    return current_on_stale(lambda: profiles.get_profile(user_id), _profile_response, Profile)


@app.get(
    "/v1/me",
    operation_id="getMe",
    tags=["Profile"],
    summary="Read my profile",
    responses={200: {"description": "My profile"}, **problem_responses(404)},
)
def get_me() -> Response[Profile]:
    stored = profiles.get_profile(app.user.user_id)
    if stored is None:
        raise NotFound("You have no profile yet; create it with PUT /v1/me.")
    return _profile_response(stored)


@app.put(
    "/v1/me",
    operation_id="replaceMe",
    tags=["Profile"],
    summary="Create or replace my profile",
    responses={
        200: {"description": "Replaced"},
        201: {"description": "Created"},
        **problem_responses(409, 412),
    },
)
def put_me(
    profile: Annotated[ProfileInput, Body()],
    if_match: IfMatch = None,
    if_none_match: IfNoneMatch = None,
) -> Response[Profile]:
    user_id = app.user.user_id
    current = profiles.get_profile(user_id)
    with _on_stale(user_id):
        check_if_match(if_match, current.version if current else None, current)
        if if_none_match and if_none_match.strip() == "*" and current is not None:
            raise PreconditionFailed("A profile exists already.", found=current)
        moment = utc_now()
        now = to_rfc3339(moment)
        data = profile.model_dump(by_alias=True, mode="json", exclude_none=True)
        data["createdAt"] = current.data["createdAt"] if current else now
        data["updatedAt"] = now
        stored = profiles.save_profile(user_id, data, current, moment)
    metrics.add_metric(
        name="ProfilesCreated" if current is None else "ProfilesReplaced", unit="Count", value=1
    )
    return _profile_response(stored, 201 if current is None else 200)


@app.patch(
    "/v1/me",
    operation_id="updateMe",
    tags=["Profile"],
    summary="Change parts of my profile (JSON Merge Patch, RFC 7396)",
    responses={200: {"description": "My changed profile"}, **problem_responses(404, 409, 412)},
)
def patch_me(patch: Annotated[ProfilePatch, Body()], if_match: IfMatch = None) -> Response[Profile]:
    user_id = app.user.user_id
    current = profiles.get_profile(user_id)
    if current is None:
        raise NotFound("You have no profile yet; create it with PUT /v1/me.")
    with _on_stale(user_id):
        check_if_match(if_match, current.version, current)
        changes = patch.model_dump(by_alias=True, mode="json", exclude_unset=True)
        merged = apply_merge_patch(
            {k: v for k, v in current.data.items() if k not in ("createdAt", "updatedAt")}, changes
        )
        validated = validate_document(ProfileInput, merged)
        data = validated.model_dump(by_alias=True, mode="json", exclude_none=True)
        moment = utc_now()
        data["createdAt"] = current.data["createdAt"]
        data["updatedAt"] = to_rfc3339(moment)
        return _profile_response(profiles.save_profile(user_id, data, current, moment))


@app.delete(
    "/v1/me",
    operation_id="deleteMe",
    tags=["Account"],
    summary="Erase my account: every item of mine, my devices and my sign-in user",
    responses={204: {"description": "Erased"}, **problem_responses(412)},
)
def delete_me(if_match: IfMatch = None) -> Response[None]:
    user = app.user
    # Before anything is read: a refused attempt costs its counter's write alone.
    limit_person(user.user_id, ERASURE)
    if if_match is not None:
        current = profiles.get_profile(user.user_id)
        with _on_stale(user.user_id):
            check_if_match(if_match, current.version if current else None, current)
    # Imported here: erasure is rare, and the promise log is not on this function's hot path.
    from shared.logic.accounts import erase_account

    erasure = erase_account(user.user_id, user.username, utc_now())
    metrics.add_metric(name="AccountsErased", unit="Count", value=1)
    metrics.add_metric(name="ItemsErased", unit="Count", value=erasure.items_erased)
    metrics.add_metric(name="SharedPromisesAnonymised", unit="Count", value=erasure.promises_anonymised)
    return Response(status_code=204, body=None)


@app.get(
    "/v1/me/export",
    operation_id="exportMyData",
    tags=["Account"],
    summary="All my data as one JSON document (GDPR art. 20)",
)
def export_me() -> AccountExport:
    user_id = app.user.user_id
    limit_person(user_id, EXPORT)
    # Imported here: export is rare, and the promise log is not on this function's hot path.
    from shared.logic.accounts import export_account

    data = export_account(user_id)
    return AccountExport.from_items(
        user_id,
        to_rfc3339(utc_now()),
        data.items_by_kind,
        promises=data.promises,
        blocks=data.blocks,
        plans=data.plans,
    )


@app.post(
    "/v1/me/devices",
    operation_id="registerDevice",
    tags=["Notifications"],
    summary="Register this device for push notifications",
    responses={
        200: {"description": "Already registered: the existing device"},
        201: {"description": "Registered"},
        **problem_responses(409),
    },
)
def register_device(
    device: Annotated[DeviceInput, Body()], idempotency_key: IdempotencyKey = None
) -> Response[Device]:
    user_id = app.user.user_id
    payload = device.model_dump(by_alias=True, mode="json")

    def produce() -> Response[Any]:
        # The common cases answered from one Query, before the push service is asked anything:
        # this install registered already, or no room for another.
        existing, _ = devices.list_devices(user_id)
        for item in existing:
            if item["pushToken"] == device.push_token and item["platform"] == device.platform:
                return json_response(200, item, {"Location": _device_url(item)})
        if len(existing) >= devices.MAX_DEVICES:
            raise devices.DeviceLimitReached()
        endpoint = register_endpoint(user_id, device.platform, device.push_token)
        try:
            stored, created = devices.register_device(
                user_id,
                {
                    "deviceId": new_id(),
                    **payload,
                    "createdAt": to_rfc3339(utc_now()),
                    "endpointArn": endpoint.arn if endpoint else None,
                },
            )
        except (devices.DeviceLimitReached, AccountErased):
            # Lost a race for the last place, or to the erasure of my account: the endpoint made
            # for this token would serve no one, and no device item would name it for deletion.
            if endpoint and not endpoint.previous_owner:
                delete_endpoints(user_id, [endpoint.arn])
            raise
        if not created:  # a concurrent registration of the same install won: it is this device
            return json_response(200, stored, {"Location": _device_url(stored)})
        if endpoint and endpoint.previous_owner:
            _forget_for_previous_owner(endpoint.previous_owner, device)
        return json_response(201, stored, {"Location": _device_url(stored)})

    return idempotent(
        context=app.lambda_context,
        user_id=user_id,
        operation="register_device",
        key=idempotency_key,
        payload=payload,
        produce=produce,
    )


def _device_url(device: dict[str, Any]) -> str:
    return f"/v1/me/devices/{device['deviceId']}"


def _forget_for_previous_owner(previous_owner: str, device: DeviceInput) -> None:
    """The install now belongs to me: the person it was registered to stops reaching it.

    Best effort: my registration stands even if their stale device item stays (their pushes
    would then still go to this install until they remove it, hence the log).
    """
    try:
        devices.forget_push_token(previous_owner, device.platform, device.push_token)
    except (ClientError, BotoCoreError, ServiceUnavailable):
        logger.exception("Could not forget a push token taken over by another person")


@app.get(
    "/v1/me/devices", operation_id="listMyDevices", tags=["Notifications"], summary="My registered devices"
)
def list_my_devices(limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Page[Device]:
    user_id = app.user.user_id
    start = decode_cursor(cursor, user_id=user_id, list_name="devices")
    items, last = devices.list_devices(user_id, limit=limit, start=start)
    return Page[Device](
        items=[Device.model_validate(i) for i in items],
        next_cursor=encode_cursor(last, user_id=user_id, list_name="devices"),
    )


@app.delete(
    "/v1/me/devices/<deviceId>",
    operation_id="removeDevice",
    tags=["Notifications"],
    summary="Remove one of my devices",
    responses={204: {"description": "Removed"}, **problem_responses(404)},
)
def remove_my_device(
    device_id: Annotated[str, path_id("deviceId")],
) -> Response[None]:
    user_id = app.user.user_id
    endpoint_arn = devices.remove_device(user_id, device_id)
    if endpoint_arn:
        delete_endpoints(user_id, [endpoint_arn])
    return Response(status_code=204, body=None)


@app.post(
    "/v1/me/blocks",
    operation_id="blockPerson",
    tags=["Blocks"],
    summary="Block someone: their requests and offers to me are refused as if my handle did not exist",
    responses={
        200: {"description": "Blocked already: the existing block"},
        201: {"description": "Blocked"},
        **problem_responses(422),
    },
)
def block_someone(
    block: Annotated[BlockInput, Body()], idempotency_key: IdempotencyKey = None
) -> Response[Block]:
    user_id = app.user.user_id
    payload = block.model_dump(by_alias=True, mode="json")

    def produce() -> Response[Any]:
        found, created = block_logic.block_person(user_id, block.handle, utc_now())
        body = Block.model_validate(found).model_dump(by_alias=True, mode="json")
        return json_response(201 if created else 200, body, {"Location": f"/v1/me/blocks/{found['blockId']}"})

    return idempotent(
        context=app.lambda_context,
        user_id=user_id,
        operation="block",
        key=idempotency_key,
        payload=payload,
        produce=produce,
    )


@app.get(
    "/v1/me/blocks",
    operation_id="listMyBlocks",
    tags=["Blocks"],
    summary="People I have blocked, oldest first",
)
def list_my_blocks(limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Page[Block]:
    user_id = app.user.user_id
    start = decode_cursor(cursor, user_id=user_id, list_name="blocks")
    items, last = block_logic.list_blocks(user_id, limit, start)
    return Page[Block](
        items=[Block.model_validate(i) for i in items],
        next_cursor=encode_cursor(last, user_id=user_id, list_name="blocks"),
    )


@app.delete(
    "/v1/me/blocks/<blockId>",
    operation_id="unblockPerson",
    tags=["Blocks"],
    summary="Unblock: their requests and offers reach me again",
    responses={204: {"description": "Unblocked"}, **problem_responses(404)},
)
def unblock(block_id: Annotated[str, path_id("blockId")]) -> Response[None]:
    blocks.remove_block(app.user.user_id, block_id)
    return Response(status_code=204, body=None)


@app.get(
    "/v1/me/notifications",
    operation_id="listMyNotifications",
    tags=["Notifications"],
    summary="My inbox: reminders and nudges sent to me, newest first",
)
def list_my_notifications(limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Page[Notification]:
    user_id = app.user.user_id
    start = decode_cursor(cursor, user_id=user_id, list_name="notifications")
    items, last = notifications.list_notifications(user_id, limit=limit, start=start)
    return Page[Notification](
        items=[Notification.model_validate(i) for i in items],
        next_cursor=encode_cursor(last, user_id=user_id, list_name="notifications"),
    )


# A retried erasure must finish, so the erased-account check lets it through.
lambda_handler = lambda_entry(app, allow_erased=("DELETE /v1/me",))
