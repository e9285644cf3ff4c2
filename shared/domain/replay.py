"""Ids the app supplies for offline writes: what makes a replay the same write.

The app may give a new reflection, care, promise, plan, plan item, obstacle or move its own id
(a ULID it made offline), so that replaying a queue of writes is safe: the same id, body and
person is a replay (it changes nothing and answers as the first time); the same id with another
body, or someone else's, is a 409 (`IdConflict`). The created item keeps `requestHash`, a SHA-256 of the
person and the validated body without the id; it is never shown (not in any API view, nor in
the export). Replays are told apart on the failure path only: a create whose new item's
condition fails, or that a rule refuses (a move no longer allowed, a care limit, a care a plan
serves archived since), reads the id's item once, so the first write costs nothing more.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from shared.domain.errors import Conflict, InvalidInput, NotFound, PreconditionFailed

# What a replay may be refused with before it is told apart from a new write: the rules of the
# state it meets now (a move no longer allowed, stale terms or If-Match, a due time now past,
# a limit reached, a handle renamed meanwhile). Throttling and an erased account are not.
REFUSALS = (Conflict, InvalidInput, NotFound, PreconditionFailed)


def request_hash(actor: str, body: Mapping[str, Any], id_field: str) -> str:
    """SHA-256 of who writes and the canonical JSON of the validated body without its id."""
    rest = {k: v for k, v in body.items() if k != id_field}
    canonical = json.dumps(rest, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(f"{actor}\n{canonical}".encode()).hexdigest()
