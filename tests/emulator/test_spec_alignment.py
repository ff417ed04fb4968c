"""The PowerClerk handlers and the spec they serve must not drift apart."""

from __future__ import annotations

from emulator.app import generic_answer
from emulator.validation import problems


def test_every_handler_serves_a_spec_operation(powerclerk_emulator):
    wire_names = {op.wire_name for op in powerclerk_emulator.emulator.api.operations}
    # a handler for a renamed op would be dead
    assert set(powerclerk_emulator.emulator.behaviour.handlers) <= wire_names


def test_every_operation_is_routed(powerclerk_emulator):
    api = powerclerk_emulator.emulator.api
    routed = {route.path for route in powerclerk_emulator.app.routes}
    assert {api.base_path + op.path for op in api.operations} <= routed


def test_generic_answers_fit_every_response_model(powerclerk_emulator):
    """Whatever the spec adds, the generic handler can answer it validly."""
    emulator = powerclerk_emulator.emulator
    for op in emulator.api.operations:
        if op.response.kind == "json":
            answer = generic_answer(emulator.api, op)
            assert problems(emulator.validator(op.response.model_name), answer) == [], op.wire_name
