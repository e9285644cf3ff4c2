"""The journey's plan figures in my partition: one item per local month, and my streak state.

`JOURNEY#<YYYY-MM>#PLAN` (entity `journey-plan-month`) counts the items other than practices
marked done in that month of my own time zone (`itemsDone`) and holds the days of it on which
I practised (`practiceDays`, a number set: DynamoDB's ADD keeps it without a read, and adding
a day twice changes nothing). It sorts right after that month's promise counters, so the
journey reads both with the same Query. `STREAK#PRACTICE` (entity `practice-streak`) keeps the
streak state (`shared.domain.practice.StreakState`), written with a condition on its version,
so the journey's streaks cost one item whatever the history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from shared.domain.practice import NO_PRACTICE, StreakState, month_bits
from shared.store import keys
from shared.store.table import deserialize, dynamodb, key, serialize, table_name, throttling_as_unavailable

STREAK_SK = "STREAK#PRACTICE"
PLAN_MONTH_SUFFIX = "#PLAN"
UTC_ZONE = "UTC"


def plan_month_sk(month: str) -> str:
    """My plan figures of one local month (`YYYY-MM`)."""
    return f"{keys.journey_sk(month)}{PLAN_MONTH_SUFFIX}"


@dataclass(frozen=True)
class PracticeContext:
    """What a practice needs to know before it is written: my time zone and my streak state."""

    zone: str
    streak: StreakState
    streak_version: int | None  # None: no streak item yet


def _state(item: dict[str, Any]) -> StreakState:
    if not item:
        return NO_PRACTICE
    last = item.get("lastDay")
    return StreakState(
        last_day=date.fromisoformat(str(last)) if last else None,
        run=int(item.get("run", 0)),
        longest=int(item.get("longest", 0)),
    )


def _profile_and_streak(user_id: str, *, consistent: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """One BatchGetItem: my profile and my streak item (each {} when absent)."""
    pk = keys.user_pk(user_id)
    wanted = {
        table_name(): {
            "Keys": [key(pk, keys.PROFILE_SK), key(pk, STREAK_SK)],
            "ConsistentRead": consistent,
            "ProjectionExpression": "SK, #zone, #last, #run, #longest, #version",
            "ExpressionAttributeNames": {
                "#zone": "timeZone",
                "#last": "lastDay",
                "#run": "run",
                "#longest": "longest",
                "#version": "version",
            },
        }
    }
    found: dict[str, dict[str, Any]] = {}
    while wanted:
        with throttling_as_unavailable():
            response = dynamodb().batch_get_item(RequestItems=wanted)  # type: ignore[arg-type]
        for raw in response.get("Responses", {}).get(table_name(), []):
            item = deserialize(raw)
            found[str(item["SK"])] = item
        wanted = response.get("UnprocessedKeys") or {}  # type: ignore[assignment]
    return found.get(keys.PROFILE_SK, {}), found.get(STREAK_SK, {})


def context(user_id: str) -> PracticeContext:
    """My time zone (UTC without a profile) and my streak state, read consistently."""
    profile, streak = _profile_and_streak(user_id, consistent=True)
    version = int(streak["version"]) if streak else None
    return PracticeContext(str(profile.get("timeZone") or UTC_ZONE), _state(streak), version)


def zone_and_streak(user_id: str) -> tuple[str, StreakState]:
    """For the journey: my time zone and streak state (eventually consistent, one request)."""
    profile, streak = _profile_and_streak(user_id, consistent=False)
    return str(profile.get("timeZone") or UTC_ZONE), _state(streak)


def month_update(user_id: str, month: str, *, items_done: int, day: date | None) -> dict[str, Any]:
    """A transaction's Update of my plan figures for one local month (made on first use)."""
    expression = "SET #entity = :entity, #month = :month"
    adds = []
    values: dict[str, Any] = {":entity": {"S": "journey-plan-month"}, ":month": {"S": month}}
    if items_done:
        adds.append("itemsDone :done")
        values[":done"] = {"N": str(items_done)}
    if day is not None:
        adds.append("practiceDays :day")
        values[":day"] = {"NS": [str(day.day)]}
    if adds:
        expression += " ADD " + ", ".join(adds)
    return {
        "Update": {
            "TableName": table_name(),
            "Key": key(keys.user_pk(user_id), plan_month_sk(month)),
            "UpdateExpression": expression,
            "ExpressionAttributeNames": {"#entity": "entity", "#month": "month"},
            "ExpressionAttributeValues": values,
        }
    }


def streak_put(user_id: str, state: StreakState, read_version: int | None) -> dict[str, Any]:
    """A transaction's Put of my streak state over the version read (or as the first one)."""
    item = {
        "PK": keys.user_pk(user_id),
        "SK": STREAK_SK,
        "entity": "practice-streak",
        "lastDay": state.last_day.isoformat() if state.last_day else None,
        "run": state.run,
        "longest": state.longest,
        "version": (read_version or 0) + 1,
    }
    put: dict[str, Any] = {
        "TableName": table_name(),
        "Item": serialize({k: v for k, v in item.items() if v is not None}),
    }
    if read_version is None:
        put["ConditionExpression"] = "attribute_not_exists(PK)"
    else:
        put["ConditionExpression"] = "version = :read"
        put["ExpressionAttributeValues"] = {":read": {"N": str(read_version)}}
    return {"Put": put}


def bitmaps(items: list[dict[str, Any]]) -> dict[str, int]:
    """Month bitmaps (`YYYY-MM` -> bits) from plan-month items as stored."""
    out: dict[str, int] = {}
    for item in items:
        month = str(item["month"])
        year, number = int(month[:4]), int(month[5:7])
        days = [date(year, number, int(d)) for d in item.get("practiceDays", ())]
        if days:
            out[month] = month_bits(days, month)
    return out


def all_practice_months(user_id: str) -> dict[str, int]:
    """Every month I practised in (a Query of my journey, filtered): only for the rare practice
    on a day before my last one, whose streak the state alone cannot tell."""
    params: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
        "FilterExpression": "#entity = :entity",
        "ExpressionAttributeNames": {"#entity": "entity"},
        "ExpressionAttributeValues": {
            ":pk": {"S": keys.user_pk(user_id)},
            ":prefix": {"S": keys.JOURNEY_PREFIX},
            ":entity": {"S": "journey-plan-month"},
        },
        "ConsistentRead": True,
    }
    items: list[dict[str, Any]] = []
    while True:
        with throttling_as_unavailable():
            response = dynamodb().query(**params)
        items += [deserialize(i) for i in response.get("Items", [])]
        if "LastEvaluatedKey" not in response:
            return bitmaps(items)
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]
