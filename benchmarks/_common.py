"""Shared helpers for the benchmark scripts in this directory (not tests; nothing here asserts).

* Importing this module puts the repository root on ``sys.path``, so ``python benchmarks/x.py``
  uses the working tree's ``myclient`` without installing it. Import it before ``myclient``.
* :class:`CannedJSONTransport` is a zero-cost ``requests`` transport: mounted on a session it
  answers every request with a canned JSON response and no network, so a benchmark measures the
  Python work above the transport.
* :func:`interleaved` times several cases in alternating order, round after round, so slow drift
  (CPU frequency, other load) hits every case alike; :func:`paired_ratio` compares two of them.
* :func:`loopback_server` starts a real HTTP server on 127.0.0.1 in a child process: gunicorn +
  httpbin when both are installed, else a stdlib ``ThreadingHTTPServer`` with HTTP/1.1 keep-alive.
* :func:`profile_calls` runs cProfile over a call and lists per-call microseconds by function;
  :func:`print_profile_delta` shows what one call does on top of another (alternating rounds).
* :func:`child_server` runs any HTTP server command in a child process; :func:`rss_bytes`,
  :func:`reset_peak_rss` and :func:`peak_rss_bytes` read this process's memory (Linux /proc).
"""

from __future__ import annotations

import contextlib
import cProfile
import gc
import importlib.util
import io
import json
import os
import pstats
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

LOCALHOST = "127.0.0.1"
#: The body CannedJSONTransport answers with unless told otherwise (a small REST item).
ITEM = {"id": 1, "name": "Item 1", "price": 9.99, "tags": ["a", "b"], "owner": {"id": 7, "name": "Ada"}}

Clock = Callable[[], float]


# -- zero-cost transport ------------------------------------------------------------------------


class CannedJSONTransport(BaseAdapter):
    """A transport that answers every request with the same JSON response, without any network.

    The response is built the way ``HTTPAdapter`` builds one (status, reason, headers, ``raw`` as
    a file-like body, ``url``, ``request``, ``encoding=None``), so ``.content``/``.json()`` do their
    usual work (reading ``raw``, guessing the encoding, decoding). With ``record=True`` the last
    request is kept in ``last_request`` (to check what a benchmark case really sends).
    """

    def __init__(
        self, body: Any = ITEM, *, status: int = 200, reason: str = "OK", record: bool = False
    ) -> None:
        super().__init__()
        self.payload = json.dumps(body).encode()
        self.status = status
        self.reason = reason
        self.record = record
        self.last_request: requests.PreparedRequest | None = None

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        if self.record:
            self.last_request = request
        response = requests.Response()
        response.status_code = self.status
        response.reason = self.reason
        response.headers = CaseInsensitiveDict(
            {"Content-Type": "application/json", "Content-Length": str(len(self.payload))}
        )
        response.raw = io.BytesIO(self.payload)
        response.url = request.url or ""
        response.request = request
        response.encoding = None
        return response

    def close(self) -> None:
        pass


# -- timing -------------------------------------------------------------------------------------


@dataclass
class Series:
    """Seconds per call, one value per round, for one case."""

    name: str
    per_call: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.per_call)

    @property
    def best(self) -> float:
        return min(self.per_call)


def time_calls(fn: Callable[[], object], calls: int, clock: Clock = time.process_time) -> float:
    """Seconds per call of ``fn`` over ``calls`` calls, with the cyclic GC paused (as ``timeit`` does)."""
    gc.collect()
    gc.disable()
    try:
        start = clock()
        for _ in range(calls):
            fn()
        elapsed = clock() - start
    finally:
        gc.enable()
    return elapsed / calls


def interleaved(
    cases: Mapping[str, Callable[[], object]],
    *,
    rounds: int,
    calls: int,
    clock: Clock = time.process_time,
    warmup: int = 200,
) -> dict[str, Series]:
    """Time every case ``rounds`` times, alternating the order each round (A B, B A, A B, ...)."""
    names = list(cases)
    for name in names:
        for _ in range(warmup):
            cases[name]()
    results = {name: Series(name, []) for name in names}
    for index in range(rounds):
        order = names if index % 2 == 0 else names[::-1]
        for name in order:
            results[name].per_call.append(time_calls(cases[name], calls, clock))
    return results


def paired_ratio(a: Series, b: Series) -> float:
    """Median over rounds of a/b: each round's pair ran back to back under the same conditions."""
    return statistics.median(x / y for x, y in zip(a.per_call, b.per_call, strict=False))


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table: first column left-aligned, the others right-aligned."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=False))
        )

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


# -- profiling ----------------------------------------------------------------------------------


def profile_calls(
    fn: Callable[[], object], calls: int, include: Callable[[str], bool] = lambda filename: True
) -> list[tuple[str, float, float, float]]:
    """cProfile ``fn`` over ``calls`` calls: (function, calls per call, own µs, cumulative µs) per call.

    Only functions whose file name passes ``include`` are listed, slowest own time first. cProfile
    inflates every figure, so compare the rows with one another rather than with wall time.
    """
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        fn()
    profiler.disable()
    stats: dict[tuple[str, int, str], tuple[int, int, float, float, Any]]
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    rows = []
    for (filename, lineno, func), (_cc, ncalls, tottime, cumtime, _callers) in stats.items():
        if include(filename):
            where = f"{Path(filename).name}:{lineno}({func})"
            rows.append((where, ncalls / calls, tottime / calls * 1e6, cumtime / calls * 1e6))
    rows.sort(key=lambda row: row[2], reverse=True)
    return rows


def print_profile(label: str, call: Callable[[], object], calls: int, under: str) -> None:
    """Print the cProfile of ``call`` for the functions of files under ``under`` (per call), slowest first."""
    rows = profile_calls(call, calls, include=lambda filename: filename.startswith(under))
    print(f"\ncProfile of {label} ({calls} calls; functions under {Path(under).name}/, per call;")
    print("cProfile inflates all figures, compare rows with each other):")
    table = [[name, f"{n:g}", f"{own:.2f}", f"{cum:.2f}"] for name, n, own, cum in rows[:25]]
    print(format_table(["function", "calls", "own us", "cumulative us"], table))
    print(f"own time per call, these functions: {sum(row[2] for row in rows):.2f} us")


def profile_rounds(
    calls: Sequence[Callable[[], object]], rounds: int, per_round: int
) -> list[dict[str, tuple[float, float]]]:
    """cProfile each callable in alternating rounds (GC paused): per function, (calls, own us) per call."""
    profilers = [cProfile.Profile() for _ in calls]
    for index in range(rounds):
        order = list(range(len(calls))) if index % 2 == 0 else list(range(len(calls)))[::-1]
        for i in order:
            gc.collect()
            gc.disable()
            try:
                profilers[i].enable()
                for _ in range(per_round):
                    calls[i]()
                profilers[i].disable()
            finally:
                gc.enable()
    total = rounds * per_round
    out = []
    for profiler in profilers:
        stats: dict[tuple[str, int, str], tuple[int, int, float, float, Any]]
        stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
        out.append({f"{Path(f).name}:{line}({func})": (n / total, own / total * 1e6)
                    for (f, line, func), (_cc, n, own, _cum, _callers) in stats.items()})
    return out


def print_profile_delta(
    label: str, subject: Callable[[], object], baseline: Callable[[], object], rounds: int = 10, per_round: int = 500
) -> None:
    """What a row's subject does on top of its baseline: the functions it calls more often, by extra own time.

    Own time of functions called equally often by both sides is left out: under cProfile it differs
    by noise alone. The total is the difference of the summed own times (cProfile-inflated).
    """
    prof, base = profile_rounds([subject, baseline], rounds, per_round)
    total = sum(own for _, own in prof.values()) - sum(own for _, own in base.values())
    delta = []
    for name in prof.keys() | base.keys():
        n1, own1 = prof.get(name, (0.0, 0.0))
        n0, own0 = base.get(name, (0.0, 0.0))
        if abs(n1 - n0) >= 0.01:
            delta.append((own1 - own0, name, n1 - n0))
    delta.sort(reverse=True)
    print(f"\n{label}: functions called more often than by its baseline, extra own time per call")
    print(f"(cProfile, {rounds} alternating rounds x {per_round} calls each; inflated; total extra {total:+.2f} us):")
    table = [[name, f"{dn:+g}", f"{d:+.2f}"] for d, name, dn in delta[:20]]
    print(format_table(["function", "extra calls", "extra own us"], table))


# -- loopback servers ---------------------------------------------------------------------------


@dataclass
class LoopbackServer:
    """A running local server: where it listens, the JSON path to call, and what it is."""

    base_url: str
    path: str
    kind: str


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOCALHOST, 0))
        port: int = sock.getsockname()[1]
        return port


def have_gunicorn_httpbin() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in ("gunicorn", "httpbin"))


def _bypass_proxies_for_loopback() -> None:
    """Make sure an HTTP(S)_PROXY in the environment never catches the loopback traffic."""
    for name in ("no_proxy", "NO_PROXY"):
        current = os.environ.get(name, "")
        if LOCALHOST not in current.split(","):
            os.environ[name] = ",".join(filter(None, [current, LOCALHOST, "localhost"]))


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    with requests.Session() as probe:
        probe.trust_env = False
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return False
            with contextlib.suppress(requests.RequestException):
                if probe.get(url, timeout=1).status_code == 200:
                    return True
            time.sleep(0.1)
    return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)  # the group this script started (start_new_session=True)
            proc.wait(timeout=5)


@contextlib.contextmanager
def loopback_server(prefer_gunicorn: bool = True, start_timeout: float = 20.0) -> Iterator[LoopbackServer]:
    """Run a JSON server on 127.0.0.1 in a child process for the duration of the ``with`` block.

    gunicorn (gthread, 1 worker, 4 threads, keep-alive 30 s) serving httpbin's ``/get`` when both
    are importable, else this module's stdlib ThreadingHTTPServer (HTTP/1.1 keep-alive) serving
    a small JSON item at any path. Raises RuntimeError if no server came up.
    """
    _bypass_proxies_for_loopback()
    use_gunicorn = prefer_gunicorn and have_gunicorn_httpbin()
    errors: list[str] = []
    for _attempt in range(3):  # a new port if another process grabbed ours meanwhile
        port = free_port()
        if use_gunicorn:
            command = [
                sys.executable, "-m", "gunicorn", "-k", "gthread", "--threads", "4", "-w", "1",
                "-b", f"{LOCALHOST}:{port}", "--keep-alive", "30", "--log-level", "warning", "httpbin:app",
            ]
            server = LoopbackServer(f"http://{LOCALHOST}:{port}", "/get", "gunicorn+httpbin")
        else:
            command = [sys.executable, str(Path(__file__).resolve()), "serve", str(port)]
            server = LoopbackServer(f"http://{LOCALHOST}:{port}", "/items/1", "stdlib ThreadingHTTPServer")
        with tempfile.TemporaryFile() as log:
            proc = subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True)
            try:
                if _wait_ready(server.base_url + server.path, proc, start_timeout):
                    yield server
                    return
                log.seek(0)
                errors.append(log.read().decode(errors="replace")[-2000:])
            finally:
                _stop(proc)
    raise RuntimeError(f"no loopback server came up ({' '.join(command[:4])}...):\n{errors[-1]}")


@contextlib.contextmanager
def child_server(command: Callable[[int], list[str]], ready_path: str, start_timeout: float = 20.0) -> Iterator[str]:
    """Run ``command(port)`` as a child process serving HTTP on 127.0.0.1:port; yields its base URL.

    Ready when ``GET ready_path`` answers 200; stopped (and its process group killed if need be)
    when the ``with`` block ends. Raises RuntimeError if it did not come up.
    """
    _bypass_proxies_for_loopback()
    errors: list[str] = []
    for _attempt in range(3):  # a new port if another process grabbed ours meanwhile
        port = free_port()
        base_url = f"http://{LOCALHOST}:{port}"
        with tempfile.TemporaryFile() as log:
            proc = subprocess.Popen(command(port), stdout=log, stderr=log, start_new_session=True)
            try:
                if _wait_ready(base_url + ready_path, proc, start_timeout):
                    yield base_url
                    return
                log.seek(0)
                errors.append(log.read().decode(errors="replace")[-2000:])
            finally:
                _stop(proc)
    raise RuntimeError(f"the server {' '.join(command(0)[:3])}... did not come up:\n{errors[-1]}")


# -- memory -------------------------------------------------------------------------------------


def _status_bytes(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def rss_bytes() -> int:
    """This process's resident set size now (Linux)."""
    return _status_bytes("VmRSS")


def reset_peak_rss() -> None:
    """Reset the kernel's peak-RSS mark (VmHWM) to the current RSS (Linux >= 4.0)."""
    with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
        refs.write("5")


def peak_rss_bytes() -> int:
    """The highest RSS since the process started or since :func:`reset_peak_rss` (VmHWM)."""
    return _status_bytes("VmHWM")


class _ItemHandler(BaseHTTPRequestHandler):
    """Answers every GET with the ITEM JSON, keeping the connection open (HTTP/1.1)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes; no 40 ms delayed-ACK stall
    payload = json.dumps(ITEM).encode()

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.payload)))
        self.end_headers()
        self.wfile.write(self.payload)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        pass


def serve_stdlib(port: int) -> None:
    """Serve ``_ItemHandler`` on 127.0.0.1:``port`` until killed (the fallback loopback server)."""
    with ThreadingHTTPServer((LOCALHOST, port), _ItemHandler) as server:
        server.daemon_threads = True
        server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "serve":
        serve_stdlib(int(sys.argv[2]))
    else:
        sys.exit(f"usage: {sys.argv[0]} serve PORT  (the stdlib loopback server; benchmarks start it)")
