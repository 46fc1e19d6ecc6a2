"""What rate limiting costs per call, and a fleet holding a shared quota for 20 s (issue 14's figures).

1. **Local limiter overhead** (CPU time, zero-cost transport): the default GET with
   ``rate_limit=RateLimit(1_000_000)`` (a rate never reached, so no call waits: the price of the
   bookkeeping alone) vs the same client without; interleaved rounds, the median of paired ratios.
   Target: <= 1.03.
2. **Redis limiter** (wall time; a redis-server on loopback, started here): the same call with
   ``RateLimit(1_000_000, redis=...)`` vs none. Reported: the added microseconds per call and the
   Redis round trips per call counted by Redis itself (``INFO commandstats``: successful EVALSHA
   per call). Target: exactly 1 round trip per call.
3. **Quota held** (wall time, 20 s): 8 processes x 2 threads sharing ``RateLimit(50, per=1)`` on
   Redis call nginx (``limit_req rate=50r/s burst=5 nodelay``) as fast as allowed; then, as the
   control, the same processes without the limiter for 5 s. Reported: responses 429 from nginx
   (target 0 with the limiter) and the achieved rate (target within 10% of 50/s).

Run from the repository root: ``python benchmarks/bench_fleet.py [--quick] [--check]`` (needs
redis-server and nginx on PATH, as ``bash tests/run.sh`` installs them).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import _common
import requests

sys.path.insert(0, str(_common.ROOT / "tests"))
sys.path.insert(0, str(_common.ROOT / "tests" / "integration"))

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from servers import start_ratelimit, start_redis
from test_fleet import Worker

import myclient

URL = "http://bench.invalid/items/1"


def client(limit: myclient.RateLimit | None) -> myclient.Adapter:
    session = requests.Session()
    session.mount("http://", _common.CannedJSONTransport())
    return myclient.Client("http://bench.invalid", session=session, token="t0k3n", rate_limit=limit).adapter


def local_overhead(rounds: int, calls: int) -> float:
    plain, limited = client(None), client(myclient.RateLimit(1_000_000))
    series = _common.interleaved({"none": lambda: plain.get("/items/1"), "local": lambda: limited.get("/items/1")},
                                 rounds=rounds, calls=calls)
    ratio = _common.paired_ratio(series["local"], series["none"])
    print(f"local limiter: {series['local'].median * 1e6:.1f} us/call vs {series['none'].median * 1e6:.1f} us "
          f"without: ratio {ratio:.3f} (target <= 1.03)")
    return ratio


def redis_overhead(redis_url: str, server: Any, rounds: int, calls: int) -> tuple[float, float]:
    r = redis.Redis.from_url(redis_url, socket_timeout=1, retry=Retry(NoBackoff(), 0))
    plain, limited = client(None), client(myclient.RateLimit(1_000_000, redis=r, prefix="bench:"))
    limited.get("/items/1")  # loads the script
    series = _common.interleaved({"none": lambda: plain.get("/items/1"), "redis": lambda: limited.get("/items/1")},
                                 rounds=rounds, calls=calls, clock=time.perf_counter)
    added = (series["redis"].median - series["none"].median) * 1e6
    server.reset_stats()
    for _ in range(1000):
        limited.get("/items/1")
    stats = server.commandstats().get("evalsha", {})
    trips = (stats.get("calls", 0) - stats.get("failed_calls", 0)) / 1000
    # Commands a script runs (TIME, GET, SET) are counted too, but travel in its one round trip.
    inside = ("evalsha", "time", "get", "set", "config|resetstat", "info")
    other = sum(v["calls"] for k, v in server.commandstats().items() if k not in inside)
    print(f"redis limiter: {series['redis'].median * 1e6:.1f} us/call vs {series['none'].median * 1e6:.1f} us "
          f"without (+{added:.0f} us); Redis round trips per call: {trips:.3f} (other commands sent: {other:g})")
    if other:
        trips += other / 1000
    return added, trips


def quota(redis_url: str, nginx: Any, seconds: float, limited: bool) -> tuple[int, int, float]:
    config = {"mode": "quota", "redis_url": redis_url, "api_url": nginx.url, "rate": nginx.rate, "per": 1,
              "limited": limited, "seconds": seconds, "threads": 2, "prefix": f"q{time.time()}:"}
    nginx.settle()
    workers = [Worker(config) for _ in range(8)]
    for worker in workers:
        worker.expect("READY")
    start = nginx.mark()
    for worker in workers:
        worker.go()
    seen: Counter[str] = Counter()
    for worker in workers:
        seen.update(worker.result(timeout=seconds + 60)["outcomes"])
    window = nginx.window(start, nginx.mark())
    rate = window.ok_rate()
    label = "shared RateLimit(50/s)" if limited else "control, no limiter"
    print(f"quota, {label}: {window.total} requests in {window.duration:.1f}s, {window.ok} ok, "
          f"{window.limited} answered 429/503, {rate:.1f} ok/s (nginx allows {nginx.rate}/s); workers saw "
          f"{json.dumps(dict(seen))}")
    return window.ok, window.limited, rate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, a 5 s quota run")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    rounds, calls, seconds = (10, 500, 5.0) if args.quick else (30, 2000, 20.0)
    failures = []
    ratio = local_overhead(rounds, calls)
    if ratio > 1.03:
        failures.append(f"local limiter ratio {ratio:.3f} > 1.03")
    with tempfile.TemporaryDirectory() as directory:
        server = start_redis(Path(directory) / "redis")
        nginx = start_ratelimit(Path(directory) / "nginx")
        try:
            _added, trips = redis_overhead(server.url, server, max(3, rounds // 3), calls // 2)
            if abs(trips - 1.0) > 1e-9:
                failures.append(f"{trips:.3f} Redis round trips per call, not 1")
            _ok, limited, rate = quota(server.url, nginx, seconds, limited=True)
            if limited:
                failures.append(f"{limited} responses 429/503 with the shared limiter")
            if abs(rate - nginx.rate) > 0.1 * nginx.rate:
                failures.append(f"achieved {rate:.1f}/s, not within 10% of {nginx.rate}/s")
            _ok, control_limited, _rate = quota(server.url, nginx, 5.0, limited=False)
            if not control_limited:
                failures.append("the control (no limiter) got no 429: the load is too light to prove anything")
        finally:
            nginx.stop()
            server.stop()
    for failure in failures:
        print(f"FAIL: {failure}")
    if not failures:
        print("all targets met")
    return 1 if failures and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
