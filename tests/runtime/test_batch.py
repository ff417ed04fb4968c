"""Batch answers: every input record paired with what the server said about it."""

from __future__ import annotations

import base64
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import BaseModel

SHAPE_ARGS = dict(
    success="success",
    records="records",
    record_errors="errorMessages",
    messages="messages",
    support_id="supportId",
    error_description="errorDescription",
)


class Answer(BaseModel):
    model_config = {"extra": "allow"}


def _result(rt: SimpleNamespace, body: dict[str, Any], sent: list[Any]) -> Any:
    shape = rt.BatchResultShape(**SHAPE_ARGS)
    return rt.build_result(shape, Answer.model_validate(body), body, sent, sent)


def test_flat_echo_is_paired_with_its_record_whatever_the_key_case(rt: SimpleNamespace) -> None:
    sent = [
        {"projectIdentifier": "A", "commitmentNumber": "1001", "status": "Void"},
        {"projectIdentifier": "A", "commitmentNumber": "1002", "status": "Void"},
        {"projectIdentifier": "A", "commitmentNumber": "1003", "status": "Void"},
    ]
    body = {
        "success": False,
        "supportId": "05L7TRJ",
        "messages": ["Error in Import."],
        "records": [
            {
                "projectIdentifier": "A",
                "CommitmentNumber": "1002",
                "status": "Void",
                "errorMessages": ["Commitment must be in approved status"],
            }
        ],
    }
    result = _result(rt, body, sent)
    assert [o.ok for o in result.outcomes] == [True, False, True]
    assert result.outcomes[1].error_messages == ("Commitment must be in approved status",)
    assert (result.support_id, result.messages, result.ok) == (
        "05L7TRJ",
        ["Error in Import."],
        False,
    )


def test_header_items_echo_collects_item_errors(rt: SimpleNamespace) -> None:
    sent = [
        {
            "header": {"projectIdentifier": "P", "commitmentNumber": "001"},
            "items": [{"commitmentItemNumber": "001", "budgetLineItem": "b1.1000"}],
        },
        {
            "header": {"projectIdentifier": "P", "commitmentNumber": "002"},
            "items": [{"commitmentItemNumber": "001", "amount": 5000}],
        },
    ]
    body = {
        "success": False,
        "records": [
            {
                "header": {"projectIdentifier": "P", "commitmentNumber": "001"},
                "items": [
                    {
                        "commitmentItemNumber": "001",
                        "budgetLineItem": "b1.1000",
                        "errorMessages": ["Commitment Item Amount is required"],
                    }
                ],
            }
        ],
    }
    result = _result(rt, body, sent)
    assert result.outcomes[0].error_messages == ("Commitment Item Amount is required",)
    assert result.outcomes[1].ok


def test_list_of_lists_echo_and_numbers_compared_by_value(rt: SimpleNamespace) -> None:
    sent = [{"option": "578", "amount": 18888.80}, {"option": "579", "amount": 5000}]
    body = {
        "success": False,
        "records": [[{"option": "579", "amount": "5000.00", "errorMessages": ["Option exists"]}]],
    }
    result = _result(rt, body, sent)
    assert [o.ok for o in result.outcomes] == [True, False]


@pytest.mark.parametrize("flag", [True, "true", "True"])
def test_success_spellings(rt: SimpleNamespace, flag: object) -> None:
    result = _result(rt, {"success": flag}, [{"a": 1}])
    assert result.ok and result.success


def test_failure_without_records_fails_every_record(rt: SimpleNamespace) -> None:
    result = _result(
        rt, {"success": False, "messages": ["Project name already exists."]}, [{"projectName": "X"}]
    )
    assert result.outcomes[0].error_messages == ("Project name already exists.",)


def test_error_description_variant_without_success_flag(rt: SimpleNamespace) -> None:
    body = {
        "errorDescription": "There are error(s) in the request.",
        "messages": ["Invalid type. Expected Boolean but got String. Path 'isPrivate'."],
    }
    result = _result(rt, body, [{"commentText": "x"}])
    assert not result.success and not result.ok
    assert result.messages[0] == "There are error(s) in the request."


def test_echo_matching_no_record_is_kept_as_unmatched(rt: SimpleNamespace) -> None:
    body = {"success": False, "records": [{"zzz": "nope", "errorMessages": ["odd"]}]}
    result = _result(rt, body, [{"a": "1"}])
    assert result.outcomes[0].ok and result.unmatched == body["records"]
    assert not result.ok


def test_strict_error_carries_the_result(rt: SimpleNamespace) -> None:
    result = _result(
        rt, {"success": False, "records": [{"a": "1", "errorMessages": ["bad"]}]}, [{"a": "1"}]
    )
    error = rt.BatchFailedError(result)
    assert error.result is result and "1 of 1 record(s) failed: bad" in str(error)


def test_a_bad_record_fails_alone_before_sending(rt: SimpleNamespace) -> None:
    class Row(rt.RequestModel):  # type: ignore[name-defined,misc]
        number: str
        amount: float | None = None

    class Body(rt.RequestModel):  # type: ignore[name-defined,misc]
        data: list[Row]

    op = SimpleNamespace(batch=rt.Batch(records="data", keep=()))
    rows = [{"number": "1"}, {"number": "2", "amount": "lots"}, {"numbr": "3"}]
    chunk = rt.batch._validated_chunk(op, Body, rows, 10, {})
    assert chunk.indexes == [10]
    assert [o.index for o in chunk.rejected] == [11, 12]
    assert chunk.wire == {"data": [{"number": "1"}]}


def test_base64_decoded_size_without_decoding(rt: SimpleNamespace) -> None:
    for size in (0, 1, 2, 3, 1000, 1001):
        text = base64.b64encode(b"x" * size).decode()
        assert rt.decoded_size(text) == size


def test_d7_echo_with_a_changed_amount_still_pairs_by_its_other_fields(rt: SimpleNamespace) -> None:
    sent = [
        {"accountFundingSourceName": "API Funding 17", "adjustmentItemAmount": 18888.80},
        {"accountFundingSourceName": "API Funding 18", "adjustmentItemAmount": 18888.80},
    ]
    body = {
        "success": False,
        "records": [
            {
                "accountFundingSourceName": "API Funding 18",
                "adjustmentItemAmount": 1888880,
                "errorMessages": ["Funding source already exists"],
            }
        ],
    }
    assert [o.ok for o in _result(rt, body, sent).outcomes] == [True, False]


def test_f5_success_with_echoed_records_and_no_errors_is_all_success(rt: SimpleNamespace) -> None:
    result = _result(rt, {"success": True, "records": [{"a": "1"}]}, [{"a": "1"}])
    assert result.ok and not result.unmatched
