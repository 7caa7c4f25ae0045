"""When a task is due: the phrase as said ("Friday, March 7th", "end of day"), or YYYY-MM-DD with a year."""

from __future__ import annotations

import re
from datetime import date
from typing import Final

from shared.adapters.local_summary.cues import due_re, year_date_re

_MONTH_NUMBERS: Final = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}


def take_due(body: str) -> tuple[str | None, str]:
    """A task's due phrase as said (less "by"/"on"), or YYYY-MM-DD when it has a year; and the rest."""
    match = due_re().search(body)
    if match is None:
        return None, body
    if match["when"]:
        due = f"{match['keep']} {match['when']}" if match["keep"] else match["when"]
    else:
        due = match["event"] or match["span"]
    rest = f"{body[: match.start()]} {body[match.end() :]}"
    rest = re.sub(r"\s+([,.;!?])", r"\1", " ".join(rest.split()))
    return _iso_date(due) or " ".join(due.split()).rstrip(",. "), rest


def _iso_date(due: str) -> str | None:
    match = year_date_re().search(due)
    if match is None:
        return None
    if match["iso"]:
        text = match["iso"]
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            return None
    month = _MONTH_NUMBERS[(match["month"] or match["month2"]).casefold()]
    day = int(match["day"] or match["day2"])
    try:
        return date(int(match["year"] or match["year2"]), month, day).isoformat()
    except ValueError:
        return None
