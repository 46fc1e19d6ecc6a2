"""TokenLogin and SessionLogin against real login endpoints (a Django token API, npm registry login, Django
sessions with CSRF on), all through the client's own session: login, re-login and replay once on 401,
single-flight under threads, logout ending the credentials on the server, nothing secret in logs."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest
import requests
from servers import LoginServer

import myclient

HEADERS = {"X-Gateway-Key": "gateway-key-for-logins"}


def _client(server: LoginServer, auth: Any, **settings: Any) -> myclient.Client:
    session = requests.Session()
    session.trust_env = False
    settings.setdefault("retry", None)
    settings.setdefault("timeout", 10)
    return myclient.Client(server.url, session=session, auth=auth, headers=HEADERS, **settings)


def _logins(server: LoginServer, flow: str = "token") -> int:
    return int(server.stats()["by_flow"][flow]["logins"])


# -- TokenLogin ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["json", "form"])
def test_token_login_then_calls_carry_the_token(login_server: LoginServer, body: str) -> None:
    flow = myclient.TokenLogin("/api/auth/login", body=body, scheme="Token", whoami_path="/api/auth/me")  # type: ignore[arg-type]
    client = _client(login_server, flow)
    assert not client.is_authenticated()
    token = client.login(login_server.username, login_server.password)
    assert isinstance(token, str) and len(token) == 40
    assert client.adapter.get("/api/auth/me")["username"] == login_server.username
    assert client.adapter.post("/api/items", json={"name": "a"})["name"] == "a"
    assert client.is_authenticated()  # asks the server
    recent = login_server.stats()["recent"]
    assert all(r["headers"].get("X-Gateway-Key") == HEADERS["X-Gateway-Key"] for r in recent)


def test_token_from_a_header_and_a_nested_json_path(login_server: LoginServer) -> None:
    by_header = myclient.TokenLogin("/api/auth/login", token_path=None, token_header="X-Auth-Token",
                                    username=login_server.username, password=login_server.password)
    assert _client(login_server, by_header).adapter.get("/api/auth/me")["username"] == login_server.username
    nested = myclient.TokenLogin("/api/auth/login", token_path="auth.token", scheme="Token",
                                 username=login_server.special_username, password=login_server.special_password)
    assert _client(login_server, nested).adapter.get("/api/auth/me")["username"] == login_server.special_username


def test_a_revoked_token_is_renewed_once_and_the_call_replayed(login_server: LoginServer) -> None:
    flow = myclient.TokenLogin("/api/auth/login", username=login_server.username, password=login_server.password)
    client = _client(login_server, flow)
    client.adapter.get("/api/auth/me")
    login_server.revoke_all()
    assert client.adapter.post("/api/items", json={"n": 1})["n"] == 1
    assert _logins(login_server) == 2
    assert login_server.stats()["by_endpoint"]["POST /api/items"] == 2  # the 401, then the replay


def test_replay_happens_once_even_when_the_new_token_is_refused(login_server: LoginServer) -> None:
    login_server.configure(ttl=0)  # every token is born expired
    flow = myclient.TokenLogin("/api/auth/login", username=login_server.username, password=login_server.password)
    with pytest.raises(myclient.Unauthorized):
        _client(login_server, flow).adapter.get("/api/auth/me")
    assert _logins(login_server) == 2  # the first login, one re-login, then it gives up


def test_fifty_threads_share_one_login(login_server: LoginServer) -> None:
    flow = myclient.TokenLogin("/api/auth/login", username=login_server.username, password=login_server.password)
    client = _client(login_server, flow)
    barrier = threading.Barrier(50)
    results: list[Any] = []

    def work() -> None:
        barrier.wait()
        results.append(client.adapter.get("/api/auth/me")["username"])

    threads = [threading.Thread(target=work) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == [login_server.username] * 50
    assert _logins(login_server) == 1
    login_server.revoke_all()
    barrier = threading.Barrier(50)
    results.clear()
    threads = [threading.Thread(target=work) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == [login_server.username] * 50
    assert _logins(login_server) == 2  # 50 threads hit 401 on the revoked token: one re-login


def test_logout_ends_the_token_on_the_server(login_server: LoginServer) -> None:
    flow = myclient.TokenLogin("/api/auth/login", logout_path="/api/auth/logout", scheme="Token")
    client = _client(login_server, flow)
    token = client.login(login_server.username, login_server.password)
    client.logout()
    assert not client.is_authenticated() and flow.token is None
    stale = requests.get(login_server.token_me_url, headers={"Authorization": f"Token {token}"}, timeout=10)
    assert stale.status_code == 401


def test_npm_login_whoami_and_logout_with_the_token_in_the_path(login_server: LoginServer,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    flow = myclient.TokenLogin("/-/user/org.couchdb.user:{username}", method="PUT", username_field="name",
                               whoami_path="/-/whoami", logout_path="/-/user/token/{token}", logout_method="DELETE")
    client = _client(login_server, flow)
    with caplog.at_level(logging.DEBUG, logger="myclient"):
        token = client.login(login_server.special_username, login_server.special_password)
        assert client.adapter.get("/-/whoami")["username"] == login_server.special_username
        assert client.is_authenticated()
        client.logout()
    assert not client.is_authenticated()
    stale = requests.get(login_server.npm_whoami_url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert stale.status_code == 401
    assert token not in caplog.text and login_server.special_password not in caplog.text
    assert "/-/user/token/***" in caplog.text


def test_a_wrong_password_is_an_auth_error_that_shows_no_secret(login_server: LoginServer) -> None:
    wrong = "wrong-password-7c1d9e"
    flow = myclient.TokenLogin("/api/auth/login", username=login_server.username, password=wrong)
    with pytest.raises(myclient.AuthError) as info:
        _client(login_server, flow).adapter.get("/api/auth/me")
    assert info.value.status == 401 and wrong not in str(info.value) and wrong not in repr(flow)


def test_without_credentials_calls_go_anonymous(login_server: LoginServer) -> None:
    client = _client(login_server, myclient.TokenLogin("/api/auth/login"))
    with pytest.raises(myclient.Unauthorized):
        client.adapter.get("/api/auth/me")
    assert _logins(login_server) == 0


# -- SessionLogin ------------------------------------------------------------------------------------------


def _session_flow(**kwargs: Any) -> myclient.SessionLogin:
    return myclient.SessionLogin("/session/login", csrf_path="/session/csrf", whoami_path="/session/whoami",
                                 logout_path="/session/logout", **kwargs)


@pytest.mark.parametrize("body", ["form", "json"])
def test_session_login_with_csrf_then_unsafe_calls_pass(login_server: LoginServer, body: str) -> None:
    client = _client(login_server, _session_flow(body=body))
    assert not client.is_authenticated()  # the server says no
    client.login(login_server.username, login_server.password)
    assert client.is_authenticated()
    assert client.adapter.get("/session/whoami")["username"] == login_server.username
    assert client.adapter.post("/session/items", json={"name": "x"})["name"] == "x"
    assert login_server.stats()["forbidden"] == 0


def test_session_logout_ends_the_session_on_the_server(login_server: LoginServer) -> None:
    client = _client(login_server, _session_flow())
    client.login(login_server.username, login_server.password)
    old = client.session.cookies.get("sessionid")
    client.logout()
    assert not client.is_authenticated()
    replayed = requests.get(login_server.session_whoami_url, cookies={"sessionid": old}, timeout=10)
    assert replayed.status_code == 401


def test_an_ended_session_is_renewed_once_across_threads(login_server: LoginServer) -> None:
    client = _client(login_server, _session_flow(username=login_server.username, password=login_server.password))
    client.login()
    login_server.revoke_all()
    barrier = threading.Barrier(20)
    results: list[Any] = []

    def work() -> None:
        barrier.wait()
        results.append(client.adapter.post("/session/items", json={"n": 1})["n"])

    threads = [threading.Thread(target=work) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == [1] * 20
    assert _logins(login_server, "session") == 2
