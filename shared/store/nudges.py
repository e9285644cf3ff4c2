"""Promise nudges in the performer's partition: `NUDGE#<promiseId>`, in the due index.

The promise log puts one in the transaction of the move that makes a promise `promised` (and
deletes it in the move that takes it out of `promised`); the dispatcher reads it with the due
reminders (same sparse index, same shards) and fires it: the "due soon" one moves on to the
"overdue" one, which is then deleted, each conditioned on the `nextFireAt` it read.
"""

from __future__ import annotations

from typing import Any

from shared.domain.nudges import Nudge, Stage
from shared.domain.timeutil import to_rfc3339
from shared.store import keys
from shared.store.table import key, serialize, table_name
from shared.store.transaction import Transaction


def _due_keys(pk: str, sk: str, at: str) -> dict[str, str]:
    return {"dueShard": keys.due_shard(pk, sk), "dueAt": f"{at}#{pk}#{sk}"}


def nudge_put(performer_id: str, promise: dict[str, Any], nudge: Nudge) -> dict[str, Any]:
    """A transaction's Put of the performer's next nudge of `promise` (over any earlier one)."""
    pk, sk = keys.user_pk(performer_id), keys.nudge_sk(str(promise["promiseId"]))
    at = to_rfc3339(nudge.at)
    item = {
        "PK": pk,
        "SK": sk,
        "entity": "promise-nudge",
        "promiseId": promise["promiseId"],
        "title": str(promise["what"])[:120],  # what the push says
        "promiseDueAt": promise["dueAt"],
        "stage": nudge.stage,
        "nextFireAt": at,
        **_due_keys(pk, sk, at),
    }
    return {"Put": {"TableName": table_name(), "Item": serialize(item)}}


def nudge_delete(performer_id: str, promise_id: str) -> dict[str, Any]:
    """A transaction's Delete of the performer's nudge of a promise (there may be none)."""
    return {
        "Delete": {
            "TableName": table_name(),
            "Key": key(keys.user_pk(performer_id), keys.nudge_sk(promise_id)),
        }
    }


def advance_nudge(item: dict[str, Any], following: Nudge | None, inbox: dict[str, Any]) -> None:
    """Fire a nudge once: on to the next stage (or deleted after the last), conditioned on the
    `nextFireAt` read, with the inbox item and the performer's account check."""
    pk, sk = str(item["PK"]), str(item["SK"])
    read = {":read": {"S": str(item["nextFireAt"])}}
    write: dict[str, Any]
    if following is None:
        write = {
            "Delete": {
                "TableName": table_name(),
                "Key": key(pk, sk),
                "ConditionExpression": "nextFireAt = :read",
                "ExpressionAttributeValues": read,
            }
        }
    else:
        at = to_rfc3339(following.at)
        due = _due_keys(pk, sk, at)
        stage: Stage = following.stage
        write = {
            "Update": {
                "TableName": table_name(),
                "Key": key(pk, sk),
                "UpdateExpression": "SET nextFireAt = :next, dueAt = :due, #stage = :stage",
                "ConditionExpression": "nextFireAt = :read",
                "ExpressionAttributeNames": {"#stage": "stage"},
                "ExpressionAttributeValues": {
                    **read,
                    ":next": {"S": at},
                    ":due": {"S": due["dueAt"]},
                    ":stage": {"S": stage},
                },
            }
        }
    tx = Transaction()
    tx.add("nudge", [write])
    tx.add("inbox", [inbox])
    tx.require_account(pk.removeprefix("USER#"))
    tx.commit()
