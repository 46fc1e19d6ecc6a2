"""Simple request auth: bearer (static or callable), Basic, API key — secrets never shown."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import responses

import myclient
from myclient.redaction import registry


@pytest.fixture
def rs() -> Any:
    with responses.RequestsMock() as mock:
        yield mock


def test_callable_token_is_asked_per_request(rs: Any) -> None:
    tokens = iter(["first-token", "second-token"])
    rs.get("https://a.example/x", json={})
    rs.get("https://a.example/x", json={})
    client = myclient.Client("https://a.example", token=lambda: next(tokens))
    client.adapter.get("/x")
    client.adapter.get("/x")
    assert [c.request.headers["Authorization"] for c in rs.calls] == [
        "Bearer first-token", "Bearer second-token"]
    assert "second-token" in registry.secrets


def test_api_key_in_header_and_query(rs: Any) -> None:
    rs.get("https://a.example/x", json={})
    rs.get("https://a.example/y?page=2&api_key=key-in-query", json={})
    myclient.Client("https://a.example", auth=myclient.APIKeyAuth("key-in-header", header="X-Key")).adapter.get("/x")
    myclient.Client("https://a.example", auth=myclient.APIKeyAuth("key-in-query", param="api_key")).adapter.get(
        "/y", params={"page": 2})
    assert rs.calls[0].request.headers["X-Key"] == "key-in-header"
    assert registry.url(rs.calls[1].request.url) == "https://a.example/y?page=2&api_key=***"


def test_auth_objects_do_not_show_secrets() -> None:
    for auth in (myclient.BearerAuth("bearer-secret"), myclient.BasicAuth("ann", "basic-secret"),
                 myclient.APIKeyAuth("apikey-secret")):
        assert "secret" not in repr(auth)


@pytest.mark.parametrize("bad", ["", 42])
def test_bad_tokens_are_refused(bad: Any) -> None:
    with pytest.raises(myclient.UsageError):
        myclient.BearerAuth(bad)


def test_basic_auth_sends_basic_header(rs: Any) -> None:
    rs.get("https://a.example/x", json={})
    myclient.Client("https://a.example", auth=myclient.BasicAuth("ann", "pw")).adapter.get("/x")
    assert rs.calls[0].request.headers["Authorization"] == requests.auth._basic_auth_str("ann", "pw")
