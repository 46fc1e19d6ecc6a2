"""Logging: a silent library logger, one redacted DEBUG line per request with the correlation id."""

from __future__ import annotations

import logging

import pytest
import requests
import responses

import myclient


def test_library_logger_is_silent_and_unconfigured_at_import() -> None:
    logger = logging.getLogger("myclient")
    assert any(isinstance(h, logging.NullHandler) for h in logger.handlers)
    assert all(isinstance(h, logging.NullHandler) for h in logger.handlers)
    assert logger.level == logging.NOTSET
    assert logger.propagate


def test_one_debug_record_per_request_with_cid_and_no_secrets(caplog: pytest.LogCaptureFixture) -> None:
    session = requests.Session()
    session.headers["X-Gateway-Key"] = "gateway-secret-1"
    client = myclient.Client("https://api.example/v1", token="token-secret-2", session=session)
    caplog.set_level(logging.DEBUG, logger="myclient")
    with responses.RequestsMock() as rs:
        rs.get("https://api.example/v1/users", json={"password": "body-secret-3"})
        rs.post("https://api.example/v1/users", status=500, json={})
        client.adapter.get("/users", params={"access_token": "query-secret-4", "page": 2})
        with pytest.raises(myclient.ServerError):
            client.adapter.post("/users", json={"password": "body-secret-5"})
    records = [r for r in caplog.records if r.name == "myclient"]
    assert len(records) == 2
    first, second = (r.getMessage() for r in records)
    assert first.startswith("GET https://api.example/v1/users?access_token=***&page=2 -> 200 in ")
    assert first.endswith(f" ms cid={client.cid}")
    assert second.startswith("POST https://api.example/v1/users -> 500 in ")
    text = caplog.text
    for secret in ("gateway-secret-1", "token-secret-2", "body-secret-3", "query-secret-4", "body-secret-5"):
        assert secret not in text
    assert records[0].levelno == logging.DEBUG
    assert records[0].myclient_cid == client.cid  # type: ignore[attr-defined]
    assert records[0].myclient_status == 200  # type: ignore[attr-defined]


def test_transport_failure_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="myclient")
    client = myclient.Client("https://api.example", retry=None)
    with responses.RequestsMock() as rs:
        rs.get("https://api.example/x", body=requests.ConnectionError("refused"))
        with pytest.raises(myclient.ConnectError):
            client.adapter.get("/x")
    messages = [r.getMessage() for r in caplog.records if r.name == "myclient"]
    assert len(messages) == 1
    assert "-> ConnectError in" in messages[0]


def test_nothing_is_logged_above_debug(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="myclient")
    client = myclient.Client("https://api.example")
    with responses.RequestsMock() as rs:
        rs.get("https://api.example/x", json={})
        client.adapter.get("/x")
    assert [r for r in caplog.records if r.name == "myclient"] == []


