"""The profile's use cases: my profile (create, replace, change), my devices for push, and the
erasure of my account (with its `If-Match`).

Blocks are `shared.logic.blocks`'; the export and the erasure's work are `shared.logic.accounts`'
(imported when used: they are rare, and they bring the promise log, which is not on this
function's hot path). Requests come as the validated models' camelCase JSON; the routes answer
them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from shared.domain.errors import AccountErased, NotFound, PreconditionFailed, ServiceUnavailable
from shared.domain.ids import new_id
from shared.domain.merge_patch import apply_merge_patch
from shared.domain.timeutil import to_rfc3339
from shared.observability import logger
from shared.push import delete_endpoints, register_endpoint
from shared.store import devices, profiles
from shared.store.profiles import StoredProfile

if TYPE_CHECKING:
    from shared.logic.accounts import Erasure

CheckVersion = Callable[[str | None, int | None, Any], None]  # (If-Match, version read, what was read)
Validate = Callable[[dict[str, Any]], dict[str, Any]]  # a merged document, checked as a whole

_NO_PROFILE = "You have no profile yet; create it with PUT /v1/me."


# --- my profile --------------------------------------------------------------------------------


def read_profile(user_id: str) -> StoredProfile:
    """My profile and its version; NotFound when I have none yet."""
    stored = profiles.get_profile(user_id)
    if stored is None:
        raise NotFound(_NO_PROFILE)
    return stored


def put_profile(
    user_id: str,
    profile: Mapping[str, Any],
    now: datetime,
    *,
    if_match: str | None,
    create_only: bool,
    check_version: CheckVersion,
) -> tuple[StoredProfile, bool]:
    """Create or replace my profile (`profile` is the validated `ProfileInput` as camelCase
    JSON); answers it and whether it is new.

    `create_only` (`If-None-Match: *`) refuses to replace one that exists (PreconditionFailed
    carrying it). The write is conditioned on the version read, with my handle's reservation.
    """
    current = profiles.get_profile(user_id)
    check_version(if_match, current.version if current else None, current)
    if create_only and current is not None:
        raise PreconditionFailed("A profile exists already.", found=current)
    at = to_rfc3339(now)
    data = dict(profile)
    data["createdAt"] = current.data["createdAt"] if current else at
    data["updatedAt"] = at
    return profiles.save_profile(user_id, data, current, now), current is None


def patch_profile(
    user_id: str,
    patch: Mapping[str, Any],
    now: datetime,
    *,
    if_match: str | None,
    check_version: CheckVersion,
    validate: Validate,
) -> StoredProfile:
    """Change parts of my profile (JSON Merge Patch); `validate` checks the merged `ProfileInput`
    as a whole. NotFound when I have no profile yet."""
    current = read_profile(user_id)
    check_version(if_match, current.version, current)
    merged = apply_merge_patch(
        {k: v for k, v in current.data.items() if k not in ("createdAt", "updatedAt")}, dict(patch)
    )
    data = validate(merged)
    data["createdAt"] = current.data["createdAt"]
    data["updatedAt"] = to_rfc3339(now)
    return profiles.save_profile(user_id, data, current, now)


# --- my account --------------------------------------------------------------------------------


def erase_account(
    user_id: str, username: str, now: datetime, *, if_match: str | None, check_version: CheckVersion
) -> Erasure:
    """Erase everything of mine (`shared.logic.accounts.erase_account`).

    With `If-Match` it goes ahead only while my profile is at that version (one read first; none
    without it). The erasure is imported here: it is rare, and it brings the promise log, which
    is not on this function's hot path.
    """
    if if_match is not None:
        current = profiles.get_profile(user_id)
        check_version(if_match, current.version if current else None, current)
    from shared.logic.accounts import erase_account as erase

    return erase(user_id, username, now)


# --- my devices --------------------------------------------------------------------------------


def register_device(user_id: str, device: Mapping[str, Any], now: datetime) -> tuple[dict[str, Any], bool]:
    """Register a device for push (`device` is the validated `DeviceInput` as camelCase JSON);
    answers the device and whether it is new (not: this install was registered already).

    The common cases are answered from one Query, before the push service is asked anything:
    this install registered already, or no room for another (DeviceLimitReached). A token that
    was another person's becomes mine: they stop reaching this install.
    """
    platform, push_token = str(device["platform"]), str(device["pushToken"])
    existing, _ = devices.list_devices(user_id)
    for item in existing:
        if item["pushToken"] == push_token and item["platform"] == platform:
            return item, False
    if len(existing) >= devices.MAX_DEVICES:
        raise devices.DeviceLimitReached()
    endpoint = register_endpoint(user_id, platform, push_token)
    try:
        stored, created = devices.register_device(
            user_id,
            {
                "deviceId": new_id(),
                **device,
                "createdAt": to_rfc3339(now),
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
        return stored, False
    if endpoint and endpoint.previous_owner:
        _forget_for_previous_owner(endpoint.previous_owner, platform, push_token)
    return stored, True


def _forget_for_previous_owner(previous_owner: str, platform: str, push_token: str) -> None:
    """The install now belongs to me: the person it was registered to stops reaching it.

    Best effort: my registration stands even if their stale device item stays (their pushes
    would then still go to this install until they remove it, hence the log).
    """
    try:
        devices.forget_push_token(previous_owner, platform, push_token)
    except (ClientError, BotoCoreError, ServiceUnavailable):
        logger.exception("Could not forget a push token taken over by another person")


def remove_device(user_id: str, device_id: str) -> None:
    """Remove one of my devices and its push endpoint; NotFound when it is not mine."""
    endpoint_arn = devices.remove_device(user_id, device_id)
    if endpoint_arn:
        delete_endpoints(user_id, [endpoint_arn])
