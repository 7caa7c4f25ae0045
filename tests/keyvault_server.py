"""A local stand-in for the Azure Key Vault secrets REST API, as azure-keyvault-secrets 4.12.0 calls it.

    async with KeyVaultServer() as vault:
        version = vault.set_secret("signing-key", "v1")
        client = SecretClient(vault.vault_url, vault.credential(), **vault.client_kwargs())

What is modelled on the real service (the REST reference, the SDKs' generated operations and the SDK test
recordings of the live service):
- `GET /secrets/{name}/{version}?api-version=...` (the SDK sends `/secrets/{name}/` for the latest
  version), `PUT /secrets/{name}` (a new version), names of 1-127 letters, digits and dashes, compared
  case-insensitively, versions of 32 hex digits, the bundle `{"value", "id", "attributes": {...}}`.
- Challenge-based bearer authentication: a request without a token (the SDK's first, or any with a token
  the server does not know) is 401 `Unauthorized` with `WWW-Authenticate: Bearer
  authorization="https://login.microsoftonline.com/<tenant>", resource="https://vault.azure.net"`; the SDK
  asks its credential for `https://vault.azure.net/.default` in that tenant and sends the request again.
- Error bodies `{"error": {"code", "message", "innererror"?}}`: 404 `SecretNotFound`, 403 `Forbidden` with
  `ForbiddenByRbac` (no role on the vault) or `SecretDisabled` (a disabled version), 400 `BadParameter`.

Reaching the server under a real vault name. The SDK checks that the challenge's `resource` is a parent
domain of the vault's host (`kv.vault.azure.net` is inside `vault.azure.net`), and a URL with a port other
than 443 never passes that check. So `vault_url` is `https://kv-<random>.vault.azure.net/` (a fresh name per
server, because the SDK caches challenges per host, process-wide), and `client_kwargs()` gives the SDK an
aiohttp transport whose resolver sends that host to this server on 127.0.0.1; the certificate names the
vault host and the transport trusts the throwaway CA (`connection_verify`). Nothing else changes: TLS,
challenge verification and the SDK's pipeline run as they would against Azure. `loopback_url`
(`https://127.0.0.1:<port>/`) with `loopback_kwargs` is the plain alternative; with it the SDK refuses the
challenge unless the client is built with `verify_challenge_resource=False`.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import socket
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, NamedTuple, Self

from aiohttp import ClientSession, TCPConnector, web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.typedefs import Handler
from azure.core.credentials import AccessToken

from tests.https_site import HttpsSite

# The versions azure-keyvault-secrets 4.12.0 can speak (its ApiVersion enum); 2026-04-01 is its default.
API_VERSIONS = frozenset(
    {"2016-10-01", "7.0", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6", "2025-07-01", "2026-04-01"}
)
RESOURCE = "https://vault.azure.net"
SCOPE = RESOURCE + "/.default"

_NAME = re.compile(r"[0-9A-Za-z-]{1,127}")
_VERSION = re.compile(r"[0-9a-fA-F]{32}")

AuthKind = Literal["bearer", "none", "other"]
JsonObject = dict[str, Any]


class RecordedRequest(NamedTuple):
    """One request as the server saw it; `status` is what it answered."""

    method: str
    path: str
    api_version: str | None
    auth: AuthKind
    status: int


@dataclass
class SecretVersion:
    version: str
    value: str
    enabled: bool
    created: int
    content_type: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class StoredSecret:
    name: str
    versions: list[SecretVersion] = field(default_factory=list)

    @property
    def latest(self) -> SecretVersion:
        return self.versions[-1]

    def version(self, version: str) -> SecretVersion | None:
        return next((v for v in self.versions if v.version == version.lower()), None)


class _VaultError(Exception):
    def __init__(self, status: int, code: str, message: str, inner: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.inner = status, code, message, inner

    def response(self) -> web.Response:
        error: JsonObject = {"code": self.code, "message": self.message}
        if self.inner is not None:
            error["innererror"] = {"code": self.inner}
        return web.json_response({"error": error}, status=self.status)


class FakeCredential:
    """An `AsyncTokenCredential` whose tokens the server accepts; it records what the SDK asked for."""

    def __init__(self, server: KeyVaultServer) -> None:
        self._server = server
        self.requests: list[tuple[tuple[str, ...], str | None]] = []
        self.fail_with: Exception | None = None

    async def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        self.requests.append((scopes, tenant_id))
        if self.fail_with is not None:
            raise self.fail_with
        token = f"kv-token-{secrets.token_hex(8)}"
        self._server.valid_tokens.add(token)
        return AccessToken(token, int(time.time()) + 3600)

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        return None


class _ToServer(AbstractResolver):
    """Resolves the vault's host (any port) to this server on 127.0.0.1; everything else is unknown."""

    def __init__(self, host: str, port: int) -> None:
        self._host, self._port = host, port

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host.lower() != self._host:
            raise OSError(f"{host} is not served here")
        return [
            ResolveResult(
                hostname=host,
                host="127.0.0.1",
                port=self._port,
                family=socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
        ]

    async def close(self) -> None:
        return None


class KeyVaultServer:
    """Key Vault secrets on 127.0.0.1 over HTTPS, with state and test hooks.

    - `tenant_id`: the tenant the challenge names.
    - `challenge_resource`: the `resource` of the challenge (`https://vault.azure.net` like the public cloud).
    """

    def __init__(self, *, tenant_id: str | None = None, challenge_resource: str = RESOURCE) -> None:
        self.tenant_id = tenant_id or str(uuid.uuid4())
        self.challenge_resource = challenge_resource
        self.vault_host = f"kv-{secrets.token_hex(6)}.vault.azure.net"
        self.secrets: dict[str, StoredSecret] = {}
        self.valid_tokens: set[str] = set()
        self.requests: list[RecordedRequest] = []
        # Callers without the role: every request with a valid token is 403 ForbiddenByRbac.
        self.forbidden = False
        # While set and not yet released, reads of secrets wait on it (to make concurrent reads overlap).
        self.gate: asyncio.Event | None = None
        # Set when a read reaches the gate (and so is under way).
        self.at_gate = asyncio.Event()
        self._failures: list[int] = []
        self._site = HttpsSite("keyvault-server", hosts=[self.vault_host])
        self._port = 0
        self.ca_file = Path()

    # --- lifecycle -------------------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        app = web.Application(middlewares=[self._middleware])
        app.add_routes(
            [
                web.get("/secrets/{name}", self._get_secret),
                web.get("/secrets/{name}/", self._get_secret),
                web.get("/secrets/{name}/{version}", self._get_secret),
                web.put("/secrets/{name}", self._set_secret),
            ]
        )
        await self._site.start(app)
        self._port, self.ca_file = self._site.port, self._site.ca_file
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.gate is not None:
            self.gate.set()
        await self._site.stop()

    # --- what a client needs ---------------------------------------------------------------------------

    @property
    def vault_url(self) -> str:
        return f"https://{self.vault_host}/"

    @property
    def loopback_url(self) -> str:
        return f"https://127.0.0.1:{self._port}/"

    def client_kwargs(self) -> dict[str, Any]:
        """SecretClient keyword arguments that reach this server at `vault_url` (a new transport each call:
        the client closes it)."""
        from azure.core.pipeline.transport import AioHttpTransport

        session = ClientSession(connector=TCPConnector(resolver=_ToServer(self.vault_host, self._port)))
        return {"transport": AioHttpTransport(session=session, connection_verify=str(self.ca_file))}

    @property
    def loopback_kwargs(self) -> dict[str, Any]:
        return {"connection_verify": str(self.ca_file)}

    def credential(self) -> FakeCredential:
        return FakeCredential(self)

    # --- test hooks ------------------------------------------------------------------------------------

    def set_secret(self, name: str, value: str, *, enabled: bool = True) -> str:
        """Adds a version (the new latest) and returns its id, as `PUT /secrets/{name}` does."""
        if not _NAME.fullmatch(name):
            raise ValueError(f"invalid secret name {name!r}")
        stored = self.secrets.setdefault(name.lower(), StoredSecret(name))
        version = SecretVersion(uuid.uuid4().hex, value, enabled, int(time.time()))
        stored.versions.append(version)
        return version.version

    def disable(self, name: str, version: str | None = None) -> None:
        stored = self.secrets[name.lower()]
        target = stored.version(version) if version else stored.latest
        assert target is not None
        target.enabled = False

    def delete(self, name: str) -> None:
        del self.secrets[name.lower()]

    def fail_next(self, n: int, status: int = 503) -> None:
        """Answer the next `n` authenticated requests with `status` (ServiceUnavailable and the like)."""
        self._failures.extend([status] * n)

    def reads(self, name: str | None = None) -> int:
        """Secret reads answered 200 (for `name`, or all)."""
        return sum(
            1
            for r in self.requests
            if r.method == "GET"
            and r.status == 200
            and (name is None or r.path.lower().split("/")[2] == name.lower())
        )

    # --- HTTP --------------------------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        auth = request.headers.get("Authorization", "")
        kind: AuthKind = "none" if not auth else "bearer" if auth.startswith("Bearer ") else "other"
        try:
            if kind != "bearer" or auth.removeprefix("Bearer ") not in self.valid_tokens:
                raise _VaultError(401, "Unauthorized", "Request is missing a Bearer or PoP token.")
            api_version = request.query.get("api-version")
            if api_version is None:
                raise _VaultError(400, "BadParameter", "The api-version query parameter is missing.")
            if api_version not in API_VERSIONS:
                raise _VaultError(
                    400,
                    "BadParameter",
                    f"The specified version ({api_version}) is not recognized. "
                    "Consider using the latest supported version (2026-04-01).",
                )
            if self.forbidden:
                raise _VaultError(
                    403,
                    "Forbidden",
                    "Caller is not authorized to perform action on resource.\r\n"
                    "Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'\r\n"
                    "Assignment: (not found)\r\nDecisionReason: 'DeniedWithNoValidRBAC'",
                    "ForbiddenByRbac",
                )
            if self._failures:
                status = self._failures.pop(0)
                raise _VaultError(status, "ServiceUnavailable", "The service is temporarily unavailable.")
            response = await handler(request)
        except _VaultError as exc:
            response = exc.response()
            if exc.status == 401:
                response.headers["WWW-Authenticate"] = (
                    f'Bearer authorization="https://login.microsoftonline.com/{self.tenant_id}", '
                    f'resource="{self.challenge_resource}"'
                )
        self.requests.append(
            RecordedRequest(
                request.method, request.path, request.query.get("api-version"), kind, response.status
            )
        )
        return response

    async def _get_secret(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        version_id = request.match_info.get("version") or ""
        stored = self.secrets.get(name.lower())
        version = None
        if stored is not None:
            version = stored.version(version_id) if version_id else stored.latest
        if stored is None or version is None:
            name_id = f"{name}/{version_id}" if version_id else name
            raise _VaultError(
                404,
                "SecretNotFound",
                f"A secret with (name/id) {name_id} was not found in this key vault. If you recently deleted "
                "this secret you may be able to recover it using the correct recovery command. For help "
                "resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182",
            )
        if not version.enabled:
            raise _VaultError(
                403, "Forbidden", "Operation get is not allowed on a disabled secret.", "SecretDisabled"
            )
        if self.gate is not None:
            self.at_gate.set()
            await self.gate.wait()
        return web.json_response(self._bundle(request, stored, version))

    async def _set_secret(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if not _NAME.fullmatch(name):
            raise _VaultError(400, "BadParameter", "The request URI contains an invalid name: " + name[:127])
        try:
            body = json.loads(await request.read())
        except ValueError:
            raise _VaultError(400, "BadParameter", "The request body is not valid JSON.") from None
        if not isinstance(body, dict) or not isinstance(body.get("value"), str):
            raise _VaultError(400, "BadParameter", "Property value is required.")
        attributes = body.get("attributes") or {}
        self.set_secret(name, body["value"], enabled=bool(attributes.get("enabled", True)))
        stored = self.secrets[name.lower()]
        stored.latest.content_type = body.get("contentType")
        stored.latest.tags = dict(body.get("tags") or {})
        return web.json_response(self._bundle(request, stored, stored.latest))

    @staticmethod
    def _bundle(request: web.Request, stored: StoredSecret, version: SecretVersion) -> JsonObject:
        bundle: JsonObject = {
            "value": version.value,
            "id": f"https://{request.host}/secrets/{stored.name}/{version.version}",
            "attributes": {
                "enabled": version.enabled,
                "created": version.created,
                "updated": version.created,
                "recoveryLevel": "Recoverable+Purgeable",
                "recoverableDays": 90,
            },
            "tags": version.tags,
        }
        if version.content_type is not None:
            bundle["contentType"] = version.content_type
        return bundle
