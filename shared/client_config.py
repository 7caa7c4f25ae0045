"""GET /api/client-config: what a browser client needs before it signs in, made from Settings alone.

Nothing here builds a service or reads a secret: it is as cheap as /health, and it is anonymous, so it
carries identifiers only (an app registration's client id, a scope, an ACS origin), never a key.
"""

from __future__ import annotations

from typing import get_args
from urllib.parse import urlsplit

from shared import schemas
from shared.config import Settings
from shared.secrets import is_reference


def entra_config(settings: Settings) -> schemas.EntraClientConfig | None:
    """MSAL's settings for the web client; None in dev mode, or while the web client's settings are
    incomplete (the API still works for callers that bring their own tokens)."""
    if settings.auth_mode == "dev":
        return None
    if not (settings.auth_client_id and settings.api_scopes and settings.auth_tenant_id):
        return None
    # Bicep's loginEndpoint ends with a slash, the default AUTH_AUTHORITY does not.
    authority = f"{settings.auth_authority.rstrip('/')}/{settings.auth_tenant_id}"
    return schemas.EntraClientConfig(
        client_id=settings.auth_client_id, authority=authority, scopes=list(settings.api_scopes)
    )


def acs_origin(settings: Settings) -> str | None:
    """`https://<resource>.communication.azure.com` of the configured ACS resource: from ACS_ENDPOINT, or
    the endpoint of a plain ACS_CONNECTION_STRING (never its key). None when calls are local, or when the
    only source is a Key Vault reference (reading it is what this route must not do)."""
    if settings.communication != "acs":
        return None
    endpoint = settings.acs_endpoint
    if not endpoint and settings.acs_connection_string is not None:
        secret = settings.acs_connection_string.get_secret_value()
        if not is_reference(secret):
            fields = dict(part.partition("=")[::2] for part in secret.split(";"))
            endpoint = next((v for k, v in fields.items() if k.strip().lower() == "endpoint"), None)
    if not endpoint:
        return None
    url = urlsplit(endpoint.strip())
    if url.scheme not in ("http", "https") or not url.netloc:
        return None
    # The host and port only: never a user-info part, a path or a query someone put in the setting.
    return f"{url.scheme}://{url.netloc.rpartition('@')[2]}"


def client_config(settings: Settings, version: str) -> schemas.ClientConfig:
    return schemas.ClientConfig(
        auth_mode=settings.auth_mode,
        entra=entra_config(settings),
        calling="acs" if settings.communication == "acs" else "local",
        acs_endpoint=acs_origin(settings),
        max_upload_bytes=schemas.MAX_RECORDING_BYTES,
        upload_content_types=list(get_args(schemas.RecordingContentType)),
        version=version,
    )
