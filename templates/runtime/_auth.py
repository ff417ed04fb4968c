"""Credentials, MFA headers and the OAuth2 access token cache."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx

from ._exceptions import APIConnectionError, APITimeoutError, AuthenticationError
from ._exceptions import error_from_response as _error_from_response
from ._redact import MASK as _MASK
from ._redact import Redactor
from ._spec import ApiConfig

# What an Authorization header can carry (visible ASCII, no space): anything else from the
# token endpoint is garbage, refused before it reaches a header.
_TOKEN = re.compile(r"[\x21-\x7e]+")


class Secret:
    """A string that never shows itself in a repr, str, log record or traceback."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("a secret must be a str")
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{_MASK}')"

    __str__ = __repr__


class ClientCredentials:
    """OAuth2 client credentials grant."""

    __slots__ = ("client_id", "client_secret")

    def __init__(self, client_id: str, client_secret: str) -> None:
        self.client_id = client_id
        self.client_secret = Secret(client_secret)

    def form(self) -> dict[str, str]:
        return {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret.get_secret_value(),
        }

    def secrets(self) -> tuple[str, ...]:
        return (self.client_secret.get_secret_value(),)

    def __repr__(self) -> str:
        return (
            f"ClientCredentials(client_id={self.client_id!r}, client_secret={self.client_secret!r})"
        )


class PasswordCredentials:
    """OAuth2 resource owner password grant."""

    __slots__ = ("username", "password")

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self.password = Secret(password)

    def form(self) -> dict[str, str]:
        return {
            "grant_type": "password",
            "username": self.username,
            "password": self.password.get_secret_value(),
        }

    def secrets(self) -> tuple[str, ...]:
        return (self.password.get_secret_value(),)

    def __repr__(self) -> str:
        return f"PasswordCredentials(username={self.username!r}, password={self.password!r})"


class Mfa:
    """Multi-factor authentication: exactly one of a session token, a TOTP secret (a code is
    computed for every request) or a callable returning the current one-time code."""

    __slots__ = ("_session_token", "_totp_secret", "_otp")

    def __init__(
        self,
        session_token: str | None = None,
        totp_secret: str | None = None,
        otp: Callable[[], str] | None = None,
    ) -> None:
        if sum(x is not None for x in (session_token, totp_secret, otp)) != 1:
            raise ValueError("Mfa takes exactly one of session_token, totp_secret, otp")
        self._session_token = None if session_token is None else Secret(session_token)
        self._totp_secret = None if totp_secret is None else Secret(totp_secret)
        self._otp = otp

    def check(self, config: ApiConfig) -> None:
        """Fail at client construction rather than on the first request."""
        session = self._session_token is not None
        header = config.mfa_session_header if session else config.mfa_otp_header
        if not header:
            raise ValueError(f"the {config.title} API does not support this kind of MFA")
        if self._totp_secret is not None:
            _pyotp(config).TOTP(self._totp_secret.get_secret_value())  # validates the secret

    def secrets(self) -> tuple[str, ...]:
        held = (self._session_token, self._totp_secret)
        return tuple(s.get_secret_value() for s in held if s is not None)

    def headers(self, config: ApiConfig) -> dict[str, str]:
        if self._session_token is not None:
            return {config.mfa_session_header: self._session_token.get_secret_value()}
        if self._totp_secret is not None:
            code = _pyotp(config).TOTP(self._totp_secret.get_secret_value()).now()
            return {config.mfa_otp_header: code}
        assert self._otp is not None
        return {config.mfa_otp_header: self._otp()}

    def __repr__(self) -> str:
        if self._session_token is not None:
            return f"Mfa(session_token={self._session_token!r})"
        if self._totp_secret is not None:
            return f"Mfa(totp_secret={self._totp_secret!r})"
        return f"Mfa(otp={self._otp!r})"


def _pyotp(config: ApiConfig) -> Any:
    try:
        import pyotp
    except ImportError as exc:
        raise ImportError(f"TOTP support needs pyotp: pip install '{config.name}[mfa]'") from exc
    return pyotp


class TokenCache:
    """Holds the access token; fetches one only when missing or about to expire.

    Single-flight: however many threads or tasks ask at once, one token request is made.
    """

    def __init__(
        self,
        config: ApiConfig,
        credentials: ClientCredentials | PasswordCredentials,
        token_url: str,
        *,
        timeout: float,
        user_agent: str,
        redactor: Redactor,
    ) -> None:
        self._config = config
        self._redactor = redactor
        self._credentials = credentials
        self.token_url = token_url
        self._timeout = timeout
        self._user_agent = user_agent
        # (token, refresh at) swapped as one reference so lock-free readers see a consistent pair
        self._state: tuple[Secret, float] | None = None
        # A token fetched after a 401 and refused as well: the token is not what the server
        # rejects (the API key or MFA is), so its 401s fetch no more tokens.
        self._refused: Secret | None = None
        self._lock = threading.Lock()
        # asyncio.Lock belongs to one event loop; recreated if the client moves to another loop.
        self._alock: asyncio.Lock | None = None
        self._alock_loop: asyncio.AbstractEventLoop | None = None

    def _current(self) -> Secret | None:
        state = self._state
        return state[0] if state is not None and time.monotonic() < state[1] else None

    def invalidate(self, token: Secret) -> None:
        """Drop `token` if it is still the current one: many concurrent 401s, one refresh."""
        with self._lock:
            if self._state is not None and self._state[0] is token:
                self._state = None

    def worth_refreshing(self, token: Secret) -> bool:
        """Whether a 401 answered to `token` may be cured by a new token."""
        return token is not self._refused

    def refused(self, token: Secret) -> None:
        """`token`, fresh after a 401, got a 401 too."""
        self._refused = token

    def get_sync(self, http: httpx.Client) -> Secret:
        token = self._current()
        if token is not None:
            return token
        with self._lock:
            token = self._current()
            if token is not None:
                return token
            try:
                response = http.post(**self._request_args())
            except httpx.TransportError as exc:
                raise self._transport_error(exc) from exc
            return self._store(response)

    async def get_async(self, http: httpx.AsyncClient) -> Secret:
        token = self._current()
        if token is not None:
            return token
        loop = asyncio.get_running_loop()
        if self._alock is None or self._alock_loop is not loop:
            self._alock, self._alock_loop = asyncio.Lock(), loop
        async with self._alock:
            token = self._current()
            if token is not None:
                return token
            try:
                response = await http.post(**self._request_args())
            except httpx.TransportError as exc:
                raise self._transport_error(exc) from exc
            return self._store(response)

    def _request_args(self) -> dict[str, Any]:
        return {
            "url": self.token_url,
            "data": self._credentials.form(),
            "headers": {"Accept": "application/json", "User-Agent": self._user_agent},
            "timeout": self._timeout,
        }

    def _transport_error(self, exc: httpx.TransportError) -> APIConnectionError:
        cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
        detail = self._redactor.text(f"{type(exc).__name__}: {exc}")
        return cls(f"token request failed: {detail}", method="POST", url=self.token_url)

    def _store(self, response: httpx.Response) -> Secret:
        if not response.is_success:
            shape = self._config.errors
            # A token endpoint may answer in OAuth 2.0's own keys instead of the API's.
            fields = (*shape.message_fields, "error_description", "error")
            shape = replace(shape, message_fields=fields)
            raise _error_from_response(response, AuthenticationError, shape, self._redactor)
        payload, problem = _token_payload(response)
        if problem:
            raise AuthenticationError(
                f"the token endpoint answered without a usable access token: {problem}",
                status_code=response.status_code,
                method="POST",
                url=self.token_url,
                body=None,  # it may hold a malformed token
            )
        token = Secret(payload["access_token"])
        refresh = payload.get("refresh_token")
        self._redactor.add(token.get_secret_value(), rotating=True)
        self._redactor.add(refresh if isinstance(refresh, str) else None, rotating=True)
        lifetime = _seconds(payload.get("expires_in")) or self._config.token_lifetime
        # A margin larger than the lifetime would refetch on every call; cap it at half.
        margin = min(self._config.refresh_margin, lifetime / 2)
        self._state = (token, time.monotonic() + lifetime - margin)
        return token


def _token_payload(response: httpx.Response) -> tuple[dict[str, Any], str]:
    """The token endpoint's JSON object, or what is wrong with its answer (never the token)."""
    kind = response.headers.get("content-type") or "no content type"
    try:
        payload = response.json()
    except ValueError:
        return {}, f"the body is not JSON ({kind})"
    if not isinstance(payload, dict):
        return {}, f"the body is a JSON {type(payload).__name__}, not an object"
    token = payload.get("access_token")
    if token is None:
        return payload, "the body has no access_token"
    if not isinstance(token, str):
        return payload, f"access_token is a JSON {type(token).__name__}, not a string"
    if not token.strip():
        return payload, "access_token is empty"
    if not _TOKEN.fullmatch(token):
        return payload, "access_token holds characters an HTTP header cannot carry"
    return payload, ""


def _seconds(value: Any) -> float | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds > 0 else None
