"""Request matchers for replay that compare a scrubbed request with a scrubbed recording.

vcrpy scrubs the live request (``before_record_request``) before matching it, but the two sides
were scrubbed at different times: a recording masks a value that became a secret later in the
session (a cookie sent in a query afterwards, masked when the cassette was saved), or that only
the recording process knew (a token in a URL path: ``DELETE /-/user/token/***``), while the
replaying process may not know it at all. So wherever one side holds the mask ``***``, it stands
for any non-empty text on the other side; everything else must be equal. Path, query (pairs in
any order) and body (JSON structurally, forms as pairs, multipart part by part whatever the
boundary, otherwise as text) are compared this way.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from ..redaction import MASK
from ._scrub import _BOUNDARY, _PART_NAME, header_value

__all__ = ["scrubbed_body", "scrubbed_path", "scrubbed_query", "same"]


def _fits(pattern: str, value: str) -> bool:
    if MASK not in pattern:
        return pattern == value
    regex = ".+?".join(re.escape(piece) for piece in pattern.split(MASK))
    return re.fullmatch(regex, value, re.DOTALL) is not None


def same(a: str, b: str) -> bool:
    """Equal, or equal once each ``***`` on either side stands for any non-empty text."""
    return a == b or _fits(a, b) or _fits(b, a)


def _same_pairs(a: list[tuple[str, str]], b: list[tuple[str, str]]) -> bool:
    if len(a) != len(b):
        return False
    left = list(b)
    for key, value in a:
        for i, (other_key, other_value) in enumerate(left):
            if same(key, other_key) and same(value, other_value):
                del left[i]
                break
        else:
            return False
    return True


def _same_json(a: Any, b: Any) -> bool:
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if isinstance(x, dict) and isinstance(y, dict):
            if len(x) != len(y):
                return False
            unmatched = [k for k in y if k not in x]
            for key, value in x.items():
                if key in y:
                    stack.append((value, y[key]))
                    continue
                match = next((k for k in unmatched if same(str(key), str(k))), None)
                if match is None:
                    return False
                unmatched.remove(match)
                stack.append((value, y[match]))
        elif isinstance(x, list) and isinstance(y, list):
            if len(x) != len(y):
                return False
            stack.extend(zip(x, y, strict=False))
        elif isinstance(x, str) and isinstance(y, str):
            if not same(x, y):
                return False
        elif x != y and MASK not in (x, y):
            return False
    return True


def _body_of(request: Any) -> bytes:
    body = getattr(request, "body_bytes", None)
    if body is None:
        body = request.body
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if hasattr(body, "read"):
        return bytes(body.read())
    return bytes(body)


def _parts(body: bytes, content_type: str) -> list[tuple[str, str]] | None:
    boundary = _BOUNDARY.search(content_type)
    if not boundary:
        return None
    parts = []
    for piece in body.split(b"--" + boundary.group(1).encode("latin-1"))[1:]:
        if piece.startswith(b"--"):
            break
        head, _, content = piece.partition(b"\r\n\r\n")
        named = _PART_NAME.search(head)
        name = (named.group(1) or named.group(2) or b"") if named else b""
        parts.append((name.decode("latin-1"), content.decode("latin-1")))
    return parts


def _same_body(a: Any, b: Any) -> bool:
    body_a, body_b = _body_of(a), _body_of(b)
    if body_a == body_b:
        return True
    type_a = header_value(a.headers, "content-type").lower()
    type_b = header_value(b.headers, "content-type").lower()
    if type_a.startswith("multipart/") and type_b.startswith("multipart/"):
        parts_a, parts_b = _parts(body_a, type_a), _parts(body_b, type_b)
        return parts_a is not None and parts_b is not None and _same_pairs(parts_a, parts_b)
    text_a, text_b = body_a.decode("latin-1"), body_b.decode("latin-1")
    if text_a.lstrip()[:1] in ("{", "[") and text_b.lstrip()[:1] in ("{", "["):
        try:
            return _same_json(json.loads(body_a), json.loads(body_b))
        except (ValueError, RecursionError):
            pass
    if "x-www-form-urlencoded" in type_a and "x-www-form-urlencoded" in type_b:
        return _same_pairs(parse_qsl(text_a, keep_blank_values=True), parse_qsl(text_b, keep_blank_values=True))
    return same(text_a, text_b)


def scrubbed_path(r1: Any, r2: Any) -> None:
    """Match for vcrpy: the URL paths match (``***`` on either side matching any text)."""
    if not same(r1.path or "/", r2.path or "/"):
        raise AssertionError(f"{r1.path} != {r2.path}")


def scrubbed_query(r1: Any, r2: Any) -> None:
    """Match for vcrpy: the same query parameters in any order (``***`` matching any value)."""
    if not _same_pairs(r1.query, r2.query):
        raise AssertionError(f"{r1.query} != {r2.query}")


def scrubbed_body(r1: Any, r2: Any) -> None:
    """Match for vcrpy: the bodies match (JSON, form, multipart or text; ``***`` matching any value)."""
    if not _same_body(r1, r2):
        raise AssertionError("the bodies differ")
