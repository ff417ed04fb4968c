"""Configuration from the environment: every variable of the generated README's table (the
model's `env_arguments`, named after the API) is picked up by the generated clients against the
emulators over loopback, an explicit argument wins over its variable, and a required one found
nowhere is a ConfigurationError naming the argument and the variable."""

from __future__ import annotations

import asyncio
from pathlib import Path

import ebuilder
import powerclerk
import pytest
from ebuilder import AsyncEBuilder, EBuilder
from powerclerk import PowerClerk

from emulator.server import EmulatorServer
from generator.pipeline import load_api
from tests.conftest import ADMIN, EB_USER, SPECS
from tests.e2e.conftest import PROGRAM_ID

ROOT = Path(__file__).resolve().parents[2]


def _variables(api: str) -> dict[str, bool]:
    model = load_api(SPECS / api)
    return {f"{model.env_prefix}_{name.upper()}": required
            for name, required in model.env_arguments}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for api in ("powerclerk", "ebuilder"):
        for variable in _variables(api):
            monkeypatch.delenv(variable, raising=False)


def _powerclerk_env(server: EmulatorServer) -> dict[str, str]:
    return {
        "POWERCLERK_CLIENT_ID": ADMIN.client_id,
        "POWERCLERK_CLIENT_SECRET": ADMIN.client_secret,
        "POWERCLERK_API_KEY": ADMIN.api_key,
        "POWERCLERK_BASE_URL": server.base_url,
        "POWERCLERK_TOKEN_URL": server.token_url,
    }


def test_the_variables_are_named_after_the_api_from_the_auth_kind() -> None:
    assert _variables("powerclerk") == {
        "POWERCLERK_CLIENT_ID": True, "POWERCLERK_CLIENT_SECRET": True,
        "POWERCLERK_API_KEY": True, "POWERCLERK_ENVIRONMENT": False,
        "POWERCLERK_BASE_URL": False, "POWERCLERK_TOKEN_URL": False,
        "POWERCLERK_MFA_SESSION_TOKEN": False, "POWERCLERK_MFA_TOTP_SECRET": False,
    }
    assert _variables("ebuilder") == {
        "EBUILDER_USERNAME": True, "EBUILDER_PASSWORD": True, "EBUILDER_BASE_URL": True,
        "EBUILDER_TOKEN_URL": False,
    }
    for api, variables in (("powerclerk", _variables("powerclerk")),
                           ("ebuilder", _variables("ebuilder"))):
        readme = (ROOT / "generated" / api / "README.md").read_text("utf-8")
        client = (ROOT / "generated" / api / api / "_client.py").read_text("utf-8")
        for variable in variables:  # documented in the README's table and the docstring
            assert f"| `{variable}` |" in readme and f"`{variable}`" in client


def test_a_client_from_the_environment_alone_works(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable, value in _powerclerk_env(emulator).items():
        monkeypatch.setenv(variable, value)
    with PowerClerk(rate_limit=None) as pc:
        assert pc.base_url == emulator.base_url
        assert [p.program_id for p in pc.programs.list()] == [PROGRAM_ID]


def test_explicit_arguments_win_over_the_environment(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("POWERCLERK_CLIENT_ID", "POWERCLERK_CLIENT_SECRET", "POWERCLERK_API_KEY"):
        monkeypatch.setenv(variable, "wrong-" + variable.lower())
    monkeypatch.setenv("POWERCLERK_BASE_URL", "http://127.0.0.1:9/nowhere")
    monkeypatch.setenv("POWERCLERK_TOKEN_URL", "http://127.0.0.1:9/token")
    with PowerClerk(client_id=ADMIN.client_id, client_secret=ADMIN.client_secret,
                    api_key=ADMIN.api_key, base_url=emulator.base_url,
                    token_url=emulator.token_url, rate_limit=None) as pc:
        assert pc.programs.list()


def test_url_arguments_go_together(emulator: EmulatorServer,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    for variable, value in _powerclerk_env(emulator).items():
        monkeypatch.setenv(variable, value)
    # environment= given: the environment's base and token URLs, not the variables'.
    with PowerClerk(environment="trial") as pc:
        assert pc.base_url == "https://api.cleanpowerdemo.com/PCITrial"
        assert "cleanpowerdemo" in repr(pc) and emulator.token_url not in repr(pc)
    monkeypatch.delenv("POWERCLERK_BASE_URL")
    monkeypatch.delenv("POWERCLERK_TOKEN_URL")
    monkeypatch.setenv("POWERCLERK_ENVIRONMENT", "production")
    with PowerClerk() as pc:
        assert pc.base_url == "https://api.powerclerk.com"


def test_a_missing_credential_names_the_argument_and_the_variable(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable, value in _powerclerk_env(emulator).items():
        monkeypatch.setenv(variable, value)
    monkeypatch.delenv("POWERCLERK_CLIENT_SECRET")
    with pytest.raises(powerclerk.ConfigurationError) as missing:
        PowerClerk()
    assert str(missing.value) == (
        "missing client_secret: pass client_secret= or set POWERCLERK_CLIENT_SECRET"
    )
    assert isinstance(missing.value, powerclerk.APIError) and isinstance(missing.value, ValueError)
    monkeypatch.delenv("POWERCLERK_BASE_URL")
    monkeypatch.delenv("POWERCLERK_TOKEN_URL")
    with pytest.raises(ValueError, match="or set POWERCLERK_ENVIRONMENT or POWERCLERK_BASE_URL"):
        PowerClerk(client_secret="s")


def test_ebuilder_reads_username_password_and_base_url(
    eb_emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = ebuilder.ConfigurationError
    with pytest.raises(refused, match="pass username= or set EBUILDER_USERNAME"):
        EBuilder()
    monkeypatch.setenv("EBUILDER_USERNAME", EB_USER.client_id)
    monkeypatch.setenv("EBUILDER_PASSWORD", EB_USER.client_secret)
    with pytest.raises(refused, match="pass base_url= or set EBUILDER_BASE_URL"):
        EBuilder()
    monkeypatch.setenv("EBUILDER_BASE_URL", eb_emulator.base_url)

    async def comment() -> int:
        async with AsyncEBuilder() as eb:
            before = eb_emulator.traffic.token_requests
            try:
                await eb.process_instances.create_comment(
                    "00000000-0000-0000-0000-000000000000", comment_text="x")
            except ebuilder.NotFoundError:  # authenticated: the server looked the id up
                return int(eb_emulator.traffic.token_requests - before)
        raise AssertionError("the unknown instance was found")

    assert asyncio.run(comment()) == 1
    # An explicit password wins over EBUILDER_PASSWORD.
    with EBuilder(password="wrong") as eb, pytest.raises(ebuilder.AuthenticationError):
        eb.process_instances.create_comment(
            "00000000-0000-0000-0000-000000000000", comment_text="x")


def test_mfa_settings_come_from_the_environment_as_a_group(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import MFA as MFA_CLIENT

    monkeypatch.setenv("POWERCLERK_BASE_URL", emulator.base_url)
    monkeypatch.setenv("POWERCLERK_TOKEN_URL", emulator.token_url)
    monkeypatch.setenv("POWERCLERK_CLIENT_ID", MFA_CLIENT.client_id)
    monkeypatch.setenv("POWERCLERK_CLIENT_SECRET", MFA_CLIENT.client_secret)
    monkeypatch.setenv("POWERCLERK_API_KEY", MFA_CLIENT.api_key)
    monkeypatch.setenv("POWERCLERK_MFA_TOTP_SECRET", MFA_CLIENT.mfa_totp_secret or "")
    with PowerClerk(rate_limit=None) as pc:  # the TOTP secret from the environment
        assert pc.programs.list()
    # An explicit mfa_otp= is one of the group: the variable is not read (else: two MFA ways).
    with PowerClerk(rate_limit=None, mfa_otp=lambda: "000000") as pc, pytest.raises(
        powerclerk.AuthenticationError
    ):
        pc.programs.list()
    monkeypatch.delenv("POWERCLERK_MFA_TOTP_SECRET")
    with PowerClerk(rate_limit=None) as pc, pytest.raises(powerclerk.AuthenticationError):
        pc.programs.list()  # an MFA account without MFA is refused
