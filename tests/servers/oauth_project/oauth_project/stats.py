"""Test-only request statistics of the token endpoints, served at ``/stats``.

:class:`TokenStatsMiddleware` records every request to a token endpoint as it arrives:
``token_requests`` and ``by_grant_type`` count the real one (``/o/token/``), ``by_path`` counts
it and the broken ``/broken/token``, and ``recent`` keeps the headers of the last :data:`RECENT`
requests to either. ``GET /stats`` returns them as JSON; ``POST /stats/reset`` starts again
from zero. A lock guards the state: gunicorn runs many threads.
"""

import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse  # type: ignore[import-untyped]

TOKEN_PATH = "/o/token/"
RECORDED_PATHS = frozenset({TOKEN_PATH, "/broken/token"})
RECENT = 100
"""How many recent token requests keep their headers."""


class TokenStats:
    """Thread-safe counters of token-endpoint requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._total = 0
        self._seq = 0
        self._by_grant_type: Counter[str] = Counter()
        self._by_path: Counter[str] = Counter()
        self._recent: deque[dict[str, Any]] = deque(maxlen=RECENT)
        self._since = time.time()

    def reset(self) -> None:
        with self._lock:
            self._reset()

    def record(self, path: str, method: str, grant_type: str, headers: dict[str, str]) -> None:
        with self._lock:
            if path == TOKEN_PATH:
                self._total += 1
                self._by_grant_type[grant_type] += 1
            self._by_path[path] += 1
            self._seq += 1
            entry = {"seq": self._seq, "path": path, "method": method, "grant_type": grant_type}
            self._recent.append({**entry, "headers": headers})

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "since": self._since,
                "token_requests": self._total,
                "by_grant_type": dict(self._by_grant_type),
                "by_path": dict(self._by_path),
                "recent": list(self._recent),
            }


STATS = TokenStats()


def _grant_type(request: HttpRequest) -> str:
    """The form field ``grant_type`` ('' if absent or unreadable)."""
    try:
        body = request.body  # read once; Django keeps it, so the view can still parse the form
    except Exception:  # noqa: BLE001 - statistics must never break the request
        return ""
    values = parse_qs(body.decode("latin-1")).get("grant_type") or [""]
    return str(values[-1])


class TokenStatsMiddleware:
    """Answers ``/stats`` and ``/stats/reset``; records token-endpoint requests."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/stats":
            if request.method != "GET":
                return HttpResponseNotAllowed(["GET"])
            return JsonResponse(STATS.snapshot())
        if request.path == "/stats/reset":
            if request.method != "POST":
                return HttpResponseNotAllowed(["POST"])
            STATS.reset()
            return JsonResponse(STATS.snapshot())
        if request.path in RECORDED_PATHS:
            grant_type = _grant_type(request) if request.method == "POST" else ""
            STATS.record(request.path, request.method or "", grant_type, dict(request.headers))
        return self.get_response(request)
