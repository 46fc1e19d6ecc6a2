"""One registry of what is secret, used by log lines, exception messages and cassettes.

It only knows names and values and rewrites text; it never sees a session or sends anything.

Names (headers, query parameters, body fields) match case- and separator-insensitively
(``accessToken`` = ``access_token`` = ``ACCESS-TOKEN``), and a name ending in a secret word
(``...token``, ``...secret``, ``...password``, ``...apikey``, ``...signature``) is secret wherever
it appears. Literal values live in :class:`myclient._literals.LiteralIndex`: every encoding of a
value is indexed once, lookups cost O(len(text)) however many values are known, and memory is
bounded. The registry is process-wide on purpose: a secret registered by one client must not
show up in a log line written about another. What keeps it bounded is that values are split by
how they got in: ``add_secret`` pins values code registers (an LRU bounded at 4096), ``learn``
keeps values merely observed, such as cookies a server sets, in a small LRU pool (256) and only
when they look like secrets. A server rotating a cookie on every response then costs one
constant-time registration per call and evicts its own old values.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ._literals import LEARNED, PINNED, LiteralIndex, learnable

__all__ = [
    "MASK",
    "Registry",
    "add_header",
    "add_param",
    "add_field",
    "add_secret",
    "learn",
    "normalize",
    "registry",
]

#: What every secret is replaced with.
MASK = "***"

HEADER, PARAM, FIELD = 1, 2, 4
_ANY = HEADER | PARAM | FIELD

_DEFAULT_HEADERS = (
    "authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key", "x-auth-token",
    "x-gateway-key", "x-vault-token", "private-token", "job-token", "x-csrf-token", "x-xsrf-token",
    "x-amz-security-token", "x-goog-api-key", "ocp-apim-subscription-key", "x-functions-key", "x-auth-key",
    "x-hub-signature-256", "x-access-token", "x-session-token",
)
_DEFAULT_PARAMS = (
    "access_token", "refresh_token", "id_token", "api_key", "apikey", "key", "token", "client_secret", "code",
    "code_verifier", "password", "secret", "signature", "sig", "x-amz-signature", "x-amz-credential",
    "x-amz-security-token", "session_id", "sessionid",
)
_DEFAULT_FIELDS = (
    "password", "client_secret", "access_token", "refresh_token", "id_token", "api_key", "apikey", "secret",
    "token", "code_verifier", "assertion", "client_assertion", "session_token", "private_key", "passphrase",
)
#: A name ending in one of these (normalized) is secret as a header, a parameter and a field.
_SECRET_ENDINGS = ("token", "secret", "password", "passwd", "passphrase", "apikey", "privatekey", "secretkey",
                   "accesskey", "signature", "sessionid", "authorization", "cookie")

_SEPARATORS = re.compile(r"[^a-z0-9]")

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
# name=value (URLs, form bodies, free text); "name": value (JSON text); "Name: value" lines.
# Fixed patterns: whether a name is secret is decided per match, so nothing is compiled later.
_PAIR = re.compile(r"(?<![A-Za-z0-9_.\[\]%-])([A-Za-z_][A-Za-z0-9_.\[\]-]{0,99})=([^&\s\"'#*][^&\s\"'#]*)")
_JSON_FIELD = re.compile(
    r'"((?:[^"\\\n]|\\.){1,100})"(\s*:\s*)("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)')
_HEADER_LINE = re.compile(r"(?m)^([A-Za-z][A-Za-z0-9-]{0,99})([ \t]*:[ \t]*)(?!\*\*\*)([^\s][^\r\n]*)")

_NAME_CACHE_MAX = 4096


def normalize(name: str) -> str:
    """How names are compared: lower case, separators dropped (``X-Vault_Token`` -> ``xvaulttoken``)."""
    return _SEPARATORS.sub("", name.lower())


class Registry:
    """What counts as secret: header names, query parameters, body fields and literal values.

    Thread-safe. ``headers``/``params``/``fields`` hold normalized names (see :func:`normalize`);
    ask :meth:`is_secret_header` and friends rather than testing membership. Literal values are
    matched anywhere in a text and in every encoding, so a token registered once is masked in
    URLs, bodies, log lines and cassettes alike.
    """

    def __init__(self, *, pinned_max: int = 4096, learned_max: int = 256) -> None:
        self._lock = threading.Lock()
        self.headers: frozenset[str] = frozenset(normalize(n) for n in _DEFAULT_HEADERS)
        self.params: frozenset[str] = frozenset(normalize(n) for n in _DEFAULT_PARAMS)
        self.fields: frozenset[str] = frozenset(normalize(n) for n in _DEFAULT_FIELDS)
        self._names: dict[str, int] = {}
        self._literals = LiteralIndex(pinned_max, learned_max)
        #: Changes whenever what is secret changes (a new value or name): text masked under one
        #: generation may be reused while it stays the same.
        self.generation = 0

    # -- registration -------------------------------------------------------------------------
    def add_header(self, name: str) -> None:
        """Treat header ``name`` (any case or separators) as secret, e.g. a gateway's key header."""
        with self._lock:
            self.headers = self.headers | {normalize(name)}
            self._names = {}
            self.generation += 1

    def add_param(self, name: str) -> None:
        """Treat query parameter ``name`` as secret."""
        with self._lock:
            self.params = self.params | {normalize(name)}
            self._names = {}
            self.generation += 1

    def add_field(self, name: str) -> None:
        """Treat JSON/form/multipart body field ``name`` as secret."""
        with self._lock:
            self.fields = self.fields | {normalize(name)}
            self._names = {}
            self.generation += 1

    def add_secret(self, value: str | bytes | None) -> None:
        """Mask this literal value wherever it appears, in every encoding (4 characters or more).

        Pinned: kept until 4096 more recent values have been registered (registering it again
        refreshes it).
        """
        text = _as_text(value)
        if text is not None and len(text) >= 4 and text != MASK and self._literals.add(text, PINNED):
            self.generation += 1

    def learn(self, value: str | bytes | None) -> bool:
        """Mask a value merely observed (a cookie a server set) if it looks like a secret.

        Short and common values (``deleted``, ``not found``, ``127.0.0.1``) are refused, so a
        server cannot blank ordinary words; the rest goes to a small LRU pool. True if kept.
        """
        text = _as_text(value)
        if text is None:
            return False
        text = text.strip().strip('"')
        if not learnable(text):
            return False
        if self._literals.add(text, LEARNED):
            self.generation += 1
        return True

    def forget(self, value: str) -> None:
        """Stop masking a literal value (e.g. a credential that was revoked)."""
        self._literals.forget(value)
        self.generation += 1

    @property
    def secrets(self) -> frozenset[str]:
        """The literal values registered now (pinned and learned; both pools are bounded)."""
        return self._literals.values

    def sizes(self) -> tuple[int, int, int]:
        """(pinned values, learned values, index entries) held now."""
        return self._literals.sizes()

    # -- names --------------------------------------------------------------------------------
    def _kinds(self, name: str) -> int:
        """Bit set of where ``name`` is secret: HEADER, PARAM, FIELD."""
        names = self._names
        kinds = names.get(name)
        if kinds is None:
            key = normalize(name)
            kinds = ((HEADER if key in self.headers else 0) | (PARAM if key in self.params else 0)
                     | (FIELD if key in self.fields else 0))
            if key and key.endswith(_SECRET_ENDINGS):
                kinds = _ANY
            if len(names) >= _NAME_CACHE_MAX:
                names = self._names = {}
            names[name] = kinds
        return kinds

    def is_secret_header(self, name: str) -> bool:
        """Whether a header called ``name`` carries a secret value."""
        return bool(self._kinds(name) & HEADER)

    def is_secret_param(self, name: str) -> bool:
        """Whether a query parameter called ``name`` carries a secret (secret header names too)."""
        return bool(self._kinds(name) & (PARAM | HEADER))

    def is_secret_field(self, name: str) -> bool:
        """Whether a JSON, form or multipart field called ``name`` carries a secret (header names too)."""
        return bool(self._kinds(name) & (FIELD | HEADER))

    # -- rewriting ----------------------------------------------------------------------------
    def literals(self, text: str) -> str:
        """Mask registered literal values (every encoding) in ``text``; nothing else."""
        return self._literals.mask(text, MASK)

    def text(self, text: str) -> str:
        """Mask registered literal values, secret-named pairs and credential-shaped substrings."""
        text = self._literals.mask(text, MASK)
        if "=" in text:
            text = _PAIR.sub(self._mask_pair, text)
        if '"' in text:
            text = _JSON_FIELD.sub(self._mask_json_field, text)
        if ":" in text:
            text = _HEADER_LINE.sub(self._mask_header_line, text)
        for shape in _SHAPES:
            text = shape.sub(_mask_shape, text)
        return text

    def scrub_bytes(self, data: bytes) -> bytes:
        """A binary body with registered values (as UTF-8 bytes) and shapes masked, byte-exact elsewhere."""
        return self.text(data.decode("latin-1")).encode("latin-1")

    def _mask_pair(self, match: re.Match[str]) -> str:
        return f"{match.group(1)}={MASK}" if self._kinds(match.group(1)) else match.group(0)

    def _mask_json_field(self, match: re.Match[str]) -> str:
        name, colon, value = match.groups()
        if value in ('""', f'"{MASK}"') or not self.is_secret_field(name):
            return match.group(0)
        return f'"{name}"{colon}"{MASK}"'

    def _mask_header_line(self, match: re.Match[str]) -> str:
        name, colon, _ = match.groups()
        return f"{name}{colon}{MASK}" if self.is_secret_header(name) else match.group(0)

    def url(self, url: str) -> str:
        """Mask secret query values and any userinfo password; registered literals too."""
        if "@" not in url and "?" not in url and "#" not in url and not any(c.isspace() for c in url):
            return self._plain_url(url)  # no userinfo, query or fragment: only literals and shapes can hide
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
            if any(self.is_secret_param(k) for k, _ in pairs):
                query = urlencode([(k, MASK if self.is_secret_param(k) else v) for k, v in pairs], safe="*")
        if netloc != parts.netloc or query != parts.query:
            url = urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
        return self.text(url)

    def _plain_url(self, url: str) -> str:
        """A URL without userinfo, query, fragment or whitespace: what of ``text()`` can match in it."""
        url = self._literals.mask(url, MASK)
        if "=" in url:  # matrix parameters (;token=...)
            url = _PAIR.sub(self._mask_pair, url)
        if '"' in url:
            url = _JSON_FIELD.sub(self._mask_json_field, url)
        return _SHAPES[1].sub(_mask_shape, url)  # a JWT in the path (the bearer/basic shape needs a space)

    def header_items(self, headers: Mapping[str, str]) -> dict[str, str]:
        """A copy of ``headers`` with secret header values masked."""
        return {k: (MASK if self.is_secret_header(k) else self.text(str(v))) for k, v in headers.items()}

    def data(self, value: Any) -> Any:
        """A deep copy of decoded JSON/form data with secret fields, keys and values masked.

        Iterative, so a document nested as deep as a parser accepts never recurses here.
        """
        holder: list[Any] = [None]
        stack: list[tuple[Any, Any, Any]] = [(value, holder, 0)]
        while stack:
            item, parent, slot = stack.pop()
            if isinstance(item, Mapping):
                copy: dict[Any, Any] = {}
                parent[slot] = copy
                for key, child in item.items():
                    new_key = self._key(key, copy)
                    if isinstance(key, str) and self.is_secret_field(key) and _holds_value(child):
                        copy[new_key] = MASK
                    else:
                        copy[new_key] = None
                        stack.append((child, copy, new_key))
            elif isinstance(item, (list, tuple)):
                items: list[Any] = [None] * len(item)
                parent[slot] = items
                stack.extend((child, items, i) for i, child in enumerate(item))
            elif isinstance(item, str):
                parent[slot] = self.text(item)
            else:
                parent[slot] = item
        return holder[0]

    def _key(self, key: Any, taken: Mapping[Any, Any]) -> Any:
        """A mapping key with registered values masked, kept distinct from keys already taken."""
        if not isinstance(key, str):
            return key
        masked = self._literals.mask(key, MASK)
        if masked == key:
            return key
        candidate, n = masked, 1
        while candidate in taken:
            n += 1
            candidate = f"{masked}#{n}"
        return candidate

    def form(self, body: str) -> str:
        """Mask secret fields and registered values in an ``application/x-www-form-urlencoded`` body.

        Values are compared decoded, so a secret is found however the form encoded it.
        """
        pairs = parse_qsl(body, keep_blank_values=True)
        masked = [(self.literals(k), MASK if self.is_secret_field(k) or self.is_secret_param(k) else self.text(v))
                  for k, v in pairs]
        if masked == pairs:
            return self.text(body)
        return self.text(urlencode(masked, safe="*"))

    def contains_secret(self, text: str | bytes) -> list[str]:
        """Describe every secret found in ``text`` (empty: clean), never quoting it.

        Registered values in any encoding, unmasked values of secret-named pairs, JSON fields and
        header lines, and credential shapes.
        """
        if isinstance(text, bytes):
            text = text.decode("latin-1")
        found = self._literals.describe(text)
        for pattern, group, check in ((_PAIR, 2, self._kinds), (_JSON_FIELD, 3, self.is_secret_field),
                                      (_HEADER_LINE, 3, self.is_secret_header)):
            for m in pattern.finditer(text):
                value = m.group(group).strip('"')
                if value and MASK not in value and check(m.group(1)):
                    found.append(f"unmasked value of secret-named {m.group(1)!r}")
        for shape in _SHAPES:
            for m in shape.finditer(text):
                if MASK not in m.group(0):
                    found.append(f"credential-shaped text {m.group(0)[:12]}…")
        return found


def _holds_value(value: Any) -> bool:
    """Whether a secret-named field's value could be a secret (``has_password: true`` cannot)."""
    return value is not None and value != "" and not isinstance(value, bool)


def _as_text(value: str | bytes | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


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


def learn(value: str | bytes | None) -> bool:
    """Register an observed value (a cookie) on the process-wide registry if it looks secret."""
    return registry.learn(value)
