"""Fleet scale on a real redis-server: one token and one quota shared by many processes (standing in for hosts).

* RedisTokenStore: tokens round-trip (encrypted too), the lock is exclusive across processes, a
  crashed holder's lock expires, a renewer slower than its lock cannot overwrite the newer token
  (fenced: ``StaleLock``, and the flow uses the newer one), Redis down is a clear ``AuthError``.
* Token storm: 8 processes x (25 threads + 25 coroutines) with an expired token against the
  django-oauth-toolkit server -> exactly 1 token request counted by the server; the lock holder
  SIGKILLed mid-renewal -> exactly one more, and no worker errors.
* Quota: 8 processes sharing ``RateLimit(50, per=1)`` on Redis against nginx ``limit_req rate=50r/s
  burst=5 nodelay`` -> no 429, rate within 10% of 50/s; without the limiter the same load gets 429s.
  (4 s here; ``benchmarks/bench_fleet.py`` runs the 20 s version.)
* Announced limits in real time: WireMock's ``X-RateLimit-Remaining: 0`` makes the next call — in this
  process and, through Redis, in another — wait for the reset; nothing reaches WireMock early.
* Redis paused or down mid-run: ``LimiterUnavailable`` within the Redis socket timeout, inside the
  deadline, nothing sent; when it is back, calls go through again.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from servers import (
    HarnessError,
    OAuthServer,
    RateLimitServer,
    RedisServer,
    WireMockAdmin,
    WireMockServer,
    start_oauth_server,
)

import myclient
from myclient.tokens import Token, new_key

WORKER = Path(__file__).with_name("fleet_worker.py")
PROCESSES = 8


def redis_client(url: str, timeout: float = 5.0) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                retry=Retry(NoBackoff(), 0))


@pytest.fixture(scope="module")
def fleet_oauth(servers_dir: Path) -> Iterator[OAuthServer]:
    """The OAuth2 server with 10-minute tokens (the session's live 2 s, too short for a fleet's storm)."""
    try:
        process = start_oauth_server(servers_dir / "oauth-fleet", access_token_lifetime=600)
    except HarnessError as exc:  # as the session fixtures do: skip locally, fail under CI=true
        if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
            pytest.fail(f"OAuth2 server (fleet) unavailable: {exc}", pytrace=False)
        pytest.skip(f"OAuth2 server (fleet) unavailable: {exc}")
    try:
        yield process.info
    finally:
        process.stop()


class Worker:
    """One fleet_worker.py process."""

    def __init__(self, config: dict[str, Any]) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path.cwd()),
                                                                           os.environ.get("PYTHONPATH")]))}
        self.process = subprocess.Popen([sys.executable, str(WORKER), json.dumps(config)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)

    def expect(self, line: str, timeout: float = 60.0) -> None:
        assert self.process.stdout is not None
        got: list[str] = []
        reader = threading.Thread(target=lambda: got.append(self.process.stdout.readline()))  # type: ignore[union-attr]
        reader.start()
        reader.join(timeout)
        if not got or got[0].strip() != line:
            self.process.kill()
            _, err = self.process.communicate()
            pytest.fail(f"worker did not say {line!r} (got {got!r}); stderr:\n{err[-3000:]}")

    def go(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("go\n")
        self.process.stdin.flush()

    def result(self, timeout: float = 120.0) -> dict[str, Any]:
        out, err = self.process.communicate(timeout=timeout)
        lines = [line for line in out.splitlines() if line.startswith("{")]
        assert lines, f"worker printed no result; stderr:\n{err[-3000:]}"
        result: dict[str, Any] = json.loads(lines[-1])
        assert "crash" not in result, result["crash"]
        return result

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)


def run_fleet(configs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    workers = [Worker(config) for config in configs]
    for worker in workers:
        worker.expect("READY")
    for worker in workers:
        worker.go()
    return [worker.result() for worker in workers]


def outcomes(results: list[dict[str, Any]]) -> Counter[str]:
    total: Counter[str] = Counter()
    for result in results:
        total.update(result["outcomes"])
    return total


def token_requests(oauth: OAuthServer) -> int:
    return int(oauth.stats()["by_grant_type"].get("client_credentials", 0))


def seed_expired_token(redis_url: str, oauth: OAuthServer, key: str) -> None:
    store = myclient.RedisTokenStore(redis_client(redis_url), key)
    flow = myclient.ClientCredentials(oauth.token_url, oauth.cc_client_id, oauth.cc_client_secret, store=store)
    store.set(flow.store_key, Token("expired-token-0", expires_at=time.time() - 60, issued_at=time.time() - 660))


# ------------------------------------------------------------------------------------------ RedisTokenStore
def token(n: int) -> Token:
    return Token(f"access-{n}", refresh_token=f"refresh-{n}", expires_at=time.time() + 600, issued_at=time.time())


def test_tokens_round_trip_and_are_encrypted_at_rest(redis_db: RedisServer) -> None:
    r = redis_client(redis_db.url)
    key = new_key()
    store = myclient.RedisTokenStore(r, "svc", encryption_key=key)
    first = token(1)
    store.set("k", first)
    assert store.get("k") == first
    raw = r.get("svc:k")
    assert raw is not None and raw.startswith(b"fernet:") and b"access-1" not in raw
    with pytest.raises(myclient.AuthError, match="does not decrypt"):
        myclient.RedisTokenStore(r, "svc", encryption_key=new_key()).get("k")
    with pytest.raises(myclient.AuthError, match="encrypt"):
        myclient.RedisTokenStore(r, "svc").get("k")
    store.delete("k")
    assert store.get("k") is None and r.get("svc:k") is None


def test_readers_never_see_a_half_written_token(redis_db: RedisServer) -> None:
    """Writers store large tokens (encrypted) while readers read: every read is a whole token, old or new."""
    key = new_key()
    writer = myclient.RedisTokenStore(redis_client(redis_db.url), "svc", encryption_key=key)
    writer.set("k", token(0))
    done = threading.Event()
    seen: list[str] = []
    errors: list[BaseException] = []

    def write() -> None:
        for n in range(1, 300):
            writer.set("k", Token(f"access-{n}", extra={"padding": "x" * 50_000}))
        done.set()

    def read() -> None:
        reader = myclient.RedisTokenStore(redis_client(redis_db.url), "svc", encryption_key=key)
        while not done.is_set():
            try:
                seen.append(reader.get("k").access_token)  # type: ignore[union-attr]
            except BaseException as exc:  # noqa: BLE001 - any failure is the finding
                errors.append(exc)
                return

    threads = [threading.Thread(target=write), *(threading.Thread(target=read) for _ in range(3))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and len(seen) > 10
    assert all(value.startswith("access-") for value in seen)


def test_a_garbled_entry_is_an_auth_error(redis_db: RedisServer) -> None:
    r = redis_client(redis_db.url)
    r.set("svc:k", "{not json")
    with pytest.raises(myclient.AuthError, match="not a token"):
        myclient.RedisTokenStore(r, "svc").get("k")


def test_bad_arguments(redis_db: RedisServer) -> None:
    r = redis_client(redis_db.url)
    with pytest.raises(myclient.UsageError):
        myclient.RedisTokenStore(r, "")
    with pytest.raises(myclient.UsageError):
        myclient.RedisTokenStore(r, "svc", lock_timeout=0)
    with pytest.raises(myclient.UsageError, match="socket_timeout"):
        myclient.RedisTokenStore(redis.Redis.from_url(redis_db.url, socket_timeout=None), "svc")
    with pytest.raises(myclient.UsageError, match="redis"):
        myclient.RedisTokenStore({}, "svc")


def test_the_lock_is_exclusive_and_a_slow_holder_cannot_overwrite_a_newer_token(redis_db: RedisServer) -> None:
    slow = myclient.RedisTokenStore(redis_client(redis_db.url), "svc", lock_timeout=0.5)
    fast = myclient.RedisTokenStore(redis_client(redis_db.url), "svc", lock_timeout=5, wait_timeout=0.2)
    with slow.lock():
        with pytest.raises(myclient.AuthError, match="not free"):  # held: another worker waits, then gives up
            with fast.lock():
                pass
        time.sleep(0.7)  # the slow holder outlives its lock...
        with fast.lock():  # ...which expired: the other worker takes it and stores a newer token
            fast.set("k", token(2))
        with pytest.raises(myclient.StaleLock):  # the fenced write of the slow one is refused
            slow.set("k", token(1))
    assert slow.get("k").access_token == "access-2"  # type: ignore[union-attr]


def test_a_renewal_slower_than_its_lock_uses_the_newer_token(redis_db: RedisServer, fleet_oauth: OAuthServer) -> None:
    """The flow whose renewal outlived its lock gets StaleLock from the store and takes the token stored meanwhile."""
    fleet_oauth.reset_stats()
    seed_expired_token(redis_db.url, fleet_oauth, "svc")
    started = threading.Event()

    class Slow(myclient.ClientCredentials):
        def _obtain(self, old: Token | None) -> Token:
            new = super()._obtain(old)
            started.set()
            time.sleep(1.0)  # longer than lock_timeout
            return new

    def store(lock_timeout: float) -> myclient.RedisTokenStore:
        return myclient.RedisTokenStore(redis_client(redis_db.url), "svc", lock_timeout=lock_timeout)

    slow = Slow(fleet_oauth.token_url, fleet_oauth.cc_client_id, fleet_oauth.cc_client_secret, store=store(0.4))
    fast = myclient.ClientCredentials(fleet_oauth.token_url, fleet_oauth.cc_client_id, fleet_oauth.cc_client_secret,
                                      store=store(5))
    got: list[str] = []
    thread = threading.Thread(target=lambda: got.append(slow.token().access_token))
    thread.start()
    assert started.wait(10)
    time.sleep(0.5)  # the slow one's lock has expired
    fresh = fast.token().access_token
    thread.join(10)
    assert got == [fresh]  # the slow flow adopted the newer token
    assert store(5).get(slow.store_key).access_token == fresh  # type: ignore[union-attr]
    assert token_requests(fleet_oauth) == 2


def test_redis_down_is_a_clear_auth_error_without_hanging(redis_db: RedisServer) -> None:
    store = myclient.RedisTokenStore(redis_client(redis_db.url, timeout=0.3), "svc")
    redis_db.pause(5)
    began = time.monotonic()
    with pytest.raises(myclient.AuthError, match="Redis is unavailable"):
        store.get("k")
    assert time.monotonic() - began < 2
    redis_db.resume()
    redis_db.stop()
    with pytest.raises(myclient.AuthError, match="Redis is unavailable"):
        with store.lock():
            pass


# ------------------------------------------------------------------------------------------ token storm
def storm_config(redis_db: RedisServer, oauth: OAuthServer, **extra: Any) -> dict[str, Any]:
    return {"mode": "storm", "redis_url": redis_db.url, "key": "fleet", "lock_timeout": 10,
            "token_url": oauth.token_url, "client_id": oauth.cc_client_id, "client_secret": oauth.cc_client_secret,
            "api_url": oauth.url, "path": "/api/me", "threads": 25, "coroutines": 25, **extra}


def test_token_storm_across_the_fleet_makes_one_token_request(redis_db: RedisServer, fleet_oauth: OAuthServer) -> None:
    seed_expired_token(redis_db.url, fleet_oauth, "fleet")
    fleet_oauth.reset_stats()
    results = run_fleet([storm_config(redis_db, fleet_oauth)] * PROCESSES)
    assert outcomes(results) == {"ok": PROCESSES * 50}
    assert token_requests(fleet_oauth) == 1


def test_the_lock_holder_killed_mid_renewal_costs_exactly_one_more_request(
    redis_db: RedisServer, fleet_oauth: OAuthServer
) -> None:
    seed_expired_token(redis_db.url, fleet_oauth, "fleet")
    fleet_oauth.reset_stats()
    holder = Worker({**storm_config(redis_db, fleet_oauth, lock_timeout=2), "mode": "holder"})
    holder.expect("READY")
    holder.go()
    holder.expect("HOLDING")  # it holds the lock and obtained a token it has not stored
    assert token_requests(fleet_oauth) == 1
    fleet = [Worker(storm_config(redis_db, fleet_oauth, lock_timeout=2)) for _ in range(PROCESSES)]
    for worker in fleet:
        worker.expect("READY")
    for worker in fleet:
        worker.go()
    time.sleep(0.5)  # the fleet is waiting for the lock
    holder.kill()
    results = [worker.result() for worker in fleet]
    assert outcomes(results) == {"ok": PROCESSES * 50}
    assert token_requests(fleet_oauth) == 2  # the killed holder's, and one more


# ------------------------------------------------------------------------------------------ shared quota
def quota_run(redis_db: RedisServer, server: RateLimitServer, *, limited: bool, seconds: float,
              prefix: str) -> tuple[Any, Counter[str]]:
    config = {"mode": "quota", "redis_url": redis_db.url, "api_url": server.url, "rate": server.rate, "per": 1,
              "limited": limited, "seconds": seconds, "threads": 2, "prefix": prefix}
    server.settle()
    workers = [Worker(config) for _ in range(PROCESSES)]
    for worker in workers:
        worker.expect("READY")
    start = server.mark()
    for worker in workers:
        worker.go()
    results = [worker.result() for worker in workers]
    return server.window(start, server.mark()), outcomes(results)


def test_a_shared_rate_limit_holds_the_servers_quota(redis_db: RedisServer, ratelimit_server: RateLimitServer) -> None:
    seconds = 4.0
    window, seen = quota_run(redis_db, ratelimit_server, limited=True, seconds=seconds, prefix="quota:")
    rate = window.ok_rate()  # 200s per second between the first and the last request nginx logged
    print(f"shared limiter: {window.total} requests, {window.ok} ok, {window.limited} limited, "
          f"{rate:.1f}/s over {window.duration:.2f}s (nginx allows {ratelimit_server.rate}/s)")
    assert window.limited == 0, window.counts
    assert set(seen) <= {"200", "would wait past the end"}, seen
    assert abs(rate - ratelimit_server.rate) <= 0.1 * ratelimit_server.rate
    # The Redis limiter is one round trip per call (a worker's first call finds the script not yet
    # loaded: redis-py then loads it and runs it again, once per process and thread racing it).
    stats = redis_db.commandstats().get("evalsha", {})
    assert stats["calls"] - stats["failed_calls"] == window.total + seen["would wait past the end"]
    assert stats["failed_calls"] <= PROCESSES * 2


def test_without_the_shared_limiter_the_same_load_collects_429s(
    redis_db: RedisServer, ratelimit_server: RateLimitServer
) -> None:
    window, _ = quota_run(redis_db, ratelimit_server, limited=False, seconds=1.5, prefix="control:")
    print(f"control (no limiter): {window.total} requests, {window.ok} ok, {window.limited} limited")
    assert window.limited > window.ok  # the fleet discovers its limit by collecting 429s


# ------------------------------------------------------------------------------------------ announced limits
def test_an_announced_reset_makes_this_and_other_workers_wait(
    redis_db: RedisServer, wiremock_admin: WireMockAdmin, wiremock: WireMockServer
) -> None:
    wiremock_admin.stub({"request": {"method": "GET", "urlPath": "/rl/spent"},
                         "response": {"status": 200, "jsonBody": {"ok": True},
                                      "headers": {"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0",
                                                  "X-RateLimit-Reset": "2"}}})
    wiremock_admin.stub({"request": {"method": "GET", "urlPath": "/rl/next"},
                         "response": {"status": 200, "jsonBody": {"ok": True}}})

    def client() -> myclient.Client:
        limit = myclient.RateLimit(None, redis=redis_client(redis_db.url), prefix="announced:", key="host")
        return myclient.Client(wiremock.url, rate_limit=limit)

    first, other = client(), client()  # two workers sharing the limiter through Redis
    first.adapter.get("/rl/spent")
    answered = time.time()
    other.adapter.get("/rl/next")  # the other worker, never told itself
    waited = time.time() - answered
    assert 1.9 <= waited < 4, waited
    [spent] = wiremock_admin.requests("GET", "/rl/spent")
    [after] = wiremock_admin.requests("GET", "/rl/next")
    assert after["loggedDate"] - spent["loggedDate"] >= 1900  # nothing sent before the reset
    first.adapter.get("/rl/spent")  # spent again: the reset lies beyond the next call's deadline
    with pytest.raises(myclient.RateLimited):
        first.adapter.get("/rl/next", deadline=1)
    assert len(wiremock_admin.requests("GET", "/rl/next")) == 1


# ------------------------------------------------------------------------------------------ Redis failing
def test_redis_paused_or_down_mid_run_fails_fast_and_sends_nothing(
    redis_db: RedisServer, wiremock_admin: WireMockAdmin, wiremock: WireMockServer
) -> None:
    wiremock_admin.stub({"request": {"method": "POST", "urlPath": "/orders"},
                         "response": {"status": 201, "jsonBody": {"id": 1}}})
    limit = myclient.RateLimit(100, redis=redis_client(redis_db.url, timeout=0.3), prefix="down:")
    api = myclient.Client(wiremock.url, rate_limit=limit, retry=myclient.RetryPolicy(attempts=2))
    assert api.adapter.post("/orders", json={"n": 0}) == {"id": 1}
    with redis_db.paused(10):
        began = time.monotonic()
        with pytest.raises(myclient.LimiterUnavailable) as caught:
            api.adapter.post("/orders", json={"n": 1}, deadline=3)
        assert time.monotonic() - began < 3  # within the deadline: the socket timeout bounds each ask
        assert len(caught.value.attempts) == 2  # retried (nothing was sent), then given up
    redis_db.stop()
    with pytest.raises(myclient.LimiterUnavailable):
        api.adapter.post("/orders", json={"n": 2}, deadline=3)
    assert len(wiremock_admin.requests("POST", "/orders")) == 1  # nothing sent while Redis was away
    redis_db.start()
    assert api.adapter.post("/orders", json={"n": 3}) == {"id": 1}  # back: calls flow again
    assert len(wiremock_admin.requests("POST", "/orders")) == 2
