"""OAuth2 revocation (RFC 7009) and the call's deadline at the unit level: the revocation request
authenticates exactly like the token request, a failed revocation keeps what still works, and a
token or revocation request made during a call never outlives the call's deadline."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qs

import pytest
import responses

import myclient
from myclient._context import call_deadline
from myclient.tokens import MemoryTokenStore

API = "https://api.example"
TOKEN_URL = "https://auth.example/oauth/token"
REVOKE_URL = "https://auth.example/oauth/revoke"
SECRET = "client-secret-5150"
VARIANTS = ["basic", "body", "public"]

pytestmark = pytest.mark.loose_mock  # the shared ``rs`` fixture: unused stubs are fine here



def _flow(variant: str, **kwargs: Any) -> myclient.PasswordGrant:
    secret = None if variant == "public" else SECRET
    client_auth = "body" if variant == "body" else "basic"
    return myclient.PasswordGrant(TOKEN_URL, "the client", secret, client_auth=client_auth, username="ann",
                                  password="pw-4242", revocation_url=REVOKE_URL, **kwargs)


def _token_reply(access: str = "access-1", refresh: str = "refresh-1") -> dict[str, Any]:
    return {"access_token": access, "token_type": "Bearer", "expires_in": 60, "refresh_token": refresh}


def _client_auth(call: Any) -> tuple[str | None, dict[str, list[str]]]:
    """(the Basic credentials, the client fields of the form) of one recorded request."""
    header = call.request.headers.get("Authorization")
    basic = base64.b64decode(header.split()[1]).decode() if header else None
    form = parse_qs(call.request.body)
    return basic, {k: v for k, v in form.items() if k in ("client_id", "client_secret")}


EXPECTED_AUTH = {
    "basic": ("the+client:" + SECRET, {}),
    "body": (None, {"client_id": ["the client"], "client_secret": [SECRET]}),
    "public": (None, {"client_id": ["the client"]}),
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_revocation_authenticates_exactly_like_the_token_request(rs: responses.RequestsMock, variant: str) -> None:
    rs.post(TOKEN_URL, json=_token_reply())
    rs.post(REVOKE_URL, body="")
    flow = _flow(variant)
    flow.login()
    flow.logout()
    token_call, *revocations = rs.calls
    assert _client_auth(token_call) == EXPECTED_AUTH[variant]
    assert [_client_auth(c) for c in revocations] == [EXPECTED_AUTH[variant]] * 2
    assert [parse_qs(str(c.request.body))["token"] for c in revocations] == [["refresh-1"], ["access-1"]]
    assert not flow.is_authenticated()


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_refused_revocation_keeps_the_tokens_and_names_the_revocation_endpoint(
        rs: responses.RequestsMock, variant: str) -> None:
    rs.post(TOKEN_URL, json=_token_reply())
    rs.post(REVOKE_URL, status=401, json={"error": "invalid_client"})
    store = MemoryTokenStore()
    flow = _flow(variant, store=store)
    token = flow.login()
    with pytest.raises(myclient.AuthError) as info:
        flow.logout()
    assert "revocation endpoint" in str(info.value)
    assert "token endpoint" not in str(info.value)
    assert (info.value.error, info.value.status) == ("invalid_client", 401)
    # Still valid on the server, so still held: nothing is lost, and logout() can be retried.
    assert flow.is_authenticated()
    assert store.get(flow.store_key) == token
    rs.replace(responses.POST, REVOKE_URL, body="")
    flow.logout()
    assert not flow.is_authenticated()
    assert store.get(flow.store_key) is None


def test_a_revocation_that_fails_half_way_keeps_the_tokens(rs: responses.RequestsMock) -> None:
    rs.post(TOKEN_URL, json=_token_reply())
    rs.post(REVOKE_URL, body="")  # the refresh token goes...
    rs.post(REVOKE_URL, status=503, body="<html>down</html>", content_type="text/html")  # ...the access token not
    flow = _flow("basic")
    myclient.Client(API, auth=flow, retry=None)
    flow.login()
    with pytest.raises(myclient.AuthError, match="revocation endpoint answered 503"):
        flow.logout()
    assert flow.is_authenticated()


def test_forget_drops_the_tokens_locally_without_a_request(rs: responses.RequestsMock) -> None:
    rs.post(TOKEN_URL, json=_token_reply())
    store = MemoryTokenStore()
    flow = _flow("basic", store=store)
    flow.login()
    flow.forget()
    assert not flow.is_authenticated()
    assert store.get(flow.store_key) is None
    assert len(rs.calls) == 1


def test_logout_revokes_the_newer_token_another_process_stored(rs: responses.RequestsMock) -> None:
    store = MemoryTokenStore()
    rs.post(TOKEN_URL, json=_token_reply("access-old", "refresh-old"))
    mine = _flow("basic", store=store)
    mine.login()
    rs.replace(responses.POST, TOKEN_URL, json=_token_reply("access-new", "refresh-new"))
    _flow("basic", store=store).login()  # another worker logged in again with the shared store
    rs.post(REVOKE_URL, body="")
    mine.logout()
    revoked = [parse_qs(str(c.request.body))["token"][0] for c in rs.calls if c.request.url == REVOKE_URL]
    assert revoked[:2] == ["refresh-new", "access-new"]
    assert set(revoked) == {"refresh-new", "access-new", "refresh-old", "access-old"}
    assert store.get(mine.store_key) is None


@pytest.mark.parametrize("variant", VARIANTS)
def test_no_time_left_raises_deadline_exceeded_before_any_request(rs: responses.RequestsMock, variant: str) -> None:
    rs.post(TOKEN_URL, json=_token_reply())
    rs.post(REVOKE_URL, body="")
    flow = _flow(variant)
    with call_deadline(lambda: 0.0), pytest.raises(myclient.DeadlineExceeded):
        flow.login()
    assert len(rs.calls) == 0
    flow.login()
    with call_deadline(lambda: -0.5), pytest.raises(myclient.DeadlineExceeded, match="revocation"):
        flow.logout()
    assert len(rs.calls) == 1
    assert flow.is_authenticated()  # nothing was revoked, so nothing is forgotten


@pytest.mark.parametrize("variant", VARIANTS)
def test_token_request_gets_the_time_left_as_its_deadline(rs: responses.RequestsMock, variant: str) -> None:
    rs.post(TOKEN_URL, json=_token_reply())
    seen: list[Any] = []
    flow = _flow(variant)
    client = myclient.Client(API, auth=flow)
    original = client.adapter.request_url

    def spy(method: str, url: str, **kwargs: Any) -> Any:
        seen.append(kwargs.get("deadline", "not given"))
        return original(method, url, **kwargs)

    client.adapter.request_url = spy  # type: ignore[method-assign]
    with call_deadline(lambda: 2.5):
        flow.login()
    flow.login()
    assert seen == [2.5, "not given"]
