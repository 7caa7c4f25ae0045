"""Identifier rules shared by every way a caller can be identified."""

from __future__ import annotations

import re

# DESIGN: a user id is 1-128 of letters, digits and `.@_+-` (an Entra object id, an e-mail, a handle).
USER_ID_PATTERN = r"^[A-Za-z0-9.@_+\-]{1,128}$"
_USER_ID = re.compile(USER_ID_PATTERN)


def is_valid_user_id(value: str) -> bool:
    return bool(_USER_ID.fullmatch(value))
