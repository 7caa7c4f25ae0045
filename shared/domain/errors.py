"""Errors the services raise. They carry a precise detail and no HTTP knowledge: shared/http.py maps them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class DomainError(Exception):
    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        # A stable reason a client acts on (the problem's `code`), where there is one.
        self.code = code


class InvalidInput(DomainError):
    """The request is well-formed but breaks a rule (400). `errors` lists each field that failed."""

    def __init__(self, detail: str, errors: Sequence[dict[str, Any]] = ()) -> None:
        super().__init__(detail)
        self.errors = list(errors)


class Unauthenticated(DomainError):
    """No credentials, or credentials that do not prove who the caller is (401)."""


class Forbidden(DomainError):
    """The caller is known and may see the resource but not do this to it (403)."""


class NotFound(DomainError):
    """Absent, or not visible to this caller: outsiders learn nothing about a meeting (404)."""


class Conflict(DomainError):
    """The resource's state does not allow this now (409)."""


class Gone(DomainError):
    """The resource existed and was deleted for good, on purpose (410); `code` says why, for clients."""

    def __init__(self, detail: str, code: str) -> None:
        super().__init__(detail, code=code)


class PreconditionFailed(DomainError):
    """An `If-Match` ETag no longer matches: someone else changed the resource first (412)."""


class Unavailable(DomainError):
    """A backend we depend on failed or throttled us past our retries (503); the caller may retry."""

    def __init__(self, detail: str, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class UpstreamFailed(DomainError):
    """A backend refused our request as invalid (502): our bug or a rule we broke, not the caller's."""
