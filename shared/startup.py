"""Checks that must refuse to start the app, kept free of heavy imports (they run at cold start)."""

from __future__ import annotations

import os
from collections.abc import Mapping

# What any Azure host sets and a laptop (devhost, or Core Tools' `func start`) does not: App Service and
# every Functions plan (Flex Consumption may leave out WEBSITE_INSTANCE_ID, so one is not enough),
# Container Apps, and a managed identity endpoint. Any one of them means "hosted": dev auth and a
# generated signing key are refused there (fail closed). Not CONTAINER_NAME: Linux Consumption sets it,
# but so do ordinary container sandboxes on a developer's machine, and that plan sets WEBSITE_* anyway.
HOSTED_SIGNS = (
    "WEBSITE_INSTANCE_ID",
    "WEBSITE_SITE_NAME",
    "WEBSITE_SKU",
    "WEBSITE_OWNER_NAME",
    "CONTAINER_APP_NAME",
    "IDENTITY_ENDPOINT",
    "MSI_ENDPOINT",
)


def hosted_signs(env: Mapping[str, str]) -> list[str]:
    """The variables present that only a hosted environment sets."""
    return [name for name in HOSTED_SIGNS if env.get(name, "").strip()]


def unsafe_configuration(env: Mapping[str, str]) -> str | None:
    """Why these settings must not run, or None. `dev` auth trusts any caller: never when hosted."""
    signs = hosted_signs(env)
    if env.get("AUTH_MODE", "dev").strip().lower() == "dev" and signs:
        return (
            f"AUTH_MODE=dev trusts any caller and is refused on a hosted environment ({', '.join(signs)} "
            "set); use AUTH_MODE=entra or AUTH_MODE=easyauth"
        )
    return None


def refuse_unsafe_start() -> None:
    reason = unsafe_configuration(os.environ)
    if reason is not None:
        raise RuntimeError(reason)
