"""OAuth2 flows against a real django-oauth-toolkit server: every grant, expiry, 401 replay,
rotation, revocation, errors, the 50-thread storm, the gateway header and a shared token file."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from servers import OAuthServer

import myclient

GATEWAY_KEY = "oauth-gateway-key-42"


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.headers["X-Gateway-Key"] = GATEWAY_KEY
    return session


def _cc(server: OAuthServer, **kwargs: object) -> myclient.ClientCredentials:
    return myclient.ClientCredentials(server.token_url, server.cc_client_id, server.cc_client_secret,
                                      revocation_url=server.revoke_url, **kwargs)  # type: ignore[arg-type]


def _password(server: OAuthServer, **kwargs: object) -> myclient.PasswordGrant:
    return myclient.PasswordGrant(server.token_url, server.password_client_id, server.password_client_secret,
                                  username=server.username, password=server.password,
                                  revocation_url=server.revoke_url, **kwargs)  # type: ignore[arg-type]


def _client(server: OAuthServer, auth: myclient.OAuth2Flow) -> myclient.Client:
    return myclient.Client(server.url, auth=auth, session=_session(), timeout=(5, 10))


def _token_requests(server: OAuthServer) -> int:
    return int(server.stats()["token_requests"])


def _wait_for_expiry(flow: myclient.OAuth2Flow) -> None:
    token = flow.token()
    assert token.expires_at is not None
    time.sleep(max(0.0, token.expires_at - time.time()) + 0.2)


def test_client_credentials_token_carries_the_gateway_header(oauth_server: OAuthServer) -> None:
    oauth_server.reset_stats()
    client = _client(oauth_server, _cc(oauth_server))
    me = client.adapter.get("/api/me")
    assert me["client_id"] == oauth_server.cc_client_id
    recent = oauth_server.stats()["recent"]
    assert len(recent) == 1
    assert recent[0]["headers"]["X-Gateway-Key"] == GATEWAY_KEY
    assert recent[0]["grant_type"] == "client_credentials"


def test_password_grant_login_and_user_identity(oauth_server: OAuthServer) -> None:
    flow = myclient.PasswordGrant(oauth_server.token_url, oauth_server.password_client_id,
                                  oauth_server.password_client_secret)
    client = _client(oauth_server, flow)
    assert not client.is_authenticated()
    client.login(oauth_server.username, oauth_server.password)
    assert client.is_authenticated()
    assert client.adapter.get("/api/me")["user"] == oauth_server.username


def test_expired_token_is_refreshed_transparently(oauth_server: OAuthServer) -> None:
    flow = _password(oauth_server)
    client = _client(oauth_server, flow)
    client.adapter.get("/api/me")
    first = flow.token()
    _wait_for_expiry(flow)
    oauth_server.reset_stats()
    assert client.adapter.get("/api/me")["user"] == oauth_server.username
    stats = oauth_server.stats()
    assert stats["by_grant_type"] == {"refresh_token": 1}
    assert flow.token().refresh_token != first.refresh_token  # rotated


def test_401_on_a_revoked_token_renews_and_replays_once(oauth_server: OAuthServer) -> None:
    flow = _cc(oauth_server, leeway=0)
    client = _client(oauth_server, flow)
    client.adapter.get("/api/me")
    stale = flow.token().access_token
    revoked = requests.post(oauth_server.revoke_url, data={"token": stale},
                            auth=(oauth_server.cc_client_id, oauth_server.cc_client_secret), timeout=10)
    assert revoked.status_code == 200
    assert client.adapter.get("/api/me")["client_id"] == oauth_server.cc_client_id
    assert flow.token().access_token != stale


def test_403_with_invalid_token_renews_but_a_plain_403_does_not(oauth_server: OAuthServer) -> None:
    flow = _cc(oauth_server)
    client = _client(oauth_server, flow)
    client.adapter.get("/api/me")
    requests.post(oauth_server.revoke_url, data={"token": flow.token().access_token},
                  auth=(oauth_server.cc_client_id, oauth_server.cc_client_secret), timeout=10)
    oauth_server.reset_stats()
    client.adapter.get("/api/forbid-invalid-token")
    assert _token_requests(oauth_server) == 1
    with pytest.raises(myclient.Forbidden):
        client.adapter.get("/api/forbid-plain")
    assert _token_requests(oauth_server) == 1


def test_reusing_a_rotated_refresh_token_is_invalid_grant(oauth_server: OAuthServer) -> None:
    flow = _password(oauth_server)
    _client(oauth_server, flow)
    original = flow.login()
    _wait_for_expiry(flow)
    flow.token()  # refreshes, rotating the refresh token
    replay = myclient.RefreshTokenGrant(oauth_server.token_url, oauth_server.password_client_id,
                                        oauth_server.password_client_secret, refresh_token=original.refresh_token or "")
    _client(oauth_server, replay)
    with pytest.raises(myclient.AuthError) as info:
        replay.token()
    assert info.value.error == "invalid_grant"


def test_rejected_refresh_falls_back_to_the_password_grant(oauth_server: OAuthServer, tmp_path: Path) -> None:
    store = myclient.FileTokenStore(tmp_path / "tokens.json")
    flow = _password(oauth_server, store=store)
    _client(oauth_server, flow)
    token = flow.login()
    spoiled = myclient.Token(token.access_token, refresh_token="not-a-real-refresh-token", expires_at=time.time() - 1,
                             issued_at=time.time() - 3)
    store.set(flow.store_key, spoiled)
    flow._token = spoiled
    oauth_server.reset_stats()
    assert flow.token().access_token != token.access_token
    assert oauth_server.stats()["by_grant_type"] == {"refresh_token": 1, "password": 1}


def test_logout_revokes_tokens_on_the_server(oauth_server: OAuthServer) -> None:
    flow = _password(oauth_server)
    client = _client(oauth_server, flow)
    token = flow.login()
    client.logout()
    assert not client.is_authenticated()
    check = requests.get(oauth_server.me_url, headers={"Authorization": f"Bearer {token.access_token}"}, timeout=10)
    assert check.status_code == 401
    refused = requests.post(oauth_server.token_url, timeout=10,
                            data={"grant_type": "refresh_token", "refresh_token": token.refresh_token},
                            auth=(oauth_server.password_client_id, oauth_server.password_client_secret))
    assert refused.json()["error"] == "invalid_grant"


def test_wrong_secret_is_an_auth_error_without_the_secret(oauth_server: OAuthServer) -> None:
    flow = myclient.ClientCredentials(oauth_server.token_url, oauth_server.cc_client_id, "wrong-secret-xyz-123")
    client = _client(oauth_server, flow)
    with pytest.raises(myclient.AuthError) as info:
        client.adapter.get("/api/me")
    err = info.value
    assert (err.error, err.status) == ("invalid_client", 401)
    assert "wrong-secret-xyz-123" not in f"{err} {err!r} {err.args} {vars(err)}"


def test_non_json_token_error_page_is_an_auth_error(oauth_server: OAuthServer) -> None:
    flow = myclient.ClientCredentials(oauth_server.broken_token_url, "x", "y-secret")
    client = myclient.Client(oauth_server.url, auth=flow, session=_session(), retry=None)
    with pytest.raises(myclient.AuthError, match="500") as info:
        client.adapter.get("/api/me")
    assert info.value.status == 500


def _browser_login(server: OAuthServer) -> requests.Session:
    """What the user's browser does: fetch the login form (CSRF cookie), post it with a Referer."""
    browser = requests.Session()
    browser.trust_env = False
    browser.get(server.login_url, timeout=10)
    form = {"username": server.username, "password": server.password,
            "csrfmiddlewaretoken": browser.cookies["csrftoken"]}
    done = browser.post(server.login_url, data=form, headers={"Referer": server.login_url},
                        allow_redirects=False, timeout=10)
    assert done.status_code == 302
    return browser


@pytest.mark.parametrize("public", [False, True], ids=["confidential", "public"])
def test_authorization_code_with_pkce(oauth_server: OAuthServer, public: bool) -> None:
    flow = myclient.AuthorizationCode(
        oauth_server.authorize_url, oauth_server.token_url,
        oauth_server.public_client_id if public else oauth_server.code_client_id,
        None if public else oauth_server.code_client_secret, redirect_uri=oauth_server.redirect_uri,
    )
    client = _client(oauth_server, flow)
    url = flow.authorization_url()
    assert parse_qs(urlsplit(url).query)["code_challenge_method"] == ["S256"]
    redirect = _browser_login(oauth_server).get(url, allow_redirects=False, timeout=10).headers["Location"]
    forged = redirect.replace("state=", "state=x")
    with pytest.raises(myclient.AuthError, match="CSRF"):
        client.login(forged)
    client.login(redirect)
    assert client.adapter.get("/api/me")["user"] == oauth_server.username
    _wait_for_expiry(flow)
    assert client.adapter.get("/api/me")["user"] == oauth_server.username  # refreshed with the refresh token


@pytest.mark.parametrize("trigger", ["expiry", "401"])
def test_storm_of_50_threads_makes_one_token_request(oauth_server: OAuthServer, trigger: str) -> None:
    flow = _cc(oauth_server, leeway=0)
    client = _client(oauth_server, flow)
    client.adapter.get("/api/me")
    if trigger == "expiry":
        _wait_for_expiry(flow)
    else:
        requests.post(oauth_server.revoke_url, data={"token": flow.token().access_token},
                      auth=(oauth_server.cc_client_id, oauth_server.cc_client_secret), timeout=10)
    oauth_server.reset_stats()
    barrier = threading.Barrier(50)
    results: list[object] = []

    def call() -> None:
        barrier.wait()
        try:
            results.append(client.adapter.get("/api/me")["client_id"])
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            results.append(exc)

    threads = [threading.Thread(target=call) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [oauth_server.cc_client_id] * 50
    assert _token_requests(oauth_server) == 1


_WORKER = textwrap.dedent("""
    import json, sys, time
    import requests, myclient
    token_url, client_id, secret, path, me_url, start = sys.argv[1:7]
    store = myclient.FileTokenStore(path)
    flow = myclient.ClientCredentials(token_url, client_id, secret, store=store, leeway=0)
    session = requests.Session(); session.trust_env = False
    client = myclient.Client(me_url.rsplit("/api/", 1)[0], auth=flow, session=session)
    while time.time() < float(start):
        time.sleep(0.005)
    print(json.dumps(client.adapter.get("/api/me")))
""")


def test_file_store_shared_by_two_processes_refreshing_at_once(oauth_server: OAuthServer, tmp_path: Path) -> None:
    path = tmp_path / "shared-tokens.json"
    seed = _cc(oauth_server, store=myclient.FileTokenStore(path), leeway=0)
    _client(oauth_server, seed)
    _wait_for_expiry(seed)  # the stored token is now expired for both processes
    oauth_server.reset_stats()
    start = str(time.time() + 1.0)
    args = [oauth_server.token_url, oauth_server.cc_client_id, oauth_server.cc_client_secret, str(path),
            oauth_server.me_url, start]
    procs = [subprocess.Popen([sys.executable, "-c", _WORKER, *args], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=60) for p in procs]
    for (out, err), proc in zip(outputs, procs, strict=False):
        assert proc.returncode == 0, err
        assert json.loads(out)["client_id"] == oauth_server.cc_client_id
    assert _token_requests(oauth_server) == 1
    stored = json.loads(path.read_text())
    assert list(stored) == [seed.store_key]


def test_authorization_code_step_by_step(oauth_server: OAuthServer) -> None:
    """The CRUDs package's shape: authorization_url, parse_authorization_response, exchange_code."""
    flow = myclient.AuthorizationCode(oauth_server.authorize_url, oauth_server.token_url, oauth_server.code_client_id,
                                      oauth_server.code_client_secret, redirect_uri=oauth_server.redirect_uri,
                                      state_length=32)
    client = _client(oauth_server, flow)
    url = flow.authorization_url()
    assert len(parse_qs(urlsplit(url).query)["state"][0]) >= 43  # 32 random bytes, URL-safe base64
    redirect = _browser_login(oauth_server).get(url, allow_redirects=False, timeout=10).headers["Location"]
    with pytest.raises(myclient.OAuthStateError):
        flow.parse_authorization_response(redirect.replace("state=", "state=x"))
    code, state = flow.parse_authorization_response(redirect)
    token = flow.exchange_code(code, state)
    assert token.access_token and client.adapter.get("/api/me")["user"] == oauth_server.username
    with pytest.raises(myclient.OAuthStateError):  # a state (and its code) is exchanged once
        flow.exchange_code(code, state)
