"""The embedded API the demo (``python -m myclient.demo``) talks to: ``DemoServer`` and its request handler.

A ThreadingHTTPServer on 127.0.0.1 that plays an API behind a gateway (every request needs
``X-Gateway-Key``). Its routes are fixed and deterministic; the stateful ones keep what the demo
prints as proof — hit counts, the idempotency keys, request arrival times, the most requests it
had in flight at once. Only the demo uses this module; it needs the standard library alone.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import threading
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["ARTICLES", "GATEWAY_KEY", "REPORT_BYTES", "SLOW_EXPORT_SECONDS", "SLOW_SECONDS", "TOKEN_LIFETIME",
           "WORK_SECONDS", "DemoHandler", "DemoServer", "report_bytes"]

GATEWAY_KEY = "demo-gateway-key"
SLOW_SECONDS = 2.0  # GET /slow answers after this long
SLOW_EXPORT_SECONDS = 1.5  # POST /exports answers after this long
WORK_SECONDS = 0.05  # GET /work/{n} takes this long (so concurrent calls overlap)
TOKEN_LIFETIME = 2
ARTICLES = 23
REPORT_BYTES = 3 << 20


def report_bytes() -> bytes:
    """The downloadable report: the same bytes every time (so its SHA-256 can be checked)."""
    return hashlib.sha256(b"report").digest() * (REPORT_BYTES // 32)


_ROUTES: dict[str, tuple[int, dict[str, Any], dict[str, str]]] = {
    "/v1/health": (200, {"status": "ok"}, {}),
    "/v1/users/1": (200, {"id": 1, "name": "Ada Lovelace", "email": "ada@example.org"}, {}),
    "/v1/users/404": (404, {"message": "user 404 not found"}, {"X-Request-ID": "req-7f3a9c"}),
    "/v1/boom": (500, {"error": {"message": "database connection pool exhausted"}}, {}),
    "/v1/flaky": (200, {"status": "up at last"}, {}),
    "/v1/limited": (200, {"status": "thanks for waiting"}, {}),
}
_ARTICLE = re.compile(r"/v1/articles/(\d+)")
_WORK = re.compile(r"/v1/work/(\d+)")


class DemoServer(ThreadingHTTPServer):
    """ThreadingHTTPServer whose ``stopping`` event cuts the slow endpoints short on shutdown.

    ``openapi`` is the document served at ``/openapi.json`` (the demo writes it; 404 without one).
    """

    daemon_threads = True

    def __init__(self, openapi: Mapping[str, Any] | None = None) -> None:
        super().__init__(("127.0.0.1", 0), DemoHandler)
        self.openapi = openapi
        self.stopping = threading.Event()
        self.correlation_ids: set[str] = set()  # X-Correlation-ID values received
        self.lock = threading.Lock()
        self.hits: dict[str, int] = {}  # per route, for the stateful ones
        self.arrivals: dict[str, list[float]] = {}  # per route: time.monotonic() of each request's arrival
        self.idempotency_keys: list[str] = []
        self.tokens: dict[str, float] = {}  # issued access token -> expiry (monotonic)
        self.token_requests = 0
        self.active = 0  # GET /work/{n} requests in progress
        self.max_active = 0  # the most of them at once

    def hit(self, route: str) -> int:
        """Count a request to ``route`` and note when it arrived; returns how many it has had, this one included."""
        now = time.monotonic()
        with self.lock:
            self.hits[route] = self.hits.get(route, 0) + 1
            self.arrivals.setdefault(route, []).append(now)
            return self.hits[route]


class DemoHandler(BaseHTTPRequestHandler):
    """The API: a gateway key check in front of fixed JSON routes, a few stateful ones and two slow ones."""

    server_version = "DemoAPI/1.0"

    @property
    def api(self) -> DemoServer:
        """The server, typed."""
        assert isinstance(self.server, DemoServer)
        return self.server

    def do_GET(self) -> None:
        server = self.api
        server.correlation_ids.add(self.headers.get("X-Correlation-ID", "(none)"))
        if self.headers.get("X-Gateway-Key") != GATEWAY_KEY:
            self._reply(401, {"message": "missing or invalid gateway key"})
            return
        route = urlsplit(self.path).path
        if route == "/v1/flaky" and server.hit(route) <= 2:  # 503, 503, then fine
            self._reply(503, {"message": "warming up"})
        elif route == "/v1/limited" and server.hit(route) == 1:  # 429 once, asking for a 1 s pause
            self._reply(429, {"message": "slow down"}, {"Retry-After": "1"})
        elif route == "/v1/me":
            self._me(server)
        elif route == "/v1/slow":
            if not server.stopping.wait(SLOW_SECONDS):  # else shutting down; the client gave up long ago
                self._reply(200, {"status": "finally"})
        elif route == "/v1/articles":
            self._articles()
        elif route == "/v1/files/report.bin":
            self._report(server)
        elif not self._second_wave(server, route):
            status, body, headers = _ROUTES.get(route, (404, {"message": f"no route {route}"}, {}))
            self._reply(status, body, headers)

    def _second_wave(self, server: DemoServer, route: str) -> bool:
        """The routes of the later demo sections (results, middleware, async, rate limits, OpenAPI); False: none."""
        article, work = _ARTICLE.fullmatch(route), _WORK.fullmatch(route)
        if route == "/v1/reports/daily":  # 503 once, then the report; a request id per attempt
            attempt = server.hit(route)
            request_id = {"X-Request-ID": f"req-daily-{attempt}"}
            if attempt == 1:
                self._reply(503, {"message": "report still building"}, request_id)
            else:
                self._reply(200, {"report": "daily", "rows": 3, "total": 1234.5}, request_id)
        elif article:
            number = int(article.group(1))
            request_id = {"X-Request-ID": f"req-article-{number}"}
            if 1 <= number <= ARTICLES:
                self._reply(200, {"id": number, "title": f"article {number}"}, request_id)
            else:
                self._reply(404, {"message": f"article {number} not found"}, request_id)
        elif route == "/v1/echo":  # what the client's middleware added
            self._reply(200, {"X-Demo-Stamp": self.headers.get("X-Demo-Stamp")})
        elif work:
            self._work(server, int(work.group(1)))
        elif route == "/v1/ping":
            self._reply(200, {"pong": server.hit(route)})
        elif route == "/v1/quota":  # the first answer spends the budget: none left for 1 s
            remaining = "0" if server.hit(route) == 1 else "59"
            self._reply(200, {"quota": "checked"}, {"X-RateLimit-Remaining": remaining, "X-RateLimit-Reset": "1"})
        elif route == "/openapi.json" and server.openapi is not None:
            self._reply(200, server.openapi)
        else:
            return False
        return True

    def do_POST(self) -> None:
        server = self.api
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("X-Gateway-Key") != GATEWAY_KEY:
            self._reply(401, {"message": "missing or invalid gateway key"})
            return
        route = urlsplit(self.path).path
        if route == "/oauth/token":  # client credentials; tokens live TOKEN_LIFETIME seconds
            token = f"demo-access-{secrets.token_hex(8)}"
            with server.lock:
                server.token_requests += 1
                server.tokens[token] = time.monotonic() + TOKEN_LIFETIME
            self._reply(200, {"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME})
        elif route == "/v1/orders":  # the first attempt fails after the order was taken
            with server.lock:
                server.idempotency_keys.append(self.headers.get("Idempotency-Key", "(none)"))
            if server.hit(route) == 1:
                self._reply(503, {"message": "try again"})
            else:
                self._reply(201, {"order": 7, "status": "created once"})
        elif route == "/v1/exports":  # slow: the client gives up first
            server.hit(route)
            if not server.stopping.wait(SLOW_EXPORT_SECONDS):
                self._reply(202, {"export": "queued"})
        else:
            self._reply(404, {"message": f"no route {route}"})

    def _me(self, server: DemoServer) -> None:
        """The caller's identity, for a bearer token issued by /oauth/token and not yet expired."""
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        with server.lock:
            expiry = server.tokens.get(token)
        if expiry is None or expiry < time.monotonic():
            self._reply(401, {"message": "token expired"}, {"WWW-Authenticate": 'Bearer error="invalid_token"'})
            return
        self._reply(200, {"user": "service-account", "token_ends": token[-4:]})

    def _work(self, server: DemoServer, number: int) -> None:
        """WORK_SECONDS of work, counting how many such requests are in progress at once."""
        with server.lock:
            server.active += 1
            server.max_active = max(server.max_active, server.active)
        try:
            server.stopping.wait(WORK_SECONDS)
        finally:
            with server.lock:
                server.active -= 1
        self._reply(200, {"n": number})

    def _articles(self) -> None:
        """ARTICLES articles, ``?page=N&per_page=M``, with RFC 8288 Link and X-Total-Count headers."""
        query = parse_qs(urlsplit(self.path).query)
        page, size = int(query.get("page", ["1"])[0]), int(query.get("per_page", ["10"])[0])
        first, last = (page - 1) * size + 1, min(page * size, ARTICLES)
        items = [{"id": i, "title": f"article {i}"} for i in range(first, last + 1)]
        headers = {"X-Total-Count": str(ARTICLES)}
        if page * size < ARTICLES:
            headers["Link"] = f'<http://{self.headers["Host"]}/v1/articles?page={page + 1}&per_page={size}>; rel="next"'
        self._reply(200, items, headers)

    def _report(self, server: DemoServer) -> None:
        """REPORT_BYTES deterministic bytes with a Content-Length, sent in slices so a progress bar moves."""
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(REPORT_BYTES))
        self.send_header("ETag", '"report-v1"')
        self.end_headers()
        data = report_bytes()
        for start in range(0, REPORT_BYTES, 1 << 16):
            if server.stopping.wait(0.01):
                return
            self.wfile.write(data[start:start + (1 << 16)])

    def _reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        try:
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped waiting (a timeout, a cancelled task); nobody to answer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        """Keep the server's access log out of the demo output."""
