"""Tokens, MFA and the rate limit, end to end against the emulator."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pyotp
import pytest
from powerclerk import (
    OPERATIONS,
    AsyncPowerClerk,
    AuthenticationError,
    MfaConfigurationError,
    PowerClerk,
    RateLimitError,
)

from emulator.server import EmulatorServer
from tests.conftest import ADMIN as ADMIN_CLIENT
from tests.conftest import MFA as MFA_CLIENT
from tests.e2e.conftest import PROGRAM_ID


def test_token_is_fetched_once_and_reused(
    make_client: Callable[..., PowerClerk], emulator: EmulatorServer
) -> None:
    with make_client() as pc:
        for _ in range(5):
            pc.programs.list()
    assert emulator.traffic.token_requests == 1


def test_token_revoked_mid_run_is_refreshed_once(
    make_client: Callable[..., PowerClerk], emulator: EmulatorServer
) -> None:
    with make_client() as pc:
        pc.programs.list()
        emulator.auth.revoke_tokens()  # the server forgets it: the next call gets a 401
        assert pc.programs.list()
        pc.programs.list()
    assert emulator.traffic.token_requests == 2


def test_short_lived_token_is_refreshed_before_it_expires(
    make_client: Callable[..., PowerClerk],
    emulator: EmulatorServer,
) -> None:
    emulator.settings.token_lifetime = 2
    with make_client() as pc:
        pc.programs.list()
        time.sleep(1.2)  # past the refresh margin (half the lifetime), before expiry
        pc.programs.list()
    assert emulator.traffic.token_requests == 2


async def test_concurrent_tasks_share_one_token(
    make_async_client: Callable[..., AsyncPowerClerk],
    emulator: EmulatorServer,
) -> None:
    async with make_async_client() as pc:
        results = await asyncio.gather(*(pc.programs.list() for _ in range(15)))
    assert all(results)
    assert emulator.traffic.token_requests == 1


def test_wrong_secret_raises_authentication_error_without_the_secret(
    make_client: Callable[..., PowerClerk],
) -> None:
    with make_client(client_secret="not-the-secret") as pc:
        with pytest.raises(AuthenticationError) as caught:
            pc.programs.list()
    assert "not-the-secret" not in str(caught.value) + repr(caught.value)


def test_mfa_with_totp_secret_is_accepted(make_client: Callable[..., PowerClerk]) -> None:
    with make_client(MFA_CLIENT, mfa_totp_secret=MFA_CLIENT.mfa_totp_secret) as pc:
        assert pc.programs.list()


def test_mfa_with_otp_callable(make_client: Callable[..., PowerClerk]) -> None:
    totp = pyotp.TOTP(MFA_CLIENT.mfa_totp_secret or "")
    with make_client(MFA_CLIENT, mfa_otp=totp.now) as pc:
        assert pc.programs.list()


def test_mfa_account_without_mfa_is_refused(make_client: Callable[..., PowerClerk]) -> None:
    with make_client(MFA_CLIENT) as pc, pytest.raises(AuthenticationError) as caught:
        pc.programs.list()
    assert "MFA" in str(caught.value) or "Mfa" in str(caught.value)


def test_mfa_session_token_created_with_totp_then_used(
    make_client: Callable[..., PowerClerk],
) -> None:
    with make_client(MFA_CLIENT, mfa_totp_secret=MFA_CLIENT.mfa_totp_secret) as pc:
        created = pc.accounts.create_mfa_session_token(expires_after_minutes=60)
    assert created.token and created.token_id and created.expiration_timestamp
    with make_client(MFA_CLIENT, mfa_session_token=created.token) as pc:
        assert pc.programs.list()
        pc.accounts.delete_mfa_session_token(created.token_id)
        with pytest.raises(AuthenticationError):
            pc.programs.list()


def test_operation_requiring_mfa_is_refused_before_sending(
    make_client: Callable[..., PowerClerk],
    emulator: EmulatorServer,
) -> None:
    with make_client() as pc, pytest.raises(MfaConfigurationError):
        pc.accounts.create_mfa_session_token(expires_after_minutes=60)
    assert emulator.traffic.requests == 0


def test_burst_past_the_server_limit_recovers_without_error(
    make_client: Callable[..., PowerClerk],
    emulator: EmulatorServer,
) -> None:
    emulator.settings.rate_limit, emulator.settings.rate_window = 5, 1.0
    with make_client(max_retries=8) as pc:  # no client-side limiter: the server says 429
        results = [pc.programs.list_statuses(PROGRAM_ID) for _ in range(12)]
    assert len(results) == 12
    assert emulator.traffic.rate_limited > 0


def test_client_side_limiter_avoids_429(
    make_client: Callable[..., PowerClerk], emulator: EmulatorServer
) -> None:
    emulator.settings.rate_limit, emulator.settings.rate_window = 5, 1.0
    with make_client(rate_limit=5, rate_window=1.0) as pc:
        for _ in range(12):
            pc.programs.list_statuses(PROGRAM_ID)
    assert emulator.traffic.rate_limited == 0


def test_retries_exhausted_raise_rate_limit_error(
    make_client: Callable[..., PowerClerk], emulator: EmulatorServer
) -> None:
    emulator.settings.rate_limit, emulator.settings.rate_window = 1, 30.0
    emulator.settings.send_retry_after = True
    with make_client(ADMIN_CLIENT, max_retries=0) as pc:
        pc.programs.list()
        with pytest.raises(RateLimitError) as caught:
            pc.programs.list()
    assert caught.value.status_code == 429


REVEAL_DOC = (
    "Certain APIs may include a reveal_sensitive_data parameter which, if set to true, "
    "requires MFA."
)


@pytest.mark.parametrize("method", ["get_all_data", "get_draft_data", "get_submitted_data"])
def test_reveal_sensitive_data_true_without_mfa_is_refused_before_sending(
    make_client: Callable[..., PowerClerk], emulator: EmulatorServer, method: str
) -> None:
    """REVEAL_DOC: the client refuses the call, as for an operation that always needs MFA."""
    ids = (PROGRAM_ID, "P1") if method == "get_all_data" else (PROGRAM_ID, "P1", "F1")
    with make_client() as pc:
        call = getattr(pc.projects, method)
        with pytest.raises(MfaConfigurationError, match="reveal_sensitive_data=True requires MFA"):
            call(*ids, reveal_sensitive_data=True)
    assert emulator.traffic.requests == 0
    (op,) = [o for o in OPERATIONS.values() if (o.resource, o.python_name) == ("projects", method)]
    assert [p.wire_name for p in op.params if p.mfa_when_true] == ["reveal_sensitive_data"]


async def test_reveal_sensitive_data_true_without_mfa_is_refused_async(
    make_async_client: Callable[..., AsyncPowerClerk], emulator: EmulatorServer
) -> None:
    """REVEAL_DOC, for the async client."""
    async with make_async_client() as pc:
        with pytest.raises(MfaConfigurationError):
            await pc.projects.get_all_data(PROGRAM_ID, "P1", reveal_sensitive_data=True)
    assert emulator.traffic.requests == 0
