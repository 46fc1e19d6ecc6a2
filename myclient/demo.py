"""A runnable tour of myclient against an embedded local API: ``python -m myclient.demo``.

It starts a tiny HTTP server on 127.0.0.1 (a free port, daemon thread) that plays an API behind
a gateway, then walks through numbered sections: session injection, a successful call, 404 and
500 errors, a timeout, the DEBUG log lines with the correlation id, paging through a collection
with a resumable checkpoint, a download with a progress bar (tqdm when installed, else a text
bar), and proof that the injected session was left untouched. Needs only requests and the standard library.

To add a section, write a ``section_*(ctx)`` function and append it to ``SECTIONS``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import json
import logging
import logging.handlers
import secrets
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

import myclient

GATEWAY_KEY = "demo-gateway-key"
SLOW_SECONDS = 2.0
DEMO_TIMEOUT = 0.5
TOKEN_LIFETIME = 2
ARTICLES = 23
REPORT_BYTES = 3 << 20


def _report_bytes() -> bytes:
    """The downloadable report: the same bytes every time (so its SHA-256 can be checked)."""
    return hashlib.sha256(b"report").digest() * (REPORT_BYTES // 32)

# -- the embedded API ---------------------------------------------------------------------------

_ROUTES: dict[str, tuple[int, dict[str, Any], dict[str, str]]] = {
    "/v1/health": (200, {"status": "ok"}, {}),
    "/v1/users/1": (200, {"id": 1, "name": "Ada Lovelace", "email": "ada@example.org"}, {}),
    "/v1/users/404": (404, {"message": "user 404 not found"}, {"X-Request-ID": "req-7f3a9c"}),
    "/v1/boom": (500, {"error": {"message": "database connection pool exhausted"}}, {}),
    "/v1/flaky": (200, {"status": "up at last"}, {}),
    "/v1/limited": (200, {"status": "thanks for waiting"}, {}),
}


class DemoServer(ThreadingHTTPServer):
    """ThreadingHTTPServer whose ``stopping`` event cuts the slow endpoint short on shutdown."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), DemoHandler)
        self.stopping = threading.Event()
        self.correlation_ids: set[str] = set()  # X-Correlation-ID values received
        self.lock = threading.Lock()
        self.hits: dict[str, int] = {}  # per route, for the stateful ones
        self.idempotency_keys: list[str] = []
        self.tokens: dict[str, float] = {}  # issued access token -> expiry (monotonic)
        self.token_requests = 0

    def hit(self, route: str) -> int:
        """Count a request to ``route``; returns how many it has had, this one included."""
        with self.lock:
            self.hits[route] = self.hits.get(route, 0) + 1
            return self.hits[route]


class DemoHandler(BaseHTTPRequestHandler):
    """The API: a gateway key check in front of a few fixed JSON routes and one slow one."""

    server_version = "DemoAPI/1.0"

    def do_GET(self) -> None:
        server = self.server
        assert isinstance(server, DemoServer)
        server.correlation_ids.add(self.headers.get("X-Correlation-ID", "(none)"))
        if self.headers.get("X-Gateway-Key") != GATEWAY_KEY:
            self._reply(401, {"message": "missing or invalid gateway key"})
            return
        route = urlsplit(self.path).path
        if route == "/v1/flaky" and server.hit(route) <= 2:  # 503, 503, then fine
            self._reply(503, {"message": "warming up"})
            return
        if route == "/v1/limited" and server.hit(route) == 1:  # 429 once, asking for a 1 s pause
            self._reply(429, {"message": "slow down"}, {"Retry-After": "1"})
            return
        if route == "/v1/me":
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            with server.lock:
                expiry = server.tokens.get(token)
            if expiry is None or expiry < time.monotonic():
                self._reply(401, {"message": "token expired"}, {"WWW-Authenticate": 'Bearer error="invalid_token"'})
                return
            self._reply(200, {"user": "service-account", "token_ends": token[-4:]})
            return
        if route == "/v1/slow":
            if server.stopping.wait(SLOW_SECONDS):
                return  # shutting down; the client gave up long ago
            self._reply(200, {"status": "finally"})
            return
        if route == "/v1/articles":
            self._articles()
            return
        if route == "/v1/files/report.bin":
            self._report(server)
            return
        status, body, headers = _ROUTES.get(route, (404, {"message": f"no route {route}"}, {}))
        self._reply(status, body, headers)

    def do_POST(self) -> None:
        server = self.server
        assert isinstance(server, DemoServer)
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
        else:
            self._reply(404, {"message": f"no route {route}"})

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
        for start in range(0, REPORT_BYTES, 1 << 16):
            if server.stopping.wait(0.01):
                return
            self.wfile.write(_report_bytes()[start:start + (1 << 16)])

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
            pass  # the client stopped waiting (a timeout); nobody to answer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        """Keep the server's access log out of the demo output."""


# -- the client the user writes -----------------------------------------------------------------


class Users(myclient.Resource):
    """CRUD on ``/users``."""

    path = "/users"


class Status(myclient.ApiGroup):
    """Service status."""

    def health(self) -> dict[str, Any]:
        """Whether the API is up.

        Supported methods: GET /health
        """
        result: dict[str, Any] = self._adapter.get("/health")
        return result


class DemoClient(myclient.Client):
    """The API's client: its groups are declared, the calls go through ``client.adapter``."""

    users = myclient.group(Users)
    status = myclient.group(Status)


# -- the sections -------------------------------------------------------------------------------


@dataclass
class Context:
    """What the sections share."""

    server: DemoServer
    session: requests.Session
    client: DemoClient
    session_headers_before: dict[str, str | bytes]
    log_records: list[logging.LogRecord]


def section_setup(ctx: Context) -> None:
    extra = {k: v for k, v in ctx.session_headers_before.items() if k not in requests.utils.default_headers()}
    print(f"user's session: requests.Session() + headers {extra}")
    print(f"client: {ctx.client!r}")
    print(f"groups: client.users -> {type(ctx.client.users).__name__}, "
          f"client.status -> {type(ctx.client.status).__name__}")
    doc = [line.strip() for line in (Status.health.__doc__ or "").splitlines() if "Supported" in line]
    print(f"Status.health docstring: {doc[0] if doc else '?'}")


def section_success(ctx: Context) -> None:
    print(f"client.status.health() -> {ctx.client.status.health()}")
    print(f"client.users.get(1)    -> {ctx.client.users.get(1)}")


def section_not_found(ctx: Context) -> None:
    try:
        ctx.client.users.get(404)
    except myclient.NotFound as e:
        print(f"caught {type(e).__name__}: {e}")
        print(f"  e.status={e.status}  e.method={e.method}  e.url={e.url}  e.request_id={e.request_id}")


def section_server_error(ctx: Context) -> None:
    try:
        ctx.client.adapter.get("/boom")
    except myclient.MyClientError as e:
        print(f"caught as MyClientError: {type(e).__name__}")
        print(f"  str(e): {e}")
        print(f"  is a ServerError: {isinstance(e, myclient.ServerError)}")


def section_timeout(ctx: Context) -> None:
    print(f"GET /slow answers after {SLOW_SECONDS:g} s; calling it with timeout={DEMO_TIMEOUT}")
    try:
        ctx.client.adapter.get("/slow", timeout=DEMO_TIMEOUT)
    except myclient.MyClientError as e:
        print(f"caught as MyClientError: {type(e).__name__}"
              f" (a Timeout: {isinstance(e, myclient.Timeout)})")
        print(f"  str(e): {e}")
        tries = ", ".join(f"{a.outcome} after {a.elapsed:.2f} s" for a in e.attempts)
        print(f"  e.attempts (the default RetryPolicy retries a GET that timed out): {tries}")


def section_retries(ctx: Context) -> None:
    print("GET /flaky answers 503, 503, then 200: a GET is idempotent, so it is retried")
    print(f"client.adapter.get('/flaky') -> {ctx.client.adapter.get('/flaky')}")
    print("\nGET /limited answers 429 with Retry-After: 1 once")
    started = time.monotonic()
    result = ctx.client.adapter.get("/limited")
    print(f"-> {result} after {time.monotonic() - started:.2f} s (the Retry-After was honoured)")
    print("\nPOST /orders fails once with 503; with idempotency_key=True one key is made for the call")
    order = ctx.client.adapter.post("/orders", json={"item": "book"}, idempotency_key=True)
    keys = ctx.server.idempotency_keys
    print(f"-> {order}; the server saw {len(keys)} attempts with keys {keys} (same key: {len(set(keys)) == 1})")


def section_tokens(ctx: Context) -> None:
    base = ctx.client.base_url.rsplit("/v1", 1)[0]
    flow = myclient.ClientCredentials(f"{base}/oauth/token", "demo-service", "demo-client-secret")
    client = DemoClient(ctx.client.base_url, session=ctx.session, auth=flow, timeout=5.0)
    print(f"client credentials against {base}/oauth/token (through the same session and gateway key)")
    print(f"first call:  GET /me -> {client.adapter.get('/me')}")
    print(f"... the {TOKEN_LIFETIME} s token expires; sleeping {TOKEN_LIFETIME + 0.5} s ...")
    time.sleep(TOKEN_LIFETIME + 0.5)
    print(f"second call: GET /me -> {client.adapter.get('/me')}  (renewed before sending; no error seen)")
    print(f"token requests the server answered: {ctx.server.token_requests}")


def section_logging(ctx: Context) -> None:
    cid = ctx.client.cid
    with_cid = [r for r in ctx.log_records if f"cid={cid}" in r.getMessage()]
    print(f"client.cid = {cid}")
    print(f"X-Correlation-ID values the server received: {sorted(ctx.server.correlation_ids)}")
    print(f"the 'myclient' logger wrote {len(ctx.log_records)} DEBUG lines above "
          f"(the '[myclient DEBUG]' ones), {len(with_cid)} of them with cid={cid}")


def section_session_untouched(ctx: Context) -> None:
    session = ctx.session
    headers_now = dict(session.headers)
    mounted = list(session.adapters)
    defaults = list(requests.Session().adapters)
    leaked = sorted({"Authorization", "X-Correlation-ID"} & set(headers_now))
    print(f"headers unchanged: {headers_now == ctx.session_headers_before}  "
          f"(client headers written onto it: {leaked or 'none'})")
    print(f"mounted adapters:  {mounted}  (requests' defaults: {mounted == defaults})")
    print(f"session.auth={session.auth!r}  session.proxies={session.proxies!r}  "
          f"session.verify={session.verify!r}")
    print(f"client.session is the injected session: {ctx.client.session is session}")


def section_paging_downloads(ctx: Context) -> None:
    class Articles(myclient.Resource):
        path = "/articles"  # pagination = LinkHeader() by default: follows rel="next"

    walk = Articles(ctx.client.adapter).list(per_page=5)
    first = [article["id"] for article in itertools.islice(walk, 7)]  # islice takes no 8th item
    saved = json.dumps(walk.checkpoint)
    print(f"Articles.list(per_page=5): took {len(first)} articles {first}, then stopped; checkpoint:\n  {saved}")
    rest = [a["id"] for a in ctx.client.paginate("/articles", {"per_page": 5}, resume=json.loads(saved))]
    print(f"a new paginator resumed from it: {len(rest)} more, ids {rest[0]}..{rest[-1]}; every article "
          f"exactly once: {sorted(first + rest) == list(range(1, ARTICLES + 1))}")
    if importlib.util.find_spec("tqdm") is not None:
        bar: Any = myclient.progress.tqdm_progress(desc="report.bin", file=sys.stdout, ascii=True, ncols=72)
    else:
        bar = myclient.progress.TextProgress("report.bin", stream=sys.stdout)
    print(f"downloading /files/report.bin with a progress bar ({type(bar).__name__}):")
    with tempfile.TemporaryDirectory() as scratch, bar:
        path = ctx.client.download("/files/report.bin", f"{scratch}/report.bin", chunk_size=1 << 18, progress=bar)
        data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    print(f"saved {path.name}: {len(data)} bytes, SHA-256 {digest[:16]}... "
          f"(intact: {digest == hashlib.sha256(_report_bytes()).hexdigest()})")


SECTIONS: list[tuple[str, Callable[[Context], None]]] = [
    ("A user-made session, injected into a Client subclass", section_setup),
    ("A successful call", section_success),
    ("404 -> NotFound", section_not_found),
    ("500 -> caught as MyClientError", section_server_error),
    ("A timeout -> caught as MyClientError", section_timeout),
    ("Retries: a retried 503, an honoured Retry-After, one idempotency key", section_retries),
    ("OAuth2 client credentials: a token expires and is renewed unnoticed", section_tokens),
    ("DEBUG log lines carry the correlation id", section_logging),
    ("Pagination with a checkpoint, and a download with a progress bar", section_paging_downloads),
    ("The injected session was not modified", section_session_untouched),
]


def main() -> int:
    server = DemoServer()
    thread = threading.Thread(target=server.serve_forever, name="demo-api", daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{server.server_port}/v1"
    print(f"Demo API listening on {base_url} (behind a gateway: X-Gateway-Key required)")

    logger = logging.getLogger("myclient")
    stdout_handler = logging.StreamHandler(sys.stdout)
    stdout_handler.setFormatter(logging.Formatter("    [%(name)s %(levelname)s] %(message)s"))
    recorder = logging.handlers.BufferingHandler(capacity=10_000)  # keeps the records for section 6
    handlers: list[logging.Handler] = [stdout_handler, recorder]
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    for handler in handlers:
        logger.addHandler(handler)

    session = requests.Session()
    session.headers["X-Gateway-Key"] = GATEWAY_KEY
    try:
        client = DemoClient(base_url, session=session, token="demo-token", timeout=5.0)
        ctx = Context(server, session, client, dict(session.headers), recorder.buffer)
        for number, (title, run) in enumerate(SECTIONS, 1):
            print(f"\n{number}. {title}\n{'-' * (len(title) + len(str(number)) + 2)}")
            run(ctx)
        client.close()  # leaves the injected session open: closing it is the user's job
    finally:
        session.close()
        for handler in handlers:
            logger.removeHandler(handler)
        logger.setLevel(old_level)
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    print("\nServer stopped; done.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
