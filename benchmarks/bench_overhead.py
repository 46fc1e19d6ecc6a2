"""Per-call overhead of ``client.adapter.get(path)`` over the equivalent raw ``requests`` call.

1. Zero-cost transport, CPU time (``time.process_time``): a canned JSON response mounted on the
   injected session, so only the Python work above the transport is measured. Target <= 1.10.
2. Loopback, wall time (``time.perf_counter``): a real server on 127.0.0.1 (gunicorn + httpbin when
   installed, else a stdlib server with keep-alive). Target <= 1.03.

The raw baseline is ``session.get(url, headers=<the headers the client sends>, timeout=<the client's
timeout>).json()`` on the same session. Cases run in interleaved rounds; the ratio is the median
over rounds of client/raw. ``--check`` exits 1 when a target is missed; see README.rst.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import _common
import requests

import myclient

TOKEN = "bench-token-0123456789"
ZERO_BASE = "http://zero-cost.invalid"  # never resolved: the canned transport answers it
ITEM_PATH = "/items/1"
ZERO_TARGET = 1.10
LOOPBACK_TARGET = 1.03
MYCLIENT_DIR = str(_common.ROOT / "myclient")

Call = Callable[[], object]


class _Bearer(requests.auth.AuthBase):
    """Minimal bearer auth for the informational baseline (an auth= object skips ~/.netrc)."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {TOKEN}"
        return r


@dataclass
class Row:
    case: str
    client: _common.Series
    baseline: _common.Series
    target: float | None  # None: informational only

    @property
    def ratio(self) -> float:
        return _common.paired_ratio(self.client, self.baseline)

    @property
    def passed(self) -> bool:
        return self.target is None or self.ratio <= self.target

    def cells(self) -> list[str]:
        if self.target is None:
            target, result = "-", "info"
        else:
            target, result = f"<= {self.target:.2f}", "PASS" if self.passed else "FAIL"
        return [
            self.case,
            f"{self.client.median * 1e6:.1f}",
            f"{self.baseline.median * 1e6:.1f}",
            f"{self.ratio:.3f}",
            f"{self.client.best / self.baseline.best:.3f}",
            target,
            result,
        ]


def build_cases(
    client: myclient.Client, session: requests.Session, path: str, names: tuple[str, ...]
) -> dict[str, Call]:
    """The client call and its raw equivalents (those in ``names``), same session, same headers.

    ``raw_again`` is ``raw`` once more: raw_again/raw is an A/A control showing the noise floor.
    """
    url = client.adapter.url(path)
    timeout = client.adapter.timeout
    headers = {"Authorization": f"Bearer {TOKEN}", "X-Correlation-ID": client.cid}
    cid_only = {"X-Correlation-ID": client.cid}
    cases: dict[str, Call] = {
        "client": lambda: client.adapter.get(path),
        "client_noretry": lambda: client.adapter.get(path, retry=None),
        "client_deadline": lambda: client.adapter.get(path, deadline=30),
        "raw": lambda: session.get(url, headers=headers, timeout=timeout).json(),
        "raw_auth": lambda: session.get(url, headers=cid_only, auth=_Bearer(), timeout=timeout).json(),
        "raw_again": lambda: session.get(url, headers=headers, timeout=timeout).json(),
    }
    return {name: cases[name] for name in names}


def check_same_exchange(cases: dict[str, Call], transport: _common.CannedJSONTransport) -> None:
    """Refuse to benchmark unless every case returns the same data and sends the same headers."""
    seen = []
    for name, call in cases.items():
        result = call()
        assert transport.last_request is not None
        seen.append((name, result, dict(transport.last_request.headers)))
    first = seen[0]
    for other in seen[1:]:
        if other[1:] != first[1:]:
            sys.exit(f"benchmark setup error: {other[0]!r} differs from {first[0]!r}: {other} vs {first}")


def bench_zero_cost(rounds: int, calls: int) -> tuple[list[Row], Call]:
    session = requests.Session()
    transport = _common.CannedJSONTransport(record=True)
    session.mount(ZERO_BASE + "/", transport)  # the benchmark mounts it, as a user would
    client = myclient.Client(ZERO_BASE, token=TOKEN, session=session)
    cases = build_cases(client, session, ITEM_PATH,
                        ("client", "raw", "raw_auth", "client_noretry", "client_deadline"))
    check_same_exchange(cases, transport)
    transport.record = False
    series = _common.interleaved(cases, rounds=rounds, calls=calls, clock=time.process_time)
    rows = [
        Row("zero-cost transport, CPU (default RetryPolicy)", series["client"], series["raw"], ZERO_TARGET),
        Row("  info: raw with auth= (no .netrc lookup)", series["client"], series["raw_auth"], None),
        Row("  retry machinery: retry=None vs default", series["client_noretry"], series["client"], None),
        Row("  with deadline=30 (body read under watchdog)", series["client_deadline"], series["raw"],
            ZERO_TARGET),
    ]
    return rows, cases["client"]


def bench_loopback(rounds: int, calls: int, prefer_gunicorn: bool) -> list[Row]:
    with _common.loopback_server(prefer_gunicorn=prefer_gunicorn) as server:
        session = requests.Session()
        client = myclient.Client(server.base_url, token=TOKEN, session=session)
        cases = build_cases(client, session, server.path, ("client", "raw", "raw_again"))
        series = _common.interleaved(cases, rounds=rounds, calls=calls, clock=time.perf_counter, warmup=100)
        session.close()
    return [
        Row(f"loopback {server.kind} {server.path}, wall", series["client"], series["raw"], LOOPBACK_TARGET),
        Row("  info: A/A control, raw again vs raw", series["raw_again"], series["raw"], None),
    ]


def print_profile(call: Call, calls: int) -> None:
    rows = _common.profile_calls(call, calls, include=lambda filename: filename.startswith(MYCLIENT_DIR))
    print(f"\ncProfile of the client call over the zero-cost transport ({calls} calls; myclient functions,")
    print("per call; cProfile inflates all figures, compare rows with each other):")
    table = [[name, f"{n:g}", f"{own:.2f}", f"{cum:.2f}"] for name, n, own, cum in rows]
    print(_common.format_table(["function", "calls", "own us", "cumulative us"], table))
    print(f"myclient own time per call: {sum(row[2] for row in rows):.2f} us")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--quick", action="store_true", help="a quarter of the iterations (a rough look)")
    parser.add_argument("--rounds", type=int, default=20, help="zero-cost rounds (default 20)")
    parser.add_argument("--calls", type=int, default=2000, help="zero-cost calls per round (default 2000)")
    parser.add_argument("--loopback-rounds", type=int, default=20, help="loopback rounds (default 20)")
    parser.add_argument("--loopback-calls", type=int, default=200, help="loopback calls per round (default 200)")
    parser.add_argument("--no-loopback", action="store_true", help="skip the loopback measurement")
    parser.add_argument("--stdlib-server", action="store_true", help="loopback against the stdlib server")
    parser.add_argument("--profile", action="store_true", help="also cProfile the client call")
    args = parser.parse_args(argv)
    scale = 4 if args.quick else 1

    started = time.perf_counter()
    print(f"myclient {myclient.__version__}, requests {requests.__version__}, Python {sys.version.split()[0]}")
    rows, client_call = bench_zero_cost(args.rounds, max(1, args.calls // scale))
    skipped = ""
    if not args.no_loopback:
        try:
            rows += bench_loopback(
                args.loopback_rounds, max(1, args.loopback_calls // scale), not args.stdlib_server
            )
        except RuntimeError as exc:
            skipped = f"loopback: SKIPPED ({exc})"
    header = ["case", "client us/call", "raw us/call", "ratio", "best/best", "target", "result"]
    print()
    print(_common.format_table(header, [row.cells() for row in rows]))
    if skipped:
        print(skipped)
    print("ratio = median over interleaved rounds of client/raw; best/best = fastest round of each.")
    if args.profile or not rows[0].passed:
        print_profile(client_call, 5000)
    print(f"\ntotal {time.perf_counter() - started:.1f} s")
    missed = [row.case.strip() for row in rows if not row.passed]
    if missed:
        print(f"targets missed: {', '.join(missed)}")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
