"""Memory a call leaves behind: 8 GETs of a 10 MiB JSON body, results discarded, with and without ``deadline=``.

A stdlib HTTP/1.1 server in a child process answers ``GET /big`` with a 10 MiB JSON document and
``GET /small`` with a small one. Each case runs in a fresh Python process (so one case's leak or
allocator state cannot colour another's): two small warm-up calls (imports, the keep-alive
connection, the deadline watchdog thread), then the baseline (after ``gc.collect()``), then the big
GETs with each result dropped at once, then ``gc.collect()`` and the measurement:

* **RSS held** (``VmRSS`` after minus before) and **tracemalloc held** (Python allocations still
  live, traced from before the warm-up), in MiB;
* ``requests.Response`` objects still alive (found through the GC) beyond those alive before;
* for information, the peak RSS growth during the calls (``VmHWM``, reset before them).

Cases: raw ``session.get(url, headers=..., timeout=...).json()``, ``client.adapter.get(path)``, and
``client.adapter.get(path, deadline=60)``. Targets (the issue "With deadline=, each response and
its body stay referenced after the call returns"): with a deadline, no response alive after the call
and held memory the same as without one (within 2 MiB, RSS and tracemalloc), both a few MiB at most.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import time
import tracemalloc
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import _common

MIB = 1024 * 1024
TOKEN = "bench-token-0123456789"
CASES = ("raw", "client", "client_deadline")
#: Allowed difference in held memory between the deadline case and the plain client call (MiB).
SAME_WITHIN_MIB = 2.0
#: Held memory above which a case is not "a few MiB" any more.
FEW_MIB = 5.0


# -- the server (child process) ----------------------------------------------------------------------


def serve(port: int, size: int) -> None:
    """Serve ``/big`` (a JSON document of about ``size`` bytes) and ``/small`` on 127.0.0.1:port, keep-alive."""
    big = json.dumps({"data": "x" * max(0, size - 12)}).encode()
    small = json.dumps(_common.ITEM).encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            body = big if self.path.startswith("/big") else small
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
            pass

    with ThreadingHTTPServer((_common.LOCALHOST, port), Handler) as server:
        server.daemon_threads = True
        server.serve_forever()


# -- one case (child process) ----------------------------------------------------------------------


def _responses_alive() -> int:
    import requests

    return sum(1 for obj in gc.get_objects() if isinstance(obj, requests.Response))


def measure(case: str, base_url: str, calls: int) -> dict[str, float]:
    """Run ``case`` in this process and return what it left behind (bytes and counts)."""
    tracemalloc.start()
    import requests

    import myclient

    session = requests.Session()
    client = myclient.Client(base_url, token=TOKEN, session=session)
    headers = {"Authorization": f"Bearer {TOKEN}", "X-Correlation-ID": client.cid}
    timeout = client.adapter.timeout
    get = client.adapter.get
    if case == "raw":
        def call(path: str) -> object:
            return session.get(base_url + path, headers=headers, timeout=timeout).json()
    elif case == "client":
        def call(path: str) -> object:
            return get(path)
    elif case == "client_deadline":
        def call(path: str) -> object:
            return get(path, deadline=60)
    else:
        raise SystemExit(f"unknown case {case!r}")
    for _ in range(2):
        call("/small")
    gc.collect()
    alive_before = _responses_alive()
    rss_before = _common.rss_bytes()
    traced_before = tracemalloc.get_traced_memory()[0]
    _common.reset_peak_rss()
    size = 0
    for _ in range(calls):
        data = call("/big")
        assert isinstance(data, dict)
        size = len(data["data"])
        del data
    peak = _common.peak_rss_bytes()
    gc.collect()
    return {
        "rss_held": _common.rss_bytes() - rss_before,
        "traced_held": tracemalloc.get_traced_memory()[0] - traced_before,
        "peak_growth": peak - rss_before,
        "responses_alive": _responses_alive() - alive_before,
        "body": size,
    }


# -- the driver ---------------------------------------------------------------------------------


def run_case(case: str, base_url: str, calls: int) -> dict[str, float]:
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "measure", case, base_url, str(calls)],
                         capture_output=True, text=True, check=False, timeout=600)
    if out.returncode != 0:
        raise SystemExit(f"case {case} failed:\n{out.stderr[-3000:]}")
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--quick", action="store_true", help="one process per case instead of --runs")
    parser.add_argument("--calls", type=int, default=8, help="big GETs per case (default 8)")
    parser.add_argument("--size-mib", type=float, default=10.0, help="body size in MiB (default 10)")
    parser.add_argument("--runs", type=int, default=3, help="processes per case, interleaved (default 3)")
    args = parser.parse_args(argv)
    runs = 1 if args.quick else args.runs
    size = int(args.size_mib * MIB)
    started = time.perf_counter()
    command = lambda port: [sys.executable, str(Path(__file__).resolve()), "serve", str(port), str(size)]  # noqa: E731
    results: dict[str, list[dict[str, float]]] = {case: [] for case in CASES}
    with _common.child_server(command, "/small") as base_url:
        for index in range(runs):
            for case in CASES if index % 2 == 0 else CASES[::-1]:
                results[case].append(run_case(case, base_url, args.calls))

    def med(case: str, key: str) -> float:
        return statistics.median(r[key] for r in results[case])

    print(f"{args.calls} GETs of a {args.size_mib:g} MiB JSON body (results discarded), stdlib server on loopback; "
          f"median of {runs} process(es) per case")
    header = ["case", "RSS held MiB", "tracemalloc held MiB", "responses alive", "peak growth MiB"]
    table = [[case, f"{med(case, 'rss_held') / MIB:.2f}", f"{med(case, 'traced_held') / MIB:.3f}",
              f"{max(r['responses_alive'] for r in results[case]):g}", f"{med(case, 'peak_growth') / MIB:.1f}"]
             for case in CASES]
    print(_common.format_table(header, table))
    missed = []
    for key, label in (("rss_held", "RSS"), ("traced_held", "tracemalloc")):
        held, plain = med("client_deadline", key) / MIB, med("client", key) / MIB
        ok = held <= plain + SAME_WITHIN_MIB and held <= FEW_MIB
        print(f"deadline=60 {label} held {held:.3f} MiB vs {plain:.3f} MiB without: target <= {plain:.3f} + "
              f"{SAME_WITHIN_MIB:g} and <= {FEW_MIB:g} MiB: {'PASS' if ok else 'FAIL'}")
        if not ok:
            missed.append(f"deadline {label} held")
    alive = max(r["responses_alive"] for r in results["client_deadline"])
    print(f"deadline=60 responses alive after the calls: {alive:g} (target 0): {'PASS' if alive <= 0 else 'FAIL'}")
    if alive > 0:
        missed.append("deadline responses alive")
    print(f"\ntotal {time.perf_counter() - started:.1f} s")
    if missed:
        print(f"targets missed: {', '.join(missed)}")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "serve":
        serve(int(sys.argv[2]), int(sys.argv[3]))
    elif len(sys.argv) == 5 and sys.argv[1] == "measure":
        print(json.dumps(measure(sys.argv[2], sys.argv[3], int(sys.argv[4]))))
    else:
        sys.exit(main())
