"""Unit-test isolation: no environment CA bundle or proxy leaks into what requests decides."""

from __future__ import annotations

import pytest

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
