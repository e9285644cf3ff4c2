"""A whole account: its export (GDPR art. 20) and its erasure (GDPR art. 17).

The export is everything the person can see of their data: their partition's items by kind,
their promises as they see them (each in its own partition), their blocks with current handles.

The erasure removes every item of the person, their devices' push endpoints, their sign-in
user, and leaves a marker that keeps their still-valid tokens out.

Order matters. The marker comes first: from then on every request with the person's token is a
401 and every write for them fails inside its own transaction, so a write in flight cannot
bring anything back after the deletion below has passed it. Their change log, written without
a transaction, is closed next (`shared.store.sync.close`, which waits for a writer holding it).
Then global sign-out (no new
tokens), the promises they share (anonymised for the other person) or had alone (deleted), the
items of their partition and those the ByOwner index finds, and last the sign-in user.
Every step is idempotent: a retried erasure carries on where a failed one stopped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.logic.blocks import with_current_handles
from shared.logic.plans import plans_from_items
from shared.logic.promises import forget_person, promises_as_i_see_them
from shared.push import delete_endpoints
from shared.store import accounts
from shared.store import sync as change_log
from shared.store.identity import delete_sign_in_user, sign_out_everywhere


@dataclass(frozen=True)
class AccountData:
    """Everything of mine to export: my partition's items by kind (without the memberships,
    blocks and plans, shown below as they should be), my promises as I see them, my blocks, my
    plans with their items and obstacles."""

    items_by_kind: dict[str, list[dict[str, Any]]]
    promises: list[dict[str, Any]]
    blocks: list[dict[str, Any]]
    plans: list[dict[str, Any]]


def export_account(user_id: str) -> AccountData:
    """One Query of my partition (per 1 MB page), then one Query per promise my memberships
    name, and one BatchGetItem per 100 blocks for the handles they show."""
    grouped = accounts.export_items(user_id)
    memberships = grouped.pop("promise-membership", [])
    blocked = grouped.pop("block", [])
    plans = plans_from_items(
        grouped.pop("plan", []), grouped.pop("plan-item", []), grouped.pop("plan-obstacle", [])
    )
    return AccountData(
        items_by_kind=grouped,
        promises=promises_as_i_see_them(user_id, [str(m["promiseId"]) for m in memberships]),
        blocks=with_current_handles(blocked),
        plans=plans,
    )


@dataclass(frozen=True)
class Erasure:
    """What an erasure did: items deleted, shared promises anonymised."""

    items_erased: int
    promises_anonymised: int


def erase_account(user_id: str, username: str, now: datetime) -> Erasure:
    """Erase everything of this person (see the module docstring for the order, and why)."""
    accounts.mark_erased(user_id, now)
    # The change log takes no transaction, so it does not read the marker: close it (waiting
    # for a writer holding it), and its writers find it closed.
    change_log.close(user_id, now)
    sign_out_everywhere(username)
    forgotten = forget_person(user_id)
    found = accounts.find_items(user_id)
    found.keys += forgotten.keys_to_delete
    # Endpoints first: once the device items are gone nothing would name them any more.
    delete_endpoints(user_id, found.endpoint_arns)
    erased = accounts.delete_items(found)
    delete_sign_in_user(username)
    return Erasure(items_erased=erased, promises_anonymised=forgotten.anonymised)
