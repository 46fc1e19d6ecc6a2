"""Security schemes of a loaded spec become myclient auth, chosen per operation, and seen on the wire.

Each scheme type: http bearer (also from ``token=``), http basic, apiKey in a header, the query or a
cookie, OAuth2 client credentials (a token from the scheme's tokenUrl, fetched once, through the client's
adapter). Per operation: the first alternative whose schemes all have credentials, both schemes of an AND
requirement, nothing for ``security: []``, and an anonymous ``{}`` alternative. Requests go through
``responses`` so requests' own preparation (auth, cookies) is what is checked.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import responses

import myclient
from myclient.openapi import load

BASE = "https://api.example.test"
TOKEN_URL = "https://auth.example.test/oauth/token"
SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer"},
    "basic": {"type": "http", "scheme": "basic"},
    "headerKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    "queryKey": {"type": "apiKey", "in": "query", "name": "api_key"},
    "cookieKey": {"type": "apiKey", "in": "cookie", "name": "sid"},
    "oauth": {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": TOKEN_URL,
                                                                "scopes": {"read": "", "write": ""}}}},
}


def spec(security: dict[str, Any], default: list[dict[str, list[str]]] | None = None) -> dict[str, Any]:
    """One GET operation per entry of ``security`` (name -> the operation's security list, None to inherit)."""
    paths = {f"/{name}": {"get": {"operationId": name, "responses": {"200": {"description": "ok"}},
                                  **({} if requirement is None else {"security": requirement})}}
             for name, requirement in security.items()}
    document: dict[str, Any] = {"openapi": "3.0.3", "info": {"title": "S", "version": "1"}, "servers": [{"url": BASE}],
                                "paths": paths, "components": {"securitySchemes": SCHEMES}}
    if default is not None:
        document["security"] = default
    return document


def call(rs: responses.RequestsMock, client: Any, name: str) -> Any:
    rs.add(responses.GET, f"{BASE}/{name}", json={})
    client.operation(name)()
    return rs.calls[-1].request


def test_each_scheme_type_puts_its_credentials_where_the_spec_says(rs: responses.RequestsMock) -> None:
    client = load(spec({k: [{k: []}] for k in ("bearer", "basic", "headerKey", "queryKey", "cookieKey")}),
                  credentials={"bearer": "tok-1", "basic": ("ada", "pa:ss"), "headerKey": "hk-2",
                               "queryKey": "qk 3+", "cookieKey": "ck-4"})
    assert call(rs, client, "bearer").headers["Authorization"] == "Bearer tok-1"
    assert call(rs, client, "basic").headers["Authorization"] == "Basic " + base64.b64encode(b"ada:pa:ss").decode()
    assert call(rs, client, "headerKey").headers["X-API-Key"] == "hk-2"
    sent = call(rs, client, "queryKey")
    assert parse_qsl(urlsplit(sent.url).query) == [("api_key", "qk 3+")] and "Authorization" not in sent.headers
    assert call(rs, client, "cookieKey").headers["Cookie"] == "sid=ck-4"


def test_token_fills_every_bearer_like_scheme_and_credentials_win(rs: responses.RequestsMock) -> None:
    document = spec({"bearer": [{"bearer": []}], "oauth": [{"oauth": []}]})
    client = load(document, token="t0k")
    assert call(rs, client, "bearer").headers["Authorization"] == "Bearer t0k"
    assert call(rs, client, "oauth").headers["Authorization"] == "Bearer t0k"  # an oauth2 token given as is
    client = load(document, token="t0k", credentials={"bearer": "mine"})
    assert call(rs, client, "bearer").headers["Authorization"] == "Bearer mine"


def test_oauth2_client_credentials_fetches_one_token_from_the_token_url(rs: responses.RequestsMock) -> None:
    rs.add(responses.POST, TOKEN_URL, json={"access_token": "cc-token", "token_type": "Bearer", "expires_in": 3600})
    client = load(spec({"oauth": [{"oauth": []}]}),
                  credentials={"oauth": {"client_id": "app", "client_secret": "s3cret"}})
    first = call(rs, client, "oauth")
    second = call(rs, client, "oauth")
    assert first.headers["Authorization"] == second.headers["Authorization"] == "Bearer cc-token"
    token_requests = [c.request for c in rs.calls if c.request.url == TOKEN_URL]
    assert len(token_requests) == 1
    form = dict(parse_qsl(token_requests[0].body))
    assert form["grant_type"] == "client_credentials" and form["scope"] == "read write"
    sent_secret = token_requests[0].headers.get("Authorization", "") + token_requests[0].body
    assert "s3cret" in sent_secret or base64.b64encode(b"app:s3cret").decode() in sent_secret


def test_a_relative_token_url_is_resolved_against_the_server(rs: responses.RequestsMock) -> None:
    document = spec({"oauth": [{"oauth": []}]})
    document["servers"] = [{"url": BASE + "/api/v2"}]
    document["components"]["securitySchemes"] = {"oauth": {"type": "oauth2", "flows": {
        "clientCredentials": {"tokenUrl": "/oauth/token", "scopes": {}}}}}
    rs.add(responses.POST, BASE + "/oauth/token", json={"access_token": "rel", "token_type": "Bearer"})
    client = load(document, credentials={"oauth": {"client_id": "app", "client_secret": "s"}})
    rs.add(responses.GET, f"{BASE}/api/v2/oauth", json={})
    client.operation("oauth")()
    assert [c.request.url for c in rs.calls] == [BASE + "/oauth/token", BASE + "/api/v2/oauth"]
    assert rs.calls[-1].request.headers["Authorization"] == "Bearer rel"


def test_oauth2_token_endpoint_failure_is_an_auth_error_and_the_call_is_not_sent(rs: responses.RequestsMock) -> None:
    rs.add(responses.POST, TOKEN_URL, json={"error": "invalid_client"}, status=401)
    client = load(spec({"oauth": [{"oauth": []}]}), retry=None,
                  credentials={"oauth": {"client_id": "app", "client_secret": "wrong-secret"}})
    with pytest.raises(myclient.MyClientError) as failed:
        client.operation("oauth")()
    assert "wrong-secret" not in str(failed.value) and "wrong-secret" not in repr(failed.value)
    assert [c.request.url for c in rs.calls] == [TOKEN_URL]


def test_the_first_alternative_with_credentials_is_used_per_operation(rs: responses.RequestsMock) -> None:
    client = load(spec({
        "either": [{"headerKey": []}, {"bearer": []}],      # no header key given: the bearer alternative
        "both": [{"headerKey": [], "queryKey": []}],          # AND: both schemes
        "none": [],                                           # explicitly no security
        "inherit": None,                                      # the document's default
        "optional": [{"bearer": []}, {}],                     # credentials if there are some
    }, default=[{"queryKey": []}]), credentials={"bearer": "b", "queryKey": "q"})
    assert call(rs, client, "either").headers["Authorization"] == "Bearer b"
    both = call(rs, client, "both")
    assert "X-API-Key" not in both.headers and "api_key" not in both.url  # headerKey missing: no alternative fits
    none = call(rs, client, "none")
    assert "Authorization" not in none.headers and "api_key" not in none.url
    assert parse_qsl(urlsplit(call(rs, client, "inherit").url).query) == [("api_key", "q")]
    assert call(rs, client, "optional").headers["Authorization"] == "Bearer b"
    both_client = load(spec({"both": [{"headerKey": [], "queryKey": []}]}),
                       credentials={"headerKey": "h", "queryKey": "q"})
    sent = call(rs, both_client, "both")
    assert sent.headers["X-API-Key"] == "h" and parse_qsl(urlsplit(sent.url).query) == [("api_key", "q")]


def test_an_anonymous_alternative_sends_no_credentials_without_any(rs: responses.RequestsMock) -> None:
    client = load(spec({"optional": [{"bearer": []}, {}]}))
    sent = call(rs, client, "optional")
    assert "Authorization" not in sent.headers and "Cookie" not in sent.headers


def test_a_cookie_key_joins_cookie_parameters(rs: responses.RequestsMock) -> None:
    document = spec({"cookieKey": [{"cookieKey": []}]})
    document["paths"]["/cookieKey"]["get"]["parameters"] = [{"name": "theme", "in": "cookie", "required": True,
                                                             "schema": {"type": "string"}}]
    client = load(document, credentials={"cookieKey": "ck"})
    rs.add(responses.GET, f"{BASE}/cookieKey", json={})
    client.operation("cookieKey")(theme="dark")
    assert sorted(rs.calls[-1].request.headers["Cookie"].split("; ")) == ["sid=ck", "theme=dark"]


def test_bad_credentials_are_usage_errors_at_load() -> None:
    document = spec({"bearer": [{"bearer": []}]})
    with pytest.raises(myclient.UsageError, match=r"unknown security scheme\(s\) nope"):
        load(document, credentials={"nope": "x"})
    with pytest.raises(myclient.UsageError, match="must be a \\(username, password\\) pair"):
        load(document, credentials={"basic": "ada:pw"})
    with pytest.raises(myclient.UsageError, match="an API key\\) must be a string"):
        load(document, credentials={"headerKey": 42})


def test_secrets_do_not_leak_into_errors(rs: responses.RequestsMock) -> None:
    rs.add(responses.GET, f"{BASE}/queryKey", json={"message": "bad key qk-SECRET-9"}, status=401)
    client = load(spec({"queryKey": [{"queryKey": []}]}), credentials={"queryKey": "qk-SECRET-9"}, retry=None)
    with pytest.raises(myclient.Unauthorized) as denied:
        client.operation("queryKey")()
    error = denied.value
    shown = " ".join([str(error), repr(error), error.url or "", error.body, json.dumps(error.data)])
    assert "qk-SECRET-9" not in shown
    assert error.status == 401
