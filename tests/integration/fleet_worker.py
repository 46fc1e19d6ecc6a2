"""One worker of a simulated fleet (a separate process, as a separate host would be), for test_fleet.py and benchmarks.

Run as ``python fleet_worker.py '<json config>'``. The worker builds its clients, prints ``READY``,
waits for a line on stdin (the start signal, so every process begins at once), does its job and
prints one JSON line with what happened. Modes:

* ``storm``: ``threads`` threads each make one call through a Client, and ``coroutines`` coroutines
  one call each through an AsyncClient, all with OAuth2 client credentials on a shared
  ``RedisTokenStore`` that holds an expired token;
* ``holder``: renews the token, then — holding the cross-host lock, the new token obtained but not
  yet stored — prints ``HOLDING`` and hangs (the test SIGKILLs it: a crash mid-renewal);
* ``quota``: ``threads`` threads call the rate-limited nginx as fast as a ``RateLimit`` shared on
  Redis allows (or, with ``limited: false``, as fast as they can) for ``seconds``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
import traceback
from collections import Counter
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

import myclient


def redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5, retry=Retry(NoBackoff(), 0))


def flow(config: dict[str, Any], store: myclient.RedisTokenStore) -> myclient.ClientCredentials:
    return myclient.ClientCredentials(config["token_url"], config["client_id"], config["client_secret"],
                                      store=store)


class Holding(myclient.RedisTokenStore):
    """Announces that it holds the lock with a new token not yet stored, then hangs until killed."""

    def set(self, key: str, token: myclient.Token) -> None:
        print("HOLDING", flush=True)
        time.sleep(3600)


def storm(config: dict[str, Any]) -> dict[str, Any]:
    store = myclient.RedisTokenStore(redis_client(config["redis_url"]), config["key"],
                                     lock_timeout=config["lock_timeout"])
    api = myclient.Client(config["api_url"], auth=flow(config, store))
    aapi = myclient.AsyncClient(config["api_url"], auth=flow(config, store))
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def record(outcome: str) -> None:
        with lock:
            outcomes[outcome] += 1

    def one_call() -> None:
        try:
            api.adapter.get(config["path"])
            record("ok")
        except myclient.MyClientError as exc:
            record(f"{type(exc).__name__}: {exc}")

    async def one_coroutine() -> None:
        try:
            await aapi.adapter.get(config["path"])
            record("ok")
        except myclient.MyClientError as exc:
            record(f"{type(exc).__name__}: {exc}")

    async def coroutines() -> None:
        async with aapi:
            await asyncio.gather(*(one_coroutine() for _ in range(config["coroutines"])))

    print("READY", flush=True)
    sys.stdin.readline()
    threads = [threading.Thread(target=one_call) for _ in range(config["threads"])]
    for thread in threads:
        thread.start()
    asyncio.run(coroutines())
    for thread in threads:
        thread.join()
    return {"outcomes": dict(outcomes)}


def holder(config: dict[str, Any]) -> dict[str, Any]:
    store = Holding(redis_client(config["redis_url"]), config["key"], lock_timeout=config["lock_timeout"])
    print("READY", flush=True)
    sys.stdin.readline()
    flow(config, store).token()
    return {"outcomes": {"not killed": 1}}


def quota(config: dict[str, Any]) -> dict[str, Any]:
    limit = None
    if config["limited"]:
        limit = myclient.RateLimit(config["rate"], per=config["per"], key="client",
                                   redis=redis_client(config["redis_url"]), prefix=config["prefix"])
    api = myclient.Client(config["api_url"], rate_limit=limit, retry=None, raise_on_error=False)
    statuses: Counter[str] = Counter()
    lock = threading.Lock()
    print("READY", flush=True)
    sys.stdin.readline()
    until = time.monotonic() + config["seconds"]

    def run() -> None:
        while time.monotonic() < until:
            stop = False
            try:  # a slot may be taken until the end of the run; its request then has 0.5 s to finish
                result = api.adapter.get("/api/item", detailed=True, deadline=until - time.monotonic() + 0.5)
                outcome = str(result.status)
            except myclient.RateLimited:
                outcome, stop = "would wait past the end", True  # the next slot lies after the run: not sent
            except myclient.MyClientError as exc:
                outcome = f"{type(exc).__name__}"
            with lock:
                statuses[outcome] += 1
            if stop:
                break

    threads = [threading.Thread(target=run) for _ in range(config["threads"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"outcomes": dict(statuses)}


def main() -> None:
    config = json.loads(sys.argv[1])
    try:
        result = {"storm": storm, "holder": holder, "quota": quota}[config["mode"]](config)
    except Exception:  # noqa: BLE001 - reported to the test, which fails with it
        result = {"crash": traceback.format_exc()}
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
