"""Schemathesis hooks (SCHEMATHESIS_HOOKS=tests.fuzz.hooks): the API's rules that JSON Schema cannot state.

The OpenAPI document states every rule on one value (patterns, lengths, enums, what may be null, which
content, channels and format go together). A few rules relate values to each other or to the clock, and no
schema can state those: a meeting (a summary's chapter) ends after it starts, a meeting within 24 hours,
in the future and within 180 days; each user and each channel appears once; a continuation token is the
one the previous page handed out, signed by the server; an If-Match is an ETag the server sent. A request
generated as valid ("positive") that breaks one of them is rightly a 400 (412), which schemathesis would
count as a valid request rejected. So, for positive cases only, this hook makes those values what a client
would send: negative cases are left exactly as generated, so every check on what the API refuses stays as
strong."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import schemathesis

SCHEDULED = ("startsAt", "endsAt")


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    meta = getattr(case, "meta", None)
    if meta is None or not meta.generation.mode.is_positive:
        return
    if isinstance(case.query, dict):
        # Only the server mints continuation tokens (the stateful phase follows real ones).
        case.query.pop("continuationToken", None)
    if case.headers is not None:
        # Only the server's ETag matches; without If-Match a change is unconditional, as documented.
        for name in [h for h in case.headers if h.lower() == "if-match"]:
            del case.headers[name]
    body = case.body
    if not isinstance(body, dict):
        return
    given = [body[name] for name in SCHEDULED if name in body]
    if given and all(_instant(value) for value in given):
        starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
        body["startsAt"] = starts.isoformat()
        body["endsAt"] = (starts + timedelta(hours=1)).isoformat()
    _distinct(body, "participants", "userId")
    _distinct(body, "channels", "channel")
    _chapters_in_order(body)


def _chapters_in_order(body: dict[str, Any]) -> None:
    for chapter in body.get("chapters") or ():
        if isinstance(chapter, dict):
            start, end = chapter.get("start"), chapter.get("end")
            numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (start, end))
            if numbers and float(end) < float(start):  # type: ignore[arg-type]
                chapter["start"], chapter["end"] = end, start


def _instant(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None
    except ValueError:
        return False


def _distinct(body: dict[str, Any], field: str, key: str) -> None:
    """Keeps the first entry per `key`: the API wants each user (channel) once."""
    items = body.get(field)
    if not isinstance(items, list) or not all(isinstance(i, dict) and key in i for i in items):
        return
    seen: set[str] = set()
    kept = []
    for item in items:
        value = item[key]
        # 27 and 27.0 are one channel.
        marker = (
            repr(float(value))
            if isinstance(value, int | float) and not isinstance(value, bool)
            else repr(value)
        )
        if marker not in seen:
            seen.add(marker)
            kept.append(item)
    body[field] = kept
