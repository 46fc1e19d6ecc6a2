"""In-memory state of the login API: the server-side configuration and the request statistics.

Both are process-wide and guarded by locks: gunicorn runs one worker with many threads (with
several workers each would count only its own requests). :data:`CONFIG` is changed through
``/api/_test/config``; :data:`STATS` is read at ``/api/_test/stats``. ``/api/_test/reset`` sets both
back to their defaults.
"""

import math
import threading
import time
from collections import Counter, deque
from typing import Any

DEFAULT_TTL = 3600
"""Seconds a token issued by default lives."""
DEFAULT_CONFIG: dict[str, Any] = {"ttl": DEFAULT_TTL, "anonymous_status": 401}
"""``ttl``: seconds a newly issued token lives (``0``: already expired, ``None``: never expires);
``anonymous_status``: what the session endpoints answer without a logged-in session (401 or 403)."""
FLOWS = ("token", "npm", "session")
EVENTS = ("logins", "login_failures", "logouts")
RECENT = 200
"""How many recent requests keep their details (headers included)."""


def validate_config(changes: Any) -> dict[str, Any]:
    """The validated ``changes`` to :data:`CONFIG`; :class:`ValueError` says what is wrong."""
    if not isinstance(changes, dict):
        raise ValueError("expected a JSON object")
    unknown = sorted(set(changes) - set(DEFAULT_CONFIG))
    if unknown:
        raise ValueError(f"unknown settings: {', '.join(unknown)} (known: {', '.join(DEFAULT_CONFIG)})")
    if "ttl" in changes:
        ttl = changes["ttl"]
        valid_number = isinstance(ttl, (int, float)) and not isinstance(ttl, bool) and math.isfinite(ttl)
        if ttl is not None and not (valid_number and ttl >= 0):
            raise ValueError("ttl must be a number of seconds >= 0, or null for tokens that never expire")
    if "anonymous_status" in changes and changes["anonymous_status"] not in (401, 403):
        raise ValueError("anonymous_status must be 401 or 403")
    return dict(changes)


class Config:
    """The server-side settings the tests change at run time (see :data:`DEFAULT_CONFIG`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values = dict(DEFAULT_CONFIG)

    def get(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._values)

    def update(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Apply already validated ``changes``; return the whole configuration."""
        with self._lock:
            self._values.update(changes)
            return dict(self._values)

    def reset(self) -> None:
        with self._lock:
            self._values = dict(DEFAULT_CONFIG)


def _flow_counters() -> dict[str, int]:
    return dict.fromkeys(("requests", *EVENTS, "unauthorized", "forbidden"), 0)


class LoginStats:
    """Thread-safe counters of the login endpoints' requests and of logins and logouts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._seq = 0
        self._by_flow = {flow: _flow_counters() for flow in FLOWS}
        self._by_endpoint: Counter[str] = Counter()
        self._by_status: Counter[str] = Counter()
        self._recent: deque[dict[str, Any]] = deque(maxlen=RECENT)
        self._since = time.time()

    def reset(self) -> None:
        with self._lock:
            self._reset()

    def event(self, flow: str, event: str) -> None:
        """Count a successful login, a failed login or a logout (``event`` in :data:`EVENTS`)."""
        with self._lock:
            self._by_flow[flow][event] += 1

    def request(self, flow: str, endpoint: str, path: str, status: int, headers: dict[str, str]) -> None:
        """Count one answered request (``endpoint`` is ``"METHOD /route"``)."""
        with self._lock:
            counters = self._by_flow[flow]
            counters["requests"] += 1
            if status == 401:
                counters["unauthorized"] += 1
            elif status == 403:
                counters["forbidden"] += 1
            self._by_endpoint[endpoint] += 1
            self._by_status[str(status)] += 1
            self._seq += 1
            entry = {"seq": self._seq, "flow": flow, "endpoint": endpoint, "path": path, "status": status}
            self._recent.append({**entry, "headers": headers})

    def snapshot(self) -> dict[str, Any]:
        """Totals over every flow, then per flow, per endpoint, per status, and the recent requests."""
        with self._lock:
            by_flow = {flow: dict(counters) for flow, counters in self._by_flow.items()}
            totals = {key: sum(counters[key] for counters in by_flow.values()) for key in _flow_counters()}
            return {
                "since": self._since,
                **totals,
                "by_flow": by_flow,
                "by_endpoint": dict(self._by_endpoint),
                "by_status": dict(self._by_status),
                "recent": list(self._recent),
            }


CONFIG = Config()
STATS = LoginStats()
