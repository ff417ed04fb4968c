"""Masks the client's own secrets in everything the client shows: exception messages and bodies,
log lines, reprs. One `Redactor` per client knows its secrets (client secret or password, API key,
access and refresh tokens, MFA session token and TOTP secret, the one-time codes sent).

A secret is masked wherever it appears when it is long enough not to occur by chance
(`ANYWHERE` characters); a shorter one only where it stands alone (not inside a word), and one
shorter than `STANDALONE` only in the places that always hold secrets: the values of fields and
headers named like credentials (`password`, `access_token`, the API key header, ...) and the
credentials of an `Authorization` header. So a one-character password never stars the letters of
every word it occurs in. A URI the server chose (a redirect's Location) may carry credentials the
client never knew (a pre-signed signature): `Redactor.uri` masks its user info, every query value
and its fragment as well.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import weakref
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit, urlunsplit

MASK = "***"
ANYWHERE = 8
STANDALONE = 4
# Fields whose value is a credential in every OAuth2 / API-key exchange.
SECRET_FIELDS = (
    "access_token", "refresh_token", "id_token", "client_secret", "password", "authorization",
    "api_key", "apikey", "mfa_secret", "totp_secret", "session_token",
)
_SCHEMES = "(?:Bearer|Basic|Token)"
_CRED = "[A-Za-z0-9._~+/=-]+"
_RECENT = 8  # tokens and one-time codes remembered per client (they rotate)


def _variants(name: str) -> set[str]:
    lower = name.lower()
    return {lower, lower.replace("_", "-"), lower.replace("-", "_")}


def _normal(name: str) -> str:
    return name.lower().replace("-", "").replace("_", "")


def _encodings(secret: str) -> set[str]:
    """The forms a server may echo a secret in: as sent, URL-encoded, JSON-escaped."""
    return {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}


class Redactor:
    """The secrets of one client and the rule that masks them (thread-safe)."""

    def __init__(self, field_names: Iterable[str] = ()) -> None:
        names = {v for n in (*SECRET_FIELDS, *field_names) if n for v in _variants(n)}
        self._fields = {_normal(n) for n in names}
        alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
        self._structural = re.compile(
            # "field": "value" / 'field': 'value' (JSON or a Python repr echoed back)
            rf"""(?P<q>["'])(?P<k>{alternatives})(?P=q)(?P<sep>\s*:\s*)"""
            rf"""(?P<v>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s,}}\]]+)"""
            # field=value in a form or query string
            rf"|(?<![\w-])(?P<fk>{alternatives})=(?P<fv>[^&\s\"'<>]*)"
            # a header line: Field: value (a scheme and its credentials: the next rule)
            rf"|(?im:^(?P<hk>[ \t]*(?:{alternatives})[ \t]*:[ \t]*)(?!{_SCHEMES}\b)(?P<hv>{_CRED}))"
            # the credentials after an auth scheme; prose ("Bearer <token>") has none
            rf"|(?P<scheme>\b{_SCHEMES})[ \t]+(?=[A-Za-z0-9._~+/=-]*[0-9._~+/=-])(?P<cred>{_CRED})",
            re.IGNORECASE,
        )
        self._fixed: set[str] = set()
        self._rotating: deque[str] = deque(maxlen=2 * _RECENT)
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()
        _LIVE.add(self)

    def add(self, *secrets: str | None, rotating: bool = False) -> None:
        """Remember secrets to mask; `rotating` ones (tokens, one-time codes) only the latest."""
        fresh = [s for s in secrets if isinstance(s, str) and s]
        if not fresh:
            return
        with self._lock:
            for secret in fresh:
                if rotating:
                    if secret not in self._rotating:
                        self._rotating.append(secret)
                else:
                    self._fixed.add(secret)
            self._pattern = self._compile({*self._fixed, *self._rotating})

    @staticmethod
    def _compile(secrets: set[str]) -> re.Pattern[str] | None:
        parts = []
        forms = {form for s in secrets if len(s) >= STANDALONE for form in _encodings(s)}
        for form in sorted(forms, key=len, reverse=True):
            escaped = re.escape(form)
            if len(form) < ANYWHERE:
                escaped = rf"(?<![A-Za-z0-9]){escaped}(?![A-Za-z0-9])"
            parts.append(escaped)
        return re.compile("|".join(parts)) if parts else None

    def text(self, value: str) -> str:
        """`value` with every secret and every credential-shaped field value masked."""
        pattern = self._pattern
        if pattern is not None:
            value = pattern.sub(MASK, value)
        return self._structural.sub(self._mask_field, value)

    @staticmethod
    def _mask_field(match: re.Match[str]) -> str:
        if match.group("k") is not None:
            quote_char = match.group("v")[:1] if match.group("v")[:1] in "\"'" else ""
            return (f"{match.group('q')}{match.group('k')}{match.group('q')}{match.group('sep')}"
                    f"{quote_char}{MASK}{quote_char}")
        if match.group("fk") is not None:
            return f"{match.group('fk')}={MASK}"
        if match.group("hk") is not None:
            return f"{match.group('hk')}{MASK}"
        return f"{match.group('scheme')} {MASK}"

    def uri(self, value: str) -> str:
        """A URI the server sent, as shown: user info, query values and fragment masked too."""
        try:
            parts = urlsplit(value)
        except ValueError:  # not a URI at all: mask it as text
            return self.text(value)
        netloc = parts.netloc
        if "@" in netloc:
            netloc = f"{MASK}@{netloc.rpartition('@')[2]}"
        pairs = (item.partition("=") for item in parts.query.split("&")) if parts.query else ()
        query = "&".join(f"{key}={MASK}" if sep else key for key, sep, _ in pairs)
        fragment = MASK if parts.fragment else ""
        return self.text(urlunsplit((parts.scheme, netloc, parts.path, query, fragment)))

    def data(self, value: Any) -> Any:
        """A parsed body with secrets masked: every string, and every value of a secret field."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {
                key: MASK if self._is_field(key) and value[key] not in (None, "")
                else self.data(value[key])
                for key in value
            }
        if isinstance(value, list):
            return [self.data(item) for item in value]
        return value

    def _is_field(self, key: Any) -> bool:
        return isinstance(key, str) and _normal(key) in self._fields

    def __repr__(self) -> str:
        return f"Redactor({len(self._fixed) + len(self._rotating)} secret(s))"


class RedactingLog:
    """A logger whose lines pass through a client's Redactor."""

    def __init__(self, logger: logging.Logger, redactor: Redactor) -> None:
        self._logger = logger
        self._redactor = redactor

    def debug(self, message: str, *args: Any) -> None:
        if self._logger.isEnabledFor(logging.DEBUG):
            self._logger.debug("%s", self._redactor.text(message % args if args else message))


# Every live client's redactor, for the HTTP libraries' own DEBUG lines (httpcore logs the
# response headers, where a server may echo a credential).
_LIVE: weakref.WeakSet[Redactor] = weakref.WeakSet()
_LIBRARY_LOGGERS = ("httpx", "httpcore.http11", "httpcore.http2", "httpcore.connection",
                    "httpcore.proxy")


class _LibraryFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # a broken record is the logging module's to report
            return True
        masked = text
        for redactor in list(_LIVE):
            masked = redactor.text(masked)
        if masked != text:
            record.msg, record.args = masked, None
        return True


_FILTER = _LibraryFilter()
for _name in _LIBRARY_LOGGERS:
    if _FILTER not in logging.getLogger(_name).filters:
        logging.getLogger(_name).addFilter(_FILTER)
