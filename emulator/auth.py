"""OAuth2 token endpoint, bearer tokens, API keys, MFA (TOTP and session tokens), admin rights."""

from __future__ import annotations

import base64
import contextlib
import secrets
import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote_plus

import pyotp
from starlette.requests import Request
from starlette.responses import JSONResponse

from emulator.errors import ApiError
from emulator.settings import Client, Settings


@dataclass(frozen=True)
class MfaSession:
    token_id: str
    token: str
    client_id: str
    expires: datetime


class Auth:
    """Issued access tokens and MFA session tokens (thread-safe)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[str, float]] = {}  # token -> (client_id, monotonic expiry)
        self._mfa: dict[str, MfaSession] = {}  # client_id -> its one session token

    def reset(self, *, tokens: bool = False) -> None:
        """Forget MFA session tokens; access tokens too when `tokens` (they outlive a test by
        default so a long-lived client keeps working)."""
        with self._lock:
            self._mfa.clear()
            if tokens:
                self._tokens.clear()

    def revoke_tokens(self) -> None:
        """Make every issued access token invalid, as if it had expired."""
        with self._lock:
            self._tokens.clear()

    def expire_mfa_sessions(self) -> None:
        """Let every MFA session token run out now (they are still known, hence 'expired')."""
        past = datetime.now(UTC) - timedelta(seconds=1)
        with self._lock:
            self._mfa = {k: replace(s, expires=past) for k, s in self._mfa.items()}

    # -- token endpoint ------------------------------------------------------------------

    async def token_endpoint(self, request: Request, grant_type: str,
                             token_type: str = "Bearer") -> JSONResponse:
        """The OAuth2 token endpoint for the one grant the spec's auth names."""
        # Parsed by hand: starlette's form parser needs python-multipart.
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode("latin-1")).items()}
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "basic":  # client_secret_basic, the other standard OAuth2 style
            with contextlib.suppress(ValueError):
                ident, _, secret = base64.b64decode(encoded).decode().partition(":")
                form.setdefault("client_id", unquote_plus(ident))
                form.setdefault("client_secret", unquote_plus(secret))
        grant = form.get("grant_type")
        if grant != grant_type:
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        if grant == "client_credentials":
            ident, secret = form.get("client_id", ""), form.get("client_secret", "")
        elif grant == "password":
            ident, secret = form.get("username", ""), form.get("password", "")
        else:
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        client = self.settings.client_by_id(ident)
        if client is None or not secrets.compare_digest(client.client_secret, secret):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        token = secrets.token_urlsafe(32)
        lifetime = self.settings.token_lifetime or 0  # resolved from the spec by create_app
        with self._lock:
            self._tokens[token] = (client.client_id, time.monotonic() + lifetime)
        return JSONResponse(
            {"access_token": token, "token_type": token_type, "expires_in": lifetime},
            headers={"Cache-Control": "no-store"},
        )

    # -- per-call checks -----------------------------------------------------------------

    def api_key(self, request: Request, header: str) -> str:
        key = request.headers.get(header, "")
        if not key or self.settings.client_by_key(key) is None:
            raise ApiError(401, f"A valid {header} header is required.")
        return key

    def client(self, request: Request) -> Client:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, "Authorization: Bearer <access token> is required.")
        with self._lock:
            client_id, expiry = self._tokens.get(token, ("", 0.0))
        if not client_id or expiry <= time.monotonic():
            raise ApiError(401, "The access token is invalid or has expired.")
        client = self.settings.client_by_id(client_id)
        if client is None:  # the client was removed from the settings since
            raise ApiError(401, "The access token is invalid or has expired.")
        return client

    def check_mfa(
        self, request: Request, client: Client, otp_header: str, session_header: str, *,
        totp_only: bool = False,
    ) -> None:
        """Every call of an MFA-enabled account carries a TOTP or a live session token."""
        if client.mfa_totp_secret is None:
            if totp_only:
                raise ApiError(400, "MFA is not enabled for this account.")
            return
        otp = request.headers.get(otp_header) if otp_header else None
        if otp is not None:
            if pyotp.TOTP(client.mfa_totp_secret).verify(otp, valid_window=1):
                return
            raise ApiError(401, f"MFA is required: the {otp_header} value is wrong or expired.")
        if totp_only:
            raise ApiError(401, f"MFA is required: this call accepts only {otp_header}.")
        token = request.headers.get(session_header) if session_header else None
        if token is not None:
            with self._lock:
                session = self._mfa.get(client.client_id)
            if (
                session is not None
                and secrets.compare_digest(session.token, token)
                and session.expires > datetime.now(UTC)
            ):
                return
            raise ApiError(401, f"MFA is required: the {session_header} is invalid or expired.")
        headers = " or ".join(h for h in (otp_header, session_header) if h)
        raise ApiError(401, f"MFA is required for this account: send {headers}.")

    @staticmethod
    def check_admin(client: Client) -> None:
        if not client.is_admin:
            raise ApiError(403, "This operation requires membership in an administrator role.")

    # -- MFA session tokens (the hooks of the operations that create and delete them) ------

    def create_mfa_session(self, client: Client, minutes: int) -> MfaSession:
        """A new session token; it replaces the account's previous one."""
        session = MfaSession(
            token_id=secrets.token_hex(6).upper(),
            token=secrets.token_urlsafe(24),
            client_id=client.client_id,
            expires=datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=minutes),
        )
        with self._lock:
            self._mfa[client.client_id] = session
        return session

    def delete_mfa_session(self, client: Client, token_id: str) -> bool:
        with self._lock:
            session = self._mfa.get(client.client_id)
            if session is None or session.token_id != token_id:
                return False
            del self._mfa[client.client_id]
            return True
