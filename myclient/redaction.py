"""One registry of what is secret, used by log lines, exception messages and cassettes.

It only knows names and values and rewrites text; it never sees a session or sends anything.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = [
    "MASK",
    "Registry",
    "add_header",
    "add_param",
    "add_field",
    "add_secret",
    "registry",
]

#: What every secret is replaced with.
MASK = "***"

_DEFAULT_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "api-key",
        "x-auth-token",
        "x-gateway-key",
    }
)
_DEFAULT_PARAMS = frozenset(
    {
        "access_token",
        "refresh_token",
        "id_token",
        "api_key",
        "apikey",
        "key",
        "token",
        "client_secret",
        "code",
        "code_verifier",
        "password",
        "secret",
        "signature",
        "sig",
        "x-amz-signature",
        "x-amz-credential",
        "x-amz-security-token",
    }
)
_DEFAULT_FIELDS = frozenset(
    {
        "password",
        "client_secret",
        "access_token",
        "refresh_token",
        "id_token",
        "api_key",
        "apikey",
        "secret",
        "token",
        "code_verifier",
        "assertion",
        "client_assertion",
    }
)

# Shapes that are credentials whatever they are called: bearer/basic credentials and JWTs.
_SHAPES = (
    # a credential after the scheme word: 8+ token characters with a digit, or 24+ without
    # (so ordinary prose such as "token endpoint" or "Basic authentication" stays readable)
    re.compile(
        r"(?i)\b(bearer|basic|token)\s+(?=[A-Za-z0-9._~+/=-]{8,})"
        r"(?:[A-Za-z0-9._~+/=-]*\d[A-Za-z0-9._~+/=-]*|[A-Za-z0-9._~+/=-]{24,})"
    ),
    re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
)

# Shortest literal value worth registering: shorter ones would mask ordinary words and digits.
_MIN_SECRET_LEN = 4


class Registry:
    """What counts as secret: header names, query parameters, body fields and literal values.

    Thread-safe; names are case-insensitive. Literal values are matched anywhere in a text, so a
    token registered once is masked in URLs, bodies, log lines and cassettes alike.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.headers: frozenset[str] = _DEFAULT_HEADERS
        self.params: frozenset[str] = _DEFAULT_PARAMS
        self.fields: frozenset[str] = _DEFAULT_FIELDS
        self._secrets: frozenset[str] = frozenset()
        self._pattern: re.Pattern[str] | None = None
        self._pattern_cache: (
            tuple[tuple[frozenset[str], frozenset[str], frozenset[str]], re.Pattern[str], re.Pattern[str]] | None
        ) = None

    # -- registration -------------------------------------------------------------------------
    def add_header(self, name: str) -> None:
        """Treat header ``name`` (any case) as secret, e.g. a gateway's key header."""
        with self._lock:
            self.headers = self.headers | {name.lower()}

    def add_param(self, name: str) -> None:
        """Treat query parameter ``name`` as secret."""
        with self._lock:
            self.params = self.params | {name.lower()}

    def add_field(self, name: str) -> None:
        """Treat JSON/form body field ``name`` as secret."""
        with self._lock:
            self.fields = self.fields | {name.lower()}

    def add_secret(self, value: str | bytes | None) -> None:
        """Mask this literal value wherever it appears. Values shorter than 4 characters are ignored."""
        if value is None:
            return
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if len(value) < _MIN_SECRET_LEN or value in self._secrets:
            return
        with self._lock:
            self._secrets = self._secrets | {value}
            # Longest first so a secret containing another is masked whole.
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in ordered))

    def _patterns(self) -> tuple[re.Pattern[str], re.Pattern[str]]:
        """``name=value`` and JSON ``"name": "value"`` for secret names, as found in URLs and bodies."""
        key = (self.params, self.fields, self.headers)
        cached = self._pattern_cache
        if cached is None or cached[0] != key:
            names = sorted(self.params | self.fields, key=len, reverse=True)
            alternation = "|".join(re.escape(n) for n in names)
            pair = re.compile(
                rf"(?i)(?<![A-Za-z0-9_-])((?:{alternation})=)[^&\s\"'#*][^&\s\"'#]*"
            )
            fields = "|".join(re.escape(n) for n in sorted(self.fields | self.headers, key=len, reverse=True))
            json_field = re.compile(rf'(?i)("(?:{fields})"\s*:\s*")(?:[^"\\]|\\.)+(")')
            cached = (key, pair, json_field)
            self._pattern_cache = cached
        return cached[1], cached[2]

    @property
    def secrets(self) -> frozenset[str]:
        """The literal values registered so far."""
        return self._secrets

    # -- rewriting ----------------------------------------------------------------------------
    def text(self, text: str) -> str:
        """Mask registered literal values and credential-shaped substrings in free text."""
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(MASK, text)
        if "=" in text or '"' in text:
            pair, json_field = self._patterns()
            text = pair.sub(rf"\1{MASK}", text)
            text = json_field.sub(rf"\1{MASK}\2", text)
        for shape in _SHAPES:
            text = shape.sub(_mask_shape, text)
        return text

    def url(self, url: str) -> str:
        """Mask secret query values and any userinfo password; registered literals too."""
        try:
            parts = urlsplit(url)
        except ValueError:
            return self.text(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, _, hostport = netloc.rpartition("@")
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}:{MASK}@{hostport}" if ":" in userinfo else f"{MASK}@{hostport}"
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            secret = self.params | self.headers
            if any(k.lower() in secret for k, _ in pairs):
                query = urlencode([(k, MASK if k.lower() in secret else v) for k, v in pairs], safe="*")
        if netloc != parts.netloc or query != parts.query:
            url = urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
        return self.text(url)

    def header_items(self, headers: Mapping[str, str]) -> dict[str, str]:
        """A copy of ``headers`` with secret header values masked."""
        names = self.headers
        return {k: (MASK if k.lower() in names else self.text(str(v))) for k, v in headers.items()}

    def data(self, value: Any) -> Any:
        """A deep copy of decoded JSON/form data with secret fields masked."""
        fields = self.fields | self.headers
        if isinstance(value, Mapping):
            return {
                k: (MASK if str(k).lower() in fields and v not in (None, "") else self.data(v))
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [self.data(v) for v in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def form(self, body: str) -> str:
        """Mask secret fields in an ``application/x-www-form-urlencoded`` body."""
        pairs = parse_qsl(body, keep_blank_values=True)
        secret = self.fields | self.params
        if not any(k.lower() in secret for k, _ in pairs):
            return self.text(body)
        masked = [(k, MASK if k.lower() in secret else v) for k, v in pairs]
        return self.text(urlencode(masked, safe="*"))

    def contains_secret(self, text: str) -> list[str]:
        """Describe every registered secret or credential shape found in ``text`` (empty: clean)."""
        found = [f"registered secret ({len(s)} chars)" for s in self._secrets if s in text]
        for shape in _SHAPES:
            for m in shape.finditer(text):
                if MASK not in m.group(0):
                    found.append(f"credential-shaped text {m.group(0)[:12]}…")
        return found


def _mask_shape(match: re.Match[str]) -> str:
    word = match.group(1) if match.re.groups else None
    return f"{word} {MASK}" if word else MASK


#: The process-wide registry used by myclient's logs, exceptions and cassettes.
registry = Registry()


def add_header(name: str) -> None:
    """Register a secret header name on the process-wide registry."""
    registry.add_header(name)


def add_param(name: str) -> None:
    """Register a secret query parameter name on the process-wide registry."""
    registry.add_param(name)


def add_field(name: str) -> None:
    """Register a secret body field name on the process-wide registry."""
    registry.add_field(name)


def add_secret(value: str | bytes | None) -> None:
    """Register a literal secret value on the process-wide registry."""
    registry.add_secret(value)


def add_secrets(values: Iterable[str | bytes | None]) -> None:
    """Register several literal secret values."""
    for v in values:
        registry.add_secret(v)
