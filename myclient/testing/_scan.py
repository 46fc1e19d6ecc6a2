"""Scanning cassettes (or any text) for secrets, in every encoding the scrubber masks.

A cassette is scanned twice: as the text on disk, and as the data it decodes to (YAML or JSON),
so bodies written as ``!!binary``, gzip-compressed bodies and strings the YAML writer folded
across lines are seen too, and secret-named headers, query parameters and body fields must hold
masked values. Findings name what was found and where, never the secret itself.
"""

from __future__ import annotations

import contextlib
import gzip
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ..redaction import MASK, Registry, _holds_value, registry
from ._scrub import _COOKIE_ATTRIBUTES, _COOKIE_PAIR, header_value

__all__ = ["SecretsFound", "scan_cassette", "scan_paths", "scan_text"]


class SecretsFound(AssertionError):
    """A cassette would hold secrets after scrubbing; it was not written."""

    def __init__(self, path: str, findings: list[str]) -> None:
        super().__init__(f"cassette {path} would hold secrets after scrubbing (not written): {findings}")
        self.path = path
        self.findings = findings


def _extra_registry(extra_secrets: Iterable[str]) -> tuple[Registry, list[str]]:
    extra = Registry()
    short = []
    for secret in extra_secrets:
        if len(secret) >= 4:
            extra.add_secret(secret)
        elif secret:
            short.append(secret)
    return extra, short


def scan_text(text: str | bytes, extra_secrets: Iterable[str] = ()) -> list[str]:
    """Findings for registered or given secrets (any encoding), unmasked secret-named values and shapes.

    Bytes are searched byte for byte.
    """
    findings = registry.contains_secret(text)
    extra, short = _extra_registry(extra_secrets)
    as_text = text.decode("latin-1") if isinstance(text, bytes) else text
    findings += [f"given {finding}" for finding in extra.contains_secret(as_text)
                 if finding.startswith("registered secret")]
    findings += [f"given secret ({len(s)} chars)" for s in short if s in as_text]
    return findings


def _bodies(body: Any) -> Iterator[str | bytes]:
    value = body.get("string") if isinstance(body, dict) else body
    if isinstance(value, (bytes, bytearray)):
        data = bytes(value)
        yield data
        if data[:2] == b"\x1f\x8b":
            with contextlib.suppress(OSError, EOFError):
                yield gzip.decompress(data)
    elif isinstance(value, str):
        yield value


def _unmasked_fields(value: Any, where: str) -> Iterator[str]:
    """Secret-named JSON fields holding anything but a mask (iterative walk)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                if (isinstance(key, str) and registry.is_secret_field(key) and _holds_value(child)
                        and not (isinstance(child, str) and MASK in child)):
                    yield f"{where}: unmasked value of secret-named field {key!r}"
                else:
                    stack.append(child)
        elif isinstance(item, list):
            stack.extend(item)


def _body_structure(text: str, content_type: str, where: str) -> Iterator[str]:
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        with contextlib.suppress(ValueError, RecursionError):
            yield from _unmasked_fields(json.loads(text), where)
    elif "x-www-form-urlencoded" in content_type.lower():
        for key, value in parse_qsl(text, keep_blank_values=True):
            if registry.is_secret_field(key) and value and MASK not in value:
                yield f"{where}: unmasked value of secret-named form field {key!r}"


def _headers(headers: Any, where: str) -> Iterator[str]:
    if not isinstance(headers, dict):
        return
    for name, values in headers.items():
        lower = str(name).lower()
        for value in values if isinstance(values, list) else [values]:
            value = str(value)
            if lower in ("cookie", "set-cookie"):
                set_cookie = lower == "set-cookie"
                if any(m.group(4) and m.group(4) != MASK for m in _COOKIE_PAIR.finditer(value)
                       if not (set_cookie and m.group(3).lower() in _COOKIE_ATTRIBUTES)):
                    yield f"{where}: unmasked cookie value in header {name!r}"
            elif registry.is_secret_header(str(name)) and value and MASK not in value:
                yield f"{where}: unmasked value of secret header {name!r}"


def scan_cassette(data: Any, extra_secrets: Iterable[str] = ()) -> list[str]:
    """Findings in a decoded cassette (``{"interactions": [...]}``).

    Every URI and body (binary and gzip ones decoded), and secret-named headers, query parameters
    and body fields, which must hold masked values.
    """
    extra = list(extra_secrets)
    findings: list[str] = []
    interactions = data.get("interactions") if isinstance(data, dict) else None
    for number, interaction in enumerate(interactions or []):
        if not isinstance(interaction, dict):
            continue
        for side in ("request", "response"):
            part = interaction.get(side)
            if not isinstance(part, dict):
                continue
            where = f"interaction {number} {side}"
            headers = part.get("headers") or {}
            findings += _headers(headers, where)
            uri = part.get("uri")
            if isinstance(uri, str):
                findings += [f"{where} uri: {f}" for f in scan_text(uri, extra)]
                for key, value in parse_qsl(urlsplit(uri).query, keep_blank_values=True):
                    if registry.is_secret_param(key) and value and MASK not in value:
                        findings.append(f"{where} uri: unmasked value of secret-named parameter {key!r}")
            content_type = header_value(headers, "content-type") if isinstance(headers, dict) else ""
            for body in _bodies(part.get("body")):
                findings += [f"{where} body: {f}" for f in scan_text(body, extra)]
                if isinstance(body, bytes):
                    try:
                        body = body.decode("utf-8")
                    except UnicodeDecodeError:
                        continue
                findings += _body_structure(body, content_type, f"{where} body")
    return list(dict.fromkeys(findings))


def _decoded(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        import yaml
    except ImportError:  # pragma: no cover - vcrpy needs PyYAML
        return None
    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return None


def scan_paths(paths: Iterable[str | Path], extra_secrets: Iterable[str] = ()) -> dict[str, list[str]]:
    """Scan files (directories recursively) and return ``{path: findings}`` for files with any."""
    extra = list(extra_secrets)
    results: dict[str, list[str]] = {}
    for root in paths:
        root = Path(root)
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            try:
                raw = path.read_bytes()
            except OSError:
                continue
            found = scan_serialized(raw, extra)
            if found:
                results[str(path)] = found
    return results


def scan_serialized(raw: str | bytes, extra_secrets: Iterable[str] = ()) -> list[str]:
    """Findings in a serialized cassette (or any file): its text, and what it decodes to."""
    extra = list(extra_secrets)
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        return scan_text(raw, extra)
    findings = scan_text(text, extra)
    if "interactions" in text:
        findings += scan_cassette(_decoded(text), extra)
    return list(dict.fromkeys(findings))
