"""The pytest plugin with the AsyncClient, run as a user would (pytester + pytest-asyncio).

An async test records concurrent calls (gathered coroutines, so several worker threads share the
cassette) against httpbin, then replays them offline with the network guard on and no secret in the
cassette; ``myclient_mock`` answers an AsyncClient's calls (and its groups) the same as a Client's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ("pytester",)

SECRET = "canary-async-token-41d9"

ASYNC_CASSETTE_TEST = '''
import asyncio
import os

import pytest
import requests

import myclient

BASE = os.environ["MYCLIENT_TEST_BASE"]


@pytest.mark.asyncio
@pytest.mark.myclient_cassette("async/flow.yaml")
async def test_async_flow(myclient_cassette, {extra}):
    session = requests.Session()
    session.trust_env = False
    async with myclient.AsyncClient(BASE, token="{secret}", session=session, max_workers=4) as client:
        pages = await asyncio.gather(*(client.adapter.get(f"/anything/{{n}}", params={{"n": n}}) for n in range(8)))
        assert [p["args"]["n"] for p in pages] == [str(n) for n in range(8)]
        assert all(p["headers"]["Authorization"] for p in pages)
        result = await client.adapter.post("/anything/post", json={{"refresh_token": "{secret}", "n": 1}},
                                           detailed=True)
        assert result.status == 200
        with pytest.raises(myclient.NotFound):
            await client.adapter.get("/status/404")
'''

ASYNC_MOCK_TEST = '''
import asyncio

import pytest

import myclient


class Users(myclient.ApiGroup):
    def get(self, user_id: int):
        return self._adapter.get(f"/users/{user_id}")


class Api(myclient.Client):
    users = myclient.group(Users)


class AsyncApi(myclient.AsyncClient):
    users = myclient.group(Users)


@pytest.mark.asyncio
async def test_mock_answers_async_calls(myclient_mock):
    async with AsyncApi("https://api.example.test") as client:
        api = myclient_mock(client)
        api.get("/users/1", json={"id": 1})
        api.get("/users/2", json={"id": 2})
        api.get("/users/3", status=503, json={"message": "down"})
        one, two = await asyncio.gather(client.users.get(1), client.users.get(2))
        assert (one, two) == ({"id": 1}, {"id": 2})
        with pytest.raises(myclient.ServiceUnavailable):
            await client.adapter.get("/users/3", retry=None)
        assert len(api.calls) == 3


def test_the_same_mock_answers_the_sync_client(myclient_mock):
    client = Api("https://api.example.test")
    myclient_mock(client).get("/users/1", json={"id": 1})
    assert client.users.get(1) == {"id": 1}
'''


@pytest.fixture
def user(pytester: pytest.Pytester, httpbin_url: str, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("MYCLIENT_TEST_BASE", httpbin_url)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("MYCLIENT_RECORD_MODE", raising=False)
    pytester.makeini("[pytest]\nasyncio_mode = strict\n")
    return pytester


def test_async_calls_record_and_replay_offline_without_secrets(user: pytest.Pytester) -> None:
    user.makepyfile(test_user=ASYNC_CASSETTE_TEST.format(extra="myclient_record_mode", secret=SECRET))
    recorded = user.runpytest_subprocess("-p", "no:cacheprovider", "--record-mode=once")
    recorded.assert_outcomes(passed=1)
    cassette = Path(user.path) / "cassettes" / "async" / "flow.yaml"
    text = cassette.read_text()
    assert text.count("/anything/") >= 9 and SECRET not in text

    user.makepyfile(test_user=ASYNC_CASSETTE_TEST.format(extra="myclient_no_network", secret=SECRET))
    replayed = user.runpytest_subprocess("-p", "no:cacheprovider", "--record-mode=none")
    replayed.assert_outcomes(passed=1)


def test_myclient_mock_serves_async_and_sync_clients(user: pytest.Pytester) -> None:
    user.makepyfile(test_user=ASYNC_MOCK_TEST)
    result = user.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
