"""The stores' continuation token for "my meetings": the (startsAt, meetingId) of the last entry given.

Keyset paging rather than a backend's own token: one query per page on every store, an exact last page
ends with no token, and a token we did not issue is refused (InvalidContinuation). The service signs it
before a caller sees it, so this only has to be unambiguous, not secret.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from shared.domain.models import Membership
from shared.ports import InvalidContinuation
from shared.timefmt import iso

_PREFIX = "ks1."


def after(entry: Membership) -> str:
    """The token that resumes after `entry`."""
    raw = json.dumps([iso(entry.starts_at), entry.meeting_id]).encode()
    return _PREFIX + base64.urlsafe_b64encode(raw).decode("ascii")


def position(token: str) -> tuple[datetime, str]:
    """The (startsAt, meetingId) to resume after; InvalidContinuation for anything we did not issue."""
    if not token.startswith(_PREFIX):
        raise InvalidContinuation(token)
    try:
        raw = base64.b64decode(token.removeprefix(_PREFIX), altchars=b"-_", validate=True)
        value = json.loads(raw)
        if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
            raise InvalidContinuation(token)
        starts_at = datetime.fromisoformat(value[0])
    except (binascii.Error, ValueError) as exc:
        raise InvalidContinuation(token) from exc
    if starts_at.tzinfo is None:
        raise InvalidContinuation(token)
    return starts_at, value[1]
