"""The async face on a MockTransport: the same groups, errors, Results and options; a bounded pool with
backpressure; cancellation that stops retries; async hooks on the loop; async pagination with checkpoints."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
import requests

import myclient
from myclient.calls import Call
from myclient.testing.mock import MockResponse, MockTransport

pytestmark = pytest.mark.asyncio
BASE = "https://api.example/v1"


class Users(myclient.Resource):
    path = "/users"


class Status(myclient.ApiGroup):
    def health(self) -> Any:
        """Supported methods: GET /health"""
        return self._adapter.get("/health")


class Acme(myclient.Client):
    users = myclient.group(Users)
    status = myclient.group(Status)


class AsyncAcme(myclient.AsyncClient):
    users = myclient.group(Users)
    status = myclient.group(Status)


def _mock() -> MockTransport:
    mock = MockTransport()
    mock.add("GET", "/health", json={"ok": True})
    mock.add("GET", "/users/1", json={"id": 1})
    mock.add("GET", "/users", json=[{"id": 1}, {"id": 2}])
    mock.add("POST", "/users", status=201, json={"id": 3})
    mock.add("GET", "/missing", status=404, json={"message": "gone"})
    return mock


async def test_one_group_class_serves_both_clients() -> None:
    mock = _mock()
    sync = Acme(BASE, transport=mock)
    async with AsyncAcme(BASE, transport=mock) as client:
        assert sync.status.health() == await client.status.health() == {"ok": True}
        assert await client.users.get(1) == sync.users.get(1) == {"id": 1}
        assert await client.users.create({"name": "x"}) == {"id": 3}
        assert [u async for u in client.users.list()] == [{"id": 1}, {"id": 2}]
        result = await client.adapter.get("/health", detailed=True)
        assert isinstance(result, myclient.Result) and result.status == 200
        with pytest.raises(myclient.NotFound) as info:
            await client.request("GET", "/missing")
        assert info.value.status == 404


async def test_options_and_misspelt_names_behave_as_on_the_sync_client() -> None:
    mock = _mock()
    async with myclient.AsyncClient(BASE, transport=mock, timeout=3) as client:
        await client.adapter.get("/health", timeout=(1, 2), headers={"X-A": "1"})
        assert mock.calls[-1].options.timeout == (1.0, 2.0) and mock.calls[-1].headers["X-A"] == "1"
        with pytest.raises(myclient.UsageError, match="did you mean 'timeout'"):
            await client.adapter.get("/health", timout=1)


async def test_the_pool_is_bounded_and_callers_wait_without_loss() -> None:
    release = threading.Event()
    lock = threading.Lock()
    running = [0, 0]  # now, most at once

    def slow(call: Call) -> MockResponse:
        with lock:
            running[0] += 1
            running[1] = max(running[1], running[0])
        release.wait(5)
        with lock:
            running[0] -= 1
        return MockResponse(json={"n": call.params["n"]})

    mock = MockTransport()
    mock.add("GET", "/slow", answers=[slow])
    async with myclient.AsyncClient(BASE, transport=mock, max_workers=3) as client:
        tasks = [asyncio.create_task(client.adapter.get("/slow", params={"n": n})) for n in range(20)]
        await asyncio.sleep(0.05)
        assert client.adapter.in_flight == 3
        release.set()
        results = await asyncio.gather(*tasks)
    assert sorted(r["n"] for r in results) == list(range(20)) and running[1] == 3


async def test_cancelling_the_awaiting_task_stops_retries_of_a_keyed_post() -> None:
    started, finished = threading.Event(), threading.Event()

    def hang_then_fail(call: Call) -> MockResponse:
        started.set()
        finished.wait(5)
        raise myclient.ConnectionLost("lost", method=call.method)

    mock = MockTransport()
    route = mock.add("POST", "/pay", answers=[hang_then_fail, MockResponse(201, json={})])
    policy = myclient.RetryPolicy(attempts=5, backoff=0)
    async with myclient.AsyncClient(BASE, transport=mock, retry=policy) as client:
        task = asyncio.create_task(client.adapter.post("/pay", json={}, idempotency_key=True))
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        finished.set()
        await asyncio.sleep(0.05)
    assert len(route.calls) == 1  # the attempt in flight ended; no retry was made


async def test_a_call_cancelled_while_waiting_for_a_worker_sends_nothing() -> None:
    release = threading.Event()
    mock = MockTransport()
    route = mock.add("GET", "/x", answers=[lambda call: (release.wait(5), MockResponse(json=1))[1]])
    async with myclient.AsyncClient(BASE, transport=mock, max_workers=1) as client:
        first = asyncio.create_task(client.adapter.get("/x"))
        await asyncio.sleep(0.02)
        queued = asyncio.create_task(client.adapter.get("/x"))
        await asyncio.sleep(0.02)
        queued.cancel()
        release.set()
        assert await first == 1
        with pytest.raises(asyncio.CancelledError):
            await queued
    assert len(route.calls) == 1


async def test_asyncio_timeout_and_deadline_agree() -> None:
    gate = threading.Event()
    mock = MockTransport()
    mock.add("GET", "/slow", answers=[lambda call: (gate.wait(call.state.left() or 5), MockResponse(json=1))[1]])
    async with myclient.AsyncClient(BASE, transport=mock) as client:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.1):
                await client.adapter.get("/slow")
        gate.set()  # (a MockTransport cannot be cut like a socket: let its worker go)
        gate.clear()
        loop = asyncio.get_running_loop()
        began = loop.time()
        await client.adapter.get("/slow", deadline=0.1)  # the answer comes when the deadline's time is up
        assert loop.time() - began < 0.5
    gate.set()


async def test_async_hooks_are_awaited_on_the_loop_and_sync_hooks_still_run() -> None:
    seen: list[tuple[str, bool]] = []
    loop_thread = threading.get_ident()

    async def on_request(event: myclient.Event) -> None:
        await asyncio.sleep(0)
        seen.append(("async", threading.get_ident() == loop_thread))

    def on_response(event: myclient.Event) -> None:
        seen.append(("sync", threading.get_ident() == loop_thread))

    async with myclient.AsyncClient(BASE, transport=_mock(),
                                    hooks={"on_request": on_request, "on_response": on_response}) as client:
        await client.adapter.get("/health")
    assert seen == [("async", True), ("sync", False)]


async def test_async_pagination_keeps_one_page_and_resumes_from_its_checkpoint() -> None:
    mock = MockTransport()
    pages = {None: ([1, 2], "c2"), "c2": ([3, 4], "c3"), "c3": ([5], None)}

    def page(call: Call) -> MockResponse:
        items, following = pages[call.params.get("cursor") if call.params else None]
        return MockResponse(json={"data": items, "next_cursor": following})

    mock.add("GET", "/events", answers=[page])
    strategy = myclient.Cursor()
    async with myclient.AsyncClient(BASE, transport=mock) as client:
        walk = client.paginate("/events", strategy=strategy)
        first = [await walk.__anext__() for _ in range(3)]
        saved = walk.checkpoint
        rest = [item async for item in client.paginate("/events", strategy=strategy, resume=saved)]
    assert first == [1, 2, 3] and rest == [4, 5]
    assert len(mock.calls) == 2 + 2  # two pages for the first walk so far, two for the resumed one


async def test_login_logout_and_is_authenticated_are_awaitable() -> None:
    mock = MockTransport()
    mock.add("POST", "/auth/login", json={"token": "tok-0123456789abcdef"})
    mock.add("GET", "/me", json={"user": "ada"})
    flow = myclient.TokenLogin("/auth/login", username="ada", password="pw-secret-1")
    async with myclient.AsyncClient(BASE, transport=mock, auth=flow) as client:
        assert not await client.is_authenticated()
        assert await client.login() == "tok-0123456789abcdef"
        assert await client.is_authenticated()
        await client.logout()
        assert not await client.is_authenticated()


async def test_the_event_loop_never_blocks_while_calls_run() -> None:
    release = threading.Event()
    mock = MockTransport()
    mock.add("GET", "/x", answers=[lambda call: (release.wait(0.3), MockResponse(json=1))[1]])
    async with myclient.AsyncClient(BASE, transport=mock, max_workers=20) as client:
        loop = asyncio.get_running_loop()
        gaps: list[float] = []

        async def probe() -> None:
            last = loop.time()
            for _ in range(20):
                await asyncio.sleep(0.01)
                now = loop.time()
                gaps.append(now - last)
                last = now

        results = await asyncio.gather(probe(), *(client.adapter.get("/x") for _ in range(20)))
    assert results[1:] == [1] * 20 and max(gaps) < 0.1


async def test_spec_loaded_async_client() -> None:
    spec = {"openapi": "3.0.3", "info": {"title": "Pets", "version": "1"}, "servers": [{"url": BASE}],
            "paths": {"/pets/{id}": {"get": {"operationId": "getPet", "tags": ["pets"],
                                             "parameters": [{"name": "id", "in": "path", "required": True,
                                                             "schema": {"type": "integer"}}],
                                             "responses": {"200": {"description": "ok", "content": {
                                                 "application/json": {"schema": {"type": "object"}}}},
                                                 "404": {"description": "no", "content": {"application/json": {
                                                     "schema": {"type": "object"}}}}}}}}}
    from myclient.openapi import load_async

    mock = MockTransport()
    mock.add("GET", "/pets/1", json={"id": 1})
    mock.add("GET", "/pets/2", status=404, json={"reason": "no pet"})
    client: Any = load_async(spec, transport=mock)
    async with client:
        assert await client.pets.get_pet(id=1) == {"id": 1}
        with pytest.raises(myclient.NotFound) as info:
            await client.pets.get_pet(id=2)
    assert info.value.data == {"reason": "no pet"}


async def test_the_sync_client_inside_is_the_same_client() -> None:
    mock = _mock()
    client = myclient.AsyncClient(BASE, transport=mock, timeout=4)
    assert isinstance(client.sync, myclient.Client) and client.sync.adapter is client.adapter.sync
    assert client.sync.adapter.timeout == (4.0, 4.0) and client.adapter.transport is mock
    assert isinstance(myclient.AsyncClient(BASE).session, requests.Session)
