"""myclient.testing helpers: scrubbing, no-sleep replay, the network guard."""

from __future__ import annotations

import socket

import pytest

import myclient
from myclient import settings
from myclient.testing import NetworkBlocked, Scrubber, no_network, no_sleep


def test_no_sleep_skips_the_default_sleep() -> None:
    with no_sleep():
        settings._time_sleep(100)  # time.sleep is forbidden in unit tests: this returns without calling it
    with pytest.raises(AssertionError, match="must not sleep"):
        settings._time_sleep(1)


def test_no_network_blocks_connections() -> None:
    with no_network(), pytest.raises(NetworkBlocked), socket.create_connection(("127.0.0.1", 9), timeout=1):
        pass
    with no_network(), pytest.raises(myclient.TransportError):
        myclient.Client("http://127.0.0.1:9", retry=None).adapter.get("/x")


class FakeRequest:
    def __init__(self, uri: str, body: bytes | None, headers: dict[str, str]) -> None:
        self.uri, self.body, self.headers = uri, body, headers


def test_scrubber_masks_requests_and_responses_and_aliases_origins() -> None:
    scrub = Scrubber()
    scrub.alias("http://127.0.0.1:50123", "http://api.test")
    request = scrub.request(FakeRequest(
        "http://127.0.0.1:50123/token?api_key=k1&x=1", b"grant_type=password&password=pw-123&username=u",
        {"Authorization": "Basic dXNlcjpwdzEyMw==", "Host": "127.0.0.1:50123", "Content-Type":
         "application/x-www-form-urlencoded"}))
    assert request.uri == "http://api.test/token?api_key=***&x=1"
    assert request.body == b"grant_type=password&password=***&username=u"
    assert request.headers["Authorization"] == "***"
    assert request.headers["Host"] == "api.test"
    response = scrub.response({
        "status": {"code": 200, "message": "OK"},
        "headers": {"Set-Cookie": ["sid=abc123"], "Content-Type": ["application/json"], "Content-Length": ["99"],
                    "Location": ["http://127.0.0.1:50123/next?code=c0de"]},
        "body": {"string": b'{"access_token": "at-123456", "refresh_token": "rt-123456", "expires_in": 2}'},
    })
    assert response["headers"]["Set-Cookie"] == ["***"]
    assert response["headers"]["Location"] == ["http://api.test/next?code=***"]
    assert b"at-123456" not in response["body"]["string"]
    assert response["headers"]["Content-Length"] == [str(len(response["body"]["string"]))]
    binary = scrub.response({"headers": {}, "body": {"string": b"\xff\xfe\x00binary"}})
    assert binary["body"]["string"] == b"\xff\xfe\x00binary"


