"""The one exception handlers and checks raise; the app turns it into an error answer."""

from __future__ import annotations

import secrets
import string

_SUPPORT_CHARS = string.ascii_uppercase + string.digits


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        errors: list[str] | None = None,
        headers: dict[str, str] | None = None,
        *,
        support_id: bool = True,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors or []
        self.headers = headers or {}
        self.support_id = support_id  # APIs with batch results tag failures with one

    def body(self) -> dict:
        body: dict = {"Message": self.message}
        if self.errors:
            body["Errors"] = self.errors
        return body


class InvalidRequest(ApiError):
    """The request document itself does not match the spec (as opposed to a business rule)."""


def not_found(kind: str, ident: str) -> ApiError:
    return ApiError(404, f"{kind} '{ident}' was not found.")


def support_id() -> str:
    """What APIs with a batch_result support_id quote in failures: 7 of [A-Z0-9]."""
    return "".join(secrets.choice(_SUPPORT_CHARS) for _ in range(7))
