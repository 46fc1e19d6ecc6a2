"""OAuth2 flows at the unit level: bodies, client auth, errors, refresh ahead of expiry, 401 replay,
single flight across threads, refresh-token keeping, fallbacks and PKCE/state checks."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

import myclient
from myclient.tokens import MemoryTokenStore, Token

API = "https://api.example"
TOKEN_URL = "https://auth.example/oauth/token"

pytestmark = pytest.mark.loose_mock  # the shared ``rs`` fixture: unused stubs are fine here


class Clock:
    def __init__(self) -> None:
        self.now = 10_000.0

    def __call__(self) -> float:
        return self.now



def _token_reply(access: str, refresh: str | None = None, expires_in: int | None = 60) -> dict[str, Any]:
    body: dict[str, Any] = {"access_token": access, "token_type": "Bearer"}
    if expires_in is not None:
        body["expires_in"] = expires_in
    if refresh:
        body["refresh_token"] = refresh
    return body


def _form(call: Any) -> dict[str, list[str]]:
    return parse_qs(call.request.body)


def test_client_credentials_gets_a_token_with_basic_client_auth(rs: responses.RequestsMock) -> None:
    rs.post(TOKEN_URL, json=_token_reply("cc-access-1"))
    rs.get(f"{API}/me", json={"ok": True})
    flow = myclient.ClientCredentials(TOKEN_URL, "my client", "s3cr/t", scope=["read", "write"])
    assert myclient.Client(API, auth=flow).adapter.get("/me") == {"ok": True}
    token_call, api_call = rs.calls
    assert _form(token_call) == {"grant_type": ["client_credentials"], "scope": ["read write"]}
    basic = token_call.request.headers["Authorization"].split()[1]
    assert base64.b64decode(basic).decode() == "my+client:s3cr%2Ft"
    assert api_call.request.headers["Authorization"] == "Bearer cc-access-1"


def test_client_auth_in_body(rs: responses.RequestsMock) -> None:
    rs.post(TOKEN_URL, json=_token_reply("cc-access-2"))
    myclient.ClientCredentials(TOKEN_URL, "cid", "secret-99", client_auth="body").login()
    form = _form(rs.calls[0])
    assert form["client_id"] == ["cid"]
    assert form["client_secret"] == ["secret-99"]
    assert "Authorization" not in rs.calls[0].request.headers


def test_token_request_goes_through_the_clients_session(rs: responses.RequestsMock) -> None:
    rs.post(TOKEN_URL, json=_token_reply("cc-access-3"))
    rs.get(f"{API}/me", json={})
    session = requests.Session()
    session.headers["X-Gateway-Key"] = "gw"
    flow = myclient.ClientCredentials(TOKEN_URL, "cid", "sec-1234")
    client = myclient.Client(API, auth=flow, session=session, headers={"X-Api-Only": "1"})
    client.adapter.get("/me")
    token_headers = rs.calls[0].request.headers
    assert token_headers["X-Gateway-Key"] == "gw"
    assert token_headers["X-Correlation-ID"] == client.cid
    assert "X-Api-Only" not in token_headers
    assert token_headers["Authorization"].startswith("Basic ")


def test_token_endpoint_errors_are_auth_errors_without_secrets(rs: responses.RequestsMock) -> None:
    rs.post(TOKEN_URL, status=401, json={"error": "invalid_client", "error_description": "bad secret"})
    flow = myclient.ClientCredentials(TOKEN_URL, "cid", "wrong-secret-777")
    with pytest.raises(myclient.AuthError) as info:
        flow.login()
    err = info.value
    assert (err.error, err.description, err.status) == ("invalid_client", "bad secret", 401)
    assert isinstance(err, myclient.MyClientError)
    assert "wrong-secret-777" not in f"{err} {err!r} {err.args} {vars(err)}"


def test_non_json_error_page_is_still_an_auth_error(rs: responses.RequestsMock) -> None:
    rs.post(TOKEN_URL, status=502, body="<html>bad gateway</html>", content_type="text/html")
    client = myclient.Client(API, auth=myclient.ClientCredentials(TOKEN_URL, "cid", "sec-1234"), retry=None)
    with pytest.raises(myclient.AuthError, match="502"):
        client.login()
    rs.replace(responses.POST, TOKEN_URL, status=200, body="<html>login</html>")
    with pytest.raises(myclient.AuthError, match="not a token"):
        client.login()


def test_refresh_ahead_of_expiry_uses_refresh_token_and_keeps_it(rs: responses.RequestsMock) -> None:
    clock = Clock()
    rs.post(TOKEN_URL, json=_token_reply("pw-access-1", "refresh-1", expires_in=100))
    rs.get(f"{API}/me", json={})
    flow = myclient.PasswordGrant(TOKEN_URL, "cid", "sec-1234", username="ann", password="pw-9999",
                                  leeway=10, clock=clock)
    client = myclient.Client(API, auth=flow)
    client.adapter.get("/me")
    clock.now += 85  # inside the leeway: 15 s left < 10? no; still fine
    client.adapter.get("/me")
    assert len([c for c in rs.calls if c.request.url == TOKEN_URL]) == 1
    clock.now += 6  # 9 s left: refresh now, before it expires
    rs.replace(responses.POST, TOKEN_URL, json=_token_reply("pw-access-2", None, expires_in=100))
    client.adapter.get("/me")
    token_calls = [c for c in rs.calls if c.request.url == TOKEN_URL]
    assert _form(token_calls[-1])["grant_type"] == ["refresh_token"]
    assert _form(token_calls[-1])["refresh_token"] == ["refresh-1"]
    assert rs.calls[-1].request.headers["Authorization"] == "Bearer pw-access-2"
    assert flow.token().refresh_token == "refresh-1"  # kept: the response had none


def test_leeway_never_exceeds_half_the_lifetime(rs: responses.RequestsMock) -> None:
    clock = Clock()
    rs.post(TOKEN_URL, json=_token_reply("short-1", expires_in=2))
    flow = myclient.ClientCredentials(TOKEN_URL, "cid", "sec-1234", leeway=30, clock=clock)
    flow.token()
    clock.now += 0.9
    flow.token()
    assert len(rs.calls) == 1
    clock.now += 0.2
    flow.token()
    assert len(rs.calls) == 2


def test_401_renews_once_and_replays(rs: responses.RequestsMock) -> None:
    rs.post(TOKEN_URL, json=_token_reply("t-old", expires_in=None))
    flow = myclient.ClientCredentials(TOKEN_URL, "cid", "sec-1234")
    client = myclient.Client(API, auth=flow)
    flow.login()
    rs.replace(responses.POST, TOKEN_URL, json=_token_reply("t-new", expires_in=None))
    rs.get(f"{API}/me", status=401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    rs.get(f"{API}/me", json={"me": 1})
    assert client.adapter.get("/me") == {"me": 1}
    api_calls = [c for c in rs.calls if c.request.url == f"{API}/me"]
    assert [c.request.headers["Authorization"] for c in api_calls] == ["Bearer t-old", "Bearer t-new"]


def test_second_401_after_replay_raises_unauthorized(rs: responses.RequestsMock) -> None:
    rs.post(TOKEN_URL, json=_token_reply("t-x", expires_in=None))
    rs.get(f"{API}/me", status=401)
    client = myclient.Client(API, auth=myclient.ClientCredentials(TOKEN_URL, "cid", "sec-1234"))
    with pytest.raises(myclient.Unauthorized) as info:
        client.adapter.get("/me")
    assert [a.status for a in info.value.attempts] == [401, 401]


def test_403_replays_only_with_invalid_token(rs: responses.RequestsMock) -> None:
    rs.post(TOKEN_URL, json=_token_reply("t-y", expires_in=None))
    rs.get(f"{API}/plain", status=403)
    rs.get(f"{API}/invalid", status=403, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    rs.get(f"{API}/invalid", json={})
    client = myclient.Client(API, auth=myclient.ClientCredentials(TOKEN_URL, "cid", "sec-1234"))
    with pytest.raises(myclient.Forbidden):
        client.adapter.get("/plain")
    assert client.adapter.get("/invalid") == {}
    assert len([c for c in rs.calls if c.request.url == TOKEN_URL]) == 2


def test_invalid_grant_on_refresh_falls_back_to_the_original_grant(rs: responses.RequestsMock) -> None:
    clock = Clock()
    rs.post(TOKEN_URL, json=_token_reply("a1", "r1", expires_in=10))
    flow = myclient.PasswordGrant(TOKEN_URL, "cid", "sec-1234", username="ann", password="pw-9999", clock=clock)
    flow.login()
    clock.now += 20
    rs.replace(responses.POST, TOKEN_URL, status=400, json={"error": "invalid_grant"})
    rs.add(responses.POST, TOKEN_URL, json=_token_reply("a2", "r2", expires_in=10))
    assert flow.token().access_token == "a2"
    grants = [_form(c)["grant_type"][0] for c in rs.calls]
    assert grants == ["password", "refresh_token", "password"]


def test_rejected_refresh_without_a_fallback_raises(rs: responses.RequestsMock) -> None:
    rs.post(TOKEN_URL, status=400, json={"error": "invalid_grant", "error_description": "expired"})
    flow = myclient.RefreshTokenGrant(TOKEN_URL, "cid", refresh_token="stale-refresh-1")
    with pytest.raises(myclient.AuthError) as info:
        flow.token()
    assert info.value.error == "invalid_grant"
    assert _form(rs.calls[0])["client_id"] == ["cid"]  # a public client names itself


def test_single_flight_across_threads(rs: responses.RequestsMock) -> None:
    gate = threading.Event()
    calls: list[int] = []

    def token_endpoint(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        calls.append(1)
        gate.wait(2)
        return 200, {}, '{"access_token": "storm-token", "token_type": "Bearer", "expires_in": 60}'

    rs.add_callback(responses.POST, TOKEN_URL, callback=token_endpoint)
    rs.get(f"{API}/me", json={})
    client = myclient.Client(API, auth=myclient.ClientCredentials(TOKEN_URL, "cid", "sec-1234"))
    errors: list[BaseException] = []

    def call() -> None:
        try:
            client.adapter.get("/me")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(20)]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join()
    assert errors == []
    assert len(calls) == 1


def test_on_token_gets_new_and_old_and_store_is_updated(rs: responses.RequestsMock) -> None:
    clock = Clock()
    seen: list[tuple[str, str | None]] = []
    store = MemoryTokenStore()
    rs.post(TOKEN_URL, json=_token_reply("a1", expires_in=10))
    flow = myclient.ClientCredentials(TOKEN_URL, "cid", "sec-1234", store=store, clock=clock,
                                      on_token=lambda new, old: seen.append((new.access_token,
                                                                             old.access_token if old else None)))
    flow.token()
    clock.now += 20
    rs.replace(responses.POST, TOKEN_URL, json=_token_reply("a2", expires_in=10))
    flow.token()
    assert seen == [("a1", None), ("a2", "a1")]
    stored = store.get(flow.store_key)
    assert stored is not None
    assert stored.access_token == "a2"


def test_token_from_store_is_used_without_a_request(rs: responses.RequestsMock) -> None:
    store = MemoryTokenStore()
    flow1 = myclient.ClientCredentials(TOKEN_URL, "cid", "sec-1234", store=store)
    store.set(flow1.store_key, Token("persisted-1", expires_at=None))
    flow2 = myclient.ClientCredentials(TOKEN_URL, "cid", "sec-1234", store=store)
    assert flow2.token().access_token == "persisted-1"
    assert len(rs.calls) == 0


def test_login_logout_is_authenticated_with_revocation(rs: responses.RequestsMock) -> None:
    revoke = "https://auth.example/oauth/revoke"
    rs.post(TOKEN_URL, json=_token_reply("a1", "r1"))
    rs.post(revoke, body="")
    client = myclient.Client(API, auth=myclient.PasswordGrant(TOKEN_URL, "cid", "sec-1234", revocation_url=revoke))
    assert not client.is_authenticated()
    client.login("ann", "pw-1111")
    assert client.is_authenticated()
    client.logout()
    assert not client.is_authenticated()
    revoked = [_form(c) for c in rs.calls if c.request.url == revoke]
    assert [(f["token"][0], f["token_type_hint"][0]) for f in revoked] == [("r1", "refresh_token"),
                                                                          ("a1", "access_token")]


def test_login_needs_a_flow() -> None:
    client = myclient.Client(API, token="static-token")
    assert client.is_authenticated()
    with pytest.raises(myclient.UsageError, match="login flow"):
        client.login()


def test_authorization_code_with_pkce_and_state(rs: responses.RequestsMock) -> None:
    rs.post(TOKEN_URL, json=_token_reply("code-access", "code-refresh"))
    flow = myclient.AuthorizationCode("https://auth.example/authorize", TOKEN_URL, "web", "web-secret",
                                      redirect_uri="http://127.0.0.1/cb", scope="read")
    url = flow.authorization_url()
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["response_type"] == ["code"]
    state = query["state"][0]
    with pytest.raises(myclient.AuthError, match="CSRF"):
        flow.fetch_token(f"http://127.0.0.1/cb?code=abc&state=forged-{state}")
    token = flow.fetch_token(f"http://127.0.0.1/cb?code=abc&state={state}")
    assert token.access_token == "code-access"
    form = _form(rs.calls[0])
    assert form["grant_type"] == ["authorization_code"]
    assert len(form["code_verifier"][0]) == 64
    with pytest.raises(myclient.AuthError, match="CSRF"):  # a state is good for one exchange only
        flow.fetch_token(f"http://127.0.0.1/cb?code=abc&state={state}")


def test_authorization_error_in_redirect_is_an_auth_error() -> None:
    flow = myclient.AuthorizationCode("https://auth.example/authorize", TOKEN_URL, "web",
                                      redirect_uri="http://127.0.0.1/cb")
    state = parse_qs(urlsplit(flow.authorization_url()).query)["state"][0]
    with pytest.raises(myclient.AuthError) as info:
        flow.fetch_token(f"http://127.0.0.1/cb?error=access_denied&state={state}")
    assert info.value.error == "access_denied"


@pytest.mark.parametrize("url", ["http://auth.example/token", "ftp://x/token", "token"])
def test_token_url_must_be_https_except_on_loopback(url: str) -> None:
    with pytest.raises(myclient.UsageError):
        myclient.ClientCredentials(url, "cid", "sec-1234")
    myclient.ClientCredentials("http://127.0.0.1:8000/o/token/", "cid", "sec-1234")


def test_flows_do_not_show_secrets() -> None:
    flow = myclient.PasswordGrant(TOKEN_URL, "cid", "client-secret-1", username="ann", password="user-pw-1")
    assert "client-secret-1" not in repr(flow)
    assert "user-pw-1" not in repr(flow)


@pytest.mark.parametrize("url", ["http://127.attacker.example/token", "http://127.0.0.1.attacker.example/token",
                                 "http://localhost.attacker.example/token", "http://[::2]/token",
                                 "http://128.0.0.1/token", "http://0.0.0.0/token", "http://127.1/token"])
def test_plain_http_is_refused_for_hosts_that_only_look_like_loopback(url: str) -> None:
    with pytest.raises(myclient.UsageError, match="loopback"):
        myclient.ClientCredentials(url, "cid", "sec-1234")
    with pytest.raises(myclient.UsageError, match="loopback"):
        myclient.ClientCredentials(TOKEN_URL, "cid", "sec-1234", revocation_url=url)


@pytest.mark.parametrize("url", ["http://localhost:8000/t", "http://LOCALHOST./t", "http://127.0.0.1/t",
                                 "http://127.8.9.10:1/t", "http://[::1]:9/t", "http://[::ffff:127.0.0.1]/t"])
def test_plain_http_is_allowed_on_real_loopback(url: str) -> None:
    myclient.ClientCredentials(url, "cid", "sec-1234")


def test_repr_masks_secrets_in_the_endpoint_urls() -> None:
    flow = myclient.ClientCredentials("https://auth.example/token?api_key=query-secret-99&x=1", "cid", "sec-1234")
    assert "query-secret-99" not in repr(flow)
    assert "auth.example/token" in repr(flow)


def test_a_non_ascii_state_is_compared_safely(rs: responses.RequestsMock) -> None:
    rs.post(TOKEN_URL, json=_token_reply("code-access"))
    flow = myclient.AuthorizationCode("https://auth.example/authorize", TOKEN_URL, "web",
                                      redirect_uri="http://127.0.0.1/cb")
    flow.authorization_url(state="état-1")
    with pytest.raises(myclient.AuthError, match="CSRF"):
        flow.fetch_token("http://127.0.0.1/cb?code=abc&state=%C3%A9tat-2")
    with pytest.raises(myclient.AuthError, match="CSRF"):
        flow.fetch_token("http://127.0.0.1/cb?code=abc&state=%F0%9F%94%91")
    assert flow.fetch_token("http://127.0.0.1/cb?code=abc&state=%C3%A9tat-1").access_token == "code-access"


@pytest.mark.parametrize("url", ["http://[::1/cb?code=abc&state=x", 42])
def test_an_unreadable_redirect_url_is_a_usage_error(url: Any) -> None:
    flow = myclient.AuthorizationCode("https://auth.example/authorize", TOKEN_URL, "web",
                                      redirect_uri="http://127.0.0.1/cb")
    with pytest.raises(myclient.UsageError):
        flow.fetch_token(url)


@pytest.mark.parametrize("client_auth", ["basic", "body"])
def test_a_client_secret_read_from_a_file_loses_its_newline(rs: responses.RequestsMock, client_auth: str) -> None:
    rs.post(TOKEN_URL, json=_token_reply("cc-access"))
    myclient.ClientCredentials(TOKEN_URL, "cid", "file-secret-77\n", client_auth=client_auth).login()
    request = rs.calls[0].request
    if client_auth == "basic":
        assert base64.b64decode(request.headers["Authorization"].split()[1]).decode() == "cid:file-secret-77"
    else:
        assert _form(rs.calls[0])["client_secret"] == ["file-secret-77"]


def test_importing_myclient_does_not_import_oauthlib() -> None:
    code = (
        "import sys, myclient\n"
        "print('oauthlib' in sys.modules)\n"
        "flow = myclient.AuthorizationCode('https://a.example/authorize', 'https://a.example/token', 'cid',\n"
        "                                  redirect_uri='http://127.0.0.1/cb')\n"
        "myclient.ClientCredentials('https://a.example/token', 'cid', 'sec-1234')\n"
        "print('oauthlib' in sys.modules)\n"
        "assert 'code_challenge=' in flow.authorization_url()\n"
        "print('oauthlib' in sys.modules)\n"
    )
    root = Path(myclient.__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    # No timeout= here: subprocess polls with time.sleep then, which unit tests forbid (pytest-timeout guards).
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False", "True"]


class ReadOnlyStore(MemoryTokenStore):
    """A store whose writes fail, as a token file on a full or read-only disk does."""

    def set(self, key: str, token: Token) -> None:
        raise myclient.AuthError("token store is read-only")


def test_a_new_token_is_kept_when_the_store_cannot_save_it(rs: responses.RequestsMock) -> None:
    rs.post(TOKEN_URL, json=_token_reply("kept-access", "rotated-refresh"))
    flow = myclient.ClientCredentials(TOKEN_URL, "cid", "sec-1234", store=ReadOnlyStore())
    with pytest.raises(myclient.AuthError, match="read-only"):
        flow.token()
    assert flow.token().access_token == "kept-access"  # not asked for (and rotated) again
    assert len(rs.calls) == 1


def test_token_params_go_with_every_token_request() -> None:
    import json as _json
    from urllib.parse import parse_qs as _parse_qs

    details = [{"type": "payment_initiation", "instructedAmount": {"currency": "EUR", "amount": "1.00"}}]
    flow = myclient.ClientCredentials("https://auth.example/token", "svc", "secret-abc123",
                                      token_params={"audience": "https://api.example", "resource": ["r1", "r2"],
                                                    "authorization_details": details})
    with responses.RequestsMock() as rs:
        rs.post("https://auth.example/token", json={"access_token": "at-1", "expires_in": 60})
        flow.login()
        body = _parse_qs(rs.calls[0].request.body)
    assert body["audience"] == ["https://api.example"] and body["resource"] == ["r1", "r2"]
    assert _json.loads(body["authorization_details"][0]) == details
    with pytest.raises(myclient.UsageError, match="grant_type"):
        myclient.ClientCredentials("https://auth.example/token", "svc", "s", token_params={"grant_type": "x"})


def test_state_mismatch_is_an_oauth_state_error_and_an_auth_error() -> None:
    flow = myclient.AuthorizationCode("https://auth.example/authorize", "https://auth.example/token", "web",
                                      redirect_uri="http://127.0.0.1:8765/cb")
    flow.authorization_url(state="mine")
    with pytest.raises(myclient.OAuthStateError) as info:
        flow.parse_authorization_response("http://127.0.0.1:8765/cb?code=c&state=yours")
    assert isinstance(info.value, myclient.AuthError)
    assert flow.parse_authorization_response("http://127.0.0.1:8765/cb?code=c0de&state=mine") == ("c0de", "mine")
    with pytest.raises(myclient.UsageError, match="state_length"):
        myclient.AuthorizationCode("https://auth.example/authorize", "https://auth.example/token", "web",
                                   redirect_uri="http://127.0.0.1:8765/cb", state_length=4)
