from __future__ import annotations

import keyword

import pytest

from generator.model.names import is_identifier, pascal, snake


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("CurrentStatus", "current_status"),
        ("ProjectId", "project_id"),
        ("HTTPResponseCode", "http_response_code"),
        ("GPP / JV Firm?", "gpp_jv_firm"),
        ("class", "class_"),
        ("1st", "field_1st"),
        ("ß", "ss"),
        ("", "field"),
        ("Mfa-One-Time-Password", "mfa_one_time_password"),
        ("import", "import_"),
        ("json", "json_"),
    ],
)
def test_snake_always_gives_a_usable_identifier(wire: str, expected: str) -> None:
    assert snake(wire) == expected
    assert expected.isidentifier() and not keyword.iskeyword(expected)


def test_pascal() -> None:
    assert pascal("inquiry_threads") == "InquiryThreads"
    assert pascal("2fa") == "Model2fa"


def test_is_identifier_rejects_keywords_and_non_ascii() -> None:
    assert is_identifier("project_id")
    assert not is_identifier("class")
    assert not is_identifier("naïve")
