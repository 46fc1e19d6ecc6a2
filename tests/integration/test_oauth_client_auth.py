"""Every client-authentication variant — HTTP Basic, credentials in the form body, and a public PKCE
client — against the real django-oauth-toolkit server: logout revokes both tokens on the server, a
refused revocation keeps them, secrets read from files work, and token requests made during a call
stay inside the call's deadline (against the real server and a slow loopback token endpoint)."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests
from servers import OAuthServer

import myclient
from myclient._context import call_deadline

VARIANTS = ["basic", "body", "public"]


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


def _client(server: OAuthServer, flow: myclient.OAuth2Flow) -> myclient.Client:
    return myclient.Client(server.url, auth=flow, session=_session(), timeout=(5, 10))


def _browser_login(server: OAuthServer) -> requests.Session:
    """What the user's browser does: fetch the login form (CSRF cookie), post it with a Referer."""
    browser = _session()
    browser.get(server.login_url, timeout=10)
    form = {"username": server.username, "password": server.password,
            "csrfmiddlewaretoken": browser.cookies["csrftoken"]}
    done = browser.post(server.login_url, data=form, headers={"Referer": server.login_url}, allow_redirects=False,
                        timeout=10)
    assert done.status_code == 302
    return browser


def _flow(server: OAuthServer, variant: str, secret: str | None = None, **kwargs: object) -> myclient.OAuth2Flow:
    """A flow of the variant's client: the confidential password client, or the public PKCE client."""
    if variant == "public":
        return myclient.AuthorizationCode(server.authorize_url, server.token_url, server.public_client_id,
                                          redirect_uri=server.redirect_uri, revocation_url=server.revoke_url,
                                          **kwargs)  # type: ignore[arg-type]
    return myclient.PasswordGrant(server.token_url, server.password_client_id,
                                  server.password_client_secret if secret is None else secret,
                                  client_auth=variant, username=server.username, password=server.password,
                                  revocation_url=server.revoke_url, **kwargs)


def _login(server: OAuthServer, client: myclient.Client, flow: myclient.OAuth2Flow) -> myclient.Token:
    if isinstance(flow, myclient.AuthorizationCode):
        browser = _browser_login(server)
        redirect = browser.get(flow.authorization_url(), allow_redirects=False, timeout=10).headers["Location"]
        return client.login(redirect)  # type: ignore[no-any-return]
    return client.login()  # type: ignore[no-any-return]


def _refresh_is_refused(server: OAuthServer, variant: str, refresh_token: str) -> None:
    """The old refresh token, presented with the same client authentication, is invalid_grant."""
    public = variant == "public"
    replay = myclient.RefreshTokenGrant(
        server.token_url, server.public_client_id if public else server.password_client_id,
        None if public else server.password_client_secret, client_auth="body" if variant == "body" else "basic",
        refresh_token=refresh_token)
    _client(server, replay)
    with pytest.raises(myclient.AuthError) as info:
        replay.token()
    assert info.value.error == "invalid_grant"


@pytest.mark.parametrize("variant", VARIANTS)
def test_logout_revokes_both_tokens_on_the_server(oauth_server: OAuthServer, variant: str) -> None:
    flow = _flow(oauth_server, variant)
    client = _client(oauth_server, flow)
    token = _login(oauth_server, client, flow)
    assert token.refresh_token
    assert client.adapter.get("/api/me")["user"] == oauth_server.username
    client.logout()
    assert not client.is_authenticated()
    assert oauth_server.token_state(token.access_token)["access_token"] == "absent"
    assert oauth_server.token_state(token.refresh_token)["refresh_token"] == "revoked"
    old = requests.get(oauth_server.me_url, headers={"Authorization": f"Bearer {token.access_token}"}, timeout=10)
    assert old.status_code == 401
    _refresh_is_refused(oauth_server, variant, token.refresh_token)


@pytest.mark.parametrize("variant", ["basic", "body"])
def test_a_refused_revocation_keeps_the_still_valid_tokens(oauth_server: OAuthServer, variant: str) -> None:
    store = myclient.MemoryTokenStore()
    flow = _flow(oauth_server, variant, store=store)
    token = _login(oauth_server, _client(oauth_server, flow), flow)
    # The same tokens, held by a flow whose client secret the server refuses.
    wrong = _flow(oauth_server, variant, secret="not-the-client-secret-1", store=store)
    client = _client(oauth_server, wrong)
    with pytest.raises(myclient.AuthError) as info:
        client.logout()
    assert (info.value.error, info.value.status) == ("invalid_client", 401)
    assert str(info.value).startswith("revocation endpoint refused")
    assert "not-the-client-secret-1" not in f"{info.value} {info.value!r}"
    assert client.is_authenticated()
    assert store.get(wrong.store_key) == token
    assert oauth_server.token_state(token.access_token)["access_token"] == "active"
    assert oauth_server.token_state(token.refresh_token or "")["refresh_token"] == "active"
    flow.logout()
    assert oauth_server.token_state(token.refresh_token or "")["refresh_token"] == "revoked"


@pytest.mark.parametrize("variant", ["basic", "body"])
def test_a_client_secret_with_a_trailing_newline_works(oauth_server: OAuthServer, variant: str) -> None:
    flow = _flow(oauth_server, variant, secret=oauth_server.password_client_secret + "\n")
    client = _client(oauth_server, flow)
    token = _login(oauth_server, client, flow)
    assert client.adapter.get("/api/me")["user"] == oauth_server.username
    client.logout()
    assert oauth_server.token_state(token.access_token)["access_token"] == "absent"


@pytest.mark.parametrize("variant", VARIANTS)
def test_token_requests_under_a_deadline_work_for_every_variant(oauth_server: OAuthServer, variant: str) -> None:
    flow = _flow(oauth_server, variant)
    token = _login(oauth_server, _client(oauth_server, flow), flow)
    expired = dataclasses.replace(token, expires_at=time.time() - 1, issued_at=time.time() - 10)
    again = _flow(oauth_server, variant, token=expired)  # must refresh during the call
    client = _client(oauth_server, again)
    oauth_server.reset_stats()
    assert client.adapter.get("/api/me", deadline=5)["user"] == oauth_server.username
    recent = oauth_server.stats()["recent"]
    assert [r["grant_type"] for r in recent] == ["refresh_token"]
    assert ("Authorization" in recent[0]["headers"]) == (variant == "basic")
    refreshed = again.token()
    assert refreshed.access_token != token.access_token
    with call_deadline(lambda: 5.0):
        client.logout()
    assert oauth_server.token_state(refreshed.access_token)["access_token"] == "absent"
    assert oauth_server.token_state(refreshed.refresh_token or "")["refresh_token"] == "revoked"


# -- a slow token endpoint on a raw loopback socket ---------------------------------------------------

class SlowEndpoint:
    """A loopback HTTP server that reads each request and answers only after ``delay`` seconds."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.requests: list[bytes] = []
        self._stop = threading.Event()
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except OSError:
                continue
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            data = b""
            try:
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536) or b"\r\n\r\n"
                self.requests.append(data)
                self._stop.wait(self.delay)
                body = b'{"access_token": "late-token", "token_type": "Bearer", "expires_in": 60}'
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            except OSError:
                pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._server.close()


@pytest.fixture
def slow() -> Iterator[SlowEndpoint]:
    endpoint = SlowEndpoint(delay=6.0)
    try:
        yield endpoint
    finally:
        endpoint.close()


def _slow_flow(slow: SlowEndpoint, variant: str, token: myclient.Token | None = None) -> myclient.OAuth2Flow:
    token_url = f"{slow.url}/token"
    if variant == "public":
        return myclient.RefreshTokenGrant(token_url, "public-app", refresh_token="refresh-1234",
                                          revocation_url=f"{slow.url}/revoke", token=token)
    return myclient.ClientCredentials(token_url, "cid", "sec-1234", client_auth=variant,
                                      revocation_url=f"{slow.url}/revoke", token=token)


@pytest.mark.parametrize("variant", VARIANTS)
def test_call_deadline_bounds_the_token_request(slow: SlowEndpoint, variant: str) -> None:
    client = myclient.Client(slow.url, auth=_slow_flow(slow, variant), session=_session())
    began = time.monotonic()
    with pytest.raises(myclient.Timeout):
        client.adapter.get("/x", deadline=1)
    assert time.monotonic() - began < 1.5
    assert [r.split(b" ", 2)[:2] for r in slow.requests] == [[b"POST", b"/token"]]


@pytest.mark.parametrize("variant", VARIANTS)
def test_time_left_bounds_the_revocation_requests(slow: SlowEndpoint, variant: str) -> None:
    flow = _slow_flow(slow, variant, token=myclient.Token("access-1234", refresh_token="refresh-5678"))
    client = myclient.Client(slow.url, auth=flow, session=_session())
    began = time.monotonic()
    with call_deadline(lambda: 1.0 - (time.monotonic() - began)), pytest.raises(myclient.Timeout):
        client.logout()
    assert time.monotonic() - began < 1.5
    assert client.is_authenticated()
