"""Scrubbing recorded HTTP interactions with the redaction registry.

Works on vcrpy's request objects and response dicts (headers, URI, bodies of every kind: JSON,
forms, multipart parts, text, non-UTF-8 bytes, gzip); it never decides what is recorded or played.
"""

from __future__ import annotations

import copy
import gzip
import json
import re
import zlib
from collections.abc import Mapping
from typing import Any

from ..redaction import MASK, Registry, registry

__all__ = ["Scrubber", "header_value"]

_FORM = "application/x-www-form-urlencoded"
# name=value pairs of a Cookie or Set-Cookie header (Expires dates hold commas but no "=").
_COOKIE_PAIR = re.compile(r"(^|[;,])(\s*)([^=;,\s]+)=([^;,]*)")
_COOKIE_ATTRIBUTES = frozenset({"path", "domain", "expires", "max-age", "samesite", "secure", "httponly",
                                "priority", "partitioned", "version", "comment"})
_BOUNDARY = re.compile(r'boundary="?([^";,]+)"?', re.IGNORECASE)
_PART_NAME = re.compile(rb'(?i)(?:^|[;\s])name="([^"]*)"|(?:^|[;\s])name=([^;\s]+)')
_PART_TYPE = re.compile(rb"(?im)^content-type:\s*([^\r\n]+)")


def header_value(headers: Mapping[str, Any], name: str) -> str:
    """The first value of header ``name`` (any case) in a vcrpy request or response, else ``""``."""
    for key, value in headers.items():
        if key.lower() == name:
            if isinstance(value, (list, tuple)):
                return str(value[0]) if value else ""
            return str(value)
    return ""


def _cookie_values(value: str, set_cookie: bool) -> list[str]:
    return [m.group(4) for m in _COOKIE_PAIR.finditer(value)
            if not (set_cookie and m.group(3).lower() in _COOKIE_ATTRIBUTES)]


def _mask_cookies(value: str, set_cookie: bool) -> str:
    """Mask each cookie value, keeping names and attributes (a replay still sets the cookie)."""
    def mask(m: re.Match[str]) -> str:
        if (set_cookie and m.group(3).lower() in _COOKIE_ATTRIBUTES) or not m.group(4):
            return m.group(0)
        return f"{m.group(1)}{m.group(2)}{m.group(3)}={MASK}"

    return _COOKIE_PAIR.sub(mask, value)


class Scrubber:
    """Rewrites a recorded request or response so that no registered secret survives.

    ``aliases`` maps a real origin (``http://127.0.0.1:50123``) to the stable one recorded in
    its place (``http://httpbin.test``), so cassettes do not depend on a test server's port.
    Cookie values met while recording are learned (by the process registry and by ``seen``, a
    registry of this cassette's own, so a value learned early is still masked when the cassette
    is saved, however many values the process has seen since).
    """

    def __init__(self, reg: Registry | None = None) -> None:
        self.registry = reg or registry
        self.aliases: dict[str, str] = {}
        self.seen = Registry(pinned_max=0, learned_max=1 << 16)

    def alias(self, real: str, recorded: str) -> None:
        """Record ``real`` (an origin or URL prefix) as ``recorded``."""
        self.aliases[real.rstrip("/")] = recorded.rstrip("/")

    def _aliased(self, text: str) -> str:
        for real, recorded in self.aliases.items():
            text = text.replace(real, recorded)
            host = re.sub(r"^[a-z]+://", "", real)
            text = text.replace(host, re.sub(r"^[a-z]+://", "", recorded))
        return text

    def _text(self, text: str) -> str:
        return self.registry.text(self.seen.literals(self._aliased(text)))

    def _learn_cookies(self, value: str, set_cookie: bool) -> None:
        for cookie in _cookie_values(value, set_cookie):
            self.registry.learn(cookie)
            self.seen.learn(cookie)

    # -- bodies ---------------------------------------------------------------------------------
    def body(self, raw: Any, content_type: str) -> Any:
        """A scrubbed copy of a body (bytes or str), keeping its type; binary bodies byte-wise."""
        if raw is None or raw == b"" or raw == "":
            return raw
        if isinstance(raw, (bytes, bytearray)):
            return self._body_bytes(bytes(raw), content_type)
        return self._body_bytes(str(raw).encode("utf-8", "surrogatepass"), content_type).decode(
            "utf-8", "surrogatepass")

    def _body_bytes(self, data: bytes, content_type: str) -> bytes:
        if data[:2] == b"\x1f\x8b":  # a gzip-compressed body (responses are decoded by vcrpy)
            try:
                inner = gzip.decompress(data)
            except (OSError, EOFError, zlib.error):
                return self._binary(data)
            scrubbed = self._body_bytes(inner, content_type)
            return data if scrubbed == inner else gzip.compress(scrubbed, mtime=0)
        kind = content_type.lower()
        if kind.startswith("multipart/"):
            boundary = _BOUNDARY.search(content_type)
            if boundary:
                return self._multipart(data, boundary.group(1).encode("latin-1"))
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return self._binary(data)
        return self._text_body(text, kind).encode("utf-8")

    def _binary(self, data: bytes) -> bytes:
        """Non-UTF-8 bytes: registered values as UTF-8 bytes, in any encoding, masked byte-wise."""
        return self.registry.scrub_bytes(self.seen.literals(data.decode("latin-1")).encode("latin-1"))

    def _text_body(self, text: str, kind: str) -> str:
        text = self.seen.literals(self._aliased(text))
        reg = self.registry
        if text.lstrip()[:1] in ("{", "["):
            try:
                return json.dumps(reg.data(json.loads(text)), ensure_ascii=False)
            except (ValueError, RecursionError):
                return reg.text(text)
        if _FORM in kind or ("=" in text and " " not in text.strip() and "\n" not in text):
            return reg.form(text)
        return reg.text(text)

    def _multipart(self, data: bytes, boundary: bytes) -> bytes:
        """Each part scrubbed on its own: secret-named fields masked, the rest by content type."""
        delimiter = b"--" + boundary
        pieces = data.split(delimiter)
        out = [self._binary(pieces[0])]
        for piece in pieces[1:]:
            head, sep, content = piece.partition(b"\r\n\r\n")
            if piece.startswith(b"--") or not sep:
                out.append(self._binary(piece))
                continue
            trailer = b"\r\n" if content.endswith(b"\r\n") else b""
            content = content[: len(content) - len(trailer)]
            named = _PART_NAME.search(head)
            name = (named.group(1) or named.group(2) or b"").decode("utf-8", "replace") if named else ""
            part_type = _PART_TYPE.search(head)
            if name and content and self.registry.is_secret_field(name):
                content = MASK.encode("ascii")
            else:
                content = self._body_bytes(content, part_type.group(1).decode("latin-1") if part_type else "")
            out.append(self._binary(head) + sep + content + trailer)
        return delimiter.join(out)

    # -- interactions ---------------------------------------------------------------------------
    def _headers(self, headers: Any) -> None:
        """Scrub a header mapping in place (values: a string, or a list of strings)."""
        for name in list(headers):
            values = headers[name]
            listed = isinstance(values, (list, tuple))
            items = [str(v) for v in values] if listed else [str(values)]
            lower = name.lower()
            if lower in ("cookie", "set-cookie"):
                items = [self._text(_mask_cookies(v, lower == "set-cookie")) for v in items]
            elif self.registry.is_secret_header(name):
                items = [MASK for _ in items]
            else:
                items = [self._text(v) for v in items]
            headers[name] = items if listed else items[0]

    def request(self, request: Any) -> Any:
        """Scrub a vcrpy Request (already a deep copy) in place and return it."""
        cookie = header_value(request.headers, "cookie")
        if cookie:
            self._learn_cookies(cookie, set_cookie=False)
        request.uri = self.registry.url(self.seen.literals(self._aliased(request.uri)))
        self._headers(request.headers)
        raw = getattr(request, "body_bytes", request.body)  # vcrpy: file and iterator bodies as bytes
        body = self.body(raw, header_value(request.headers, "content-type"))
        if body != raw or getattr(request, "_was_file", False) or getattr(request, "_was_iter", False):
            request.body = body
            if hasattr(request, "_was_file"):  # recorded (and matched) as the bytes they were
                request._was_file = request._was_iter = False
            for name in list(request.headers):
                if name.lower() == "content-length":
                    request.headers[name] = str(len(body if isinstance(body, bytes) else str(body).encode()))
        return request

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        """A scrubbed deep copy of a vcrpy response dict."""
        response = copy.deepcopy(response)
        headers = response.get("headers") or {}
        for name, values in headers.items():
            if name.lower() == "set-cookie":
                for value in values if isinstance(values, list) else [values]:
                    self._learn_cookies(str(value), set_cookie=True)
        self._headers(headers)
        body = response.get("body") or {}
        if "string" in body:
            new = self.body(body["string"], header_value(headers, "content-type"))
            if new != body["string"]:
                body["string"] = new
                for name in list(headers):
                    if name.lower() == "content-length":
                        length = len(new) if isinstance(new, bytes) else len(new.encode("utf-8"))
                        headers[name] = [str(length)]
        return response

    def cassette_dict(self, data: dict[str, Any]) -> dict[str, Any]:
        """Scrub every interaction of a cassette about to be saved (whatever path it came by)."""
        requests = [self.request(copy.deepcopy(r)) for r in data.get("requests", [])]
        responses = [self.response(r) for r in data.get("responses", [])]
        return {**data, "requests": requests, "responses": responses}
