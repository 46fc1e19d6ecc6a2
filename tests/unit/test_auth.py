"""Simple request auth: bearer (static or callable), Basic, API key — secrets never shown."""

from __future__ import annotations

import traceback
from typing import Any

import pytest
import requests

import myclient
from myclient.redaction import registry


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


# -- a token callable may say "no token yet" (issue 9, item 8) ------------------------------------

@pytest.mark.parametrize("nothing", [None, "", "\n"])
def test_token_callable_returning_nothing_sends_no_authorization(rs: Any, nothing: Any) -> None:
    tokens = iter([nothing, "after-login-token"])
    rs.get("https://a.example/x", json={})
    rs.get("https://a.example/x", json={})
    client = myclient.Client("https://a.example", token=lambda: next(tokens))
    client.adapter.get("/x")  # anonymous until login
    client.adapter.get("/x")
    assert "Authorization" not in rs.calls[0].request.headers
    assert rs.calls[1].request.headers["Authorization"] == "Bearer after-login-token"


def test_token_callable_returning_a_non_string_is_a_usage_error(rs: Any) -> None:
    client = myclient.Client("https://a.example", token=lambda: 12345678)  # type: ignore[arg-type,return-value]
    with pytest.raises(myclient.UsageError, match="int"):
        client.adapter.get("/x")
    assert len(rs.calls) == 0


def test_token_callable_that_fails_is_an_auth_error(rs: Any) -> None:
    def vault() -> str:
        raise KeyError("secret/api")

    client = myclient.Client("https://a.example", token=vault)
    with pytest.raises(myclient.AuthError, match="KeyError"):
        client.adapter.get("/x")
    assert len(rs.calls) == 0


# -- surrounding whitespace and CR/LF in credentials (issue 10, item 15) ---------------------------

def test_trailing_newline_of_a_token_file_is_stripped(rs: Any, tmp_path: Any) -> None:
    path = tmp_path / "token.txt"
    path.write_text("file-token-123\n")
    rs.get("https://a.example/x", json={})
    rs.get("https://a.example/x", json={})
    rs.get("https://a.example/x", json={})
    myclient.Client("https://a.example", token=path.read_text()).adapter.get("/x")
    myclient.Client("https://a.example", token=lambda: path.read_text()).adapter.get("/x")
    myclient.Client("https://a.example", auth=myclient.APIKeyAuth(" key-from-file-9\r\n", header="X-Key")).adapter.get(
        "/x")
    assert [c.request.headers.get("Authorization") for c in rs.calls[:2]] == ["Bearer file-token-123"] * 2
    assert rs.calls[2].request.headers["X-Key"] == "key-from-file-9"


def test_basic_auth_strips_line_endings_but_keeps_spaces_of_a_password(rs: Any) -> None:
    rs.get("https://a.example/x", json={})
    myclient.Client("https://a.example", auth=myclient.BasicAuth("ann\n", " pass word \r\n")).adapter.get("/x")
    assert rs.calls[0].request.headers["Authorization"] == requests.auth._basic_auth_str("ann", " pass word ")


SECRET_WITH_CRLF = "inner-secret-4711\r\nX-Injected: 1"


@pytest.mark.parametrize("make", [
    lambda s: myclient.BearerAuth(s),
    lambda s: myclient.APIKeyAuth(s),
    lambda s: myclient.APIKeyAuth(s, param="api_key"),
    lambda s: myclient.BasicAuth("ann", s),
    lambda s: myclient.BasicAuth(s, "pw-1234"),
    lambda s: myclient.ClientCredentials("https://auth.example/token", "cid", s),
    lambda s: myclient.PasswordGrant("https://auth.example/token", "cid", "sec-1234", username="ann", password=s),
    lambda s: myclient.RefreshTokenGrant("https://auth.example/token", "cid", refresh_token=s),
    lambda s: myclient.Token(s),
], ids=["bearer", "apikey-header", "apikey-param", "basic-password", "basic-username", "client-secret",
        "user-password", "refresh-token", "token"])
def test_inner_cr_lf_is_refused_without_echoing_the_value(make: Any) -> None:
    with pytest.raises(myclient.UsageError) as info:
        make(SECRET_WITH_CRLF)
    err = info.value
    shown = f"{err} {err!r} {err.args} " + "".join(traceback.format_exception(type(err), err, err.__traceback__))
    assert "inner-secret" not in shown
    assert "4711" not in shown


def test_callable_result_with_inner_cr_lf_is_refused_without_echoing_it(rs: Any) -> None:
    client = myclient.Client("https://a.example", token=lambda: SECRET_WITH_CRLF)
    with pytest.raises(myclient.UsageError) as info:
        client.adapter.get("/x")
    assert "inner-secret" not in f"{info.value} {info.value!r}"
    assert len(rs.calls) == 0


@pytest.mark.parametrize("header", ["X-Key\r\nX-Evil", "", "X Key"])
def test_api_key_header_name_must_be_a_header_name(header: str) -> None:
    with pytest.raises(myclient.UsageError):
        myclient.APIKeyAuth("key-1234", header=header)


def test_basic_username_with_a_colon_is_refused() -> None:
    with pytest.raises(myclient.UsageError, match="colon"):
        myclient.BasicAuth("ann:x", "pw-1234")
