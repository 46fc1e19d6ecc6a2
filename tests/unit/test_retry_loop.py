"""The adapter's retry loop: attempts, idempotency keys, Retry-After, deadlines and history."""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses
from requests.adapters import HTTPAdapter

import myclient

BASE = "https://api.example"


class FakeTime:
    """Clock and sleep for the client: sleeping advances the clock, nothing waits."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def rs() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def ft() -> FakeTime:
    return FakeTime()


def _client(ft: FakeTime, **kwargs: Any) -> myclient.Client:
    return myclient.Client(BASE, sleep=ft.sleep, clock=ft.clock, random=lambda: 1.0, **kwargs)


def test_get_is_retried_through_503s_to_success(rs: responses.RequestsMock, ft: FakeTime) -> None:
    rs.get(f"{BASE}/x", status=503)
    rs.get(f"{BASE}/x", status=503)
    rs.get(f"{BASE}/x", json={"ok": True})
    assert _client(ft).adapter.get("/x") == {"ok": True}
    assert len(rs.calls) == 3
    assert ft.sleeps == [0.5, 1.0]


def test_exhausted_retries_raise_the_real_last_error_with_history(rs: responses.RequestsMock, ft: FakeTime) -> None:
    for _ in range(3):
        rs.get(f"{BASE}/x", status=503, json={"message": "down"}, headers={"X-Request-ID": "r"})
    with pytest.raises(myclient.ServiceUnavailable) as info:
        _client(ft).adapter.get("/x")
    err = info.value
    assert [a.status for a in err.attempts] == [503, 503, 503]
    assert [a.slept for a in err.attempts] == [0.5, 1.0, 0.0]
    assert err.request_id == "r"
    assert "retries" not in str(err).lower()


def test_post_without_key_is_not_retried_after_503(rs: responses.RequestsMock, ft: FakeTime) -> None:
    rs.post(f"{BASE}/x", status=503)
    with pytest.raises(myclient.ServiceUnavailable) as info:
        _client(ft).adapter.post("/x", json={"a": 1})
    assert len(rs.calls) == 1
    assert len(info.value.attempts) == 1
    assert ft.sleeps == []


def test_post_with_generated_key_sends_one_key_on_every_attempt(rs: responses.RequestsMock, ft: FakeTime) -> None:
    rs.post(f"{BASE}/x", status=502)
    rs.post(f"{BASE}/x", status=201, json={"id": 1})
    assert _client(ft).adapter.post("/x", json={"a": 1}, idempotency_key=True) == {"id": 1}
    keys = [c.request.headers["Idempotency-Key"] for c in rs.calls]
    assert len(keys) == 2
    assert keys[0] == keys[1]
    assert len(keys[0]) == 36


def test_each_call_gets_its_own_key(rs: responses.RequestsMock, ft: FakeTime) -> None:
    rs.post(f"{BASE}/x", json={})
    rs.post(f"{BASE}/x", json={})
    client = _client(ft, idempotency_key=True)
    client.adapter.post("/x")
    client.adapter.post("/x")
    first, second = (c.request.headers["Idempotency-Key"] for c in rs.calls)
    assert first != second


def test_caller_key_and_custom_header_are_used_as_given(rs: responses.RequestsMock, ft: FakeTime) -> None:
    rs.patch(f"{BASE}/x", status=503)
    rs.patch(f"{BASE}/x", json={})
    _client(ft, idempotency_header="X-Idem").adapter.patch("/x", idempotency_key="order-42")
    assert [c.request.headers["X-Idem"] for c in rs.calls] == ["order-42", "order-42"]
    assert "Idempotency-Key" not in rs.calls[0].request.headers


def test_key_passed_as_header_counts_as_keyed(rs: responses.RequestsMock, ft: FakeTime) -> None:
    rs.post(f"{BASE}/x", status=503)
    rs.post(f"{BASE}/x", json={})
    _client(ft).adapter.post("/x", headers={"idempotency-key": "k1"})
    assert len(rs.calls) == 2


def test_client_default_keys_only_post_and_patch(rs: responses.RequestsMock, ft: FakeTime) -> None:
    rs.get(f"{BASE}/x", json={})
    rs.put(f"{BASE}/x", json={})
    rs.post(f"{BASE}/x", json={})
    client = _client(ft, idempotency_key=True)
    client.adapter.get("/x")
    client.adapter.put("/x")
    client.adapter.post("/x")
    assert ["Idempotency-Key" in c.request.headers for c in rs.calls] == [False, False, True]


def test_per_call_false_turns_the_default_key_off(rs: responses.RequestsMock, ft: FakeTime) -> None:
    rs.post(f"{BASE}/x", json={})
    _client(ft, idempotency_key=True).adapter.post("/x", idempotency_key=False)
    assert "Idempotency-Key" not in rs.calls[0].request.headers


@pytest.mark.parametrize("bad", ["", 5])
def test_invalid_keys_are_refused(rs: responses.RequestsMock, ft: FakeTime, bad: Any) -> None:
    with pytest.raises(myclient.UsageError, match="idempotency_key"):
        _client(ft).adapter.post("/x", idempotency_key=bad)


def test_connect_error_is_retried_even_for_post(rs: responses.RequestsMock, ft: FakeTime) -> None:
    rs.post(f"{BASE}/x", body=requests.ConnectionError("refused"))
    rs.post(f"{BASE}/x", status=201, json={"id": 9})
    assert _client(ft).adapter.post("/x") == {"id": 9}


def test_read_timeout_is_retried_for_get_but_not_post(rs: responses.RequestsMock, ft: FakeTime) -> None:
    rs.get(f"{BASE}/x", body=requests.exceptions.ReadTimeout("slow"))
    rs.get(f"{BASE}/x", json={})
    rs.post(f"{BASE}/y", body=requests.exceptions.ReadTimeout("slow"))
    client = _client(ft)
    assert client.adapter.get("/x") == {}
    with pytest.raises(myclient.ReadTimeout) as info:
        client.adapter.post("/y")
    assert len(info.value.attempts) == 1
    assert len(rs.calls) == 3


def test_transport_history_lists_every_attempt(rs: responses.RequestsMock, ft: FakeTime) -> None:
    for _ in range(3):
        rs.get(f"{BASE}/x", body=requests.ConnectionError("refused"))
    with pytest.raises(myclient.ConnectError) as info:
        _client(ft).adapter.get("/x")
    assert [a.outcome for a in info.value.attempts] == ["ConnectError"] * 3


def test_retry_after_is_slept_exactly(rs: responses.RequestsMock, ft: FakeTime) -> None:
    rs.get(f"{BASE}/x", status=429, headers={"Retry-After": "2"})
    rs.get(f"{BASE}/x", json={})
    _client(ft).adapter.get("/x")
    assert ft.sleeps == [2.0]


def test_retry_after_longer_than_deadline_raises_at_once(rs: responses.RequestsMock, ft: FakeTime) -> None:
    rs.get(f"{BASE}/x", status=429, headers={"Retry-After": "3600"})
    with pytest.raises(myclient.RateLimited) as info:
        _client(ft, retry=myclient.RetryPolicy(retry_after_cap=7200)).adapter.get("/x", deadline=2)
    assert info.value.retry_after == 3600
    assert ft.sleeps == []


def test_retry_after_longer_than_cap_raises_at_once(rs: responses.RequestsMock, ft: FakeTime) -> None:
    rs.get(f"{BASE}/x", status=503, headers={"Retry-After": "3600"})
    with pytest.raises(myclient.ServiceUnavailable) as info:
        _client(ft).adapter.get("/x")
    assert info.value.retry_after == 3600
    assert len(rs.calls) == 1


def test_attempt_timeouts_are_clipped_to_the_deadline(rs: responses.RequestsMock, ft: FakeTime) -> None:
    rs.get(f"{BASE}/x", status=503)
    rs.get(f"{BASE}/x", status=503)
    rs.get(f"{BASE}/x", json={})
    _client(ft, timeout=(5, 30), retry=myclient.RetryPolicy(backoff=1, backoff_cap=1)).adapter.get(
        "/x", deadline=10)
    timeouts = [c.request.req_kwargs["timeout"] for c in rs.calls]
    assert timeouts == [(5, 10), (5, 9), (5, 8)]


def test_deadline_stops_retrying_when_the_wait_would_pass_it(rs: responses.RequestsMock, ft: FakeTime) -> None:
    for _ in range(2):
        rs.get(f"{BASE}/x", status=503)
    policy = myclient.RetryPolicy(attempts=10, backoff=4, backoff_cap=4)
    with pytest.raises(myclient.ServiceUnavailable) as info:
        _client(ft, retry=policy).adapter.get("/x", deadline=6)
    assert ft.sleeps == [4.0]
    assert len(info.value.attempts) == 2


def test_per_call_retry_overrides_the_client(rs: responses.RequestsMock, ft: FakeTime) -> None:
    rs.get(f"{BASE}/x", status=503)
    with pytest.raises(myclient.ServiceUnavailable):
        _client(ft).adapter.get("/x", retry=None)
    assert len(rs.calls) == 1


def test_client_retry_none_disables_retries(rs: responses.RequestsMock, ft: FakeTime) -> None:
    rs.get(f"{BASE}/x", status=503)
    with pytest.raises(myclient.ServiceUnavailable):
        _client(ft, retry=None).adapter.get("/x")
    assert len(rs.calls) == 1


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "3", True])
def test_invalid_deadlines_are_refused(bad: Any, ft: FakeTime) -> None:
    with pytest.raises(myclient.UsageError, match="deadline"):
        _client(ft, deadline=bad)


def test_invalid_retry_is_refused(ft: FakeTime) -> None:
    with pytest.raises(myclient.UsageError, match="RetryPolicy"):
        _client(ft, retry=3)


def test_seekable_body_is_rewound_for_the_retry(rs: responses.RequestsMock, ft: FakeTime) -> None:
    bodies: list[bytes] = []

    def capture(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        body = request.body
        bodies.append(body.read() if hasattr(body, "read") else body)  # type: ignore[union-attr,arg-type]
        return (503 if len(bodies) == 1 else 200, {}, "{}")

    rs.add_callback("PUT", f"{BASE}/x", callback=capture)
    stream = io.BytesIO(b"payload")
    _client(ft).adapter.put("/x", data=stream)
    assert bodies == [b"payload", b"payload"]


def test_generator_body_is_not_resent(rs: responses.RequestsMock, ft: FakeTime) -> None:
    rs.put(f"{BASE}/x", status=503)
    with pytest.raises(myclient.ServiceUnavailable):
        _client(ft).adapter.put("/x", data=(chunk for chunk in [b"a", b"b"]))
    assert len(rs.calls) == 1


def test_session_with_its_own_retries_triggers_one_warning() -> None:
    session = requests.Session()
    session.mount("https://", HTTPAdapter(max_retries=3))
    with pytest.warns(RuntimeWarning, match="already retries"):
        myclient.Client(BASE, session=session)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        myclient.Client(BASE, session=session, retry=None)
        myclient.Client(BASE, session=requests.Session())


def test_watchdog_sweeps_cancelled_alarms_and_still_fires() -> None:
    import threading

    from myclient._deadline import _COMPACT_AT, Watchdog

    dog = Watchdog()
    for _ in range(_COMPACT_AT * 3):
        dog.arm(3600, lambda: None).cancelled = True
    assert len(dog._heap) <= _COMPACT_AT + 1
    fired = threading.Event()
    dog.arm(0.0, fired.set)
    assert fired.wait(5)
