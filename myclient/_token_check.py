"""The validation rules of token fields, shared by Token, token-endpoint documents and the stores.

Pure checks on values: nothing here builds a Token, reads a store or raises a MyClientError —
callers turn ``Invalid`` into UsageError (a token built in code) or AuthError (a server's or a
store's data). Surrounding whitespace is stripped, as ``auth.clean_credential`` does; an access
token or token type (they travel in a header) must then be visible ASCII, a refresh or ID token
printable ASCII (RFC 6749 ``VSCHAR``), a scope free of control characters; times are finite,
non-negative numbers (``_parse.finite_number``); ``extra`` is JSON data nested at most
``MAX_DEPTH`` levels deep. Messages name the field, never its value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ._parse import finite_number

__all__ = ["KNOWN_FIELDS", "MAX_DEPTH", "Invalid", "check", "response_fields"]

KNOWN_FIELDS = ("access_token", "token_type", "refresh_token", "expires_at", "issued_at", "scope", "id_token")
#: How deep the JSON of a token document (and a token's ``extra``) may nest.
MAX_DEPTH = 32
_VISIBLE = re.compile(r"[\x21-\x7e]+")  # travels in a header: Authorization: Bearer <access_token>
_VSCHAR = re.compile(r"[\x20-\x7e]+")
_NO_CONTROL = re.compile(r"[^\x00-\x1f\x7f]+")
_MAX_TIME = 1e13  # Unix seconds: far beyond any real expiry, finite


class Invalid(Exception):
    """Why token data does not validate: names the field, never its value."""


def _text(value: Any, name: str, allowed: re.Pattern[str], *, required: bool = False) -> str | None:
    if isinstance(value, str):
        value = value.strip(" \t\r\n")
    if value is None or value == "":
        if required:
            raise Invalid(f"{name} is missing or empty")
        return None
    if not isinstance(value, str):
        raise Invalid(f"{name} is not a string")
    if not allowed.fullmatch(value):
        raise Invalid(f"{name} holds characters a token cannot have")
    return value


def _time(value: Any, name: str) -> float | None:
    if value is None:
        return None
    number = finite_number(value, maximum=_MAX_TIME)
    if number is None:
        raise Invalid(f"{name} is not a finite, non-negative number of seconds")
    return number


def _too_deep(value: Any) -> bool:
    """Whether JSON-like data nests deeper than MAX_DEPTH (iterative: no recursion to exhaust)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping):
            children: Any = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        else:
            continue
        if depth >= MAX_DEPTH:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _extra(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise Invalid("extra is not an object")
    if _too_deep(value):
        raise Invalid(f"extra is nested deeper than {MAX_DEPTH} levels")
    try:
        json.dumps(value)
    except (TypeError, ValueError, RecursionError):
        raise Invalid("extra is not JSON data") from None
    return dict(value)


def check(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The token fields, validated and normalised (raises Invalid)."""
    return {
        "access_token": _text(fields.get("access_token"), "access_token", _VISIBLE, required=True),
        "token_type": _text(fields.get("token_type"), "token_type", _VISIBLE) or "Bearer",
        "refresh_token": _text(fields.get("refresh_token"), "refresh_token", _VSCHAR),
        "expires_at": _time(fields.get("expires_at"), "expires_at"),
        "issued_at": _time(fields.get("issued_at"), "issued_at"),
        "scope": _text(fields.get("scope"), "scope", _NO_CONTROL),
        "id_token": _text(fields.get("id_token"), "id_token", _VSCHAR),
        "extra": _extra(fields.get("extra")),
    }


def response_fields(data: Any, issued: float) -> dict[str, Any]:
    """Token fields from a token endpoint's JSON object (``expires_in`` becomes ``expires_at``)."""
    if not isinstance(data, Mapping):
        raise Invalid("it is not a JSON object")
    if _too_deep(data):
        raise Invalid(f"it is nested deeper than {MAX_DEPTH} levels")
    fields = {k: data.get(k) for k in KNOWN_FIELDS}
    expires_in = data.get("expires_in")
    if expires_in is not None and expires_in != "":
        seconds = finite_number(expires_in)
        if seconds is None:
            raise Invalid("expires_in is not a finite, non-negative number of seconds")
        fields["expires_at"] = issued + seconds
    scope = fields["scope"]
    if isinstance(scope, (list, tuple)):
        if not all(isinstance(s, str) for s in scope):
            raise Invalid("scope is not a string or a list of strings")
        fields["scope"] = " ".join(scope)
    fields["issued_at"] = issued
    fields["extra"] = {k: v for k, v in data.items() if k not in KNOWN_FIELDS and k != "expires_in"}
    return fields
