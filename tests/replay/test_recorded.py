"""Scenarios recorded against httpbin, the nginx gateway, the OAuth2 server and WireMock, and
replayed offline: same calls, same outcomes, no network, no sleeping, no secrets in cassettes."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import requests

import myclient

Origin = Callable[[str], str]


def _session(**headers: str) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.headers.update(headers)
    return session


@pytest.mark.myclient_cassette("httpbin/calls.yaml")
def test_httpbin_calls_and_errors(origin: Origin) -> None:
    client = myclient.Client(origin("httpbin"), token="replay-token-0a1b2c", session=_session(), retry=None)
    assert client.adapter.get("/get", params={"page": "2"})["args"] == {"page": "2"}
    assert client.adapter.post("/post", json={"name": "ann"})["json"] == {"name": "ann"}
    assert client.adapter.get("/bearer")["authenticated"] is True
    with pytest.raises(myclient.ClientError) as teapot:
        client.adapter.get("/status/418")
    assert teapot.value.status == 418
    with pytest.raises(myclient.NotFound):
        client.adapter.get("/status/404")
    assert client.adapter.get("/status/204") is None


@pytest.mark.myclient_cassette("gateway/key.yaml")
def test_gateway_key_on_injected_session(origin: Origin, recording: bool, request: pytest.FixtureRequest) -> None:
    key = request.getfixturevalue("gateway").gateway_key if recording else "not-the-real-key"
    client = myclient.Client(origin("gateway"), session=_session(**{"X-Gateway-Key": key}), retry=None)
    assert client.adapter.get("/get")["url"].endswith("/get")
    with pytest.raises(myclient.Unauthorized):
        myclient.Client(origin("gateway"), session=_session(), retry=None).adapter.get("/anything")


@pytest.mark.myclient_cassette("oauth/client_credentials.yaml")
def test_oauth_client_credentials_token_flow(origin: Origin, recording: bool, request: pytest.FixtureRequest) -> None:
    base = origin("oauth")
    if recording:
        server = request.getfixturevalue("oauth_server")
        client_id, secret = server.cc_client_id, server.cc_client_secret
    else:
        client_id, secret = "cc-client", "replayed-secret-not-real"
    flow = myclient.ClientCredentials(f"{base}/o/token/", client_id, secret)
    client = myclient.Client(base, auth=flow, session=_session(), retry=None)
    me = client.adapter.get("/api/me")
    assert me["client_id"] == client_id
    assert client.is_authenticated()


@pytest.mark.myclient_cassette("wiremock/retry_after.yaml")
def test_wiremock_503_then_200_replays_without_sleeping(origin: Origin, recording: bool,
                                                       request: pytest.FixtureRequest) -> None:
    base = origin("wiremock")
    if recording:
        admin = request.getfixturevalue("wiremock_admin")
        admin.stub_sequence("GET", "/flaky", [
            {"status": 503, "headers": {"Retry-After": "1"}, "jsonBody": {"message": "busy"}},
            {"status": 503, "headers": {"Retry-After": "1"}, "jsonBody": {"message": "busy"}},
            {"status": 200, "jsonBody": {"ok": True}},
        ])
    client = myclient.Client(base, session=_session())
    started = time.monotonic()
    assert client.adapter.get("/flaky") == {"ok": True}
    elapsed = time.monotonic() - started
    if recording:
        assert elapsed >= 2.0  # the real server made us wait twice
    else:
        assert elapsed < 0.5  # replay never sleeps
