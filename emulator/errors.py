"""The one exception handlers and checks raise; the app turns it into an error answer."""

from __future__ import annotations


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        errors: list[str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors or []
        self.headers = headers or {}

    def body(self) -> dict:
        body: dict = {"Message": self.message}
        if self.errors:
            body["Errors"] = self.errors
        return body


def not_found(kind: str, ident: str) -> ApiError:
    return ApiError(404, f"{kind} '{ident}' was not found.")
