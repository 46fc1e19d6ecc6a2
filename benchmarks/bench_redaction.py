"""Per-call cost and memory of 10 000 calls to a server that sets a new cookie on every response.

nginx (the tests' API gateway, ``tests/servers/nginx.py``; the benchmark starts its own, with
httpbin behind it) answers ``GET /rotating-cookie`` with ``Set-Cookie: sid=$request_id``, a new
value every time, as load balancers re-issuing sticky cookies and rotating CSRF cookies do.
myclient learns every cookie value as a secret, so this is where a registry whose cost grew with
the values it has seen would show.

Each configuration (the ``myclient`` logger at INFO, and at DEBUG into a handler that discards, so
that every call formats a redacted line) runs 10 000 client calls interleaved one for one with
the raw call a user would write (``session.get(url).json()`` on a second session, which rotates
its own cookie). Per-call CPU time (``time.process_time``) and wall time are taken call by call.
Targets: **last 1 000 / first 1 000 calls <= 1.10**, and **RSS growth <= 5 MiB** (peak RSS over
the 10 000 calls minus RSS after 100 warm-up calls). The ratio is taken on CPU time per call,
paired with the raw call made right after it (the median of client/raw over the last 1 000 pairs
divided by the same over the first 1 000), so drift of the machine during the run (the raw calls'
own last/first, printed as the control) cancels out; the unpaired last/first medians are printed
too. ``--check`` exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import gc
import logging
import statistics
import sys
import tempfile
import time
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import _common
import requests

import myclient
from myclient.redaction import registry

sys.path.insert(0, str(_common.ROOT / "tests"))
from servers import HarnessError, create_pki, start_gateway, start_httpbin

MiB = 1 << 20
RATIO_TARGET = 1.10
GROWTH_TARGET = 5 * MiB
PATH = "/rotating-cookie"


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


@dataclass
class Run:
    """Per-call CPU and wall seconds of the client and raw calls, and the RSS growth over them."""

    client_cpu: array[float]
    client_wall: array[float]
    raw_cpu: array[float]
    raw_wall: array[float]
    growth: int


def run(base_url: str, calls: int, debug: bool) -> Run:
    """``calls`` client calls interleaved with raw calls; per-call times and RSS growth.

    The timings go into arrays allocated before the baseline RSS is read, so they are not
    counted as growth.
    """
    logger = logging.getLogger("myclient")
    handler = logging.NullHandler()
    logger.setLevel(logging.DEBUG if debug else logging.INFO)
    logger.addHandler(handler)
    client_session, raw_session = _session(), _session()
    client = myclient.Client(base_url, session=client_session, retry=None)
    url = base_url + PATH
    result = Run(*(array("d", bytes(8 * calls)) for _ in range(4)), growth=0)
    clock, wall = time.process_time, time.perf_counter
    try:
        for _ in range(100):
            client.adapter.get(PATH)
            raw_session.get(url).json()
        gc.collect()
        baseline = _common.rss_bytes()
        _common.reset_peak_rss()
        for i in range(calls):
            c0, w0 = clock(), wall()
            client.adapter.get(PATH)
            c1, w1 = clock(), wall()
            raw_session.get(url).json()
            c2, w2 = clock(), wall()
            result.client_cpu[i], result.client_wall[i] = c1 - c0, w1 - w0
            result.raw_cpu[i], result.raw_wall[i] = c2 - c1, w2 - w1
        result.growth = _common.peak_rss_bytes() - baseline
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
        client_session.close()
        raw_session.close()
    return result


def _median(values: Sequence[float]) -> float:
    return statistics.median(values)


def _paired(client: Sequence[float], raw: Sequence[float]) -> float:
    """Median over the pairs of client CPU time / raw CPU time (each pair ran back to back)."""
    return statistics.median(c / r for c, r in zip(client, raw, strict=False) if r > 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--calls", type=int, default=10_000, help="client calls per configuration (default 10000)")
    parser.add_argument("--block", type=int, default=1_000, help="first/last block compared (default 1000)")
    args = parser.parse_args(argv)
    print(f"myclient {myclient.__version__}, requests {requests.__version__}, Python {sys.version.split()[0]}")
    rows, missed = [], []
    with tempfile.TemporaryDirectory(prefix="myclient-bench-") as scratch:
        root = Path(scratch)
        try:
            httpbin = start_httpbin(root / "httpbin")
        except HarnessError as exc:
            print(f"redaction benchmark: SKIPPED (httpbin unavailable: {exc})")
            return 0
        try:
            gateway = start_gateway(root / "nginx", httpbin_url=httpbin.url, pki=create_pki(root / "pki"))
        except HarnessError as exc:
            httpbin.stop()
            print(f"redaction benchmark: SKIPPED (nginx unavailable: {exc})")
            return 0
        try:
            for debug in (False, True):
                result = run(gateway.info.http_url, args.calls, debug)
                n = args.block
                first, last = result.client_cpu[:n], result.client_cpu[-n:]
                raw_first, raw_last = result.raw_cpu[:n], result.raw_cpu[-n:]
                ratio = _paired(last, raw_last) / _paired(first, raw_first)
                unpaired = _median(last) / _median(first)
                control = _median(raw_last) / _median(raw_first)
                growth = result.growth
                name = f"logger at {'DEBUG' if debug else 'INFO'}"
                ok = ratio <= RATIO_TARGET and growth <= GROWTH_TARGET
                if not ok:
                    missed.append(name)
                rows.append([name, f"{_median(first) * 1e6:.0f}", f"{_median(last) * 1e6:.0f}",
                             f"{unpaired:.3f}", f"{control:.3f}", f"{ratio:.3f}",
                             f"{_median(result.client_wall[:n]) * 1e3:.2f}",
                             f"{_median(result.client_wall[-n:]) * 1e3:.2f}", f"{growth / MiB:.2f}",
                             "PASS" if ok else "FAIL"])
        finally:
            gateway.stop()
            httpbin.stop()
    pinned, learned, entries = registry.sizes()
    print(f"\n{args.calls} calls per configuration to nginx {PATH} (Set-Cookie: sid=$request_id), each followed "
          f"by a raw requests call;\nfirst/last = the first and last {args.block} calls; registry now: "
          f"{pinned} pinned, {learned} learned values, {entries} index entries\n")
    header = ["configuration", "CPU us first", "CPU us last", "last/first", "raw last/first", "paired",
              "wall ms first", "wall ms last", "RSS growth MiB", "result"]
    print(_common.format_table(header, rows))
    print(f"targets: paired last/first (CPU, client/raw) <= {RATIO_TARGET:.2f}, RSS growth <= "
          f"{GROWTH_TARGET // MiB} MiB; 'raw last/first' is the control, 'last/first' the unpaired medians.")
    if missed:
        print(f"targets missed: {', '.join(missed)}")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
