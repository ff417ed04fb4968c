"""Token endpoint, bearer tokens, API keys, MFA and admin rights."""

from __future__ import annotations

import time

import httpx

from tests.conftest import ADMIN, DEMO, MFA
from tests.emulator.conftest import get_token, program_path, session, totp


def test_token_endpoint(emulator):
    response = httpx.post(emulator.token_url, data={
        "grant_type": "client_credentials", "client_id": DEMO.client_id,
        "client_secret": DEMO.client_secret,
    })
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == emulator.settings.token_lifetime
    assert body["access_token"]
    wrong = httpx.post(emulator.token_url, data={
        "grant_type": "client_credentials", "client_id": DEMO.client_id,
        "client_secret": "nope",
    })
    assert wrong.status_code == 401
    assert wrong.json() == {"error": "invalid_client"}
    assert emulator.traffic.token_requests == 2


def test_bearer_and_api_key_required(emulator):
    token = get_token(emulator, DEMO)
    url = emulator.api_url + "/Programs"
    ok = httpx.get(url, headers={"Authorization": f"Bearer {token}", "X-ApiKey": DEMO.api_key})
    assert ok.status_code == 200
    assert ok.json()["Programs"][0]["ProgramId"]
    for headers in (
        {"X-ApiKey": DEMO.api_key},
        {"Authorization": "Bearer forged", "X-ApiKey": DEMO.api_key},
        {"Authorization": f"Bearer {token}"},
        {"Authorization": f"Bearer {token}", "X-ApiKey": "unknown-key"},
    ):
        response = httpx.get(url, headers=headers)
        assert response.status_code == 401, headers
        assert response.json()["Message"]


def test_expired_token(emulator):
    emulator.settings.token_lifetime = 1
    with session(emulator) as http:
        assert http.get("/Programs").status_code == 200
        time.sleep(1.05)
        response = http.get("/Programs")
    assert response.status_code == 401
    assert "expired" in response.json()["Message"]


def test_admin_only_operation(connect):
    path = program_path("/StatusList")
    denied = connect(DEMO).get(path)
    assert denied.status_code == 403
    assert "administrator" in denied.json()["Message"]
    allowed = connect(ADMIN).get(path)
    assert allowed.status_code == 200
    names = [s["Name"] for s in allowed.json()["Statuses"]]
    assert names[:2] == ["Unsubmitted", "Submitted"]


def test_mfa_totp(emulator, connect):
    http = connect(MFA)
    missing = http.get("/Programs")
    assert missing.status_code == 401
    assert "MFA is required" in missing.json()["Message"]
    wrong = http.get("/Programs", headers={"Mfa-One-Time-Password": "000000"})
    assert wrong.status_code == 401
    ok = http.get("/Programs", headers={"Mfa-One-Time-Password": totp(MFA)})
    assert ok.status_code == 200


def test_mfa_session_token_lifecycle(connect):
    http = connect(MFA)
    path = "/Accounts/MfaSessionTokens"
    created = http.post(path, json={"ExpiresAfterMinutes": 60},
                        headers={"Mfa-One-Time-Password": totp(MFA)})
    assert created.status_code == 200, created.text
    first = created.json()
    assert first["TokenId"] and first["Token"]
    with_session = {"Mfa-Session-Token": first["Token"]}
    assert http.get("/Programs", headers=with_session).status_code == 200
    # Creating a session token needs a one-time password; a session token does not do.
    refused = http.post(path, json={}, headers=with_session)
    assert refused.status_code == 401
    # A new token replaces the old one.
    second = http.post(path, json={}, headers={"Mfa-One-Time-Password": totp(MFA)}).json()
    assert http.get("/Programs", headers=with_session).status_code == 401
    new_session = {"Mfa-Session-Token": second["Token"]}
    assert http.get("/Programs", headers=new_session).status_code == 200
    # An unexpired session token may authorize its own deletion.
    deleted = http.delete(f"{path}/{second['TokenId']}", headers=new_session)
    assert deleted.status_code == 204
    assert http.get("/Programs", headers=new_session).status_code == 401


def test_mfa_session_token_needs_mfa_account(connect):
    # 403, not 401: the token is valid, the account lacks the MFA this operation requires.
    response = connect(DEMO).post("/Accounts/MfaSessionTokens", json={})
    assert response.status_code == 403


def test_token_with_http_basic_client_auth(emulator):
    response = httpx.post(emulator.token_url, data={"grant_type": "client_credentials"},
                          auth=(ADMIN.client_id, ADMIN.client_secret))
    assert response.status_code == 200
    assert response.json()["access_token"]


def test_sensitive_data_needs_mfa(connect):
    demo, mfa = connect(DEMO), connect(MFA)
    project = demo.post(program_path("/NewProject")).json()["Project"]["ProjectId"]
    path = program_path(f"/Projects/{project}/Forms/APPLICATION/Draft/Data")
    written = demo.post(path, json={"Project": {"DataFields": [
        {"DataFieldId": "ACCOUNT_NUMBER", "Value": "12345"}]}})
    account = {f["CustomId"]: f["Value"] for f in written.json()["Project"]["DataFields"]}
    assert account["ACCOUNT_NUMBER"] == "********"
    assert demo.get(path, params={"reveal_sensitive_data": "true"}).status_code == 403
    # The MFA account may reveal it (it can read the project: the emulator has no ACLs).
    revealed = mfa.get(path, params={"reveal_sensitive_data": "true"},
                       headers={"Mfa-One-Time-Password": totp(MFA)})
    assert revealed.status_code == 200
    values = {f["CustomId"]: f["Value"] for f in revealed.json()["Project"]["DataFields"]}
    assert values["ACCOUNT_NUMBER"] == "12345"


def test_mfa_session_token_expires(emulator, connect):
    http = connect(MFA)
    token = http.post("/Accounts/MfaSessionTokens", json={"ExpiresAfterMinutes": 1},
                      headers={"Mfa-One-Time-Password": totp(MFA)}).json()["Token"]
    assert http.get("/Programs", headers={"Mfa-Session-Token": token}).status_code == 200
    emulator.auth.expire_mfa_sessions()  # instead of waiting a minute
    assert http.get("/Programs", headers={"Mfa-Session-Token": token}).status_code == 401


def test_revoked_tokens_are_refused(emulator, api):
    assert api.get("/Programs").status_code == 200
    emulator.auth.revoke_tokens()
    assert api.get("/Programs").status_code == 401
