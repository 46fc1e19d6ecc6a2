"""Scrubbing recorded HTTP interactions with the redaction registry, and scanning text for secrets.

Works on vcrpy's request objects and response dicts; it never decides what is recorded or played.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..redaction import MASK, Registry, registry

__all__ = ["Scrubber", "scan_text", "scan_paths"]

_FORM = "application/x-www-form-urlencoded"


def _header(headers: Mapping[str, Any], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            if isinstance(value, (list, tuple)):
                return str(value[0]) if value else ""
            return str(value)
    return ""


class Scrubber:
    """Rewrites a recorded request or response so that no registered secret survives.

    ``aliases`` maps a real origin (``http://127.0.0.1:50123``) to the stable one recorded in
    its place (``http://httpbin.test``), so cassettes do not depend on a test server's port.
    """

    def __init__(self, reg: Registry | None = None) -> None:
        self.registry = reg or registry
        self.aliases: dict[str, str] = {}

    def alias(self, real: str, recorded: str) -> None:
        """Record ``real`` (an origin or URL prefix) as ``recorded``."""
        self.aliases[real.rstrip("/")] = recorded.rstrip("/")

    def _aliased(self, text: str) -> str:
        for real, recorded in self.aliases.items():
            text = text.replace(real, recorded)
            host = re.sub(r"^[a-z]+://", "", real)
            text = text.replace(host, re.sub(r"^[a-z]+://", "", recorded))
        return text

    def body(self, raw: Any, content_type: str) -> Any:
        """A scrubbed copy of a body (bytes or str), keeping its type; binary bodies pass unchanged."""
        if raw is None or raw == b"" or raw == "":
            return raw
        as_bytes = isinstance(raw, (bytes, bytearray))
        try:
            text = raw.decode("utf-8") if as_bytes else str(raw)
        except UnicodeDecodeError:
            return raw
        text = self._aliased(text)
        stripped = text.lstrip()
        reg = self.registry
        if stripped[:1] in ("{", "["):
            try:
                text = json.dumps(reg.data(json.loads(text)))
            except ValueError:
                text = reg.text(text)
        elif _FORM in content_type.lower() or ("=" in text and " " not in text.strip() and "\n" not in text):
            text = reg.form(text)
        else:
            text = reg.text(text)
        return text.encode("utf-8") if as_bytes else text

    def request(self, request: Any) -> Any:
        """Scrub a vcrpy Request (already a deep copy) in place and return it."""
        reg = self.registry
        request.uri = reg.url(self._aliased(request.uri))
        for name in list(request.headers):
            value = request.headers[name]
            if reg.is_secret_header(name):
                request.headers[name] = MASK
            elif isinstance(value, str):
                request.headers[name] = reg.text(self._aliased(value))
        request.body = self.body(request.body, _header(request.headers, "content-type"))
        return request

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        """A scrubbed deep copy of a vcrpy response dict."""
        response = copy.deepcopy(response)
        reg = self.registry
        headers = response.get("headers") or {}
        for name in list(headers):
            values = headers[name]
            if reg.is_secret_header(name):
                headers[name] = [MASK for _ in values] if isinstance(values, list) else MASK
            elif isinstance(values, list):
                headers[name] = [reg.text(self._aliased(str(v))) for v in values]
        body = response.get("body") or {}
        if "string" in body:
            content_type = _header(headers, "content-type")
            new = self.body(body["string"], content_type)
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


def scan_text(text: str, extra_secrets: Iterable[str] = ()) -> list[str]:
    """Findings (no secret values in them) for registered/extra secrets and credential shapes."""
    findings = registry.contains_secret(text)
    findings += [f"given secret ({len(s)} chars)" for s in extra_secrets if s and s in text]
    return findings


def scan_paths(paths: Iterable[str | Path], extra_secrets: Iterable[str] = ()) -> dict[str, list[str]]:
    """Scan files (directories recursively) and return ``{path: findings}`` for files with any."""
    extra = list(extra_secrets)
    results: dict[str, list[str]] = {}
    for root in paths:
        root = Path(root)
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            try:
                text = path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            found = scan_text(text, extra)
            if found:
                results[str(path)] = found
    return results
