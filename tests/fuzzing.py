"""How many examples the property-based tests run: the CI count, times ``MYCLIENT_FUZZ_SCALE``.

CI runs each property with its own bounded count; ``benchmarks/soak_fuzz.py`` sets
``MYCLIENT_FUZZ_SCALE`` (default there: 50) to run the same properties far longer.
"""

from __future__ import annotations

import os


def examples(ci_count: int) -> int:
    """``ci_count`` scaled by ``MYCLIENT_FUZZ_SCALE`` (a positive integer; 1 when unset)."""
    raw = os.environ.get("MYCLIENT_FUZZ_SCALE", "1")
    try:
        scale = int(raw)
    except ValueError:
        raise ValueError(f"MYCLIENT_FUZZ_SCALE must be a positive integer, got {raw!r}") from None
    if scale < 1:
        raise ValueError(f"MYCLIENT_FUZZ_SCALE must be a positive integer, got {raw!r}")
    return ci_count * scale
