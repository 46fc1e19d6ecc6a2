"""Per-call overhead of myclient: against raw ``requests`` and against its own default call.

Every row times two callables in interleaved rounds in the same run and reports the ratio
(median over rounds of subject/baseline, each pair having run back to back):

1. Zero-cost transport, CPU (``time.process_time``): a canned JSON response mounted on the injected
   session, so only the Python work above the transport is measured.
   * the default call ``client.adapter.get(path)`` vs raw ``session.get(url, headers=..., timeout=...).json()``
     (target <= 0.60); for the record, vs raw with ``auth=`` and vs ``httpx.Client`` on a MockTransport;
   * each option vs the default call: ``detailed=True`` (<= 1.05); ``deadline=30``, hooks, ``access_log``,
     ``Client(idempotency_key=True)`` POST vs plain POST, OAuth2 ``ClientCredentials`` vs ``token=`` (<= 1.10);
   * each verb vs the equivalent raw call, POST/PATCH also with ``idempotency_key=True`` (<= 1.05).
2. Loopback, wall (``time.perf_counter``): gunicorn + httpbin (else a stdlib server) on 127.0.0.1;
   the default call vs raw (target < 1.00).

Before timing, each row checks that both sides return the same data and send the same request
(method, URL, headers, body). ``--check`` exits 1 when a target is missed; see README.rst.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import _common
import requests

import myclient

TOKEN = "bench-token-0123456789"
ZERO_BASE = "http://zero-cost.invalid"  # never resolved: the canned transport answers it
TOKEN_URL = "https://auth.zero-cost.invalid/oauth/token"  # never called: the flow holds a valid token
ITEM_PATH = "/items/1"
BODY = {"name": "Item 1", "price": 9.99, "tags": ["a", "b"]}
MYCLIENT_DIR = str(_common.ROOT / "myclient")

Call = Callable[[], object]


@dataclass
class Compare:
    """One row: ``subject`` timed against ``baseline`` (case names of the same group)."""

    case: str
    subject: str
    baseline: str
    target: float | None = None  # None: informational
    strict: bool = False  # the ratio must be below the target (not equal)
    check: str = "same"  # same | subject-keyed | fresh-keys | no-data | data-only | none


@dataclass
class Group:
    """Cases timed together in interleaved rounds, and the rows read from them."""

    cases: dict[str, Call]
    rows: list[Compare]
    calls: int


@dataclass
class Row:
    spec: Compare
    subject: _common.Series
    baseline: _common.Series

    @property
    def ratio(self) -> float:
        return _common.paired_ratio(self.subject, self.baseline)

    @property
    def passed(self) -> bool:
        target = self.spec.target
        if target is None:
            return True
        return self.ratio < target if self.spec.strict else self.ratio <= target

    def cells(self) -> list[str]:
        target = self.spec.target
        if target is None:
            shown, result = "-", "info"
        else:
            shown = f"{'<' if self.spec.strict else '<='} {target:.2f}"
            result = "PASS" if self.passed else "FAIL"
        return [self.spec.case, f"{self.subject.median * 1e6:.1f}", f"{self.baseline.median * 1e6:.1f}",
                f"{self.ratio:.3f}", shown, result]


class _Bearer(requests.auth.AuthBase):
    """Bearer auth for the raw ``auth=`` baseline (an auth= object skips requests' ~/.netrc lookup)."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {TOKEN}"
        return r


def _noop(event: myclient.Event) -> None:
    pass


# -- the cases --------------------------------------------------------------------------------------


def zero_cost_groups(calls: int, raw_calls: int) -> tuple[list[Group], _common.CannedJSONTransport, Callable[[], None]]:
    """Every zero-cost row; returns the groups, the recording transport, and a cleanup."""
    session = requests.Session()
    transport = _common.CannedJSONTransport(record=True)
    session.mount(ZERO_BASE + "/", transport)  # the benchmark mounts it, as a user would
    client = myclient.Client(ZERO_BASE, token=TOKEN, session=session)
    a = client.adapter
    url = a.url(ITEM_PATH)
    timeout = a.timeout
    headers = {"Authorization": f"Bearer {TOKEN}", "X-Correlation-ID": client.cid}
    cid_only = {"X-Correlation-ID": client.cid}

    def keyed() -> dict[str, str]:
        return {**headers, "Idempotency-Key": str(uuid.uuid4())}

    # options: clients that differ from `client` in one setting (same session, same correlation id)
    hooks = myclient.Client(ZERO_BASE, token=TOKEN, session=session, cid=client.cid,
                            hooks={"on_request": _noop, "on_response": _noop})
    logged = myclient.Client(ZERO_BASE, token=TOKEN, session=session, cid=client.cid, access_log=True)
    timed = myclient.Client(ZERO_BASE, token=TOKEN, session=session, cid=client.cid, deadline=30)
    idem = myclient.Client(ZERO_BASE, token=TOKEN, session=session, cid=client.cid, idempotency_key=True)
    flow = myclient.ClientCredentials(TOKEN_URL, "bench-client", "bench-secret", store=myclient.MemoryTokenStore(),
                                      token=myclient.Token(access_token=TOKEN))
    oauth = myclient.Client(ZERO_BASE, auth=flow, session=session, cid=client.cid)
    flow_1h = myclient.ClientCredentials(TOKEN_URL, "bench-client", "bench-secret",
                                         store=myclient.MemoryTokenStore(),
                                         token=myclient.Token(access_token=TOKEN, expires_at=time.time() + 3600))
    oauth_1h = myclient.Client(ZERO_BASE, auth=flow_1h, session=session, cid=client.cid)

    access = logging.getLogger("myclient.access")
    saved = (access.level, access.propagate)
    discard = logging.NullHandler()
    access.setLevel(logging.INFO)
    access.propagate = False
    access.addHandler(discard)

    def cleanup() -> None:
        access.removeHandler(discard)
        access.setLevel(saved[0])
        access.propagate = saved[1]
        session.close()

    headline: dict[str, Call] = {
        "client": lambda: a.get(ITEM_PATH),
        "raw": lambda: session.get(url, headers=headers, timeout=timeout).json(),
        "raw_auth": lambda: session.get(url, headers=cid_only, auth=_Bearer(), timeout=timeout).json(),
    }
    headline_rows = [
        Compare("default GET vs raw requests", "client", "raw", 0.60),
        Compare("  info: vs raw with auth= (no .netrc lookup)", "client", "raw_auth"),
    ]
    hx = httpx_case(url, headers)
    if hx is not None:
        headline["httpx"] = hx
        headline_rows.append(Compare("  info: vs httpx.Client (MockTransport)", "client", "httpx", check="data-only"))
    groups = [Group(headline, headline_rows, raw_calls)]

    def option(label: str, subject: Call, target: float | None, check: str = "same",
               baseline: Call | None = None) -> Group:
        cases = {"base": baseline or (lambda: a.get(ITEM_PATH)), "subject": subject}
        return Group(cases, [Compare(label, "subject", "base", target, check=check)], calls)

    post = a.post
    groups += [
        option("control: default GET again vs default GET (A/A)", lambda: a.get(ITEM_PATH), None),
        option("detailed=True (Result) vs default", lambda: a.get(ITEM_PATH, detailed=True), 1.05, "no-data"),
        option("deadline=30 vs default", lambda: a.get(ITEM_PATH, deadline=30), 1.10),
        option("  info: Client(deadline=30) vs default", lambda: timed.adapter.get(ITEM_PATH), None),
        option("hooks on_request+on_response vs default", lambda: hooks.adapter.get(ITEM_PATH), 1.10),
        option("access_log=True (INFO, NullHandler) vs default", lambda: logged.adapter.get(ITEM_PATH), 1.10),
        option("  info: floor: default + one logger.info like it", floor(a, access), None),
        option("Client(idempotency_key=True) POST vs POST", lambda: idem.adapter.post(ITEM_PATH, json=BODY), 1.10,
               "subject-keyed", baseline=lambda: post(ITEM_PATH, json=BODY)),
        option("OAuth2 ClientCredentials (held token) vs token=", lambda: oauth.adapter.get(ITEM_PATH), 1.10),
        option("  info: OAuth2 token expiring in 1 h vs token=", lambda: oauth_1h.adapter.get(ITEM_PATH), None),
        option("  info: retry=None vs default", lambda: a.get(ITEM_PATH, retry=None), None),
    ]

    def verb(label: str, subject: Call, raw: Call, check: str = "same") -> Group:
        return Group({"client": subject, "raw": raw}, [Compare(label, "client", "raw", 1.05, check=check)], raw_calls)

    s = session
    groups += [
        verb("GET vs raw", lambda: a.get(ITEM_PATH), lambda: s.get(url, headers=headers, timeout=timeout).json()),
        verb("POST vs raw", lambda: a.post(ITEM_PATH, json=BODY),
             lambda: s.post(url, json=BODY, headers=headers, timeout=timeout).json()),
        verb("PUT vs raw", lambda: a.put(ITEM_PATH, json=BODY),
             lambda: s.put(url, json=BODY, headers=headers, timeout=timeout).json()),
        verb("PATCH vs raw", lambda: a.patch(ITEM_PATH, json=BODY),
             lambda: s.patch(url, json=BODY, headers=headers, timeout=timeout).json()),
        verb("DELETE vs raw", lambda: a.delete(ITEM_PATH),
             lambda: s.delete(url, headers=headers, timeout=timeout).json()),
        verb("HEAD vs raw", lambda: a.head(ITEM_PATH), lambda: s.head(url, headers=headers, timeout=timeout),
             "no-data"),
        verb("POST idempotency_key=True vs raw + uuid4 key", lambda: a.post(ITEM_PATH, json=BODY, idempotency_key=True),
             lambda: s.post(url, json=BODY, headers=keyed(), timeout=timeout).json(), "fresh-keys"),
        verb("PATCH idempotency_key=True vs raw + uuid4 key",
             lambda: a.patch(ITEM_PATH, json=BODY, idempotency_key=True),
             lambda: s.patch(url, json=BODY, headers=keyed(), timeout=timeout).json(), "fresh-keys"),
    ]
    return groups, transport, cleanup


def floor(a: myclient.adapters.Adapter, access: logging.Logger) -> Call:
    """The default call plus the stdlib logging work one access line costs (same format, same 14 extras)."""
    from myclient._log import fields

    url = a.url(ITEM_PATH)

    def call() -> object:
        data = a.get(ITEM_PATH)
        access.info("%s %s %s %.1fms attempts=%d rid=%s cid=%s", "GET", url, 200, 0.1, 1, "-", a.cid,
                    extra=fields(cid=a.cid, baseurl=a.base_url, method="GET", endpoint=ITEM_PATH, url=url,
                                 status=200, elapsed_ms=0.1))
        return data

    return call


def httpx_case(url: str, headers: dict[str, str]) -> Call | None:
    """``httpx.Client`` on a MockTransport answering the same canned JSON (None if httpx is missing)."""
    try:
        import httpx
    except ImportError:
        return None
    payload = _common.CannedJSONTransport().payload
    answer = {"Content-Type": "application/json", "Content-Length": str(len(payload))}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=answer, content=payload)

    hx = httpx.Client(transport=httpx.MockTransport(handler))
    timeout = httpx.Timeout(30.0, connect=10.0)
    return lambda: hx.get(url, headers=headers, timeout=timeout).json()


# -- checking that both sides do the same thing -------------------------------------------------------


def _exchange(call: Call, transport: _common.CannedJSONTransport) -> tuple[Any, tuple[Any, ...]]:
    transport.last_request = None
    data = call()
    sent = transport.last_request
    assert sent is not None, "the case did not go through the canned transport"
    return data, (sent.method, sent.url, dict(sent.headers), sent.body)


def check_group(group: Group, transport: _common.CannedJSONTransport) -> None:
    """Exit with a setup error unless each row's two cases return the same data and send the same request."""
    for spec in group.rows:
        subject, baseline = group.cases[spec.subject], group.cases[spec.baseline]
        if spec.check == "data-only":
            if subject() != baseline():
                sys.exit(f"benchmark setup error in {spec.case!r}: the two cases return different data")
            continue
        (d1, s1), (d1b, s1b) = _exchange(subject, transport), _exchange(subject, transport)
        (d2, s2), (d2b, s2b) = _exchange(baseline, transport), _exchange(baseline, transport)
        if spec.check in ("subject-keyed", "fresh-keys"):
            k1, k1b = s1[2].pop("Idempotency-Key", None), s1b[2].pop("Idempotency-Key", None)
            if not k1 or k1 == k1b:
                sys.exit(f"benchmark setup error in {spec.case!r}: no fresh Idempotency-Key per call ({k1!r})")
            if spec.check == "fresh-keys":
                k2, k2b = s2[2].pop("Idempotency-Key", None), s2b[2].pop("Idempotency-Key", None)
                if not k2 or k2 == k2b or len(k1) != len(k2):
                    sys.exit(f"benchmark setup error in {spec.case!r}: the raw side's keys differ in kind")
        if spec.check == "no-data":
            d1 = d2 = d1b = d2b = None
        if (d1, s1) != (d2, s2) or (d1b, s1b) != (d2b, s2b) or s1 != s1b:
            sys.exit(f"benchmark setup error in {spec.case!r}: {spec.subject} sends/returns {(d1, s1)} but "
                     f"{spec.baseline} {(d2, s2)}")


def check_side_effects(groups: list[Group]) -> None:
    """The hooks and access-log rows must really run their hooks and write their log line."""
    seen: list[object] = []

    class Count(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    access = logging.getLogger("myclient.access")
    counter = Count()
    access.addHandler(counter)
    try:
        for group in groups:
            for spec in group.rows:
                if spec.case.startswith("access_log"):
                    group.cases[spec.subject]()
    finally:
        access.removeHandler(counter)
    if len(seen) != 1:
        sys.exit(f"benchmark setup error: the access_log case wrote {len(seen)} access lines, not 1")


def run_groups(groups: list[Group], rounds: int, clock: _common.Clock, warmup: int = 200) -> list[Row]:
    rows = []
    for group in groups:
        series = _common.interleaved(group.cases, rounds=rounds, calls=group.calls, clock=clock, warmup=warmup)
        rows += [Row(spec, series[spec.subject], series[spec.baseline]) for spec in group.rows]
    return rows


# -- loopback -------------------------------------------------------------------------------------


def bench_loopback(rounds: int, calls: int, prefer_gunicorn: bool) -> list[Row]:
    with _common.loopback_server(prefer_gunicorn=prefer_gunicorn) as server:
        session = requests.Session()
        client = myclient.Client(server.base_url, token=TOKEN, session=session)
        url, timeout = client.adapter.url(server.path), client.adapter.timeout
        headers = {"Authorization": f"Bearer {TOKEN}", "X-Correlation-ID": client.cid}
        get = client.adapter.get
        cases: dict[str, Call] = {
            "client": lambda: get(server.path),
            "raw": lambda: session.get(url, headers=headers, timeout=timeout).json(),
            "client_again": lambda: get(server.path),
        }
        for name, call in cases.items():  # httpbin echoes the request: same headers => same data
            data = call()
            if name != "client" and data != cases["client"]():
                sys.exit(f"benchmark setup error: loopback {name} returns {data!r}")
        group = Group(cases, [
            Compare(f"loopback {server.kind} {server.path}: default GET vs raw", "client", "raw", 1.00, strict=True),
            Compare("  control: default GET again vs default GET (A/A)", "client_again", "client"),
        ], calls)
        rows = run_groups([group], rounds, time.perf_counter, warmup=100)
        session.close()
    return rows


def report(rows: list[Row], skipped: str) -> None:
    header = ["case", "myclient us/call", "baseline us/call", "ratio", "target", "result"]
    print("\nZero-cost transport: CPU per call (time.process_time); loopback: wall per call (time.perf_counter)")
    print(_common.format_table(header, [row.cells() for row in rows]))
    if skipped:
        print(skipped)
    by_pair = {row.spec.subject + "/" + row.spec.baseline: row for row in rows[:3]}
    if "client/httpx" in by_pair:
        hx, raw = by_pair["client/httpx"].baseline, by_pair["client/raw"].baseline
        print(f"for the record: httpx.Client on a MockTransport / raw requests = {hx.median / raw.median:.3f}")
    print("ratio = median over interleaved rounds of myclient/baseline (each pair ran back to back).")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--quick", action="store_true", help="a quarter of the iterations (a rough look)")
    parser.add_argument("--rounds", type=int, default=20, help="zero-cost rounds per row (default 20)")
    parser.add_argument("--calls", type=int, default=2000, help="calls per round, option rows (default 2000)")
    parser.add_argument("--raw-calls", type=int, default=500,
                        help="calls per round, rows against raw requests (default 500)")
    parser.add_argument("--loopback-rounds", type=int, default=20, help="loopback rounds (default 20)")
    parser.add_argument("--loopback-calls", type=int, default=200, help="loopback calls per round (default 200)")
    parser.add_argument("--no-loopback", action="store_true", help="skip the loopback measurement")
    parser.add_argument("--stdlib-server", action="store_true", help="loopback against the stdlib server")
    parser.add_argument("--profile", action="store_true", help="also cProfile the default call")
    args = parser.parse_args(argv)
    scale = 4 if args.quick else 1

    started = time.perf_counter()
    print(f"myclient {myclient.__version__}, requests {requests.__version__}, Python {sys.version.split()[0]}",
          end="")
    try:
        import httpx
        print(f", httpx {httpx.__version__}")
    except ImportError:
        print(" (httpx not installed: its row is skipped)")
    groups, transport, cleanup = zero_cost_groups(max(1, args.calls // scale), max(1, args.raw_calls // scale))
    try:
        for group in groups:
            check_group(group, transport)
        check_side_effects(groups)
        transport.record = False
        rows = run_groups(groups, args.rounds, time.process_time)
        skipped = ""
        if not args.no_loopback:
            try:
                rows += bench_loopback(args.loopback_rounds, max(1, args.loopback_calls // scale),
                                       not args.stdlib_server)
            except RuntimeError as exc:
                skipped = f"loopback: SKIPPED ({exc})"
        report(rows, skipped)
        failing = [row for row in rows if not row.passed and not row.spec.case.startswith("loopback")]
        if args.profile or failing:
            _common.print_profile("the default GET", groups[0].cases["client"], 5000, MYCLIENT_DIR)
        for row in failing:
            group = next(g for g in groups if row.spec in g.rows)
            _common.print_profile_delta(row.spec.case.strip(), group.cases[row.spec.subject],
                                group.cases[row.spec.baseline])
    finally:
        cleanup()
    print(f"\ntotal {time.perf_counter() - started:.1f} s")
    missed = [row.spec.case.strip() for row in rows if not row.passed]
    if missed:
        print(f"targets missed: {', '.join(missed)}")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
