"""Proves the OAuth2 test server (django-oauth-toolkit) works, using plain ``requests``.

These check the harness itself - grants, expiry, rotation, revocation, errors, PKCE, the
protected resources' failure answers and ``/stats`` - not myclient.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from servers import OAuthServer

TIMEOUT = 10.0


@pytest.fixture
def http() -> Iterator[requests.Session]:
    """A session that ignores proxy/netrc settings from the environment."""
    with requests.Session() as session:
        session.trust_env = False
        yield session


def _token(http: requests.Session, url: str, data: dict[str, str], auth: tuple[str, str] | None) -> requests.Response:
    return http.post(url, data=data, auth=auth, timeout=TIMEOUT)


def _client_credentials(http: requests.Session, server: OAuthServer) -> dict[str, Any]:
    response = _token(
        http, server.token_url, {"grant_type": "client_credentials"}, (server.cc_client_id, server.cc_client_secret)
    )
    assert response.status_code == 200, response.text
    token: dict[str, Any] = response.json()
    return token


def _password(http: requests.Session, server: OAuthServer) -> dict[str, Any]:
    data = {"grant_type": "password", "username": server.username, "password": server.password}
    response = _token(http, server.token_url, data, (server.password_client_id, server.password_client_secret))
    assert response.status_code == 200, response.text
    token: dict[str, Any] = response.json()
    return token


def _refresh(http: requests.Session, server: OAuthServer, refresh_token: str) -> requests.Response:
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return _token(http, server.token_url, data, (server.password_client_id, server.password_client_secret))


def _get(http: requests.Session, url: str, access_token: str | None) -> requests.Response:
    headers = {"Authorization": f"Bearer {access_token}"} if access_token is not None else {}
    return http.get(url, headers=headers, timeout=TIMEOUT)


def _challenge(response: requests.Response) -> dict[str, str]:
    """The auth-params of a ``WWW-Authenticate: Bearer ...`` header."""
    header = response.headers["WWW-Authenticate"]
    assert header.startswith("Bearer"), header
    return dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', header))


def test_client_credentials_token_reaches_protected_resources(
    http: requests.Session, oauth_server: OAuthServer
) -> None:
    token = _client_credentials(http, oauth_server)
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == oauth_server.access_token_lifetime == 2
    assert token["scope"] == "read write"
    assert "refresh_token" not in token
    me = _get(http, oauth_server.me_url, token["access_token"])
    assert me.status_code == 200
    assert me.json() == {"user": None, "client_id": oauth_server.cc_client_id, "scope": "read write"}
    for url in (oauth_server.classic_url, oauth_server.forbid_invalid_token_url):
        assert _get(http, url, token["access_token"]).json()["client_id"] == oauth_server.cc_client_id


def test_password_grant(http: requests.Session, oauth_server: OAuthServer) -> None:
    token = _password(http, oauth_server)
    assert token["refresh_token"]
    me = _get(http, oauth_server.me_url, token["access_token"])
    assert me.json() == {"user": "alice", "client_id": oauth_server.password_client_id, "scope": "read write"}


def test_bad_and_missing_tokens(http: requests.Session, oauth_server: OAuthServer) -> None:
    bad = _get(http, oauth_server.me_url, "not-a-token")
    assert bad.status_code == 401
    assert _challenge(bad)["error"] == "invalid_token"
    # RFC 6750 section 3.1: no credentials at all is a 401 challenge without an error code.
    missing = _get(http, oauth_server.me_url, None)
    assert missing.status_code == 401
    assert "error" not in _challenge(missing)
    assert _challenge(missing)["resource_metadata"].endswith("/o/.well-known/oauth-protected-resource")

    for access_token in ("not-a-token", None):
        classic = _get(http, oauth_server.classic_url, access_token)
        assert classic.status_code == 403
        assert "WWW-Authenticate" not in classic.headers
        forbid = _get(http, oauth_server.forbid_invalid_token_url, access_token)
        assert forbid.status_code == 403
        assert _challenge(forbid)["error"] == "invalid_token"

    valid = _client_credentials(http, oauth_server)["access_token"]
    for access_token in (valid, "not-a-token", None):
        plain = _get(http, oauth_server.forbid_plain_url, access_token)
        assert plain.status_code == 403
        assert "WWW-Authenticate" not in plain.headers


def test_access_token_expires(http: requests.Session, oauth_server: OAuthServer) -> None:
    token = _client_credentials(http, oauth_server)
    received = time.monotonic()
    assert _get(http, oauth_server.me_url, token["access_token"]).status_code == 200
    time.sleep(max(0.0, received + token["expires_in"] + 0.25 - time.monotonic()))

    me = _get(http, oauth_server.me_url, token["access_token"])
    assert me.status_code == 401
    challenge = _challenge(me)
    assert challenge["error"] == "invalid_token"
    assert "expired" in challenge["error_description"]
    classic = _get(http, oauth_server.classic_url, token["access_token"])
    assert classic.status_code == 403
    assert "WWW-Authenticate" not in classic.headers
    forbid = _get(http, oauth_server.forbid_invalid_token_url, token["access_token"])
    assert forbid.status_code == 403
    assert _challenge(forbid)["error"] == "invalid_token"


def test_refresh_rotates_and_old_refresh_token_is_invalid_grant(
    http: requests.Session, oauth_server: OAuthServer
) -> None:
    first = _password(http, oauth_server)
    refreshed = _refresh(http, oauth_server, first["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    second = refreshed.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert _get(http, oauth_server.me_url, second["access_token"]).json()["user"] == "alice"
    # Rotation revokes the access token the old refresh token belonged to.
    assert _get(http, oauth_server.me_url, first["access_token"]).status_code == 401

    reused = _refresh(http, oauth_server, first["refresh_token"])
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    # No reuse protection: the newest refresh token still works.
    assert _refresh(http, oauth_server, second["refresh_token"]).status_code == 200


def test_revocation(http: requests.Session, oauth_server: OAuthServer) -> None:
    token = _password(http, oauth_server)
    auth = (oauth_server.password_client_id, oauth_server.password_client_secret)
    revoke = http.post(
        oauth_server.revoke_url,
        data={"token": token["access_token"], "token_type_hint": "access_token"},
        auth=auth,
        timeout=TIMEOUT,
    )
    assert revoke.status_code == 200
    me = _get(http, oauth_server.me_url, token["access_token"])
    assert me.status_code == 401
    assert _challenge(me)["error"] == "invalid_token"
    # Revoking the access token revokes its refresh token too (django-oauth-toolkit 3.x).
    assert oauth_server.token_state(token["access_token"]) == {"access_token": "absent", "refresh_token": "absent"}
    assert oauth_server.token_state(token["refresh_token"])["refresh_token"] == "revoked"

    revoke = http.post(
        oauth_server.revoke_url,
        data={"token": token["refresh_token"], "token_type_hint": "refresh_token"},
        auth=auth,
        timeout=TIMEOUT,
    )
    assert revoke.status_code == 200
    assert _refresh(http, oauth_server, token["refresh_token"]).json()["error"] == "invalid_grant"


def test_token_state_tells_active_from_revoked(http: requests.Session, oauth_server: OAuthServer) -> None:
    token = _password(http, oauth_server)
    assert oauth_server.token_state(token["access_token"]) == {"access_token": "active", "refresh_token": "absent"}
    assert oauth_server.token_state(token["refresh_token"]) == {"access_token": "absent", "refresh_token": "active"}
    assert oauth_server.token_state("never-issued") == {"access_token": "absent", "refresh_token": "absent"}
    revoke = http.post(oauth_server.revoke_url, data={"token": token["refresh_token"]},
                       auth=(oauth_server.password_client_id, oauth_server.password_client_secret), timeout=TIMEOUT)
    assert revoke.status_code == 200
    assert oauth_server.token_state(token["refresh_token"])["refresh_token"] == "revoked"
    assert oauth_server.token_state(token["access_token"])["access_token"] == "absent"


def test_introspection(http: requests.Session, oauth_server: OAuthServer) -> None:
    access_token = _client_credentials(http, oauth_server)["access_token"]
    auth = (oauth_server.cc_client_id, oauth_server.cc_client_secret)
    active = http.post(oauth_server.introspect_url, data={"token": access_token}, auth=auth, timeout=TIMEOUT)
    assert active.status_code == 200
    assert active.json()["active"] is True
    assert active.json()["client_id"] == oauth_server.cc_client_id
    unknown = http.post(oauth_server.introspect_url, data={"token": "not-a-token"}, auth=auth, timeout=TIMEOUT)
    assert unknown.json() == {"active": False}


def test_wrong_client_secret_is_invalid_client(http: requests.Session, oauth_server: OAuthServer) -> None:
    response = _token(
        http, oauth_server.token_url, {"grant_type": "client_credentials"}, (oauth_server.cc_client_id, "wrong")
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_broken_token_endpoint_answers_html(http: requests.Session, oauth_server: OAuthServer) -> None:
    response = _token(
        http,
        oauth_server.broken_token_url,
        {"grant_type": "client_credentials"},
        (oauth_server.cc_client_id, oauth_server.cc_client_secret),
    )
    assert response.status_code == 500
    assert response.headers["Content-Type"].startswith("text/html")
    with pytest.raises(requests.JSONDecodeError):
        response.json()


def _pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _log_in(http: requests.Session, server: OAuthServer) -> None:
    page = http.get(server.login_url, timeout=TIMEOUT)
    assert page.status_code == 200
    form = {
        "username": server.username,
        "password": server.password,
        "csrfmiddlewaretoken": http.cookies["csrftoken"],
    }
    login = http.post(
        server.login_url, data=form, headers={"Referer": server.login_url}, allow_redirects=False, timeout=TIMEOUT
    )
    assert login.status_code == 302, login.text
    assert "sessionid" in http.cookies


@pytest.mark.parametrize("public", [False, True], ids=["confidential", "public"])
def test_authorization_code_with_pkce(http: requests.Session, oauth_server: OAuthServer, public: bool) -> None:
    client_id = oauth_server.public_client_id if public else oauth_server.code_client_id
    _log_in(http, oauth_server)
    verifier, challenge = _pkce_pair()
    state = secrets.token_urlsafe(16)
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": oauth_server.redirect_uri,
        "state": state,
    }

    # PKCE is required: without a challenge the error goes back to the redirect URI.
    refused = http.get(oauth_server.authorize_url, params=params, allow_redirects=False, timeout=TIMEOUT)
    assert refused.status_code == 302
    assert parse_qs(urlsplit(refused.headers["Location"]).query)["error"] == ["invalid_request"]

    params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    authorize = http.get(oauth_server.authorize_url, params=params, allow_redirects=False, timeout=TIMEOUT)
    assert authorize.status_code == 302, authorize.text
    location = urlsplit(authorize.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == oauth_server.redirect_uri
    query = parse_qs(location.query)
    assert query["state"] == [state]

    data = {
        "grant_type": "authorization_code",
        "code": query["code"][0],
        "redirect_uri": oauth_server.redirect_uri,
        "code_verifier": verifier,
    }
    auth = None
    if public:
        data["client_id"] = client_id
    else:
        auth = (client_id, oauth_server.code_client_secret)
    response = _token(http, oauth_server.token_url, data, auth)
    assert response.status_code == 200, response.text
    token = response.json()
    assert token["refresh_token"]
    me = _get(http, oauth_server.me_url, token["access_token"])
    assert me.json() == {"user": "alice", "client_id": client_id, "scope": "read write"}
    # A code is single-use.
    assert _token(http, oauth_server.token_url, data, auth).json()["error"] == "invalid_grant"


def test_stats_count_token_requests_and_show_headers(http: requests.Session, oauth_server: OAuthServer) -> None:
    oauth_server.reset_stats()
    assert oauth_server.stats()["token_requests"] == 0
    cc = (oauth_server.cc_client_id, oauth_server.cc_client_secret)
    http.post(
        oauth_server.token_url,
        data={"grant_type": "client_credentials"},
        auth=cc,
        headers={"X-Gateway-Key": "gw-123"},
        timeout=TIMEOUT,
    )
    _password(http, oauth_server)
    _token(http, oauth_server.broken_token_url, {"grant_type": "client_credentials"}, cc)

    stats = oauth_server.stats()
    assert stats["token_requests"] == 2
    assert stats["by_grant_type"] == {"client_credentials": 1, "password": 1}
    assert stats["by_path"] == {"/o/token/": 2, "/broken/token": 1}
    first, second, broken = stats["recent"]
    assert first["headers"]["X-Gateway-Key"] == "gw-123"
    assert first["headers"]["Authorization"].startswith("Basic ")
    assert "X-Gateway-Key" not in second["headers"]
    assert (broken["path"], broken["method"]) == ("/broken/token", "POST")


def test_token_storm(oauth_server: OAuthServer) -> None:
    """50 threads asking for a token at once: all succeed and /stats counts each one."""
    oauth_server.reset_stats()
    threads = 50
    barrier = threading.Barrier(threads)
    statuses: list[int] = []
    lock = threading.Lock()

    def ask() -> None:
        with requests.Session() as session:
            session.trust_env = False
            barrier.wait(timeout=TIMEOUT)
            response = session.post(
                oauth_server.token_url,
                data={"grant_type": "client_credentials"},
                auth=(oauth_server.cc_client_id, oauth_server.cc_client_secret),
                headers={"X-Gateway-Key": "storm"},
                timeout=30,
            )
        with lock:
            statuses.append(response.status_code)

    workers = [threading.Thread(target=ask) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert statuses == [200] * threads
    stats = oauth_server.stats()
    assert stats["by_grant_type"] == {"client_credentials": threads}
    assert all(entry["headers"]["X-Gateway-Key"] == "storm" for entry in stats["recent"])
