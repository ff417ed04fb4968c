"""The error statuses an operation can be answered with, derived from the IR: what the OpenAPI
export declares, and what a server that follows the spec (the emulator engine) may answer.

405 (an undeclared method on a known path) belongs to no operation, and 5xx (faults) are
described by no API document: both are left to the `default` response."""

from __future__ import annotations

from generator.model.ir import Api, Operation


def _takes_input(op: Operation) -> bool:
    return bool(op.params) or op.body.kind != "none"


def declared_statuses(api: Api, op: Operation) -> dict[int, str]:
    """Status -> a short description, in status order."""
    out: dict[int, str] = {}
    if _takes_input(op):
        out[400] = (
            "The request breaks the spec (body schema, parameters, request rules, malformed "
            "JSON, a file over its size limit) or a business rule on its input."
        )
    mfa = api.mfa_otp_header and op.mfa in ("required", "if_enabled")
    out[401] = "No or invalid access token" + (", or missing or invalid MFA." if mfa else ".")
    forbidden = [
        "the operation is for admin users only" if op.admin_only else "",
        "MFA is required and not given" if mfa and op.mfa == "required" else "",
        "MFA is enabled for the API user and not given" if mfa and op.mfa == "if_enabled" else "",
    ]
    reasons = [r for r in forbidden if r]
    if reasons:
        out[403] = "Forbidden: " + "; or ".join(reasons) + "."
    if op.params_in("path"):
        out[404] = "No record matches the path parameters."
    for rule in op.errors:  # the spec's business rules on valid input
        when = rule.when[0].upper() + rule.when[1:].rstrip(".")
        inferred = rule.confidence == "inferred"
        when += f" (inferred, not documented: {rule.source})" if inferred else "."
        out[rule.status] = f"{out[rule.status]} Or: {when}" if rule.status in out else when
    if api.quota_status:
        out[api.quota_status] = "The account's call quota is used up."
    if api.rate_limit:
        limit = api.rate_limit
        out[limit.status] = (
            f"Rate limit: more than {limit.operations} operations in {limit.per_seconds:g} s."
        )
    return dict(sorted(out.items()))
