"""The dispatcher: every minute, fire the reminders that are due, each once.

It reads only what is due (one Query per shard of the sparse `RemindersDue` index) and fires
each reminder in one transaction: its `nextFireAt` moves to the next occurrence after now
(so after an outage a reminder fires once, for the latest missed occurrence, not once per
missed one), conditioned on the `nextFireAt` it read, so an occurrence fires at most once even
when runs overlap or are retried; the inbox item goes in the same transaction, and the notifier
pushes it from the stream (preferences, quiet hours and erasure stay in one place). One failing
reminder is logged and counted and stays due, so the next run retries it.

A reminder with `onlyIfNotDone` is held (its occurrence passes without an inbox item) when what
it reminds of was done: an item other than a practice that is done or skipped (`settled`), or
anything done or practised (`lastDoneAt`, for a plan: any of its items) on the occurrence's own
local day. Plan and item changes keep those copies on the reminder, so the due index says it all.

Promise nudges (`shared.domain.nudges`) share the index and the run: a `NUDGE#<promiseId>` item
fires "due soon" then "overdue" into the performer's inbox (kind `promise`, so the person's
promise-update preferences and quiet hours apply), each once, then is gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from shared.domain import nudges as nudge_rules
from shared.domain import recurrence
from shared.domain.errors import AccountErased
from shared.domain.timeutil import to_rfc3339
from shared.observability import logger
from shared.store import keys, nudges
from shared.store import plans as store
from shared.store.notifications import inbox_put
from shared.store.transaction import TransactionCancelled

# What one run reads of a shard at most: a backlog beyond it waits for the next minute.
PER_SHARD = 500


@dataclass
class Run:
    """What one run did."""

    fired: int = 0
    held: int = 0  # due, but what it reminds of was done (`onlyIfNotDone`): no inbox item
    skipped: int = 0  # fired by another run meanwhile, or the person's account was erased
    failed: int = 0
    # How late the latest-fired occurrence of this run was (seconds after it was due): the
    # dispatcher's lag, which its alarm watches. 0 when nothing was due.
    lag_seconds: float = 0.0


def dispatch(now: datetime) -> Run:
    """Fire every reminder due at `now` (the scheduled event's time)."""
    run = Run()
    stamp = to_rfc3339(now)
    for shard in range(keys.DUE_SHARDS):
        for item in store.due_reminders(shard, stamp, PER_SHARD):
            run.lag_seconds = max(run.lag_seconds, _seconds_late(item, now))
            try:
                if str(item["SK"]).startswith(keys.NUDGE_PREFIX):
                    fire_nudge(item, now)
                    run.fired += 1
                elif fire(item, now):
                    run.fired += 1
                else:
                    run.held += 1
            except (TransactionCancelled, AccountErased):
                run.skipped += 1
            except Exception:  # one reminder must not stop the others; it stays due
                logger.exception("A reminder could not be fired", extra={"shard": shard})
                run.failed += 1
    return run


def _seconds_late(item: dict[str, Any], now: datetime) -> float:
    """How long ago a due item's time passed (`dueAt` = `<time, RFC 3339 UTC>#<PK>#<SK>`)."""
    due = datetime.fromisoformat(str(item["dueAt"]).split("#", 1)[0].replace("Z", "+00:00"))
    return max(0.0, (now - due).total_seconds())


def done_that_day(item: dict[str, Any], occurrence: datetime, zone: ZoneInfo) -> bool:
    """Whether what a reminder reminds of was done for its occurrence (see the module's note)."""
    if item.get("settled"):
        return True
    last = item.get("lastDoneAt")
    if not last:
        return False
    done_at = datetime.fromisoformat(str(last).replace("Z", "+00:00"))
    return done_at.astimezone(zone).date() == occurrence.astimezone(zone).date()


def fire(item: dict[str, Any], now: datetime) -> bool:
    """Fire one due reminder: its inbox item (unless held by `onlyIfNotDone`), and its next
    occurrence after now. Answers whether an inbox item was written."""
    zone = ZoneInfo(str(item["timeZone"]))
    rule = recurrence.load_rule(str(item["rrule"]))
    following = recurrence.next_occurrence(rule, zone, now)
    fired_at = str(item["nextFireAt"])
    occurrence = datetime.fromisoformat(fired_at.replace("Z", "+00:00"))
    inbox = None
    if not (item.get("onlyIfNotDone") and done_that_day(item, occurrence, zone)):
        data = {"planId": item["planId"], "occurrence": recurrence.local_view(occurrence, zone)}
        if item.get("itemId"):
            data["itemId"] = item["itemId"]
        inbox = inbox_put(
            str(item["PK"]).removeprefix("USER#"),
            kind="reminder",
            title="Time for your learning plan",
            body=str(item.get("title") or "A reminder you set for your plan."),
            data=data,
            at=to_rfc3339(now),
        )
    store.advance_reminder(item, fired_at, to_rfc3339(following) if following else None, inbox)
    return inbox is not None


def fire_nudge(item: dict[str, Any], now: datetime) -> None:
    """Fire one due promise nudge: the latest stage reached (after an outage, "overdue" alone),
    then on to the next stage or gone."""
    due = datetime.fromisoformat(str(item["promiseDueAt"]).replace("Z", "+00:00"))
    stage = nudge_rules.stage_at(due, now)
    inbox = inbox_put(
        str(item["PK"]).removeprefix("USER#"),
        kind="promise",
        title=nudge_rules.TITLES[stage],
        body=str(item.get("title") or "A promise of yours"),
        data={"promiseId": item["promiseId"], "nudge": stage, "dueAt": item["promiseDueAt"]},
        at=to_rfc3339(now),
    )
    nudges.advance_nudge(item, nudge_rules.after(stage, due), inbox)
