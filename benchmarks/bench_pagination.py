"""Memory and speed of walking 100 000 items page by page with ``client.paginate``.

A stdlib HTTP server in a child process generates a collection of N items (about 150 bytes of JSON
each) as pages of ``--page-size``: ``GET /items?offset=O&limit=L`` answers the page with
``X-Total-Count`` and an RFC 8288 ``Link: <...>; rel="next"``. Two walks are measured, one per
strategy (LinkHeader following the links, Offset counting offsets).

Memory: RSS is read once the first page has been consumed (one page held), then the kernel's
peak-RSS mark (VmHWM) is reset and the rest of the walk runs; growth = peak - that baseline.
Target <= 5 MiB. Speed (informational): items per second against a raw ``requests`` loop over the
same pages (``session.get(next).json()``, following ``response.links``). ``--check`` exits 1 when a
target is missed.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import _common
import requests

import myclient

MiB = 1 << 20
GROWTH_TARGET = 5 * MiB


class _PageHandler(BaseHTTPRequestHandler):
    """``/items?offset=&limit=``: a generated page with X-Total-Count and a Link to the next one."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    total = 100_000

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        offset, limit = int(query.get("offset", "0")), int(query.get("limit", "1000"))
        end = min(offset + limit, self.total)
        page = [{"id": i, "name": f"item {i}", "email": f"user{i}@example.org", "score": i * 0.5,
                 "tags": ["alpha", "beta"], "active": i % 3 == 0} for i in range(offset, end)]
        payload = json.dumps(page).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Total-Count", str(self.total))
        if end < self.total:
            host = self.headers.get("Host", "127.0.0.1")
            self.send_header("Link", f'<http://{host}/items?offset={end}&limit={limit}>; rel="next"')
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        pass


def serve(port: int, total: int) -> None:
    _PageHandler.total = total
    with ThreadingHTTPServer((_common.LOCALHOST, port), _PageHandler) as server:
        server.daemon_threads = True
        server.serve_forever()


def walk_client(client: myclient.Client, strategy: myclient.Strategy, page_size: int) -> tuple[int, int, int, float]:
    """(items, RSS after the first page, peak RSS over the rest, seconds) for one full walk."""
    params = {"offset": 0, "limit": page_size} if isinstance(strategy, myclient.LinkHeader) else None
    walk = client.paginate("/items", params, strategy=strategy)
    gc.collect()
    started = time.perf_counter()
    count = 0
    baseline = 0
    for item in walk:
        count += 1
        if count == page_size:  # the first page is in hand and consumed
            baseline = _common.rss_bytes()
            _common.reset_peak_rss()
        del item
    elapsed = time.perf_counter() - started
    return count, baseline, _common.peak_rss_bytes(), elapsed


def walk_raw(session: requests.Session, base_url: str, page_size: int) -> tuple[int, float]:
    started = time.perf_counter()
    count = 0
    url: str | None = f"{base_url}/items?offset=0&limit={page_size}"
    while url:
        response = session.get(url, timeout=30)
        response.raise_for_status()
        for _item in response.json():
            count += 1
        url = response.links.get("next", {}).get("url")
    return count, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--items", type=int, default=100_000, help="collection size (default 100000)")
    parser.add_argument("--page-size", type=int, default=1000, help="items per page (default 1000)")
    args = parser.parse_args(argv)
    print(f"myclient {myclient.__version__}, requests {requests.__version__}, Python {sys.version.split()[0]}")
    here = str(Path(__file__).resolve())
    command = lambda port: [sys.executable, here, "serve", str(port), str(args.items)]  # noqa: E731
    rows, missed = [], []
    with _common.child_server(command, "/items?limit=1") as base_url:
        session = requests.Session()
        raw_count, raw_seconds = walk_raw(session, base_url, args.page_size)  # also warms the server up
        client = myclient.Client(base_url, session=session)
        strategies = {"LinkHeader()": myclient.LinkHeader(), f"Offset(limit={args.page_size})":
                      myclient.Offset(limit=args.page_size)}
        for name, strategy in strategies.items():
            count, baseline, peak, seconds = walk_client(client, strategy, args.page_size)
            growth = max(0, peak - baseline)
            ok = count == args.items and growth <= GROWTH_TARGET
            if not ok:
                missed.append(name)
            rows.append([name, f"{count}", f"{baseline / MiB:.1f}", f"{growth / MiB:.2f}",
                         f"<= {GROWTH_TARGET / MiB:.0f}", f"{count / seconds:,.0f}",
                         f"{(count / seconds) / (raw_count / raw_seconds):.2f}", "PASS" if ok else "FAIL"])
        session.close()
    print(f"\n{args.items} items in pages of {args.page_size}; raw requests loop: {raw_count / raw_seconds:,.0f} "
          f"items/s\n")
    header = ["strategy", "items", "RSS after page 1 MiB", "growth MiB", "target", "items/s", "vs raw", "result"]
    print(_common.format_table(header, rows))
    print("growth = peak RSS (VmHWM) over pages 2..N minus RSS with page 1 consumed; 'vs raw' is informational.")
    if missed:
        print(f"targets missed: {', '.join(missed)}")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "serve":
        serve(int(sys.argv[2]), int(sys.argv[3]))
    else:
        sys.exit(main())
