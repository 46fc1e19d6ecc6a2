"""Streaming a 1 GiB file to disk: ``client.download`` against raw ``requests`` ``iter_content``.

nginx (the tests' static-file server, tests/servers/nginx_static.py) serves a sparse 1 GiB file
made with ``truncate`` in a temporary directory; both cases write to files in that directory with
1 MiB chunks, on the same ``requests.Session``:

* raw: ``session.get(url, stream=True)`` and ``for chunk in r.iter_content(1 MiB): f.write(chunk)``;
* client: ``client.download(path, dest, chunk_size=1 MiB)`` (a .part file renamed at the end,
  Content-Length checked).

Rounds alternate the order (raw, client, client, raw, ...); each output is deleted right away and
``os.sync()`` runs before each download, so none pays for the previous one's writeback.
Targets: throughput >= 0.9 x raw, compared on each case's fastest round (on a VM, page-cache
writes stall at random by up to 5x, in-process CPU time included, as fresh guest memory is
faulted in: the fastest round is the least disturbed; the median of the paired rounds is printed
too; three untimed downloads come first), and RSS growth <= 16 MiB (peak RSS, VmHWM reset before each client
download, minus RSS before it).
``--check`` exits 1 when a target is missed; without nginx the run is reported as skipped.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import _common
import requests

import myclient

sys.path.insert(0, str(_common.ROOT / "tests"))
from servers import HarnessError, start_static

MiB = 1 << 20
CHUNK = MiB
RATIO_TARGET = 0.9
GROWTH_TARGET = 16 * MiB


def raw_download(session: requests.Session, url: str, dest: Path) -> int:
    written = 0
    with session.get(url, stream=True, timeout=(10, 30)) as response, dest.open("wb") as out:
        response.raise_for_status()
        for chunk in response.iter_content(CHUNK):
            out.write(chunk)
            written += len(chunk)
    return written


def client_download(client: myclient.Client, path: str, dest: Path) -> tuple[int, int]:
    """(bytes written, RSS growth) for one ``client.download``."""
    before = _common.rss_bytes()
    _common.reset_peak_rss()
    client.download(path, dest, chunk_size=CHUNK)
    growth = _common.peak_rss_bytes() - before
    return dest.stat().st_size, growth


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--size-mib", type=int, default=1024, help="file size in MiB (default 1024)")
    parser.add_argument("--rounds", type=int, default=9, help="downloads per case (default 9)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed raw downloads first (default 3)")
    args = parser.parse_args(argv)
    print(f"myclient {myclient.__version__}, requests {requests.__version__}, Python {sys.version.split()[0]}")
    size = args.size_mib * MiB
    with tempfile.TemporaryDirectory(prefix="myclient-bench-") as scratch:
        root = Path(scratch)
        try:
            server = start_static(root / "nginx")
        except HarnessError as exc:
            print(f"download benchmark: SKIPPED (nginx unavailable: {exc})")
            return 0
        try:
            with (server.www / "big.bin").open("wb") as sparse:
                sparse.truncate(size)  # like `truncate -s`: no disk space used, reads as zeros
            url = f"{server.url}/files/big.bin"
            session = requests.Session()
            client = myclient.Client(server.url, session=session, timeout=(10, 30))
            for _ in range(args.warmup):  # also has the VM back fresh page-cache memory before timing
                raw_download(session, url, root / "warmup.bin")
                (root / "warmup.bin").unlink()
            raw_rates: list[float] = []
            client_rates: list[float] = []
            growths: list[int] = []
            for index in range(args.rounds):
                order = ("raw", "client") if index % 2 == 0 else ("client", "raw")
                for case in order:
                    dest = root / f"{case}.bin"
                    os.sync()  # start each download with no dirty pages left by the previous one
                    started = time.perf_counter()
                    if case == "raw":
                        written = raw_download(session, url, dest)
                    else:
                        written, growth = client_download(client, "/files/big.bin", dest)
                        growths.append(growth)
                    seconds = time.perf_counter() - started
                    dest.unlink()
                    if written != size:
                        sys.exit(f"benchmark error: {case} wrote {written} bytes, not {size}")
                    (raw_rates if case == "raw" else client_rates).append(size / seconds)
            session.close()
        finally:
            server.stop()
    ratios = [c / r for c, r in zip(client_rates, raw_rates, strict=False)]
    best = max(client_rates) / max(raw_rates)
    growth = max(growths)
    rows = [
        ["throughput, best round", f"{max(client_rates) / MiB:,.0f} MiB/s", f"{max(raw_rates) / MiB:,.0f} MiB/s",
         f"{best:.3f}", f">= {RATIO_TARGET}", "PASS" if best >= RATIO_TARGET else "FAIL"],
        ["  info: median of paired rounds", f"{statistics.median(client_rates) / MiB:,.0f} MiB/s",
         f"{statistics.median(raw_rates) / MiB:,.0f} MiB/s", f"{statistics.median(ratios):.3f}", "-", "info"],
        ["RSS growth (worst round)", f"{growth / MiB:.2f} MiB", "-", "-", f"<= {GROWTH_TARGET // MiB} MiB",
         "PASS" if growth <= GROWTH_TARGET else "FAIL"],
    ]
    print(f"\n{args.size_mib} MiB from nginx (sendfile) to disk, {CHUNK // MiB} MiB chunks, "
          f"{args.rounds} rounds per case")
    print(_common.format_table(["measure", "client", "raw", "ratio", "target", "result"], rows))
    print("per-round ratios: " + ", ".join(f"{r:.3f}" for r in ratios))
    missed = [row[0] for row in rows if row[-1] == "FAIL"]
    if missed:
        print(f"targets missed: {', '.join(missed)}")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
