"""What a generated README's quick start says about the API's local emulator: how it is reached,
its accounts, the records it starts with, and the call the quick start makes. The pipeline
reads the facts from the emulator data beside the spec; the README template prints them."""

from __future__ import annotations

from dataclasses import dataclass

from generator.model.ir import Api, Operation


@dataclass(frozen=True)
class Account:
    name: str
    fields: tuple[tuple[str, str], ...]  # constructor argument -> value, in file order
    admin: bool

    @property
    def mfa(self) -> bool:
        """Whether the account's client arguments configure MFA (`mfa_totp_secret`, ...)."""
        return any(name.startswith("mfa_") for name, _ in self.fields)


@dataclass(frozen=True)
class Records:
    """The records of one collection the emulator starts with, by their key values."""

    collection: str
    key: tuple[str, ...]  # the key fields' wire names
    values: tuple[str, ...]  # one per record: its key values joined by " / "


@dataclass(frozen=True)
class LocalEmulator:
    base_url: str
    token_path: str  # where the emulator issues tokens, under base_url
    accounts: tuple[Account, ...]
    records: tuple[Records, ...]
    # path parameter -> an id the emulator creates at start (where the spec has no example)
    known_ids: tuple[tuple[str, str], ...] = ()
    # operation wire name -> why the emulator answers its README example with an error
    refused_examples: tuple[tuple[str, str], ...] = ()

    @property
    def mfa_account(self) -> Account | None:
        """The account the examples of operations that require MFA use, when `account` has
        none: the first whose client arguments configure MFA (`mfa_totp_secret`)."""
        return next((a for a in self.accounts if a.mfa), None)

    @property
    def account(self) -> Account:
        """The account the examples use: an admin one where there is one, so that the
        admin-only examples work too."""
        return next((a for a in self.accounts if a.admin), self.accounts[0])


def first_call(api: Api) -> Operation | None:
    """The quick start's call: a read that needs no body and no argument without an example
    (the fewest arguments first), else the first bulk import, else none."""
    def runnable(op: Operation) -> bool:
        required = [p for p in op.params if p.required or p.location == "path"]
        return (op.idempotent and op.body.kind == "none" and op.response.kind == "json"
                and op.mfa != "required" and all(p.example is not None for p in required))

    reads = [op for r in api.resources for op in r.operations if runnable(op)]
    if reads:
        return min(reads, key=lambda op: sum(p.required or p.location == "path"
                                             for p in op.params))
    return next((op for r in api.resources for op in r.operations if op.batch), None)
