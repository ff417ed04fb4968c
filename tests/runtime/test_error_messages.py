"""What an error says, against a real server on 127.0.0.1, sync and async: the status, the
method and URL, the server's message, its list of errors (the first few, then how many more),
the id it gave the call (body field or header, as the API's ErrorShape says), and no secret;
a RedirectError masks what the server put in its Location."""

from __future__ import annotations

import pytest

from tests.runtime.conftest import API_KEY, BASE_PATH, CLIENT_SECRET


def _errors(count: int) -> list[str]:
    return [f"field{n} is wrong" for n in range(count)]


def test_a_status_error_names_the_call_the_message_the_errors_and_the_id(
    rt, kind, make_client, make_op, emu, server
):
    client = make_client(kind)
    body = {"Message": "The request is invalid.", "Errors": _errors(12), "supportId": "AB12CD3"}
    emu.queue("/things", emu.Reply(400, json=body))
    with pytest.raises(rt.BadRequestError) as info:
        client.request(make_op(), query={"page": "1"})
    text = str(info.value)
    assert text.startswith(f"400 Bad Request: GET {server}{BASE_PATH}/things?page=1 — ")
    assert "The request is invalid. Errors: field0 is wrong; field1 is wrong" in text
    assert "field4 is wrong (and 7 more)" in text and "field5" not in text
    assert text.endswith("(supportId: AB12CD3)")
    assert info.value.errors == _errors(12)  # every one, untruncated
    assert info.value.request_id == "AB12CD3"
    assert info.value.message == "The request is invalid."


def test_error_objects_show_their_message_and_a_header_carries_the_id(
    rt, kind, make_client, make_op, emu
):
    client = make_client(kind)
    body = {"Message": "No.", "Errors": [{"Message": "Name is required", "Field": "Name"}, 7]}
    emu.queue("/things", emu.Reply(409, json=body, headers={"X-Request-Id": "req-42"}))
    with pytest.raises(rt.ConflictError) as info:
        client.request(make_op())
    assert info.value.errors == ["Name is required", "7"]
    assert info.value.request_id == "req-42"
    assert str(info.value).endswith("— No. Errors: Name is required; 7 (X-Request-Id: req-42)")


def test_a_long_error_is_cut_and_no_secret_is_shown(rt, kind, make_client, make_op, emu):
    client = make_client(kind)
    echoed = f"the key {API_KEY} and secret {CLIENT_SECRET} were refused " + "x" * 500
    emu.queue("/things", emu.Reply(400, json={"Message": "Refused", "Errors": [echoed]}))
    with pytest.raises(rt.BadRequestError) as info:
        client.request(make_op())
    text = str(info.value)
    assert API_KEY not in text and CLIENT_SECRET not in text and "***" in text
    assert "x" * 200 in text and "x" * 400 not in text and text.endswith("…")


def test_a_list_message_field_gives_its_first_entry_and_the_rest_as_errors(
    rt, kind, make_client, make_op, emu, fast_config
):
    shape = rt.ErrorShape(message_fields=("messages",), detail_fields=("messages",))
    client = make_client(kind, cfg=fast_config(errors=shape))
    emu.queue("/things", emu.Reply(404, json={"messages": ["Project not found.", "Try again."]}))
    with pytest.raises(rt.NotFoundError) as info:
        client.request(make_op())
    assert info.value.message == "Project not found."
    assert info.value.errors == ["Try again."] and info.value.request_id is None
    assert str(info.value).endswith("— Project not found. Errors: Try again.")


def test_a_missing_path_parameter_is_a_request_validation_error(rt, kind, make_client, make_op,
                                                                emu):
    client = make_client(kind)
    with pytest.raises(rt.RequestValidationError, match="missing path parameter 'Id'") as info:
        client.request(make_op(path="/things/{Id}"))
    assert isinstance(info.value, rt.APIError) and isinstance(info.value, ValueError)
    assert emu.calls() == []


def test_a_redirect_error_masks_the_location(rt, kind, make_client, make_op, emu):
    client = make_client(kind)
    location = "ftp://user:hunter2@files.invalid/x?X-Signature=s3cr3tsig&expires=99#frag"
    emu.queue("/things", emu.Reply(301, headers={"Location": location}))
    with pytest.raises(rt.RedirectError) as info:
        client.request(make_op())
    error = info.value
    for shown in (str(error), error.location, *error.chain):
        assert "hunter2" not in shown and "s3cr3tsig" not in shown and "frag" not in shown
    assert error.location == "ftp://***@files.invalid/x?X-Signature=***&expires=***#***"
    assert "is not an http(s) URI" in str(error)


def test_a_redirect_loop_masks_query_values(rt, kind, make_client, make_op, emu, server):
    client = make_client(kind)
    emu.queue("/things", emu.Reply(301, headers={"Location": f"{BASE_PATH}/b?sig=TOPSECRET"}))
    emu.queue("/b", emu.Reply(301, headers={"Location": f"{BASE_PATH}/things"}))
    with pytest.raises(rt.RedirectError) as info:
        client.request(make_op())
    assert "TOPSECRET" not in str(info.value) and "TOPSECRET" not in repr(info.value.chain)
    assert f"{server}{BASE_PATH}/b?sig=***" in info.value.chain
