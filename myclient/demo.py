"""A runnable tour of myclient against an embedded local API: ``python -m myclient.demo``.

It starts a tiny HTTP server on 127.0.0.1 (a free port, daemon thread; see ``myclient._demo_server``)
that plays an API behind a gateway, then walks through numbered sections: session injection, a
successful call, 404 and 500 errors, a timeout, retries, OAuth2 token renewal, the DEBUG log lines
with the correlation id, paging through a collection with a resumable checkpoint, a download with a
progress bar (tqdm when installed, else a text bar); then detailed ``Result``s, a middleware, the
``AsyncClient`` (a bounded gather, a cancelled POST never retried), client-side and server-announced
rate limits, a client loaded from the server's OpenAPI document; and last, proof that the injected
session was left untouched. Needs only requests and the standard library.

To add a section, write a ``section_*(ctx)`` function and append it to ``SECTIONS``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib.util
import itertools
import json
import logging
import logging.handlers
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import requests

import myclient
import myclient.openapi

from ._demo_server import (
    ARTICLES,
    GATEWAY_KEY,
    SLOW_EXPORT_SECONDS,
    SLOW_SECONDS,
    TOKEN_LIFETIME,
    WORK_SECONDS,
    DemoServer,
    report_bytes,
)

DEMO_TIMEOUT = 0.5
OPENAPI_DOCUMENT: dict[str, Any] = {  # served at /openapi.json; describes three of the API's real routes
    "openapi": "3.0.3",
    "info": {"title": "Demo API", "version": "1.0"},
    "servers": [{"url": "/v1"}],
    "paths": {
        "/articles": {"get": {
            "operationId": "listArticles", "tags": ["articles"], "summary": "One page of articles.",
            "parameters": [
                {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
            ],
            "responses": {"200": {"description": "The page.", "content": {"application/json": {
                "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Article"}}}}}},
        }},
        "/articles/{articleId}": {"get": {
            "operationId": "getArticle", "tags": ["articles"], "summary": "One article.",
            "parameters": [{"name": "articleId", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "responses": {
                "200": {"description": "The article.", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Article"}}}},
                "404": {"description": "No such article."},
            },
        }},
        "/health": {"get": {
            "operationId": "getHealth", "tags": ["status"], "summary": "Whether the API is up.",
            "responses": {"200": {"description": "Up.", "content": {"application/json": {"schema": {
                "type": "object", "properties": {"status": {"type": "string"}}}}}}},
        }},
    },
    "components": {"schemas": {"Article": {
        "type": "object", "required": ["id", "title"],
        "properties": {"id": {"type": "integer"}, "title": {"type": "string"}},
    }}},
}
ASYNC_WORKERS = 4
ASYNC_CALLS = 20
EXPORT_WAIT = 0.3  # how long the async section waits for the slow POST /exports before cancelling it
RATE = 20  # requests per second in the rate-limit section
RATE_CALLS = 10  # calls made under it

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
          f"(intact: {digest == hashlib.sha256(report_bytes()).hexdigest()})")


@contextlib.contextmanager
def debug_lines_held_back() -> Iterator[None]:
    """Leave out the per-call DEBUG lines while a section makes many calls (they would fill the screen)."""
    logger = logging.getLogger("myclient")
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.setLevel(level)


def section_results(ctx: Context) -> None:
    print("GET /reports/daily answers 503 once, then the report; each answer has its own X-Request-ID")
    result = ctx.client.adapter.get("/reports/daily", detailed=True)
    print(f"client.adapter.get('/reports/daily', detailed=True) -> {result!r}")
    print(f"  Result: status={result.status} request_id={result.request_id} attempts={result.attempts} "
          f"elapsed={result.elapsed:.2f} s (retry wait included)")
    print(f"  result.data = {result.data}")
    missing = ctx.client.adapter.get("/articles/99", detailed=True, ok_statuses={404})
    print(f"\nok_statuses={{404}}: GET /articles/99 -> {missing!r} (no exception)")
    print(f"  Result: status={missing.status} ok={missing.ok} request_id={missing.request_id} data={missing.data}")
    raw = ctx.client.adapter.get("/health", decode="bytes")
    print(f"\ndecode='bytes': GET /health -> {type(raw).__name__} {raw!r}")


def stamp(call: myclient.Call, next: myclient.Next) -> requests.Response:  # noqa: A002 - the protocol's word
    """A middleware: stamps every attempt with ``X-Demo-Stamp: 1`` and hands the call on."""
    return next(call.with_headers(**{"X-Demo-Stamp": "1"}))


def section_middleware(ctx: Context) -> None:
    stamped = ctx.client.with_options(middleware=[stamp])
    print("def stamp(call, next): return next(call.with_headers(**{'X-Demo-Stamp': '1'}))")
    seen = stamped.adapter.get("/echo")["X-Demo-Stamp"]
    print(f"client.with_options(middleware=[stamp]).adapter.get('/echo') -> server saw X-Demo-Stamp: {seen!r}")
    plain = ctx.client.adapter.get("/echo")["X-Demo-Stamp"]
    print(f"the original client is unchanged: GET /echo -> server saw X-Demo-Stamp: {plain!r}")


async def _async_tour(ctx: Context) -> None:
    server = ctx.server
    async with myclient.AsyncClient(ctx.client.base_url, session=ctx.session, token="demo-token", timeout=5.0,
                                    max_workers=ASYNC_WORKERS) as aclient:
        print(f"AsyncClient on the same session: {aclient!r}, max_workers={aclient.adapter.max_workers}")
        print(f"await aclient.adapter.get('/health') -> {await aclient.adapter.get('/health')}")
        print(f"\nasyncio.gather of {ASYNC_CALLS} calls to GET /work/{{n}} (each takes {WORK_SECONDS:g} s at the "
              "server; their DEBUG lines are left out)")
        with debug_lines_held_back():
            started = time.monotonic()
            answers = await asyncio.gather(*(aclient.adapter.get(f"/work/{n}") for n in range(1, ASYNC_CALLS + 1)))
            took = time.monotonic() - started
        in_order = [answer["n"] for answer in answers] == list(range(1, ASYNC_CALLS + 1))
        print(f"-> {len(answers)} answers in {took:.2f} s, in call order: {in_order}")
        print(f"most requests the server had in flight at once: {server.max_active} "
              f"(<= max_workers {ASYNC_WORKERS}: {server.max_active <= ASYNC_WORKERS})")

        print(f"\nPOST /exports answers after {SLOW_EXPORT_SECONDS:g} s; asyncio.wait_for(..., timeout={EXPORT_WAIT}) "
              "with idempotency_key=True (so a failure could be retried)")
        started = time.monotonic()
        try:
            await asyncio.wait_for(aclient.adapter.post("/exports", json={"format": "csv"}, idempotency_key=True),
                                   timeout=EXPORT_WAIT)
        except asyncio.TimeoutError:
            print(f"-> cancelled after {time.monotonic() - started:.2f} s (asyncio.TimeoutError)")
        await asyncio.sleep(1.0)
        print(f"one second later, requests the server saw for POST /exports: {server.hits.get('/v1/exports', 0)} "
              "(the cancelled call was cut, not retried)")


def section_async(ctx: Context) -> None:
    asyncio.run(_async_tour(ctx))


def section_rate_limits(ctx: Context) -> None:
    limit = myclient.RateLimit(RATE, per=1)
    client = ctx.client.with_options(rate_limit=limit)
    print(f"client.with_options(rate_limit=myclient.RateLimit({RATE}, per=1)) makes {RATE_CALLS} calls to GET /ping "
          "(DEBUG lines left out)")
    with debug_lines_held_back():
        started = time.monotonic()
        for _ in range(RATE_CALLS):
            client.adapter.get("/ping")
        took = time.monotonic() - started
    arrivals = ctx.server.arrivals["/v1/ping"]
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    print(f"-> {RATE_CALLS} calls took {took:.2f} s ({len(gaps)} gaps of 1/{RATE} s: {len(gaps) / RATE:.2f} s at "
          f"least); the server saw them {min(gaps):.3f}..{max(gaps):.3f} s apart, "
          f"{sum(gaps) / len(gaps):.3f} s on average")
    print("\nGET /quota answers X-RateLimit-Remaining: 0 and X-RateLimit-Reset: 1 (none left for 1 s)")
    client.adapter.get("/quota")
    client.adapter.get("/quota")
    first, second = ctx.server.arrivals["/v1/quota"][:2]
    print(f"-> the next call reached the server {second - first:.2f} s later: it waited for the announced reset "
          "(no 429 earned)")


def section_openapi(ctx: Context) -> None:
    origin = ctx.client.base_url.rsplit("/v1", 1)[0]
    document = ctx.client.adapter.get(f"{origin}/openapi.json")
    print(f"GET {origin}/openapi.json -> {document['info']['title']} {document['info']['version']}, "
          f"paths {sorted(document['paths'])}")
    # Built at run time, so its groups are unknown to mypy (myclient.codegen writes the same client as typed code).
    api: Any = myclient.openapi.load(document, base_url=ctx.client.base_url, session=ctx.session, timeout=5.0)
    print(f"myclient.openapi.load(document, base_url=..., session=session) -> {api!r}")
    print(f"its operations (groups from tags, names from operationId): {api.operations()}")
    print(f"api.articles.get_article(article_id=3) -> {api.articles.get_article(article_id=3)}")
    page = api.articles.list_articles(page=2, per_page=3)
    print(f"api.articles.list_articles(page=2, per_page=3) -> ids {[article['id'] for article in page]}")
    print(f"api.status.get_health() -> {api.status.get_health()}")
    try:
        api.articles.get_article()
    except myclient.UsageError as e:
        print(f"api.articles.get_article() -> UsageError: {e} (nothing sent)")


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
    ("Results: status, request id, attempts and data together", section_results),
    ("Middleware: a step of your own on every attempt", section_middleware),
    ("Async: the same session from an AsyncClient, bounded and cancellable", section_async),
    ("Rate limits: paced by the client, and by what the server announces", section_rate_limits),
    ("A client from an OpenAPI document", section_openapi),
    ("The injected session was not modified", section_session_untouched),
]


def main() -> int:
    server = DemoServer(openapi=OPENAPI_DOCUMENT)
    thread = threading.Thread(target=server.serve_forever, name="demo-api", daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{server.server_port}/v1"
    print(f"Demo API listening on {base_url} (behind a gateway: X-Gateway-Key required)")

    logger = logging.getLogger("myclient")
    stdout_handler = logging.StreamHandler(sys.stdout)
    stdout_handler.setFormatter(logging.Formatter("    [%(name)s %(levelname)s] %(message)s"))
    recorder = logging.handlers.BufferingHandler(capacity=10_000)  # keeps the records for the logging section
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
