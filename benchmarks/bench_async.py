"""The AsyncClient on loopback: throughput, event-loop lag, and peers, against the tests' static nginx.

1. Throughput: N concurrent ``await client.adapter.get(path)`` (default 1000) against nginx serving a small
   JSON file; errors must be 0. Compared, in the same run and interleaved rounds, with the same N calls
   from a sync ``myclient.Client`` on 8 threads (target: async >= 0.9x of it) and, for the record, with
   ``httpx.AsyncClient`` (when httpx is installed) and raw ``requests`` on 8 threads.
2. Loop lag: while the N calls run, a probe coroutine ticking every 10 ms records how late each tick is
   (p50/p99/max printed; the issue's bar is max < 50 ms with 100 slow requests in flight, tested in
   tests/integration/test_async_servers.py).
``--check`` exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import _common
import requests

sys.path.insert(0, str(_common.ROOT / "tests"))
from servers import start_static

import myclient

TARGET = 0.9


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


async def _async_round(url: str, path: str, n: int, workers: int) -> tuple[float, list[float], int]:
    async with myclient.AsyncClient(url, session=_session(), max_workers=workers, timeout=30) as client:
        loop = asyncio.get_running_loop()
        lags: list[float] = []
        done = asyncio.Event()

        async def probe() -> None:
            while not done.is_set():
                planned = loop.time() + 0.01
                await asyncio.sleep(0.01)
                lags.append(max(0.0, loop.time() - planned))

        ticker = asyncio.create_task(probe())
        began = time.perf_counter()
        results = await asyncio.gather(*(client.adapter.get(path) for _ in range(n)), return_exceptions=True)
        elapsed = time.perf_counter() - began
        done.set()
        await ticker
    errors = sum(1 for r in results if isinstance(r, BaseException))
    return n / elapsed, lags, errors


def _threads_round(call: Any, n: int, threads: int = 8) -> float:
    began = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda _: call(), range(n)))
    return n / (time.perf_counter() - began)


async def _httpx_round(url: str, n: int, limit: int, gate: bool) -> float | None:
    """httpx.AsyncClient with ``limit`` connections; with ``gate``, callers beyond it wait on a semaphore.

    Without the gate, all ``n`` requests queue inside httpcore's connection pool, whose bookkeeping grows
    with the number waiting (1000 queued requests run several times slower than the same requests fed
    ``limit`` at a time), so both are printed.
    """
    try:
        import httpx
    except ImportError:
        return None
    limits = httpx.Limits(max_connections=limit)
    semaphore = asyncio.Semaphore(limit)

    async def one(client: Any) -> None:
        if gate:
            async with semaphore:
                (await client.get("/files/item.json")).json()
        else:
            (await client.get("/files/item.json")).json()

    async with httpx.AsyncClient(base_url=url, limits=limits, trust_env=False) as client:
        await one(client)  # warm: one connection up, as the other rows' sessions are
        began = time.perf_counter()
        await asyncio.gather(*(one(client) for _ in range(n)))
        return n / (time.perf_counter() - began)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=10, help="AsyncClient max_workers (default: 10)")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="myclient-async-") as tmp:
        server = start_static(Path(tmp) / "nginx")
        try:
            (server.www / "item.json").write_text(json.dumps(_common.ITEM))
            url, path = server.url, "/files/item.json"
            sync_client = myclient.Client(url, session=_session(), timeout=30)
            raw = _session()
            rates: dict[str, list[float]] = {"async": [], "sync 8 threads": [], "raw 8 threads": [], "httpx": [],
                                             "httpx, gated": []}
            lags: list[float] = []
            errors = 0
            for _ in range(args.rounds):
                rate, round_lags, round_errors = asyncio.run(_async_round(url, path, args.calls, args.workers))
                rates["async"].append(rate)
                lags += round_lags
                errors += round_errors
                rates["sync 8 threads"].append(_threads_round(lambda: sync_client.adapter.get(path), args.calls))
                rates["raw 8 threads"].append(_threads_round(lambda: raw.get(url + path, timeout=30).json(),
                                                             args.calls))
                for name, gate in (("httpx", False), ("httpx, gated", True)):
                    peer = asyncio.run(_httpx_round(url, args.calls, args.workers, gate))
                    if peer is not None:
                        rates[name].append(peer)
        finally:
            server.stop()
    print(f"myclient {myclient.__version__}, requests {requests.__version__}, Python {sys.version.split()[0]}; "
          f"{args.calls} concurrent calls x {args.rounds} rounds against nginx on loopback")
    for name, values in rates.items():
        if values:
            print(f"  {name:16s} {statistics.median(values):8.0f} calls/s (median; best {max(values):.0f})")
    ratio = statistics.median(rates["async"]) / statistics.median(rates["sync 8 threads"])
    lags.sort()
    p99 = lags[int(len(lags) * 0.99) - 1] if lags else 0.0
    print(f"async / sync on 8 threads: {ratio:.2f} (target >= {TARGET}); errors: {errors}")
    print(f"loop lag while running: p50 {statistics.median(lags) * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms, "
          f"max {lags[-1] * 1000 if lags else 0:.1f} ms over {len(lags)} ticks")
    return 1 if args.check and (ratio < TARGET or errors) else 0


if __name__ == "__main__":
    sys.exit(main())
