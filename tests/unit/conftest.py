"""Unit-test isolation (no environment CA bundle or proxy leaks into what requests decides, no sleeping) and
the shared ``rs`` fixture: ``responses`` mocking every request, requiring each registered one to be used
unless the module is marked ``loose_mock``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses

_ENV = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY",
        "http_proxy", "https_proxy", "all_proxy", "no_proxy")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)


def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"unit tests must not sleep (asked for {seconds}s): inject sleep= instead")


@pytest.fixture(autouse=True)
def _forbid_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("time.sleep", _no_sleep)


@pytest.fixture
def rs(request: pytest.FixtureRequest) -> Iterator[responses.RequestsMock]:
    """``responses`` for the test; every registered response must be used unless marked ``loose_mock``."""
    strict = request.node.get_closest_marker("loose_mock") is None
    with responses.RequestsMock(assert_all_requests_are_fired=strict) as mock:
        yield mock
