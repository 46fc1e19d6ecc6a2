"""Client-side rate limiting (``myclient.RateLimit``) with an injected clock: no sleeping, no network.

Covers the local GCRA limiter (spacing, burst, keys, threads, coroutines, the bound on buckets), waits
against the deadline (``RateLimited`` at once, nothing sent, nothing reserved), the limits a server
announces (``X-RateLimit-*``, the IETF ``RateLimit`` headers, ``Retry-After``), and the shared
limiter's failure modes with a Redis client that cannot answer. The real Redis and nginx runs are in
``tests/integration/test_fleet.py``.
"""

from __future__ import annotations

import asyncio
import email.utils
import itertools
import logging
import math
import threading
from collections.abc import Callable
from typing import Any, ClassVar

import pytest
import redis
import requests

import myclient
from myclient import ratelimit as rl
from myclient.calls import Call
from myclient.testing.mock import MockResponse, MockTransport

BASE = "https://api.example.test"


class FakeTime:
    """A clock that only sleeping moves; records every sleep and the clock at every send."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self.lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.sleeps.append(seconds)
            self.now += seconds


def client(limit: myclient.RateLimit, t: FakeTime, mock: MockTransport, **options: Any) -> myclient.Adapter:
    """The adapter of a Client limited by ``limit``, on the fake time ``t``."""
    return myclient.Client(BASE, transport=mock, rate_limit=limit, clock=t.clock, sleep=t.sleep, **options).adapter


def stamping(t: FakeTime, sent: list[float], answer: MockResponse | None = None) -> Callable[[Call], MockResponse]:
    def answer_call(call: Call) -> MockResponse:
        sent.append(t.now)
        return answer or MockResponse(json={"ok": True})

    return answer_call


def mock_with(t: FakeTime, sent: list[float], path: str = "/items",
              answer: MockResponse | None = None) -> MockTransport:
    mock = MockTransport()
    mock.add("*", path, answers=[stamping(t, sent, answer)])
    return mock


# ------------------------------------------------------------------------------------------ validation
@pytest.mark.parametrize(
    "kwargs",
    [
        {"rate": 0},
        {"rate": -1},
        {"rate": math.nan},
        {"rate": math.inf},
        {"rate": True},
        {"rate": "50"},
        {"rate": 5, "per": 0},
        {"rate": 5, "per": -1},
        {"rate": 5, "per": math.nan},
        {"rate": 5, "burst": 0},
        {"rate": 5, "burst": 1.5},
        {"rate": 5, "key": "user"},
        {"rate": 5, "on_unavailable": "ignore"},
    ],
)
def test_bad_arguments_are_usage_errors(kwargs: dict[str, Any]) -> None:
    with pytest.raises(myclient.UsageError):
        myclient.RateLimit(**kwargs)


def test_rate_limit_option_must_be_a_rate_limit() -> None:
    with pytest.raises(myclient.UsageError, match=r"rate_limit must be a myclient\.RateLimit"):
        myclient.Client(BASE, rate_limit=50)


def test_redis_client_without_socket_timeout_is_refused() -> None:
    with pytest.raises(myclient.UsageError, match="socket_timeout"):
        myclient.RateLimit(5, redis=redis.Redis(port=1, socket_timeout=None))
    with pytest.raises(myclient.UsageError, match=r"redis\.Redis"):
        myclient.RateLimit(5, redis=object())


# ------------------------------------------------------------------------------------------ local GCRA
def test_requests_are_spaced_evenly_at_the_rate() -> None:
    t, sent = FakeTime(), []
    api = client(myclient.RateLimit(10, per=1), t, mock_with(t, sent))
    for _ in range(20):
        api.get("/items")
    gaps = [round(b - a, 9) for a, b in itertools.pairwise(sent)]
    assert gaps == [0.1] * 19  # 10 per second, never two closer
    assert sent[-1] - sent[0] == pytest.approx(1.9)


def test_burst_goes_at_once_then_the_rate_holds() -> None:
    t, sent = FakeTime(), []
    api = client(myclient.RateLimit(2, per=1, burst=5), t, mock_with(t, sent))
    for _ in range(9):
        api.get("/items")
    start = sent[0]
    assert [round(s - start, 9) for s in sent] == [0, 0, 0, 0, 0, 0.5, 1.0, 1.5, 2.0]
    # In any window of w seconds at most burst + rate * w requests went out.
    for i, a in enumerate(sent):
        for j in range(i, len(sent)):
            assert j - i + 1 <= 5 + 2 * (sent[j] - a) + 1e-9


def test_idle_time_refills_the_burst_but_never_beyond_it() -> None:
    t, sent = FakeTime(), []
    api = client(myclient.RateLimit(1, per=1, burst=3), t, mock_with(t, sent))
    for _ in range(3):
        api.get("/items")
    t.now += 3600  # an hour idle: still only 3 at once
    before = len(t.sleeps)
    for _ in range(4):
        api.get("/items")
    assert t.sleeps[before:] == [1.0]
    assert sent[-1] - sent[-2] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("key", "targets", "separate"),
    [
        # (base URL, path) of each call; clients with different base URLs share one RateLimit.
        ("client", [(BASE, "/items"), (BASE, "/other")], False),
        ("client", [(f"{BASE}/v1", "/items"), (f"{BASE}/v2", "/items")], True),
        ("host", [(f"{BASE}/v1", "/items"), (f"{BASE}/v2", "/items")], False),
        ("host", [(BASE, "/items"), ("https://other.test", "/items")], True),
        ("route", [(BASE, "/items"), (BASE, "/other")], True),
        ("route", [(BASE, "/items?page=1"), (BASE, "/items?page=2")], False),
    ],
)
def test_bucket_keys(key: str, targets: list[tuple[str, str]], separate: bool) -> None:
    t, sent = FakeTime(), []
    mock = MockTransport()
    mock.add("*", "*", answers=[stamping(t, sent)])
    limit = myclient.RateLimit(1, per=10, key=key)
    for base, path in targets:
        myclient.Client(base, transport=mock, rate_limit=limit, clock=t.clock, sleep=t.sleep).adapter.get(path)
    assert t.sleeps == ([] if separate else [10.0])


def test_a_function_of_the_call_names_the_bucket() -> None:
    t, sent = FakeTime(), []
    mock = MockTransport()
    mock.add("*", "*", answers=[stamping(t, sent)])
    tenant = myclient.RateLimit(1, per=10, key=lambda call: call.headers.get("X-Tenant", "-"))
    api = client(tenant, t, mock)
    api.get("/a", headers={"X-Tenant": "t1"})
    api.get("/a", headers={"X-Tenant": "t2"})
    assert t.sleeps == []
    api.get("/a", headers={"X-Tenant": "t1"})
    assert t.sleeps == [10.0]


def test_clients_sharing_one_rate_limit_share_its_buckets() -> None:
    t, sent = FakeTime(), []
    limit = myclient.RateLimit(1, per=1)
    first, second = client(limit, t, mock_with(t, sent)), client(limit, t, mock_with(t, sent))
    first.get("/items")
    second.get("/items")
    assert t.sleeps == [1.0]


def test_threads_each_get_their_own_slot() -> None:
    """400 calls from 8 threads on a frozen clock: every wait is a distinct slot, none reused, none skipped."""
    frozen = FakeTime()
    waits: list[float] = []
    lock = threading.Lock()

    def record(seconds: float) -> None:
        with lock:
            waits.append(seconds)

    mock = MockTransport()
    mock.add("GET", "/items", json={})
    api = myclient.Client(BASE, transport=mock, rate_limit=myclient.RateLimit(10, per=1), clock=frozen.clock,
                          sleep=record).adapter
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        for _ in range(50):
            api.get("/items")

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    slots = sorted([0.0] * (400 - len(waits)) + waits)
    assert [round(s, 6) for s in slots] == [round(i / 10, 6) for i in range(400)]
    assert len(mock.calls) == 400


def test_coroutines_each_get_their_own_slot() -> None:
    frozen = FakeTime()
    waits: list[float] = []
    mock = MockTransport()
    mock.add("GET", "/items", json={})

    async def main() -> None:
        async with myclient.AsyncClient(BASE, transport=mock, rate_limit=myclient.RateLimit(100, per=1),
                                        clock=frozen.clock, sleep=waits.append, max_workers=16) as api:
            await asyncio.gather(*(api.adapter.get("/items") for _ in range(200)))

    asyncio.run(main())
    slots = sorted([0.0] * (200 - len(waits)) + waits)
    assert [round(s, 6) for s in slots] == [round(i / 100, 6) for i in range(200)]


def test_buckets_are_bounded_when_keys_are_not() -> None:
    """key="route" over paths with ids: 10,000 distinct buckets on a frozen clock stay within the bound."""
    frozen = FakeTime()
    local = rl._Local(frozen.clock)
    for i in range(10_000):
        local.reserve(f"GET /users/{i}", 1.0, 0.0, None)
        local.block(f"GET /users/{i}", 5.0)
    assert len(local._tat) <= rl.MAX_BUCKETS
    assert len(local._blocked) <= rl.MAX_BUCKETS
    # The newest buckets are the ones kept, and they still hold their reservation.
    ok, wait = local.reserve("GET /users/9999", 1.0, 0.0, None)
    assert ok and wait == pytest.approx(5.0)


# ------------------------------------------------------------------------------------------ deadlines
def test_a_wait_longer_than_the_deadline_raises_at_once_without_sending() -> None:
    t, sent = FakeTime(), []
    mock = mock_with(t, sent)
    api = client(myclient.RateLimit(1, per=10), t, mock)
    api.get("/items")
    with pytest.raises(myclient.RateLimited) as caught:
        api.get("/items", deadline=2)
    error = caught.value
    assert error.status == 429 and error.response is None
    assert error.retry_after == pytest.approx(10.0)
    assert "client-side" in str(error) and "nothing was sent" in str(error)
    assert len(sent) == 1 and t.sleeps == []  # not sent, and no time spent waiting
    # Nothing was reserved by the refused call: the next slot is still 10 s after the first.
    api.get("/items")
    assert t.sleeps == [10.0]


def test_a_wait_within_the_deadline_is_taken() -> None:
    t, sent = FakeTime(), []
    api = client(myclient.RateLimit(1, per=1), t, mock_with(t, sent))
    api.get("/items")
    api.get("/items", deadline=1.5)
    assert t.sleeps == [1.0] and len(sent) == 2


def test_a_client_deadline_applies_too() -> None:
    t, sent = FakeTime(), []
    api = client(myclient.RateLimit(1, per=60), t, mock_with(t, sent), deadline=5)
    api.get("/items")
    with pytest.raises(myclient.RateLimited):
        api.get("/items")
    assert len(sent) == 1


# ------------------------------------------------------------------------------------------ announced limits
def answering(t: FakeTime, sent: list[float], first: MockResponse) -> MockTransport:
    """The first call gets ``first``; later ones 200."""
    mock = MockTransport()
    answers: list[Any] = [stamping(t, sent, first), stamping(t, sent)]
    mock.add("*", "/items", answers=answers)
    return mock


@pytest.mark.parametrize(
    ("headers", "status", "wait"),
    [
        ({"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "30"}, 200, 30.0),
        ({"RateLimit-Limit": "100", "RateLimit-Remaining": "0", "RateLimit-Reset": "7"}, 200, 7.0),
        ({"RateLimit": '"default";r=0;t=12', "RateLimit-Policy": '"default";q=100;w=60'}, 200, 12.0),
        ({"Retry-After": "4"}, 429, 4.0),
        ({"Retry-After": "9"}, 503, 9.0),
    ],
)
def test_an_announced_empty_budget_makes_the_next_call_wait_for_the_reset(
    headers: dict[str, str], status: int, wait: float
) -> None:
    t, sent = FakeTime(), []
    api = client(myclient.RateLimit(None), t, answering(t, sent, MockResponse(status, json={}, headers=headers)),
                 retry=None, raise_on_error=False)
    api.get("/items")
    api.get("/items")
    assert t.sleeps == [pytest.approx(wait)]
    assert sent[1] - sent[0] == pytest.approx(wait)  # 0 requests sent before the reset


def test_an_epoch_reset_counts_from_the_servers_date_not_the_local_clock() -> None:
    """GitHub's X-RateLimit-Reset is a Unix time: the wait is reset - Date, whatever the local clock says."""
    t, sent = FakeTime(), []
    date = 1_900_000_000
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(date + 25),
               "Date": email.utils.formatdate(date, usegmt=True)}
    api = client(myclient.RateLimit(None), t, answering(t, sent, MockResponse(json={}, headers=headers)))
    api.get("/items")
    api.get("/items")
    assert t.sleeps == [pytest.approx(25.0)]


@pytest.mark.parametrize(
    "headers",
    [
        {"X-RateLimit-Remaining": "1", "X-RateLimit-Reset": "30"},
        {"X-RateLimit-Remaining": "0"},  # no reset: nothing to wait for
        {"X-RateLimit-Remaining": "zero", "X-RateLimit-Reset": "30"},
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "-5"},
        {"RateLimit": '"default";r=3;t=12'},
        {"Retry-After": "30"},  # on a 200 it means nothing here
    ],
)
def test_a_budget_left_or_garbled_headers_do_not_pace(headers: dict[str, str]) -> None:
    t, sent = FakeTime(), []
    api = client(myclient.RateLimit(None), t, answering(t, sent, MockResponse(json={}, headers=headers)))
    api.get("/items")
    api.get("/items")
    assert t.sleeps == []


def test_an_announced_reset_beyond_the_deadline_raises_without_sending() -> None:
    t, sent = FakeTime(), []
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "3600"}
    api = client(myclient.RateLimit(None), t, answering(t, sent, MockResponse(json={}, headers=headers)))
    api.get("/items")
    with pytest.raises(myclient.RateLimited) as caught:
        api.get("/items", deadline=10)
    assert caught.value.retry_after == pytest.approx(3600)
    assert len(sent) == 1


def test_announced_false_ignores_the_servers_headers() -> None:
    t, sent = FakeTime(), []
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "30"}
    api = client(myclient.RateLimit(None, announced=False), t,
                 answering(t, sent, MockResponse(json={}, headers=headers)))
    api.get("/items")
    api.get("/items")
    assert t.sleeps == []


def test_announced_wait_reads_each_header_family() -> None:
    def response(status: int, **headers: str) -> requests.Response:
        r = requests.Response()
        r.status_code = status
        r.headers.update({k.replace("_", "-"): v for k, v in headers.items()})
        return r

    assert rl.announced_wait(response(200)) is None
    assert rl.announced_wait(response(429, Retry_After="2")) == 2.0
    assert rl.announced_wait(response(429)) is None
    assert rl.announced_wait(response(200, RateLimit="limit=10, remaining=0, reset=5")) is None  # older draft
    assert rl.announced_wait(response(200, RateLimit='"a";r=0;t=5, "b";r=1;t=50')) == 5.0


# ------------------------------------------------------------------------------------------ shared limiter failing
class DeadRedis:
    """A redis client whose scripts cannot reach the server (as redis-py raises it)."""

    class connection_pool:  # noqa: N801 - mimics redis.Redis.connection_pool
        connection_kwargs: ClassVar[dict[str, float]] = {"socket_timeout": 0.5}

    def register_script(self, script: str) -> Callable[..., Any]:
        def run(**_: Any) -> Any:
            raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

        return run


def test_redis_unreachable_is_a_clear_error_and_nothing_is_sent() -> None:
    t, sent = FakeTime(), []
    api = client(myclient.RateLimit(10, redis=DeadRedis()), t, mock_with(t, sent), retry=None)
    with pytest.raises(myclient.LimiterUnavailable) as caught:
        api.get("/items")
    assert isinstance(caught.value, myclient.ConnectError) and isinstance(caught.value, myclient.MyClientError)
    assert "nothing was sent" in str(caught.value)
    assert sent == []


def test_redis_unreachable_is_retried_like_a_refused_connection() -> None:
    t, sent = FakeTime(), []
    api = client(myclient.RateLimit(10, redis=DeadRedis()), t, mock_with(t, sent),
                 retry=myclient.RetryPolicy(attempts=3))
    with pytest.raises(myclient.LimiterUnavailable) as caught:
        api.post("/items", json={"a": 1})  # even a POST: nothing was sent
    assert len(caught.value.attempts) == 3 and sent == []


def test_redis_unreachable_can_fall_back_to_local_limiting(caplog: pytest.LogCaptureFixture) -> None:
    t, sent = FakeTime(), []
    api = client(myclient.RateLimit(1, per=1, redis=DeadRedis(), on_unavailable="local"), t, mock_with(t, sent))
    with caplog.at_level(logging.WARNING, logger="myclient"):
        api.get("/items")
        api.get("/items")
    assert len(sent) == 2 and t.sleeps == [1.0]  # still limited, in this process
    assert "Redis unavailable" in caplog.text


def test_repr_says_where_the_state_lives() -> None:
    assert repr(myclient.RateLimit(5, per=2, burst=3)) == "RateLimit(5, per=2, burst=3, key='client', local)"
