"""Hooks and the access log: every request, response, retry and give-up observed, redacted."""

from __future__ import annotations

import logging

import pytest
import requests
import responses

import myclient
from myclient.hooks import Event

BASE = "https://api.example"


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def names(self) -> list[str]:
        return [e.name for e in self.events]



def _client(rec: Recorder, **kwargs: object) -> myclient.Client:
    hooks = {name: rec for name in ("on_request", "on_response", "on_retry", "on_give_up")}
    return myclient.Client(BASE, hooks=hooks, sleep=lambda s: None, random=lambda: 1.0, **kwargs)  # type: ignore[arg-type]


def test_hooks_see_requests_responses_and_retries(rs: responses.RequestsMock) -> None:
    rs.get(f"{BASE}/x", status=503, headers={"X-Request-ID": "r1"})
    rs.get(f"{BASE}/x", json={}, headers={"X-Request-ID": "r2"})
    rec = Recorder()
    _client(rec).adapter.get("/x", params={"access_token": "query-secret-1"})
    assert rec.names() == ["on_request", "on_response", "on_retry", "on_request", "on_response"]
    retry = rec.events[2]
    assert (retry.attempt, retry.delay, retry.status, retry.request_id) == (1, 0.5, 503, "r1")
    assert retry.reason == "status 503"
    final = rec.events[-1]
    assert (final.attempt, final.status, final.request_id, final.method) == (2, 200, "r2", "GET")
    assert final.total >= final.elapsed >= 0
    assert all("query-secret-1" not in e.url for e in rec.events)
    assert final.url == f"{BASE}/x?access_token=***"


def test_give_up_after_a_non_retryable_status(rs: responses.RequestsMock) -> None:
    rs.post(f"{BASE}/x", status=503)
    rec = Recorder()
    with pytest.raises(myclient.ServiceUnavailable):
        _client(rec).adapter.post("/x")
    give_up = rec.events[-1]
    assert give_up.name == "on_give_up"
    assert isinstance(give_up.error, myclient.ServiceUnavailable)
    assert give_up.reason is not None and "not idempotent" in give_up.reason
    assert give_up.status == 503


def test_give_up_after_transport_failures(rs: responses.RequestsMock) -> None:
    for _ in range(3):
        rs.get(f"{BASE}/x", body=requests.ConnectionError("refused"))
    rec = Recorder()
    with pytest.raises(myclient.ConnectError):
        _client(rec).adapter.get("/x")
    assert rec.names() == ["on_request", "on_retry", "on_request", "on_retry", "on_request", "on_give_up"]
    assert rec.events[-1].reason == "gave up after 3 attempts"


def test_a_failing_hook_does_not_break_the_call(rs: responses.RequestsMock, caplog: pytest.LogCaptureFixture) -> None:
    rs.get(f"{BASE}/x", json={"ok": 1})

    def broken(event: Event) -> None:
        raise RuntimeError("observer bug")

    client = myclient.Client(BASE, hooks={"on_response": broken})
    assert client.adapter.get("/x") == {"ok": 1}
    assert "raised; ignored" in caplog.text


def test_hooks_registered_after_construction_and_validated(rs: responses.RequestsMock) -> None:
    rs.get(f"{BASE}/x", json={})
    client = myclient.Client(BASE)
    rec = Recorder()
    assert client.hooks.add("on_response", rec) is rec
    client.adapter.get("/x")
    assert rec.names() == ["on_response"]
    client.hooks.remove("on_response", rec)
    with pytest.raises(myclient.UsageError, match="unknown hook"):
        client.hooks.add("on_everything", rec)
    with pytest.raises(myclient.UsageError, match="callable"):
        client.hooks.add("on_retry", "nope")  # type: ignore[arg-type]


def test_access_log_writes_one_info_line_per_call(rs: responses.RequestsMock, caplog: pytest.LogCaptureFixture) -> None:
    rs.get(f"{BASE}/x", status=503)
    rs.get(f"{BASE}/x", json={}, headers={"X-Request-ID": "rid-9"})
    rs.get(f"{BASE}/missing", status=404)
    caplog.set_level(logging.INFO, logger="myclient.access")
    client = myclient.Client(BASE, access_log=True, sleep=lambda s: None, token="tok-abc-123456")
    client.adapter.get("/x", params={"api_key": "k-secret-1"})
    with pytest.raises(myclient.NotFound):
        client.adapter.get("/missing")
    lines = [r.getMessage() for r in caplog.records if r.name == "myclient.access"]
    assert len(lines) == 2
    assert lines[0].startswith(f"GET {BASE}/x?api_key=*** 200 ")
    assert "attempts=2 rid=rid-9" in lines[0]
    assert lines[1].startswith(f"GET {BASE}/missing 404 ")
    assert "k-secret-1" not in caplog.text
    assert "tok-abc-123456" not in caplog.text


def test_access_log_is_off_by_default(rs: responses.RequestsMock, caplog: pytest.LogCaptureFixture) -> None:
    rs.get(f"{BASE}/x", json={})
    caplog.set_level(logging.INFO, logger="myclient.access")
    myclient.Client(BASE).adapter.get("/x")
    assert [r for r in caplog.records if r.name == "myclient.access"] == []


def test_raw_response_carries_total_time_with_retries(rs: responses.RequestsMock) -> None:
    rs.get(f"{BASE}/x", status=503)
    rs.get(f"{BASE}/x", body="ok")
    ticks = iter([0.0, 0.0, 1.0, 1.0, 5.0, 5.0, 6.0, 6.0, 7.0, 7.0, 8.0, 8.0])
    client = myclient.Client(BASE, adapter=myclient.RawAdapter, sleep=lambda s: None, clock=lambda: next(ticks))
    response = client.adapter.get("/x")
    assert response.total_elapsed > 0
    assert response.elapsed is not None
