"""The redaction rule: whole secrets masked wherever they stand, short ones only standing alone
or in credential places, and the rest of the text left as it was."""

from __future__ import annotations

import json

import pytest

from generator.drift import redact


@pytest.fixture
def redactor(rt):
    r = rt.Redactor(("X-ApiKey", "Mfa-Session-Token"))
    r.add("e", "abcd", "cs-SUPERSECRET/4f+b")
    return r


def test_long_secrets_are_masked_everywhere_and_in_every_encoding(redactor):
    text = "a cs-SUPERSECRET/4f+b, cs-SUPERSECRET%2F4f%2Bb and xcs-SUPERSECRET/4f+bx"
    assert redactor.text(text) == "a ***, *** and x***x"


def test_short_secrets_only_where_they_stand_alone(redactor):
    assert redactor.text("abcd abcdef xabcd abcd.") == "*** abcdef xabcd ***."


def test_a_one_letter_secret_stars_no_letter_of_prose(redactor):
    prose = "The request was rejected: the field 'name' is required."
    assert redactor.text(prose) == prose


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("grant_type=password&password=e&x=1", "grant_type=password&password=***&x=1"),
        ('{"password": "e", "user": "eve"}', '{"password": "***", "user": "eve"}'),
        ("{'X-ApiKey': 'k1'}", "{'X-ApiKey': '***'}"),
        ("X-ApiKey: k1\nHost: h", "X-ApiKey: ***\nHost: h"),
        ("Authorization: Bearer eyJ0.ab-c", "Authorization: Bearer ***"),
        ('"access_token":"t","token_type":"Bearer"', '"access_token":"***","token_type":"Bearer"'),
        # prose about credentials is not a credential
        ("Authorization: Bearer <access token> is required.",
         "Authorization: Bearer <access token> is required."),
        ("A valid X-ApiKey header is required.", "A valid X-ApiKey header is required."),
    ],
)
def test_credential_places_are_masked_whatever_their_value(redactor, text, masked):
    assert redactor.text(text) == masked


def test_parsed_bodies_mask_secret_fields_and_strings(redactor):
    body = {"Password": "e", "mfa-session-token": "zz", "items": [{"access_token": 5}],
            "Message": "box e", "note": None}
    assert redactor.data(body) == {"Password": "***", "mfa-session-token": "***",
                                   "items": [{"access_token": "***"}], "Message": "box e",
                                   "note": None}
    json.dumps(redactor.data(body))  # still JSON


def test_rotating_secrets_keep_only_the_latest(rt):
    r = rt.Redactor()
    for i in range(40):
        r.add(f"token-number-{i:04d}", rotating=True)
    assert r.text("token-number-0039") == "***"
    assert r.text("token-number-0000") == "token-number-0000"  # long expired, forgotten


def test_the_generator_uses_the_same_rule():
    # a drift error with a one-letter password: masked as a credential, nowhere else
    message = "GetWidgets.response.json: HTTP 401: rejected password=e for user eve"
    assert redact(message, ("e",)) == (
        "GetWidgets.response.json: HTTP 401: rejected password=*** for user eve"
    )
    assert redact("boom Bearer tok-123 cs-LONGSECRET", ("cs-LONGSECRET",)) == "boom Bearer *** ***"
