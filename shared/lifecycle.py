"""What a function does while Lambda initialises it, and again after a SnapStart restore.

- **Clients at initialisation.** The clients a function needs on every invocation (DynamoDB for
  all of them: every signed-in request reads the erasure marker; SNS for the notifier; SQS for
  the webhook fan-out) are made while the module is imported, as AWS's guidance says: Lambda
  often initialises an execution environment before a request arrives, so that work is off the
  request path. `init()` is called at import by every function's module (`lambda_entry` does it
  for the API's). Clients only some requests need (Cognito for erasure, SNS for devices, Secrets
  Manager for cursors) stay lazy. Tests still point clients at each case's emulator: the
  modules' `reset_clients()` drop them, and the next use makes them again.
- **SnapStart** (template parameter `SnapStart`): Lambda snapshots the initialised memory once
  per published version and restores it into many execution environments. After a restore the
  clients are made again (their connections belong to the environment that was snapshotted) and
  `random` is reseeded (every restored environment would otherwise draw the same sequence: retry
  jitter, webhook backoff). Ids, tokens and secrets come from the OS (`secrets`, `os.urandom`)
  when they are made, never at import: `tests/contract/test_snapstart.py` imports every function
  and fails if anything random or unique is made.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable

from shared.store import table

# Which clients this process's function asked for at init (made again after a restore).
_wanted: set[str] = set()


def _sns() -> object:
    from shared import push  # imported only by the functions that push

    return push.sns()


def _sqs() -> object:
    from shared.store import webhooks  # imported only by the functions that queue webhooks

    return webhooks.queue_client()


_MAKERS: dict[str, Callable[[], object]] = {"dynamodb": table.dynamodb, "sns": _sns, "sqs": _sqs}


def init(*, sns: bool = False, sqs: bool = False) -> None:
    """Make the clients the function always needs, now (at import: Lambda's initialisation).

    Without a region (a test importing a module before its emulator is set up) nothing is
    made: the first use makes it, as before.
    """
    _wanted.update(name for name, wanted in (("dynamodb", True), ("sns", sns), ("sqs", sqs)) if wanted)
    if not os.environ.get("AWS_DEFAULT_REGION"):  # what boto3 reads; Lambda sets it
        return
    for name in sorted(_wanted):
        _MAKERS[name]()


def after_restore() -> None:
    """Run by the Python runtime after a SnapStart restore (registered below)."""
    from shared import push, secrets
    from shared.store import identity, webhooks

    random.seed()  # from os.urandom: this environment's own sequence
    table.reset_clients()
    identity.reset_clients()
    push.reset_clients()
    webhooks.reset_clients()
    secrets.reset_clients()  # cached secrets may have rotated since the snapshot
    init()


def _register() -> bool:
    """Hook `after_restore` into the runtime's SnapStart hooks, where the runtime has them."""
    try:
        from snapshot_restore_py import (  # type: ignore[import-not-found]  # the Lambda runtime's
            register_after_restore,
        )
    except ImportError:  # tests, the local stack: no snapshots to restore from
        return False
    register_after_restore(after_restore)
    return True


REGISTERED = _register()
