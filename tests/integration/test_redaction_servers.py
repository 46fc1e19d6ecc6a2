"""The redaction registry against real servers: cookies a server rotates on every response (nginx)
and cookies set to common words (httpbin) must neither slow calls down, grow memory, nor blank text."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from servers import Gateway

import myclient
from myclient.redaction import MASK, registry


@pytest.fixture
def debug_logging() -> Iterator[None]:
    """The myclient logger at DEBUG (every call formats a redacted line) into a handler that discards."""
    logger = logging.getLogger("myclient")
    handler = logging.NullHandler()
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.fixture
def myclient_compiles(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The length of every pattern myclient code compiles while the test runs."""
    calls: list[int] = []
    real = re.compile

    def spy(pattern: Any, flags: int = 0) -> Any:
        if str(sys._getframe(1).f_globals.get("__name__", "")).startswith("myclient"):
            calls.append(len(pattern))
        return real(pattern, flags)

    monkeypatch.setattr(re, "compile", spy)
    return calls


def _session(**headers: str) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.headers.update(headers)
    return session


def test_a_cookie_rotated_on_every_response_costs_the_same_on_the_last_call_as_on_the_first(
        gateway: Gateway, debug_logging: None, myclient_compiles: list[int]) -> None:
    session = _session(**{gateway.header_name: gateway.gateway_key})
    client = myclient.Client(gateway.http_url, session=session, retry=None)
    seen = set()
    for _ in range(300):  # fill the learned pool: from here on every call evicts one value
        assert client.adapter.get("/rotating-cookie") == {"rotating": True}
        seen.add(session.cookies["sid"])
    assert myclient_compiles == []  # nothing is recompiled per call or per value
    work = []
    for _ in range(3):
        before = registry._literals.touched
        for _ in range(500):
            client.adapter.get("/rotating-cookie")
            seen.add(session.cookies["sid"])
        work.append(registry._literals.touched - before)
    assert len(seen) == 1_800  # nginx really set a new value every time
    assert myclient_compiles == []
    assert work[-1] <= work[0] * 1.15  # index work per call does not grow with the values seen
    _, learned, entries = registry.sizes()
    assert learned <= 256 and entries <= 256 * 8 * 8  # memory bounded whatever the server sends
    latest = session.cookies["sid"]
    with pytest.raises(myclient.NotFound) as info:
        client.adapter.get("/status/404", params={"state": latest})
    assert latest not in str(info.value) and f"state={MASK}" in str(info.value)


def test_cookies_set_to_common_words_do_not_blank_later_messages(
        httpbin_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="myclient")
    client = myclient.Client(httpbin_url, session=_session(), retry=None)
    client.adapter.get("/cookies/set", params={"ip": "127.0.0.1", "msg": "not found", "state": "deleted"})
    assert client.session.cookies["ip"] == "127.0.0.1"
    with pytest.raises(myclient.NotFound) as info:
        client.adapter.get("/status/404", params={"q": "not found", "s": "deleted"})
    message = str(info.value)
    assert f"{httpbin_url}/status/404?q=not+found&s=deleted" in message and MASK not in message
    lines = [r.getMessage() for r in caplog.records if "/status/404" in r.getMessage()]
    assert lines and all(httpbin_url in line and MASK not in line for line in lines)
