"""What a download's response headers say about its bytes, read strictly: ranges, lengths, validators.

Numbers are ASCII digits only (at most 18), so no header makes int() raise or misread; a value
that does not parse is None, and the caller decides what that means.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple, Optional

import requests

from ._parse import ascii_int

__all__ = ["Range", "coded", "content_range", "is_validator", "plain_length", "unsatisfied_size", "validator"]

_CONTENT_RANGE = re.compile(r"[ \t]*bytes[ \t]+([0-9]{1,18})-([0-9]{1,18})/([0-9]{1,18}|\*)[ \t]*",
                            re.IGNORECASE | re.ASCII)
_UNSATISFIED_RANGE = re.compile(r"[ \t]*bytes[ \t]+\*/([0-9]{1,18})[ \t]*", re.IGNORECASE | re.ASCII)
# A validator is written to disk and sent back in If-Range: visible ASCII (dates have spaces), bounded.
_ETAG = re.compile(r"[\x21-\x7e]{1,256}", re.ASCII)
_DATE = re.compile(r"[\x20-\x7e]{1,64}", re.ASCII)


class Range(NamedTuple):
    """``Content-Range: bytes start-end/total`` (``total`` None for ``*``), as sent."""

    start: int
    end: int
    total: Optional[int]
    text: str


def content_range(header: Optional[str]) -> Optional[Range]:
    """The Content-Range of a 206, or None when absent or not ``bytes N-M/T`` (T may be ``*``)."""
    found = _CONTENT_RANGE.fullmatch(header or "")
    if not found:
        return None
    total = None if found.group(3) == "*" else int(found.group(3))
    return Range(int(found.group(1)), int(found.group(2)), total, f"{found.group(1)}-{found.group(2)}/{found.group(3)}")


def unsatisfied_size(header: Optional[str]) -> Optional[int]:
    """The size a 416 gives in ``Content-Range: bytes */N``, or None."""
    found = _UNSATISFIED_RANGE.fullmatch(header or "")
    return int(found.group(1)) if found else None


def is_validator(value: object) -> bool:
    """Whether ``value`` may be sent back in If-Range (see ``validator``)."""
    return isinstance(value, str) and bool(_ETAG.fullmatch(value) or _DATE.fullmatch(value))


def validator(headers: Mapping[str, str]) -> Optional[str]:
    """What If-Range may carry: a strong ETag, else Last-Modified (RFC 9110 §13.1.5), else None."""
    etag = (headers.get("etag") or "").strip(" \t")
    if etag and not etag.startswith("W/") and _ETAG.fullmatch(etag):
        return etag
    modified = (headers.get("last-modified") or "").strip(" \t")
    return modified if _DATE.fullmatch(modified) else None


def coded(response: requests.Response) -> bool:
    """Whether the body is sent under a content coding (so its bytes are not the file's bytes)."""
    return response.headers.get("content-encoding", "identity").strip(" \t").lower() not in ("", "identity")


def plain_length(response: requests.Response) -> Optional[int]:
    """Content-Length of a body stored as sent (None when absent, not ASCII digits, or under a content coding)."""
    return None if coded(response) else ascii_int(response.headers.get("content-length"))
