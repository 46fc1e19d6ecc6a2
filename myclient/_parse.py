"""Strict parsing of numbers that arrive from the network (headers, JSON): ASCII digits only, bounded.

``str.isdigit()`` accepts ``²³¹`` and other Unicode digits that ``int()`` then refuses or
misreads; a hostile server must never turn a header into a ``ValueError`` or an
``OverflowError``. Everything here returns None for what it cannot read.
"""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = ["MAX_DIGITS", "ascii_int", "finite_number"]

#: Longest digit string accepted (10**18 is far above any real size, count or delay).
MAX_DIGITS = 18
_DIGITS = re.compile(r"[0-9]{1,18}", re.ASCII)


def ascii_int(value: Any) -> int | None:
    """A non-negative int from ASCII digits (surrounding whitespace allowed), else None.

    Accepts an ``int`` (not a bool) as is when non-negative; a float only when it is finite and whole.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value < 10**MAX_DIGITS else None
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and 0 <= value < 10**MAX_DIGITS:
            return int(value)
        return None
    if isinstance(value, (bytes, bytearray)):
        try:
            value = bytes(value).decode("ascii")
        except UnicodeDecodeError:
            return None
    if not isinstance(value, str):
        return None
    text = value.strip(" \t")
    if not _DIGITS.fullmatch(text):
        return None
    return int(text)


def finite_number(value: Any, *, minimum: float = 0.0, maximum: float = 10.0**12) -> float | None:
    """A float in [minimum, maximum] from a JSON number or a decimal string, else None (NaN/inf refused)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip(" \t")
        if not re.fullmatch(r"-?[0-9]{1,18}(\.[0-9]{1,18})?", text, re.ASCII):
            return None
        value = float(text)
    if isinstance(value, int):
        if not -(10**18) < value < 10**18:
            return None
        value = float(value)
    if not isinstance(value, float) or not math.isfinite(value):
        return None
    return value if minimum <= value <= maximum else None


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or HTTP-date); None if absent or bad.

    Hostile values (Unicode digits, absurd zone offsets, dates far in the future) give None or a
    finite number, never an exception.
    """
    if not value or not isinstance(value, str):
        return None
    value = value.strip()
    seconds = ascii_int(value)
    if seconds is not None:
        return float(seconds)
    if len(value) > 64:
        return None
    import email.utils  # lazily: only servers that send HTTP-dates need it
    import time

    try:
        parsed = email.utils.parsedate_to_datetime(value)
        if parsed is None or parsed.tzinfo is None:
            return None
        stamp = parsed.timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    current = time.time() if now is None else now
    wait = stamp - current
    if not math.isfinite(wait):
        return None
    return max(0.0, min(wait, 10.0**12))


def header(headers: Any, lower_name: str) -> str | None:
    """A header's value by its lower-case name, or None.

    Reads requests' ``CaseInsensitiveDict`` through its own lower-cased store: its ``get`` raises and
    catches a KeyError for every missing header, which costs more than a whole lookup.
    """
    store = getattr(headers, "_store", None)
    if isinstance(store, dict):
        found = store.get(lower_name)
        return found[1] if found is not None else None
    if headers is None:
        return None
    for key, value in headers.items():
        if str(key).lower() == lower_name:
            return str(value)
    return None
