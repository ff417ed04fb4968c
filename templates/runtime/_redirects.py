"""Following a 301: "The requested resource should be accessed through the returned URI in the
Location header". A 301 says the request was not processed where it was sent, so it is sent
again, same method and same body, to the Location: an idempotent call for up to `MAX_HOPS`
redirects, any other call once (a second 301 raises RedirectError; nothing more is sent).
The credentials go along only while the Location stays on the origin the call started from.
A RedirectError shows every URI masked by `Redactor.uri`: the server chose them, and a Location
may carry a signature or credentials in its query or user info."""

from __future__ import annotations

import httpx

from ._exceptions import RedirectError
from ._redact import Redactor

MAX_HOPS = 5
STATUS = 301


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


class Redirects:
    """The redirects of one call so far."""

    def __init__(self, idempotent: bool, redactor: Redactor) -> None:
        self._redactor = redactor
        self.limit = MAX_HOPS if idempotent else 1
        self.chain: list[str] = []
        self._origin: tuple[str, str, int | None] | None = None
        self.same_origin = True  # once the chain leaves the origin, it never gets them back

    def follow(self, response: httpx.Response) -> str:
        """The URI to send the call to next, or RedirectError."""
        request = response.request
        if not self.chain:
            self.chain.append(str(request.url))
            self._origin = _origin(request.url)
        location = response.headers.get("location", "")
        if not location:
            raise self.refusal(response, "the answer has no Location header")
        target = request.url.join(location)
        if target.scheme not in ("http", "https"):
            shown = self._redactor.uri(location)
            raise self.refusal(response, f"Location {shown!r} is not an http(s) URI")
        if str(target) in self.chain:
            loop = " -> ".join(self._redactor.uri(uri) for uri in [*self.chain, str(target)])
            raise self.refusal(response, f"redirect loop: {loop}")
        if len(self.chain) > self.limit:
            kind = "an idempotent call" if self.limit > 1 else "a call that is not idempotent"
            raise self.refusal(
                response,
                f"{len(self.chain) - 1} redirect(s) already followed, the most for {kind}; "
                f"next Location {self._redactor.uri(str(target))}",
            )
        if _origin(target) != self._origin:
            self.same_origin = False
        self.chain.append(str(target))
        return str(target)

    def refusal(self, response: httpx.Response, why: str) -> RedirectError:
        request, shown = response.request, self._redactor.uri
        return RedirectError(
            f"301 not followed: {why}",
            method=request.method,
            url=shown(str(request.url)),
            location=shown(response.headers.get("location", "")),
            chain=[shown(uri) for uri in self.chain or [str(request.url)]],
        )
