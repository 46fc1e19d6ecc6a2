"""Proves the Redis and the rate-limiting nginx test servers work, using the ``redis`` client and plain ``requests``.

These check the harness itself (not myclient): Redis answers, refuses
connections once stopped, comes back empty on the same port, hangs when
paused, counts commands, enforces ``requirepass``; the rate-limiting nginx
lets a paced sender through and answers 429 to too many senders sharing its
one bucket, and its access log agrees with what the clients saw.
"""

from __future__ import annotations

import multiprocessing
import socket
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from servers import HarnessError, RateLimitServer, RedisServer, random_password, start_ratelimit, start_redis

redis = pytest.importorskip("redis")
from redis.backoff import NoBackoff  # noqa: E402
from redis.retry import Retry  # noqa: E402

TIMEOUT = 10.0


def client(url: str, timeout: float = 5.0) -> redis.Redis:
    """A redis client that fails at once (no retries) after ``timeout`` seconds."""
    return redis.Redis.from_url(
        url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0),
        decode_responses=True,
    )  # fmt: skip


@pytest.fixture
def http() -> Iterator[requests.Session]:
    """A session that ignores proxy/netrc settings from the environment."""
    with requests.Session() as session:
        session.trust_env = False
        yield session


# ---------------------------------------------------------------------- redis


def test_redis_set_get_on_its_own_port(redis_db: RedisServer) -> None:
    assert redis_db.url == f"redis://127.0.0.1:{redis_db.port}/0"
    assert redis_db.port != 6379  # never Debian's service
    r = client(redis_db.url)
    assert r.set("token", "abc", px=5000) is True
    assert r.get("token") == "abc"
    assert 0 < r.pttl("token") <= 5000
    r.close()


def test_redis_runs_without_persistence_in_its_directory(redis_db: RedisServer, servers_dir: Path) -> None:
    r = client(redis_db.url)
    assert r.config_get("save") == {"save": ""}
    assert r.config_get("appendonly") == {"appendonly": "no"}
    assert Path(r.config_get("dir")["dir"]).resolve() == (servers_dir / "redis").resolve()
    r.close()


def test_redis_db_fixture_starts_empty_with_zeroed_stats(redis_db: RedisServer) -> None:
    r = client(redis_db.url)
    assert r.dbsize() == 0
    for i in range(3):
        r.set(f"k{i}", i)
    r.get("k0")
    assert redis_db.calls("set") == 3
    assert redis_db.calls("get") == 1
    assert redis_db.calls("evalsha") == 0
    stats = redis_db.commandstats()["set"]
    assert stats["calls"] == 3 and stats["failed_calls"] == 0
    redis_db.reset_stats()
    assert redis_db.calls("set") == 0
    r.close()


def test_redis_stopped_refuses_then_restarts_empty_on_the_same_port(redis_db: RedisServer) -> None:
    r = client(redis_db.url, timeout=2.0)
    r.set("before", "1")
    port = redis_db.port
    redis_db.stop()
    assert not redis_db.running
    started = time.monotonic()
    with pytest.raises(redis.exceptions.ConnectionError) as excinfo:
        r.ping()
    assert time.monotonic() - started < 1.0  # refused at once, no hang
    assert not isinstance(excinfo.value, redis.exceptions.TimeoutError)
    assert "refused" in str(excinfo.value).lower()

    redis_db.start()
    assert redis_db.port == port and redis_db.running
    assert r.ping() is True  # the same client reconnects
    assert r.get("before") is None  # no persistence: the data died with the server
    r.close()


def test_redis_paused_by_sigstop_times_out_then_resumes(redis_db: RedisServer) -> None:
    r = client(redis_db.url, timeout=0.5)
    assert r.ping() is True  # a pooled connection that exists before the pause
    redis_db.pause(30)
    try:
        assert redis_db.is_paused
        started = time.monotonic()
        with pytest.raises(redis.exceptions.TimeoutError):
            r.ping()
        assert 0.4 <= time.monotonic() - started < 2.0
        fresh = client(redis_db.url, timeout=0.5)  # a new connection: accepted by the kernel, never answered
        started = time.monotonic()
        with pytest.raises(redis.exceptions.TimeoutError):
            fresh.get("x")
        assert 0.4 <= time.monotonic() - started < 2.0
        fresh.close()
    finally:
        redis_db.resume()
    assert not redis_db.is_paused
    assert r.ping() is True
    r.close()


def test_redis_pause_ends_by_itself(redis_db: RedisServer) -> None:
    redis_db.pause(0.5)
    time.sleep(0.9)
    assert not redis_db.is_paused
    assert client(redis_db.url, timeout=1.0).ping() is True


def test_redis_client_pause_holds_commands_until_it_ends(redis_db: RedisServer) -> None:
    """A held command runs when the pause ends, unless its client gave up and closed the connection."""
    r = client(redis_db.url, timeout=0.3)
    r.ping()
    with socket.create_connection(("127.0.0.1", redis_db.port), timeout=5.0) as patient:
        redis_db.pause(1.0, how="client")
        patient.sendall(b"*3\r\n$3\r\nSET\r\n$4\r\nheld\r\n$1\r\n1\r\n")
        started = time.monotonic()
        with pytest.raises(redis.exceptions.TimeoutError):
            r.set("gave-up", "1")
        assert time.monotonic() - started < 1.0
        redis_db.resume()  # waits for the pause to end
        assert not redis_db.is_paused
        assert patient.recv(64) == b"+OK\r\n"
    check = client(redis_db.url)
    assert check.get("held") == "1"
    assert check.get("gave-up") is None
    check.close()
    r.close()


def test_redis_stop_while_paused_is_quick(redis_db: RedisServer) -> None:
    redis_db.pause(60)
    started = time.monotonic()
    redis_db.stop()
    assert time.monotonic() - started < 3.0
    assert not redis_db.running
    assert not redis_db.is_paused


@pytest.fixture
def redis_with_password(tmp_path: Path) -> Iterator[RedisServer]:
    try:
        server = start_redis(tmp_path / "redis-auth", password=random_password())
    except HarnessError as exc:
        pytest.skip(f"redis-server unavailable: {exc}")
    try:
        yield server
    finally:
        server.stop()


def test_redis_requirepass(redis_with_password: RedisServer) -> None:
    server = redis_with_password
    assert server.password is not None and "+" in server.password
    assert server.url.startswith("redis://:") and "%2B" in server.url  # the password is percent-encoded
    assert client(server.url).ping() is True
    with pytest.raises(redis.exceptions.AuthenticationError):
        client(server.url_for(0, password="wrong")).ping()
    with pytest.raises(redis.exceptions.AuthenticationError):
        client(f"redis://127.0.0.1:{server.port}/0").ping()


# ---------------------------------------------------------------------- nginx


def paced_sender(url: str, rate: float, start_at: float, duration: float) -> dict[int, int]:
    """Send GETs to ``url`` at ``rate`` per second from wall-clock ``start_at`` for ``duration`` s.

    Never faster than one request per ``1 / rate`` s (a late sender does not
    catch up in a burst). Returns the count of each status code seen.
    """
    counts: Counter[int] = Counter()
    interval = 1.0 / rate
    last = float("-inf")
    with requests.Session() as session:
        session.trust_env = False
        n = 0
        while True:
            due = max(start_at + n * interval, last + interval)
            if due >= start_at + duration:
                break
            delay = due - time.time()
            if delay > 0:
                time.sleep(delay)
            last = time.time()
            counts[session.get(url, timeout=TIMEOUT).status_code] += 1
            n += 1
    return dict(counts)


def _process_sender(url: str, rate: float, duration: float, barrier: Any, results: Any) -> None:
    """In a child process: wait for every sender, then :func:`paced_sender` and report its counts."""
    barrier.wait(timeout=60)
    results.put(paced_sender(url, rate, time.time(), duration))


def test_ratelimit_server_config(ratelimit_server: RateLimitServer, http: requests.Session) -> None:
    assert (ratelimit_server.rate, ratelimit_server.burst) == (50, 5)
    ratelimit_server.settle()
    response = http.get(f"{ratelimit_server.url}/items/1", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"ok": True}


def test_ratelimit_rapid_requests_get_429_and_the_log_agrees(
    ratelimit_server: RateLimitServer, http: requests.Session
) -> None:
    ratelimit_server.settle()
    start = ratelimit_server.mark()
    began = time.monotonic()
    statuses = [http.get(f"{ratelimit_server.url}/api/{i}", timeout=TIMEOUT).status_code for i in range(20)]
    elapsed = time.monotonic() - began
    end = ratelimit_server.mark()
    assert statuses[:6] == [200] * 6  # 1 + burst 5 at once (nodelay)
    # What the bucket lets through: the burst, plus what leaked at 50/s while the 20 were sent (a busy
    # machine sends them more slowly, so more pass); everything beyond that is refused.
    assert statuses.count(200) <= 6 + 50 * elapsed + 1 and statuses.count(429) >= 1
    window = ratelimit_server.window(start, end)
    assert window.counts == Counter(statuses)
    assert [e["uri"] for e in window.entries] == [f"/api/{i}" for i in range(20)]
    assert {e["limit"] for e in window.entries if e["status"] == 429} == {"REJECTED"}
    # Sent one by one until refused (a loaded machine sends slowly enough for several to pass).
    burst = (http.get(f"{ratelimit_server.url}/api/again-{i}", timeout=TIMEOUT) for i in range(500))
    limited = next(r for r in burst if r.status_code == 429)
    assert limited.json() == {"error": "rate limited"}


def test_ratelimit_rate_and_burst_are_parameters(tmp_path: Path, http: requests.Session) -> None:
    try:
        server = start_ratelimit(tmp_path / "nginx-rl", rate=2, burst=1)
    except HarnessError as exc:
        pytest.skip(f"nginx unavailable: {exc}")
    try:
        statuses = [http.get(f"{server.url}/x", timeout=TIMEOUT).status_code for _ in range(5)]
        assert statuses == [200, 200, 429, 429, 429]
        time.sleep(0.6)  # one more request per 0.5 s
        assert http.get(f"{server.url}/x", timeout=TIMEOUT).status_code == 200
    finally:
        server.stop()
    with pytest.raises(ValueError, match="rate"):
        start_ratelimit(tmp_path / "bad", rate=0)


def test_ratelimit_eight_processes_above_the_rate_collect_429s(ratelimit_server: RateLimitServer) -> None:
    """The control: 8 senders at 20/s each (160/s together) against 50 r/s, burst 5."""
    processes, per_process, duration = 8, 20.0, 3.0
    url = f"{ratelimit_server.url}/api/shared"
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(processes + 1)
    queue = ctx.SimpleQueue()
    workers = [ctx.Process(target=_process_sender, args=(url, per_process, duration, barrier, queue))
               for _ in range(processes)]  # fmt: skip
    for worker in workers:
        worker.start()
    try:
        ratelimit_server.settle()
        start = ratelimit_server.mark()
        barrier.wait(timeout=60)  # every worker is up and imported: go
        results = [queue.get() for _ in workers]
        end = ratelimit_server.mark()
    finally:
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.kill()
    assert all(worker.exitcode == 0 for worker in workers)
    seen: Counter[int] = Counter()
    for result in results:
        seen.update(result)
    window = ratelimit_server.window(start, end)
    print(f"\n8 x {per_process}/s for {duration}s: clients saw {dict(seen)}; nginx logged {dict(window.counts)} "
          f"over {window.duration:.2f}s; 200s at {window.ok_rate():.1f}/s")  # fmt: skip
    assert window.counts == seen
    assert set(seen) <= {200, 429}
    assert window.limited > 0.3 * window.total
    # nginx passes at most rate * time + 1 + burst, and about that many when overloaded
    assert window.ok <= ratelimit_server.rate * (window.duration + 0.1) + 1 + ratelimit_server.burst
    assert window.ok >= 0.8 * ratelimit_server.rate * window.duration


def test_ratelimit_paced_sender_below_the_rate_gets_no_429(ratelimit_server: RateLimitServer) -> None:
    rate, duration = 40.0, 3.0
    ratelimit_server.settle()
    start = ratelimit_server.mark()
    seen = paced_sender(f"{ratelimit_server.url}/api/paced", rate, time.time(), duration)
    end = ratelimit_server.mark()
    window = ratelimit_server.window(start, end)
    print(f"\n1 x {rate}/s for {duration}s: clients saw {seen}; nginx logged {dict(window.counts)} "
          f"over {window.duration:.2f}s; 200s at {window.ok_rate():.1f}/s")  # fmt: skip
    assert set(seen) == {200}  # not one 429
    assert seen[200] >= 0.8 * rate * duration  # a busy machine may make a sender late, never early
    assert window.counts == Counter(seen)
    assert window.limited == 0
