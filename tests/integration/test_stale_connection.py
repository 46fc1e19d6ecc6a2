"""A reused keep-alive connection that dies before any response byte (RemoteDisconnected/reset on
reuse): resent for every method by default, and only for safe calls when the policy says so."""

from __future__ import annotations

import pytest
import requests
from servers import WireMockAdmin

import myclient

POLICY = myclient.RetryPolicy(attempts=3, backoff=0.01, backoff_cap=0.02)


def _client(url: str, policy: myclient.RetryPolicy) -> myclient.Client:
    session = requests.Session()
    session.trust_env = False
    return myclient.Client(url, session=session, retry=policy, timeout=(2, 2))


def _stub(admin: WireMockAdmin, method: str, fault: str) -> None:
    admin.stub({"request": {"method": "GET", "urlPath": "/warm"}, "response": {"status": 200, "jsonBody": {}}})
    admin.stub_fault(method, "/op", fault)


@pytest.mark.parametrize("fault", ["CONNECTION_RESET_BY_PEER", "EMPTY_RESPONSE"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_dead_reused_connection_is_resent_for_every_method(
    wiremock_admin: WireMockAdmin, fault: str, method: str
) -> None:
    _stub(wiremock_admin, method, fault)
    with _client(wiremock_admin.url, POLICY) as client:
        client.adapter.get("/warm")  # leaves a keep-alive connection in the pool
        with pytest.raises(myclient.ConnectionLost) as info:
            client.adapter.request(method, "/op", json={"n": 1})
    # attempt 1 ran on the reused connection (resent), attempts 2 and 3 on fresh ones
    expected = 3 if method == "GET" else 2
    assert wiremock_admin.count(method, "/op") == expected
    assert len(info.value.attempts) == expected
    assert info.value.before_response


@pytest.mark.parametrize("fault", ["CONNECTION_RESET_BY_PEER", "EMPTY_RESPONSE"])
def test_post_is_sent_once_when_stale_connection_resends_are_off(wiremock_admin: WireMockAdmin, fault: str) -> None:
    _stub(wiremock_admin, "POST", fault)
    with _client(wiremock_admin.url, POLICY.replace(resend_on_stale_connection=False)) as client:
        client.adapter.get("/warm")
        with pytest.raises(myclient.ConnectionLost):
            client.adapter.post("/op", json={"n": 1})
    assert wiremock_admin.count("POST", "/op") == 1


def test_fresh_connection_failure_is_not_mistaken_for_a_stale_one(wiremock_admin: WireMockAdmin) -> None:
    _stub(wiremock_admin, "POST", "EMPTY_RESPONSE")
    with _client(wiremock_admin.url, POLICY) as client, pytest.raises(myclient.ConnectionLost):
        client.adapter.post("/op", json={"n": 1})
    assert wiremock_admin.count("POST", "/op") == 1
