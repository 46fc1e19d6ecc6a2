"""Proves the login endpoints of the test Django project work, using plain ``requests``.

These check the harness itself - the token API, npm registry login, the CSRF-protected session
login and the test-control endpoints (TTL, revoke-all, users, statistics), also under 50 concurrent
clients - not myclient.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from servers import HarnessError, LoginServer

TIMEOUT = 10.0
TOKEN_RE = re.compile(r"[0-9a-f]{40}")
THREADS = 50


def _session() -> requests.Session:
    """A session that ignores proxy/netrc settings from the environment."""
    session = requests.Session()
    session.trust_env = False
    return session


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with _session() as session:
        yield session


def _credentials(server: LoginServer, special: bool) -> tuple[str, str]:
    return (server.special_username, server.special_password) if special else (server.username, server.password)


def _token_login(
    http: requests.Session, server: LoginServer, *, form: bool = False, special: bool = False
) -> requests.Response:
    username, password = _credentials(server, special)
    body = {"username": username, "password": password}
    if form:
        return http.post(server.token_login_url, data=body, timeout=TIMEOUT)
    return http.post(server.token_login_url, json=body, timeout=TIMEOUT)


def _token(http: requests.Session, server: LoginServer) -> str:
    response = _token_login(http, server)
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


def _auth(token: str, scheme: str = "Token") -> dict[str, str]:
    return {"Authorization": f"{scheme} {token}"}


def _refused(response: requests.Response, detail: str, challenge: str = "Token", key: str = "detail") -> None:
    """A 401 with a JSON ``{key: detail}`` and ``WWW-Authenticate: challenge``."""
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == challenge
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {key: detail}


# ------------------------------------------------------------------ token API


@pytest.mark.parametrize("form", [False, True], ids=["json", "form"])
@pytest.mark.parametrize("special", [False, True], ids=["alice", "special-user"])
def test_token_login_gives_token_in_body_and_header(
    http: requests.Session, login_server: LoginServer, form: bool, special: bool
) -> None:
    response = _token_login(http, login_server, form=form, special=special)
    assert response.status_code == 200, response.text
    body = response.json()
    assert TOKEN_RE.fullmatch(body["token"])
    assert response.headers[login_server.token_header] == body["token"]
    assert body["auth"] == {"token": body["token"], "scheme": "Token", "expires_in": login_server.default_ttl}
    assert body["expires_in"] == login_server.default_ttl
    username = _credentials(login_server, special)[0]
    assert body["user"]["username"] == username
    for scheme in ("Token", "Bearer", "bearer"):
        me = http.get(login_server.token_me_url, headers=_auth(body["token"], scheme), timeout=TIMEOUT)
        assert me.status_code == 200
        assert me.json() == body["user"]
    stats = login_server.stats()
    assert stats["by_flow"]["token"]["logins"] == stats["logins"] == 1
    assert stats["by_endpoint"] == {"POST /api/auth/login": 1, "GET /api/auth/me": 3}


def test_token_login_failures(http: requests.Session, login_server: LoginServer) -> None:
    url = login_server.token_login_url
    wrong = http.post(url, json={"username": login_server.username, "password": "wrong"}, timeout=TIMEOUT)
    _refused(wrong, "Invalid username or password.")
    unknown = http.post(url, data={"username": "nobody", "password": "x"}, timeout=TIMEOUT)
    _refused(unknown, "Invalid username or password.")
    for bad_body in ({"json": {"username": login_server.username}}, {"json": ["a"]}, {"data": {"password": "x"}}):
        assert http.post(url, timeout=TIMEOUT, **bad_body).status_code == 400
    broken = http.post(url, data=b"{", headers={"Content-Type": "application/json"}, timeout=TIMEOUT)
    assert broken.status_code == 400
    assert "not valid JSON" in broken.json()["detail"]
    assert http.get(url, timeout=TIMEOUT).status_code == 405
    stats = login_server.stats()
    assert (stats["logins"], stats["login_failures"], stats["unauthorized"]) == (0, 2, 2)
    assert stats["by_status"] == {"401": 2, "400": 4, "405": 1}


def test_protected_endpoints_refuse_missing_and_bad_tokens(http: requests.Session, login_server: LoginServer) -> None:
    token = _token(http, login_server)
    cases = {
        None: "Authentication credentials were not provided.",
        f"Basic {token}": "Invalid token header.",
        "Token": "Invalid token header.",
        f"Token {token} extra": "Invalid token header.",
        "Token 0123456789abcdef0123456789abcdef01234567": "Invalid token.",
    }
    for url in (login_server.token_me_url, login_server.items_url, login_server.token_logout_url):
        method = http.post if url == login_server.token_logout_url else http.get
        for header, detail in cases.items():
            headers = {"Authorization": header} if header is not None else {}
            _refused(method(url, headers=headers, timeout=TIMEOUT), detail)
    assert login_server.stats()["by_flow"]["token"]["unauthorized"] == 3 * len(cases)
    # Nothing above revoked the real token.
    assert http.get(login_server.token_me_url, headers=_auth(token), timeout=TIMEOUT).status_code == 200


def test_items_are_stored_and_listed(http: requests.Session, login_server: LoginServer) -> None:
    headers = _auth(_token(http, login_server), "Bearer")
    first = http.post(login_server.items_url, json={"name": "a", "n": [1, 2]}, headers=headers, timeout=TIMEOUT)
    assert first.status_code == 201
    assert first.json() == {"name": "a", "n": [1, 2], "id": first.json()["id"]}
    second = http.post(login_server.items_url, json={"name": "b"}, headers=headers, timeout=TIMEOUT)
    assert second.json()["id"] != first.json()["id"]
    listed = http.get(login_server.items_url, headers=headers, timeout=TIMEOUT)
    assert listed.json() == [first.json(), second.json()]
    assert http.post(login_server.items_url, data={"name": "c"}, headers=headers, timeout=TIMEOUT).status_code == 400
    assert http.post(login_server.items_url, json=[1], headers=headers, timeout=TIMEOUT).status_code == 400
    assert len(http.get(login_server.items_url, headers=headers, timeout=TIMEOUT).json()) == 2


def test_logout_revokes_only_the_presented_token(http: requests.Session, login_server: LoginServer) -> None:
    token, other = _token(http, login_server), _token(http, login_server)
    logout = http.post(login_server.token_logout_url, headers=_auth(token), timeout=TIMEOUT)
    assert logout.status_code == 204
    assert logout.content == b""
    _refused(http.get(login_server.token_me_url, headers=_auth(token), timeout=TIMEOUT), "Token has been revoked.")
    _refused(http.post(login_server.token_logout_url, headers=_auth(token), timeout=TIMEOUT), "Token has been revoked.")
    assert http.get(login_server.token_me_url, headers=_auth(other), timeout=TIMEOUT).status_code == 200
    stats = login_server.stats()["by_flow"]["token"]
    assert (stats["logins"], stats["logouts"], stats["unauthorized"]) == (2, 1, 2)


def test_ttl_applies_to_tokens_issued_after_the_change(http: requests.Session, login_server: LoginServer) -> None:
    long_lived = _token(http, login_server)
    assert login_server.configure(ttl=1) == {"ttl": 1, "anonymous_status": 401}
    response = _token_login(http, login_server)
    received = time.monotonic()
    assert response.json()["expires_in"] == 1
    token = response.json()["token"]
    assert http.get(login_server.token_me_url, headers=_auth(token), timeout=TIMEOUT).status_code == 200
    time.sleep(max(0.0, received + 1.25 - time.monotonic()))
    _refused(http.get(login_server.token_me_url, headers=_auth(token), timeout=TIMEOUT), "Token has expired.")
    assert http.get(login_server.token_me_url, headers=_auth(long_lived), timeout=TIMEOUT).status_code == 200

    login_server.configure(ttl=0)  # every new token is born expired: a re-login cannot help
    expired = _token(http, login_server)
    _refused(http.get(login_server.token_me_url, headers=_auth(expired), timeout=TIMEOUT), "Token has expired.")
    login_server.configure(ttl=None)
    assert _token_login(http, login_server).json()["expires_in"] is None
    login_server.reset()
    assert login_server.config() == {"ttl": login_server.default_ttl, "anonymous_status": 401}


def test_config_rejects_bad_values(http: requests.Session, login_server: LoginServer) -> None:
    for bad in ({"ttl": -1}, {"ttl": "2"}, {"ttl": True}, {"anonymous_status": 500}, {"lifetime": 2}, [1]):
        response = http.post(login_server.config_url, json=bad, timeout=TIMEOUT)
        assert response.status_code == 400, bad
        assert response.json()["detail"]
    with pytest.raises(HarnessError, match="answered 400"):
        login_server.configure(ttl=-1)
    assert login_server.config()["ttl"] == login_server.default_ttl


def test_revoke_all_ends_every_token_and_session(http: requests.Session, login_server: LoginServer) -> None:
    login_server.revoke_all()
    api = _token(http, login_server)
    npm = _npm_login(http, login_server).json()["token"]
    with _session_login(login_server) as browser:
        assert login_server.revoke_all() == {"tokens": 2, "sessions": 1}
        assert browser.get(login_server.session_whoami_url, timeout=TIMEOUT).status_code == 401
    _refused(http.get(login_server.token_me_url, headers=_auth(api), timeout=TIMEOUT), "Token has been revoked.")
    whoami = http.get(login_server.npm_whoami_url, headers=_auth(npm, "Bearer"), timeout=TIMEOUT)
    _refused(whoami, "Token has been revoked.", "Bearer", "error")
    assert login_server.revoke_all() == {"tokens": 0, "sessions": 0}
    assert http.get(login_server.token_me_url, headers=_auth(_token(http, login_server)), timeout=TIMEOUT).ok


def test_created_user_logs_in_everywhere(http: requests.Session, login_server: LoginServer) -> None:
    username, password = f"u{time.monotonic_ns()} +&=", "new pw+%2B&=\"'ö"
    assert login_server.create_user(username, password)["username"] == username
    body = {"username": username, "password": password}
    assert http.post(login_server.token_login_url, json=body, timeout=TIMEOUT).status_code == 200
    assert http.post(login_server.token_login_url, data=body, timeout=TIMEOUT).status_code == 200
    npm = http.put(login_server.npm_user_url(username), json={"name": username, "password": password}, timeout=TIMEOUT)
    assert npm.status_code == 201
    login_server.create_user(username, "changed")
    assert http.post(login_server.token_login_url, json=body, timeout=TIMEOUT).status_code == 401


def test_stats_show_each_request_and_skip_control_calls(http: requests.Session, login_server: LoginServer) -> None:
    token = _token(http, login_server)
    http.get(login_server.items_url, headers={**_auth(token), "X-Trace": "t-1"}, timeout=TIMEOUT)
    login_server.config()
    login_server.configure(ttl=5)
    stats = login_server.stats()
    assert stats["requests"] == 2
    login, items = stats["recent"]
    assert (login["endpoint"], login["status"], login["flow"]) == ("POST /api/auth/login", 200, "token")
    assert items["headers"]["Authorization"] == f"Token {token}"
    assert items["headers"]["X-Trace"] == "t-1"
    assert items["seq"] == login["seq"] + 1
    login_server.reset()
    assert login_server.stats()["requests"] == 0


# ---------------------------------------------------------------- npm login


def _npm_login(http: requests.Session, server: LoginServer, *, special: bool = False) -> requests.Response:
    name, password = _credentials(server, special)
    body = {"_id": f"org.couchdb.user:{name}", "name": name, "password": password, "type": "user", "roles": []}
    return http.put(server.npm_user_url(name), json=body, timeout=TIMEOUT)


@pytest.mark.parametrize("special", [False, True], ids=["alice", "special-user"])
def test_npm_login_whoami_logout(http: requests.Session, login_server: LoginServer, special: bool) -> None:
    name = _credentials(login_server, special)[0]
    response = _npm_login(http, login_server, special=special)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body == {"ok": True, "id": f"org.couchdb.user:{name}", "token": body["token"]}
    assert TOKEN_RE.fullmatch(body["token"])
    bearer = _auth(body["token"], "Bearer")
    whoami = http.get(login_server.npm_whoami_url, headers=bearer, timeout=TIMEOUT)
    assert whoami.json() == {"username": name}
    token_scheme = http.get(login_server.npm_whoami_url, headers=_auth(body["token"]), timeout=TIMEOUT)
    _refused(token_scheme, "Invalid token header.", "Bearer", "error")  # npm takes Bearer only

    logout = http.delete(login_server.npm_token_url(body["token"]), headers=bearer, timeout=TIMEOUT)
    assert logout.status_code == 200
    assert logout.json() == {"ok": True}
    revoked = http.get(login_server.npm_whoami_url, headers=bearer, timeout=TIMEOUT)
    _refused(revoked, "Token has been revoked.", "Bearer", "error")
    again = http.delete(login_server.npm_token_url(body["token"]), headers=bearer, timeout=TIMEOUT)
    _refused(again, "Token has been revoked.", "Bearer", "error")
    stats = login_server.stats()
    assert stats["by_flow"]["npm"] == {
        "requests": 6, "logins": 1, "login_failures": 0, "logouts": 1, "unauthorized": 3, "forbidden": 0,
    }  # fmt: skip
    assert stats["by_endpoint"]["PUT /-/user/org.couchdb.user:{name}"] == 1
    assert stats["by_endpoint"]["DELETE /-/user/token/{token}"] == 2


def test_npm_refusals(http: requests.Session, login_server: LoginServer) -> None:
    url = login_server.npm_user_url(login_server.username)
    wrong = http.put(url, json={"name": login_server.username, "password": "wrong"}, timeout=TIMEOUT)
    _refused(wrong, "bad username/password, access denied", "Bearer", "error")
    mismatch = http.put(url, json={"name": "bob", "password": login_server.password}, timeout=TIMEOUT)
    assert mismatch.status_code == 400
    assert http.put(url, json={"name": login_server.username}, timeout=TIMEOUT).status_code == 400
    anonymous = http.get(login_server.npm_whoami_url, timeout=TIMEOUT)
    _refused(anonymous, "Authentication credentials were not provided.", "Bearer", "error")

    alice = _npm_login(http, login_server).json()["token"]
    special = _npm_login(http, login_server, special=True).json()["token"]
    foreign = http.delete(login_server.npm_token_url(special), headers=_auth(alice, "Bearer"), timeout=TIMEOUT)
    assert foreign.status_code == 404
    whoami = http.get(login_server.npm_whoami_url, headers=_auth(special, "Bearer"), timeout=TIMEOUT)
    assert whoami.json() == {"username": login_server.special_username}
    assert login_server.stats()["by_flow"]["npm"]["login_failures"] == 1


# ------------------------------------------------------------ session login


def _csrf(http: requests.Session, server: LoginServer) -> str:
    response = http.get(server.session_csrf_url, timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.json()["csrftoken"]
    return http.cookies[server.csrf_cookie_name]


def _session_login(server: LoginServer, http: requests.Session | None = None) -> requests.Session:
    http = http or _session()
    token = _csrf(http, server)
    body = {"username": server.username, "password": server.password}
    response = http.post(server.session_login_url, data=body, headers={server.csrf_header_name: token}, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return http


LOGIN_STYLES: dict[str, Callable[[LoginServer, str, dict[str, str]], dict[str, Any]]] = {
    "form-field": lambda server, token, body: {"data": {**body, server.csrf_form_field: token}},
    "form-header": lambda server, token, body: {"data": body, "headers": {server.csrf_header_name: token}},
    "json-header": lambda server, token, body: {"json": body, "headers": {server.csrf_header_name: token}},
}


@pytest.mark.parametrize("style", LOGIN_STYLES)
@pytest.mark.parametrize("special", [False, True], ids=["alice", "special-user"])
def test_session_login(http: requests.Session, login_server: LoginServer, style: str, special: bool) -> None:
    assert http.get(login_server.session_whoami_url, timeout=TIMEOUT).status_code == 401
    before = _csrf(http, login_server)
    username, password = _credentials(login_server, special)
    kwargs = LOGIN_STYLES[style](login_server, before, {"username": username, "password": password})
    response = http.post(login_server.session_login_url, timeout=TIMEOUT, **kwargs)
    assert response.status_code == 200, response.text
    assert response.json()["username"] == username
    assert login_server.session_cookie_name in http.cookies
    assert http.cookies[login_server.csrf_cookie_name] != before  # Django rotates the CSRF token on login
    assert http.get(login_server.session_whoami_url, timeout=TIMEOUT).json() == response.json()
    assert login_server.stats()["by_flow"]["session"]["logins"] == 1


def test_session_login_without_csrf_is_403(http: requests.Session, login_server: LoginServer) -> None:
    body = {"username": login_server.username, "password": login_server.password}
    header = login_server.csrf_header_name
    no_cookie = http.post(login_server.session_login_url, data=body, headers={header: "x" * 32}, timeout=TIMEOUT)
    token = _csrf(http, login_server)
    attempts = [
        no_cookie,
        http.post(login_server.session_login_url, data=body, timeout=TIMEOUT),
        http.post(login_server.session_login_url, json={**body, login_server.csrf_form_field: token}, timeout=TIMEOUT),
        http.post(login_server.session_login_url, data=body, headers={header: "y" * 32}, timeout=TIMEOUT),
        http.post(
            login_server.session_login_url,
            data=body,
            headers={header: token, "Origin": "http://evil.example"},
            timeout=TIMEOUT,
        ),
    ]
    for response in attempts:
        assert response.status_code == 403
        assert response.headers["Content-Type"].startswith("text/html")
        assert "CSRF verification failed" in response.text
    assert login_server.session_cookie_name not in http.cookies
    same_origin = {header: token, "Origin": login_server.url}
    assert http.post(login_server.session_login_url, data=body, headers=same_origin, timeout=TIMEOUT).status_code == 200
    stats = login_server.stats()["by_flow"]["session"]
    assert (stats["forbidden"], stats["logins"]) == (len(attempts), 1)


def test_session_login_refusals(http: requests.Session, login_server: LoginServer) -> None:
    headers = {login_server.csrf_header_name: _csrf(http, login_server)}
    wrong = {"username": login_server.username, "password": "wrong"}
    response = http.post(login_server.session_login_url, json=wrong, headers=headers, timeout=TIMEOUT)
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid username or password."}
    assert "WWW-Authenticate" not in response.headers
    missing = http.post(login_server.session_login_url, data={"username": "a"}, headers=headers, timeout=TIMEOUT)
    assert missing.status_code == 400
    assert login_server.stats()["by_flow"]["session"]["login_failures"] == 1


def test_session_whoami_without_session(http: requests.Session, login_server: LoginServer) -> None:
    anonymous = http.get(login_server.session_whoami_url, timeout=TIMEOUT)
    assert anonymous.status_code == 401
    assert anonymous.json() == {"detail": "Not logged in."}
    assert "WWW-Authenticate" not in anonymous.headers
    login_server.configure(anonymous_status=403)
    assert http.get(login_server.session_whoami_url, timeout=TIMEOUT).status_code == 403


def test_session_items_need_session_and_csrf_header(login_server: LoginServer) -> None:
    with _session_login(login_server) as http:
        url = login_server.session_items_url
        assert http.get(url, timeout=TIMEOUT).json() == []
        assert http.post(url, json={"a": 1}, timeout=TIMEOUT).status_code == 403
        csrf = {login_server.csrf_header_name: http.cookies[login_server.csrf_cookie_name]}
        created = http.post(url, json={"a": 1}, headers=csrf, timeout=TIMEOUT)
        assert created.status_code == 201
        assert created.json() == {"a": 1, "id": created.json()["id"]}
        assert http.get(url, timeout=TIMEOUT).json() == [created.json()]
    with _session() as anonymous:
        csrf = {login_server.csrf_header_name: _csrf(anonymous, login_server)}
        assert anonymous.post(url, json={"a": 2}, headers=csrf, timeout=TIMEOUT).status_code == 401


def test_session_logout_ends_the_session_server_side(login_server: LoginServer) -> None:
    with _session_login(login_server) as http:
        old_session = http.cookies[login_server.session_cookie_name]
        assert http.post(login_server.session_logout_url, timeout=TIMEOUT).status_code == 403  # no CSRF header
        assert http.get(login_server.session_whoami_url, timeout=TIMEOUT).status_code == 200
        csrf = {login_server.csrf_header_name: http.cookies[login_server.csrf_cookie_name]}
        logout = http.post(login_server.session_logout_url, headers=csrf, timeout=TIMEOUT)
        assert logout.status_code == 204
        assert login_server.session_cookie_name not in http.cookies  # the response expired the cookie
        assert http.get(login_server.session_whoami_url, timeout=TIMEOUT).status_code == 401
    with _session() as replay:
        replay.cookies.set(login_server.session_cookie_name, old_session)
        assert replay.get(login_server.session_whoami_url, timeout=TIMEOUT).status_code == 401
    stats = login_server.stats()["by_flow"]["session"]
    assert (stats["logins"], stats["logouts"]) == (1, 1)


# ------------------------------------------------------------- concurrency


def _storm(job: Callable[[int], tuple[int, ...]]) -> list[tuple[int, ...]]:
    """Run ``job(i)`` in :data:`THREADS` threads released together; their results in order."""
    barrier = threading.Barrier(THREADS)

    def run(index: int) -> tuple[int, ...]:
        barrier.wait(timeout=30)
        return job(index)

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(run, range(THREADS), timeout=120))


def test_token_storm(login_server: LoginServer) -> None:
    """50 clients log in, read, write and log out at once: no error, every request counted."""

    def client(index: int) -> tuple[int, ...]:
        with _session() as http:
            login = _token_login(http, login_server, form=index % 2 == 1)
            headers = _auth(login.json()["token"], "Bearer" if index % 3 else "Token")
            return (
                login.status_code,
                http.get(login_server.token_me_url, headers=headers, timeout=30).status_code,
                http.post(login_server.items_url, json={"i": index}, headers=headers, timeout=30).status_code,
                http.post(login_server.token_logout_url, headers=headers, timeout=30).status_code,
                http.get(login_server.token_me_url, headers=headers, timeout=30).status_code,
            )

    assert _storm(client) == [(200, 200, 201, 204, 401)] * THREADS
    stats = login_server.stats()
    assert stats["by_flow"]["token"] == {
        "requests": 5 * THREADS, "logins": THREADS, "login_failures": 0, "logouts": THREADS,
        "unauthorized": THREADS, "forbidden": 0,
    }  # fmt: skip
    endpoints = ("POST /api/auth/login", "POST /api/items", "POST /api/auth/logout")
    assert stats["by_endpoint"] == {"GET /api/auth/me": 2 * THREADS, **dict.fromkeys(endpoints, THREADS)}
    with _session() as http:
        stored = http.get(login_server.items_url, headers=_auth(_token(http, login_server)), timeout=TIMEOUT).json()
    assert sorted(item["i"] for item in stored) == list(range(THREADS))


def test_session_storm(login_server: LoginServer) -> None:
    """50 browsers log in, write and log out at once: no error, every request counted."""

    def browser(index: int) -> tuple[int, ...]:
        with _session() as http:
            token = _csrf(http, login_server)
            body = {"username": login_server.username, "password": login_server.password}
            form = {**body, login_server.csrf_form_field: token}
            login = http.post(login_server.session_login_url, data=form, timeout=30)
            csrf = {login_server.csrf_header_name: http.cookies[login_server.csrf_cookie_name]}
            return (
                login.status_code,
                http.get(login_server.session_whoami_url, timeout=30).status_code,
                http.post(login_server.session_items_url, json={"i": index}, headers=csrf, timeout=30).status_code,
                http.post(login_server.session_logout_url, headers=csrf, timeout=30).status_code,
                http.get(login_server.session_whoami_url, timeout=30).status_code,
            )

    assert _storm(browser) == [(200, 200, 201, 204, 401)] * THREADS
    stats = login_server.stats()["by_flow"]["session"]
    assert stats == {
        "requests": 6 * THREADS, "logins": THREADS, "login_failures": 0, "logouts": THREADS,
        "unauthorized": THREADS, "forbidden": 0,
    }  # fmt: skip
