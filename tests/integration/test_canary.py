"""Canary secrets through every integration scenario: none may reach a DEBUG log line, a raised
exception (str, repr, args, attributes) or a cassette recorded while the scenarios run.

Each scenario runs live against the real servers, inside its own cassette (record mode "all")
and with DEBUG logging captured. ``e.response`` (the raw requests.Response, which holds the
request as sent) is the documented exception; it is never pickled.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from servers import ForwardProxy, Gateway, OAuthServer, WireMockAdmin

import myclient
from myclient.testing import make_vcr

TOKEN = "canary-token-4e9a1f7c"
API_KEY = "canary-apikey-8b2d6e31"
GATEWAY_KEY = "canary-gateway-3f7c9a52"
COOKIE = "canary-cookie-1d5e8b46"
BASIC_PASSWORD = "canary-password-6c0a2f93"
WRONG_SECRET = "canary-wrong-secret-9e4b7d10"


@dataclass
class Run:
    """What one scenario produced: the exceptions it caught and the dynamic secrets it met."""

    errors: list[BaseException] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)

    def expect(self, cls: type[BaseException], call: Callable[[], Any]) -> None:
        with pytest.raises(cls) as info:
            call()
        self.errors.append(info.value)


def _session(**headers: str) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.headers.update(headers)
    return session


def _bearer(run: Run, s: dict[str, Any]) -> None:
    client = myclient.Client(s["httpbin"], token=TOKEN, session=_session(), retry=None)
    assert client.adapter.get("/bearer")["token"] == TOKEN
    client.adapter.get("/headers")
    run.expect(myclient.Unauthorized, lambda: client.adapter.get("/status/401", params={"access_token": TOKEN}))


def _basic(run: Run, s: dict[str, Any]) -> None:
    client = myclient.Client(s["httpbin"], auth=myclient.BasicAuth("ann", BASIC_PASSWORD), retry=None)
    assert client.adapter.get(f"/basic-auth/ann/{BASIC_PASSWORD}")["authenticated"] is True
    wrong = myclient.Client(s["httpbin"], auth=myclient.BasicAuth("ann", BASIC_PASSWORD + "-no"), retry=None)
    run.expect(myclient.Unauthorized, lambda: wrong.adapter.get(f"/basic-auth/ann/{BASIC_PASSWORD}"))


def _api_key_header_and_query(run: Run, s: dict[str, Any]) -> None:
    header = myclient.Client(s["httpbin"], auth=myclient.APIKeyAuth(API_KEY, header="X-API-Key"), retry=None)
    assert header.adapter.get("/headers")["headers"]["X-Api-Key"] == API_KEY
    query = myclient.Client(s["httpbin"], auth=myclient.APIKeyAuth(API_KEY, param="api_key"), retry=None)
    assert query.adapter.get("/get")["args"]["api_key"] == API_KEY
    run.expect(myclient.InternalServerError, lambda: query.adapter.get("/status/500"))
    run.expect(myclient.InvalidResponse, lambda: query.adapter.get("/html"))


def _gateway(run: Run, s: dict[str, Any]) -> None:
    gateway: Gateway = s["gateway"]
    myclient.redact.add_secret(gateway.gateway_key)
    client = myclient.Client(gateway.http_url, session=_session(**{gateway.header_name: gateway.gateway_key}),
                             token=TOKEN, retry=None)
    assert client.adapter.get("/headers")["headers"][gateway.header_name] == gateway.gateway_key
    run.expect(myclient.NotFound, lambda: client.adapter.get("/status/404", params={"api_key": API_KEY}))
    run.secrets.append(gateway.gateway_key)


def _gateway_key_as_user_header(run: Run, s: dict[str, Any]) -> None:
    client = myclient.Client(s["httpbin"], session=_session(**{"X-Gateway-Key": GATEWAY_KEY}), retry=None)
    client.adapter.get("/headers")
    run.expect(myclient.ClientError, lambda: client.adapter.get("/status/418"))


def _cookie(run: Run, s: dict[str, Any]) -> None:
    client = myclient.Client(s["httpbin"], session=_session(), retry=None)
    assert client.adapter.get("/cookies/set", params={"sid": COOKIE})["cookies"]["sid"] == COOKIE
    assert client.adapter.get("/cookies")["cookies"]["sid"] == COOKIE
    run.expect(myclient.BadRequest, lambda: client.adapter.get("/status/400"))


def _oauth_client_credentials(run: Run, s: dict[str, Any]) -> None:
    server: OAuthServer = s["oauth"]
    flow = myclient.ClientCredentials(server.token_url, server.cc_client_id, server.cc_client_secret)
    client = myclient.Client(server.url, auth=flow, session=_session(), retry=None)
    client.adapter.get("/api/me")
    run.secrets += [server.cc_client_secret, flow.token().access_token]
    wrong = myclient.ClientCredentials(server.token_url, server.cc_client_id, WRONG_SECRET)
    run.expect(myclient.AuthError, lambda: myclient.Client(server.url, auth=wrong, retry=None).adapter.get("/api/me"))


def _oauth_password_refresh_and_logout(run: Run, s: dict[str, Any]) -> None:
    server: OAuthServer = s["oauth"]
    flow = myclient.PasswordGrant(server.token_url, server.password_client_id, server.password_client_secret,
                                  username=server.username, password=server.password,
                                  revocation_url=server.revoke_url)
    client = myclient.Client(server.url, auth=flow, session=_session(), retry=None)
    client.adapter.get("/api/me")
    first = flow.token()
    time.sleep(max(0.0, (first.expires_at or 0) - time.time()) + 0.2)
    client.adapter.get("/api/me")  # refreshed with the refresh token
    second = flow.token()
    run.secrets += [server.password, server.password_client_secret, first.access_token, first.refresh_token or "",
                    second.access_token, second.refresh_token or ""]
    stale = myclient.RefreshTokenGrant(server.token_url, server.password_client_id, server.password_client_secret,
                                       refresh_token=first.refresh_token or "x")
    run.expect(myclient.AuthError, lambda: myclient.Client(server.url, auth=stale, retry=None).login())
    client.logout()


def _wiremock_retry(run: Run, s: dict[str, Any]) -> None:
    admin: WireMockAdmin = s["wiremock"]
    admin.stub_sequence("GET", "/flaky", [{"status": 503, "jsonBody": {"token": TOKEN}},
                                          {"status": 200, "jsonBody": {"ok": True}}])
    admin.stub({"request": {"method": "GET", "urlPath": "/down"},
                "response": {"status": 503, "jsonBody": {"access_token": TOKEN}}})
    policy = myclient.RetryPolicy(backoff=0.01, backoff_cap=0.01)
    client = myclient.Client(admin.url, token=TOKEN, session=_session(), retry=policy, access_log=True)
    assert client.adapter.get("/flaky", params={"api_key": API_KEY}) == {"ok": True}
    run.expect(myclient.ServiceUnavailable, lambda: client.adapter.get("/down", params={"api_key": API_KEY}))


def _proxy_auth(run: Run, s: dict[str, Any]) -> None:
    proxy: ForwardProxy = s["proxy"]
    gateway: Gateway = s["gateway"]
    policy = myclient.RetryPolicy(backoff=0.01, backoff_cap=0.01)  # tinyproxy drops kept-alive connections
    good = myclient.Client(gateway.http_url, proxies={"http": proxy.auth_url()}, token=TOKEN, retry=policy,
                           session=_session(**{gateway.header_name: gateway.gateway_key}))
    good.adapter.get("/get")
    run.expect(myclient.ProxyError, lambda: myclient.Client(
        gateway.https_url, verify=gateway.ca_path, proxies={"https": proxy.auth_url(password=BASIC_PASSWORD)},
        retry=None).adapter.get("/get"))
    run.secrets += [proxy.password, gateway.gateway_key]


SCENARIOS: dict[str, Callable[[Run, dict[str, Any]], None]] = {
    "bearer": _bearer,
    "basic": _basic,
    "api-key": _api_key_header_and_query,
    "gateway-nginx": _gateway,
    "gateway-key-header": _gateway_key_as_user_header,
    "cookie": _cookie,
    "oauth-client-credentials": _oauth_client_credentials,
    "oauth-password-refresh-logout": _oauth_password_refresh_and_logout,
    "wiremock-retry": _wiremock_retry,
    "proxy-auth": _proxy_auth,
}


def _exception_texts(error: BaseException) -> Iterator[str]:
    yield str(error)
    yield repr(error)
    yield repr(error.args)
    for name, value in vars(error).items():
        if name == "response":
            continue
        yield f"{name}={value!r}"
        if isinstance(value, list):
            yield from (repr(vars(v)) if hasattr(v, "__dict__") else repr(v) for v in value)


@pytest.fixture
def servers(httpbin_url: str, gateway: Gateway, oauth_server: OAuthServer, wiremock_admin: WireMockAdmin,
            forward_proxy: ForwardProxy) -> dict[str, Any]:
    return {"httpbin": httpbin_url, "gateway": gateway, "oauth": oauth_server, "wiremock": wiremock_admin,
            "proxy": forward_proxy}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_canaries_never_leak(name: str, servers: dict[str, Any], tmp_path: Path,
                             caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="myclient")
    run = Run()
    recorder = make_vcr(tmp_path, "all")
    with recorder.use_cassette(f"{name}.yaml"):
        SCENARIOS[name](run, servers)
    canaries = [TOKEN, API_KEY, GATEWAY_KEY, COOKIE, BASIC_PASSWORD, WRONG_SECRET] + [s for s in run.secrets if s]
    logs = caplog.text
    cassette = (tmp_path / f"{name}.yaml").read_text()
    assert "interactions" in cassette
    assert any(r.name == "myclient" for r in caplog.records)
    for canary in canaries:
        assert canary not in logs, f"{name}: a canary reached the log"
        assert canary not in cassette, f"{name}: a canary reached the cassette"
        for error in run.errors:
            for text in _exception_texts(error):
                assert canary not in text, f"{name}: a canary reached {type(error).__name__}: {text[:80]}"
