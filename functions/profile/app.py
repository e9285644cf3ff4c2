"""The profile API: my profile, my devices, my inbox, my blocks, and erasure of my account
(its export is `functions/account`)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from shared.api.etag import check_if_match, current_on_stale, etag
from shared.api.idempotency import idempotent
from shared.api.pagination import DEFAULT_LIMIT, decode_cursor, encode_cursor
from shared.api.params import Cursor, IdempotencyKey, IfMatch, IfNoneMatch, Limit, path_id
from shared.api.problems import problem_responses
from shared.api.ratelimit import ERASURE, limit_person
from shared.api.resolver import App, json_response, lambda_entry
from shared.domain.timeutil import utc_now
from shared.logic import blocks as block_logic
from shared.logic import profiles as logic
from shared.models.block import Block, BlockInput
from shared.models.common import Page, validate_document
from shared.models.notification import Notification
from shared.models.profile import Device, DeviceInput, Profile, ProfileInput, ProfilePatch
from shared.observability import metrics
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
    return _profile_response(logic.read_profile(app.user.user_id))


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
    with _on_stale(user_id):
        stored, created = logic.put_profile(
            user_id,
            profile.model_dump(by_alias=True, mode="json", exclude_none=True),
            utc_now(),
            if_match=if_match,
            create_only=if_none_match is not None and if_none_match.strip() == "*",
            check_version=check_if_match,
        )
    metrics.add_metric(name="ProfilesCreated" if created else "ProfilesReplaced", unit="Count", value=1)
    return _profile_response(stored, 201 if created else 200)


@app.patch(
    "/v1/me",
    operation_id="updateMe",
    tags=["Profile"],
    summary="Change parts of my profile (JSON Merge Patch, RFC 7396)",
    responses={200: {"description": "My changed profile"}, **problem_responses(404, 409, 412)},
)
def patch_me(patch: Annotated[ProfilePatch, Body()], if_match: IfMatch = None) -> Response[Profile]:
    user_id = app.user.user_id
    with _on_stale(user_id):
        stored = logic.patch_profile(
            user_id,
            patch.model_dump(by_alias=True, mode="json", exclude_unset=True),
            utc_now(),
            if_match=if_match,
            check_version=check_if_match,
            validate=_profile_document,
        )
    return _profile_response(stored)


def _profile_document(merged: dict[str, Any]) -> dict[str, Any]:
    """My profile after a merge patch, validated as a whole."""
    return validate_document(ProfileInput, merged).model_dump(by_alias=True, mode="json", exclude_none=True)


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
    with _on_stale(user.user_id):
        erasure = logic.erase_account(
            user.user_id, user.username, utc_now(), if_match=if_match, check_version=check_if_match
        )
    metrics.add_metric(name="AccountsErased", unit="Count", value=1)
    metrics.add_metric(name="ItemsErased", unit="Count", value=erasure.items_erased)
    metrics.add_metric(name="SharedPromisesAnonymised", unit="Count", value=erasure.promises_anonymised)
    return Response(status_code=204, body=None)


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
        stored, created = logic.register_device(user_id, payload, utc_now())
        return json_response(201 if created else 200, stored, {"Location": _device_url(stored)})

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
    logic.remove_device(app.user.user_id, device_id)
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
