"""Typed, detailed results against httpbin: Result fields, decode= per call, ok_statuses."""

from __future__ import annotations

from typing import Any

import pytest
import requests

import myclient


@pytest.fixture
def client(httpbin_url: str) -> myclient.Client:
    session = requests.Session()
    session.trust_env = False
    return myclient.Client(httpbin_url, session=session, timeout=10)


def test_result_carries_status_headers_data_content_and_facts(client: myclient.Client, httpbin_url: str) -> None:
    result = client.adapter.get("/response-headers", params={"X-Request-ID": "rid-9", "a": "1"}, detailed=True)
    assert isinstance(result, myclient.Result) and result.ok
    assert result.status == 200 and result.method == "GET"
    assert result.headers["X-Request-ID"] == "rid-9" and result.request_id == "rid-9"
    assert result.data["a"] == "1" and b'"a"' in result.content
    assert result.elapsed > 0 and result.attempts == 1 and result.history == []
    assert result.url == f"{httpbin_url}/response-headers?X-Request-ID=rid-9&a=1"
    assert result.response.status_code == 200


def test_decode_auto_json_text_and_binary(client: myclient.Client) -> None:
    assert client.adapter.get("/json", decode="auto")["slideshow"]["title"] == "Sample Slide Show"
    text = client.adapter.get("/robots.txt", decode="auto")
    assert isinstance(text, bytes) and text.startswith(b"User-agent")
    png = client.adapter.get("/image/png", decode="auto")
    assert isinstance(png, bytes) and png.startswith(b"\x89PNG")
    assert client.adapter.get("/robots.txt", decode="text").startswith("User-agent")
    assert isinstance(client.adapter.get("/json", decode="response"), requests.Response)


def test_decode_with_a_model_class_and_a_callable(client: myclient.Client) -> None:
    class Echo:
        def __init__(self, url: str, args: dict[str, Any], **rest: Any) -> None:
            self.url, self.args = url, args

    echo = client.adapter.get("/get", params={"q": "x"}, decode=Echo)
    assert isinstance(echo, Echo) and echo.args == {"q": "x"}
    assert client.adapter.get("/get", decode=lambda r: r.status_code) == 200
    with pytest.raises(myclient.InvalidResponse, match="does not fit"):
        client.adapter.get("/json", decode=Echo)


def test_ok_statuses_return_a_result_instead_of_raising(client: myclient.Client) -> None:
    result = client.adapter.get("/status/404", ok_statuses=[404], detailed=True)
    assert result.status == 404 and not result.ok and result.data is None
    lenient = client.with_options(ok_statuses=[404, 409])
    assert lenient.adapter.get("/status/409", detailed=True).status == 409
    with pytest.raises(myclient.NotFound):
        client.adapter.get("/status/404")
    assert client.adapter.get("/status/500", raise_on_error=False, retry=None, detailed=True).status == 500


@pytest.mark.parametrize(("method", "path"), [("GET", "/status/204"), ("HEAD", "/get"), ("GET", "/status/304")])
def test_a_bodiless_answer_leaves_its_connection_clean_for_the_next_call(
    httpbin_url: str, method: str, path: str
) -> None:
    """A held Result of a 204/304/HEAD must not leave http.client's response on the pooled connection.

    Released unread, the next request on that connection failed at once with ConnectionLost
    (``http.client.ResponseNotReady: Request-sent``) — what the README's async example hit.
    """
    session = requests.Session()
    session.trust_env = False
    client = myclient.Client(httpbin_url, session=session, retry=None, ok_statuses={304})
    held = [client.adapter.request(method, path, detailed=True) for _ in range(3)]  # kept alive on purpose
    assert [r.status for r in held] == [held[0].status] * 3
    assert client.adapter.post("/anything", json={"n": 1})["json"] == {"n": 1}
    assert client.adapter.transport.pool_stats(httpbin_url)["opened"] == 1  # one connection, reused cleanly
