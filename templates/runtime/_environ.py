"""Constructor arguments from the environment. Every argument the caller leaves out is read
from `<PREFIX>_<ARGUMENT>` (the prefix is the API's name: `ACME_CLIENT_ID` for `client_id=`);
an argument passed explicitly always wins. Arguments that only make sense together (the URLs of
one server, the ways of doing MFA) are read as a group: once the caller passes one of them, the
environment is not read for the others, so it never mixes with what the caller chose."""

from __future__ import annotations

import os

from ._exceptions import ConfigurationError


class FromEnvironment:
    """Reads the variables of one API (`prefix`) for the arguments left out."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix

    def variable(self, argument: str) -> str:
        return f"{self._prefix}_{argument.upper()}"

    def _read(self, argument: str) -> str | None:
        return os.environ.get(self.variable(argument)) or None

    def required(self, argument: str, value: str | None) -> str:
        """`value`, else the variable; neither is ConfigurationError naming both."""
        found = value if value is not None else self._read(argument)
        if not found:
            raise ConfigurationError(
                f"missing {argument}: pass {argument}= or set {self.variable(argument)}"
            )
        return found

    def optional(self, argument: str, value: str | None) -> str | None:
        return value if value is not None else self._read(argument)

    def together(self, given: bool = False, **values: str | None) -> dict[str, str | None]:
        """A group of arguments: as passed when any of them was (or `given`), else all read."""
        if given or any(value is not None for value in values.values()):
            return dict(values)
        return {name: self._read(name) for name in values}
