"""One TransactWriteItems built from labelled parts, with failures reported by label.

Features compose a write from several modules' items (the promise, its move, care links, the
journey, an inbox item); when DynamoDB cancels the transaction, what failed is known by label,
so the caller can answer with the right problem (412, 409, or 422 naming a field).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from shared.domain.errors import AccountErased
from shared.store import keys
from shared.store.table import (
    cancellation_codes,
    dynamodb,
    error_code,
    key,
    table_name,
    throttling_as_unavailable,
)

MAX_ITEMS = 100  # DynamoDB's limit per transaction
# The label of the check that the person making the request still has an account: a failure
# there is answered 401 by `commit` itself, whatever the caller maps its other labels to.
ACCOUNT = "account"


def account_check(user_id: str) -> dict[str, Any]:
    """A ConditionCheck that holds while `user_id`'s account has not been erased."""
    return {
        "ConditionCheck": {
            "TableName": table_name(),
            "Key": key(keys.erased_pk(user_id), keys.ERASED_SK),
            "ConditionExpression": "attribute_not_exists(PK)",
        }
    }


class TransactionCancelled(Exception):
    """DynamoDB cancelled the transaction; `failed` holds the labels of the items that failed."""

    def __init__(self, failed: dict[str, list[str]], codes: list[str]) -> None:
        super().__init__(f"transaction cancelled: {failed}")
        self.failed = failed  # label -> the failing codes of its items
        self.codes = codes

    def failed_on(self, label: str, code: str = "ConditionalCheckFailed") -> bool:
        """Whether an item of `label` failed with `code`."""
        return code in self.failed.get(label, [])

    def conflicted(self) -> bool:
        """Whether another transaction touched the same items at the same moment."""
        return any("TransactionConflict" in codes for codes in self.failed.values())


@dataclass
class Transaction:
    """Items to write together, each under a label."""

    items: list[dict[str, Any]] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)

    def add(self, label: str, items: Iterable[dict[str, Any]]) -> int:
        """Append items under `label`; answers the index of the first one."""
        start = len(self.items)
        for item in items:
            self.items.append(item)
            self.labels.append(label)
        return start

    def require_account(self, user_id: str, label: str = ACCOUNT) -> None:
        """Write nothing if `user_id`'s account is erased by the time the transaction commits.

        Every transaction that stores something for a person carries this check for them, so a
        write in flight while their account is erased cannot bring any of it back. Under the
        default label (the caller's own account) a failure is AccountErased; give another label
        for someone else's (the other side of a promise) and map it as fits.
        """
        self.add(label, [account_check(user_id)])

    def commit(self) -> None:
        """Write every item or none; raises TransactionCancelled naming what failed, or
        AccountErased when the caller's own account check failed."""
        if not self.items:
            return
        if len(self.items) > MAX_ITEMS:
            raise ValueError(f"{len(self.items)} items in one transaction (limit {MAX_ITEMS})")
        try:
            with throttling_as_unavailable():
                dynamodb().transact_write_items(TransactItems=self.items)  # type: ignore[arg-type]
        except ClientError as error:
            if error_code(error) != "TransactionCanceledException":
                raise
            codes = cancellation_codes(error)
            failed: dict[str, list[str]] = {}
            for label, code in zip(self.labels, codes, strict=False):
                if code not in ("None", ""):
                    failed.setdefault(label, []).append(code)
            if "ConditionalCheckFailed" in failed.get(ACCOUNT, []):
                raise AccountErased("This account has been erased; sign in again.") from error
            raise TransactionCancelled(failed, codes) from error
