"""The AsyncClient against the real servers: the sync matrix's key cases (errors, retries counted by WireMock,
idempotency keys, the deadline, 401 replay), event-loop health, cancellation that leaks no connection and
retries no POST, and one token request for a storm of coroutines and threads."""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
from typing import Any

import pytest
import requests
from servers import OAuthServer, WireMockAdmin

import myclient

pytestmark = pytest.mark.asyncio
QUICK = myclient.RetryPolicy(attempts=3, backoff=0.01, backoff_cap=0.02)


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


async def test_errors_results_keys_and_deadline_against_httpbin(httpbin_url: str) -> None:
    async with myclient.AsyncClient(httpbin_url, session=_session(), timeout=10, retry=QUICK) as client:
        with pytest.raises(myclient.NotFound) as info:
            await client.adapter.get("/status/404")
        assert info.value.status == 404 and info.value.method == "GET"
        with pytest.raises(myclient.ServiceUnavailable) as unavailable:
            await client.adapter.get("/status/503")
        assert [a.outcome for a in unavailable.value.attempts] == ["503", "503", "503"]
        echo = await client.adapter.post("/anything", json={"n": 1}, idempotency_key=True)
        assert len(echo["headers"]["Idempotency-Key"]) == 36
        result = await client.adapter.get("/get", params={"a": "1"}, detailed=True)
        assert result.status == 200 and result.data["args"] == {"a": "1"}
        began = time.monotonic()
        with pytest.raises(myclient.DeadlineExceeded):
            await client.adapter.get("/delay/3", deadline=1)
        assert time.monotonic() - began < 1.5


async def test_retries_and_unkeyed_posts_counted_by_wiremock(wiremock_admin: WireMockAdmin) -> None:
    wiremock_admin.stub_sequence("GET", "/flaky", [{"status": 503}, {"status": 503}, {"status": 200, "jsonBody": {}}])
    wiremock_admin.stub({"request": {"method": "POST", "urlPath": "/orders"}, "response": {"status": 503}})
    async with myclient.AsyncClient(wiremock_admin.url, session=_session(), retry=QUICK) as client:
        assert await client.adapter.get("/flaky") == {}
        with pytest.raises(myclient.ServiceUnavailable):
            await client.adapter.post("/orders", json={})
        with pytest.raises(myclient.ServiceUnavailable):
            await client.adapter.post("/orders", json={}, idempotency_key="key-1")
    assert wiremock_admin.count("GET", "/flaky") == 3
    assert wiremock_admin.count("POST", "/orders") == 1 + 3
    keys = {r["headers"].get("Idempotency-Key") for r in wiremock_admin.requests("POST", "/orders")}
    assert keys == {None, "key-1"}


async def test_a_revoked_token_is_renewed_and_replayed(oauth_server: OAuthServer) -> None:
    flow = myclient.ClientCredentials(oauth_server.token_url, oauth_server.cc_client_id,
                                      oauth_server.cc_client_secret, revocation_url=oauth_server.revoke_url)
    async with myclient.AsyncClient(oauth_server.url, session=_session(), auth=flow, timeout=10) as client:
        first = flow.token().access_token if flow.is_authenticated() else None
        assert isinstance(await client.adapter.get("/api/me"), dict)
        await client.adapter.run(_revoke, flow, oauth_server)
        oauth_server.reset_stats()
        assert isinstance(await client.adapter.get("/api/me"), dict)  # 401, renewed once, replayed
        assert oauth_server.stats()["token_requests"] == 1 and flow.token().access_token != first


def _revoke(flow: myclient.OAuth2Flow, server: OAuthServer) -> None:
    token = flow.token().access_token
    requests.post(server.revoke_url, data={"token": token}, auth=(server.cc_client_id, server.cc_client_secret),
                  timeout=10)


def _delay_stub(admin: WireMockAdmin, method: str, path: str, ms: int) -> None:
    admin.stub({"request": {"method": method, "urlPath": path},
                "response": {"status": 200, "jsonBody": {"ok": True}, "fixedDelayMilliseconds": ms}})


async def test_the_event_loop_stays_responsive_with_100_requests_in_flight(wiremock_admin: WireMockAdmin) -> None:
    """A probe ticking every 10 ms sees no gap over 50 ms while 100 slow requests are in flight.

    On this 2-core machine the other test worker (and WireMock's JVM) share the cores, so the OS can
    hold the whole process back for a moment regardless of what the loop does; the measurement is
    repeated (at most 3 runs) and every run is printed. A loop that blocked on I/O would miss the bar
    in every run (each request takes 1 s).
    """
    _delay_stub(wiremock_admin, "GET", "/delay", 1000)
    runs: list[tuple[float, float]] = []
    for _ in range(3):
        async with myclient.AsyncClient(wiremock_admin.url, session=_session(), max_workers=100,
                                        timeout=10) as client:
            loop = asyncio.get_running_loop()
            gaps: list[float] = []
            done = asyncio.Event()

            async def probe(loop: asyncio.AbstractEventLoop, done: asyncio.Event, gaps: list[float]) -> None:
                last = loop.time()
                while not done.is_set():
                    await asyncio.sleep(0.01)
                    now = loop.time()
                    gaps.append(now - last - 0.01)
                    last = now

            ticker = asyncio.create_task(probe(loop, done, gaps))
            results = await asyncio.gather(*(client.adapter.get("/delay") for _ in range(100)))
            done.set()
            await ticker
        assert results == [{"ok": True}] * 100
        gaps.sort()
        p99 = gaps[int(len(gaps) * 0.99) - 1]
        runs.append((p99, gaps[-1]))
        print(f"\nloop lag with 100 requests in flight: p99 {p99 * 1000:.1f} ms, max {gaps[-1] * 1000:.1f} ms, "
              f"median {statistics.median(gaps) * 1000:.2f} ms over {len(gaps)} ticks")
        if gaps[-1] < 0.05:
            break
    assert min(worst for _, worst in runs) < 0.05, runs


async def test_cancelled_tasks_leak_no_connection_and_retry_no_post(wiremock_admin: WireMockAdmin) -> None:
    _delay_stub(wiremock_admin, "POST", "/slow-post", 3000)
    _delay_stub(wiremock_admin, "GET", "/slow-get", 3000)
    policy = myclient.RetryPolicy(attempts=5, backoff=0.01)
    async with myclient.AsyncClient(wiremock_admin.url, session=_session(), max_workers=50, retry=policy,
                                    timeout=10) as client:
        tasks = [asyncio.create_task(client.adapter.post("/slow-post", json={"n": n}, idempotency_key=True))
                 for n in range(100)]
        tasks += [asyncio.create_task(client.adapter.get("/slow-get")) for _ in range(100)]
        await asyncio.sleep(0.5)
        for task in tasks:
            task.cancel()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(o, asyncio.CancelledError) for o in outcomes)
        transport: Any = client.adapter.transport
        deadline = time.monotonic() + 5
        while client.adapter.in_flight or transport.pool_stats(wiremock_admin.url)["checked_out"]:
            assert time.monotonic() < deadline, transport.pool_stats(wiremock_admin.url)
            await asyncio.sleep(0.05)
        stats = transport.pool_stats(wiremock_admin.url)
    print(f"\nafter cancelling 200 tasks: {stats}")
    assert stats["checked_out"] == 0
    time.sleep(0.5)  # let WireMock journal the requests it was reading when they were cut
    bodies = [r["body"] for r in wiremock_admin.requests("POST", "/slow-post")]
    assert 0 < len(bodies) <= 50  # only those a worker had started
    assert len(bodies) == len(set(bodies))  # each sent once: no cancelled POST was retried


async def test_one_token_request_for_200_coroutines_and_20_threads(oauth_server: OAuthServer) -> None:
    flow = myclient.ClientCredentials(oauth_server.token_url, oauth_server.cc_client_id,
                                      oauth_server.cc_client_secret, leeway=0)
    async with myclient.AsyncClient(oauth_server.url, session=_session(), auth=flow, timeout=15,
                                    max_workers=40) as client:
        await client.adapter.get("/api/me")
        token = flow.token()
        assert token.expires_at is not None
        await asyncio.sleep(max(0.0, token.expires_at - time.time()) + 0.2)  # now it is expired
        oauth_server.reset_stats()
        errors: list[BaseException] = []

        def thread() -> None:
            try:
                client.sync.adapter.get("/api/me")
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=thread) for _ in range(20)]
        for t in threads:
            t.start()
        results = await asyncio.gather(*(client.adapter.get("/api/me") for _ in range(200)))
        for t in threads:
            t.join(30)
    assert not errors and len(results) == 200
    assert oauth_server.stats()["token_requests"] == 1
