"""Checks that must refuse to start the app, kept free of heavy imports (they run at cold start)."""

from __future__ import annotations

import os
from collections.abc import Mapping


def unsafe_configuration(env: Mapping[str, str]) -> str | None:
    """Why these settings must not run, or None. `dev` auth trusts any caller: never in Azure."""
    if env.get("AUTH_MODE", "dev").strip().lower() == "dev" and env.get("WEBSITE_INSTANCE_ID"):
        return (
            "AUTH_MODE=dev trusts any caller and is refused in Azure (WEBSITE_INSTANCE_ID is set); "
            "use AUTH_MODE=entra or AUTH_MODE=easyauth"
        )
    return None


def refuse_unsafe_start() -> None:
    reason = unsafe_configuration(os.environ)
    if reason is not None:
        raise RuntimeError(reason)
