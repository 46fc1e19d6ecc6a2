"""The fault matrix: WireMock injects each fault, for each method, and myclient must react by the rules.

Every cell builds a fresh ``myclient.Client`` on a fresh ``requests`` session (so no pooled
connection is reused across cells) with ``RetryPolicy(attempts=3, backoff=0.01, backoff_cap=0.05)``
and ``timeout=(2, 1)``, then checks (a) the outcome: the value returned or the exact exception
class, with its attempt history, and (b) how many requests WireMock received for the cell's URL.

The rules the table follows (``test_expectation_table_follows_the_rules`` re-derives it):

* a transport fault after the request was sent (reset, empty response, malformed chunk, random
  data, read timeout) is retried only for GET/PUT/DELETE or a POST with an idempotency key:
  3 requests and the last error; an un-keyed POST gets exactly 1 request and the same error;
* 503 → 503 → 200: idempotent or keyed calls succeed after 3 requests; un-keyed POST:
  ServiceUnavailable after 1;
* 429 with ``Retry-After: 1`` → 200: idempotent or keyed calls succeed after 2 requests and at
  least 1 s; un-keyed POST: RateLimited (``retry_after == 1``) after 1;
* 500 with an HTML body: InternalServerError after 1 request for every method (500 is opt-in).
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple, Optional

import pytest
import requests
from servers.wiremock import Fault, WireMockAdmin, header

import myclient
from myclient import (
    ConnectionLost,
    DeadlineExceeded,
    InternalServerError,
    MyClientError,
    RateLimited,
    ReadTimeout,
    ServiceUnavailable,
)

POLICY = myclient.RetryPolicy(attempts=3, backoff=0.01, backoff_cap=0.05)
TIMEOUT = (2.0, 1.0)
SUCCESS = {"ok": True, "served_by": "wiremock"}
READ_DELAY_MS = 1500
HTML_500 = """<!DOCTYPE html>
<html>
<head><title>500 Internal Server Error</title></head>
<body>
<h1>Internal Server Error</h1>
<p>The server hit an unexpected condition.</p>
<pre>Traceback (most recent call last):
  File "app.py", line 42, in handler
ZeroDivisionError: division by zero</pre>
</body>
</html>
"""

# -- the faults ----------------------------------------------------------------------------------

Stubber = Callable[[WireMockAdmin, str, str], None]


def _socket_fault(fault: Fault) -> Stubber:
    def stub(admin: WireMockAdmin, method: str, path: str) -> None:
        admin.stub_fault(method, path, fault)

    return stub


def _read_timeout(admin: WireMockAdmin, method: str, path: str) -> None:
    admin.stub({
        "request": {"method": method, "urlPath": path},
        "response": {"status": 200, "jsonBody": SUCCESS, "fixedDelayMilliseconds": READ_DELAY_MS},
    })


def _503_503_200(admin: WireMockAdmin, method: str, path: str) -> None:
    unavailable = {"status": 503, "jsonBody": {"message": "try again"}}
    admin.stub_sequence(method, path, [unavailable, unavailable, {"status": 200, "jsonBody": SUCCESS}])


def _429_then_200(admin: WireMockAdmin, method: str, path: str) -> None:
    limited = {"status": 429, "headers": {"Retry-After": "1"}, "jsonBody": {"message": "slow down"}}
    admin.stub_sequence(method, path, [limited, {"status": 200, "jsonBody": SUCCESS}])


def _500_html(admin: WireMockAdmin, method: str, path: str) -> None:
    admin.stub({
        "request": {"method": method, "urlPath": path},
        "response": {"status": 500, "headers": {"Content-Type": "text/html; charset=utf-8"}, "body": HTML_500},
    })


FAULTS: dict[str, Stubber] = {
    "reset": _socket_fault("CONNECTION_RESET_BY_PEER"),
    "empty": _socket_fault("EMPTY_RESPONSE"),
    "malformed-chunk": _socket_fault("MALFORMED_RESPONSE_CHUNK"),
    "random-data": _socket_fault("RANDOM_DATA_THEN_CLOSE"),
    "read-timeout": _read_timeout,
    "503-503-200": _503_503_200,
    "429-then-200": _429_then_200,
    "500-html": _500_html,
}

#: Method column -> (HTTP method, sent with ``idempotency_key=True``).
METHODS: dict[str, tuple[str, bool]] = {
    "GET": ("GET", False),
    "PUT": ("PUT", False),
    "DELETE": ("DELETE", False),
    "POST": ("POST", False),
    "POST+key": ("POST", True),
}


class Expect(NamedTuple):
    """A cell's expected outcome (an exception class, or OK: the call returns SUCCESS) and request count."""

    outcome: Optional[type[MyClientError]]
    requests: int


OK = None

# -- the expectation table -----------------------------------------------------------------------

# fmt: off
EXPECTED: dict[tuple[str, str], Expect] = {
    # fault              method        outcome                       requests WireMock received
    ("reset",            "GET"):      Expect(ConnectionLost,         3),
    ("reset",            "PUT"):      Expect(ConnectionLost,         3),
    ("reset",            "DELETE"):   Expect(ConnectionLost,         3),
    ("reset",            "POST"):     Expect(ConnectionLost,         1),
    ("reset",            "POST+key"): Expect(ConnectionLost,         3),
    ("empty",            "GET"):      Expect(ConnectionLost,         3),
    ("empty",            "PUT"):      Expect(ConnectionLost,         3),
    ("empty",            "DELETE"):   Expect(ConnectionLost,         3),
    ("empty",            "POST"):     Expect(ConnectionLost,         1),
    ("empty",            "POST+key"): Expect(ConnectionLost,         3),
    ("malformed-chunk",  "GET"):      Expect(ConnectionLost,         3),
    ("malformed-chunk",  "PUT"):      Expect(ConnectionLost,         3),
    ("malformed-chunk",  "DELETE"):   Expect(ConnectionLost,         3),
    ("malformed-chunk",  "POST"):     Expect(ConnectionLost,         1),
    ("malformed-chunk",  "POST+key"): Expect(ConnectionLost,         3),
    ("random-data",      "GET"):      Expect(ConnectionLost,         3),
    ("random-data",      "PUT"):      Expect(ConnectionLost,         3),
    ("random-data",      "DELETE"):   Expect(ConnectionLost,         3),
    ("random-data",      "POST"):     Expect(ConnectionLost,         1),
    ("random-data",      "POST+key"): Expect(ConnectionLost,         3),
    ("read-timeout",     "GET"):      Expect(ReadTimeout,            3),
    ("read-timeout",     "PUT"):      Expect(ReadTimeout,            3),
    ("read-timeout",     "DELETE"):   Expect(ReadTimeout,            3),
    ("read-timeout",     "POST"):     Expect(ReadTimeout,            1),
    ("read-timeout",     "POST+key"): Expect(ReadTimeout,            3),
    ("503-503-200",      "GET"):      Expect(OK,                     3),
    ("503-503-200",      "PUT"):      Expect(OK,                     3),
    ("503-503-200",      "DELETE"):   Expect(OK,                     3),
    ("503-503-200",      "POST"):     Expect(ServiceUnavailable,     1),
    ("503-503-200",      "POST+key"): Expect(OK,                     3),
    ("429-then-200",     "GET"):      Expect(OK,                     2),
    ("429-then-200",     "PUT"):      Expect(OK,                     2),
    ("429-then-200",     "DELETE"):   Expect(OK,                     2),
    ("429-then-200",     "POST"):     Expect(RateLimited,            1),
    ("429-then-200",     "POST+key"): Expect(OK,                     2),
    ("500-html",         "GET"):      Expect(InternalServerError,    1),
    ("500-html",         "PUT"):      Expect(InternalServerError,    1),
    ("500-html",         "DELETE"):   Expect(InternalServerError,    1),
    ("500-html",         "POST"):     Expect(InternalServerError,    1),
    ("500-html",         "POST+key"): Expect(InternalServerError,    1),
}
# fmt: on

TRANSPORT_FAULTS: dict[str, type[MyClientError]] = {
    "reset": ConnectionLost,
    "empty": ConnectionLost,
    "malformed-chunk": ConnectionLost,
    "random-data": ConnectionLost,
    "read-timeout": ReadTimeout,
}


def derive(fault: str, column: str) -> Expect:
    """A cell's expectation from the rules in the module docstring."""
    safe = column != "POST"  # idempotent method, or a POST with an idempotency key
    if fault in TRANSPORT_FAULTS:
        return Expect(TRANSPORT_FAULTS[fault], POLICY.attempts if safe else 1)
    if fault == "503-503-200":
        return Expect(OK, 3) if safe else Expect(ServiceUnavailable, 1)
    if fault == "429-then-200":
        return Expect(OK, 2) if safe else Expect(RateLimited, 1)
    if fault == "500-html":
        return Expect(InternalServerError, 1)
    raise AssertionError(f"no rule for {fault}")


def test_expectation_table_follows_the_rules() -> None:
    cells = list(itertools.product(FAULTS, METHODS))
    assert list(EXPECTED) == cells
    assert {cell: derive(*cell) for cell in cells} == EXPECTED


# -- helpers -------------------------------------------------------------------------------------


@contextlib.contextmanager
def fresh_client(url: str, timeout: tuple[float, float] = TIMEOUT) -> Iterator[myclient.Client]:
    """A Client on a new session of its own (no environment proxies), closed afterwards."""
    with requests.Session() as session:
        session.trust_env = False
        with myclient.Client(url, session=session, retry=POLICY, timeout=timeout) as client:
            yield client


def _call(client: myclient.Client, column: str, path: str, **kwargs: Any) -> Any:
    method, keyed = METHODS[column]
    if method in ("PUT", "POST"):
        kwargs["json"] = {"cell": path}
    if keyed:
        kwargs["idempotency_key"] = True
    return client.request(method, path, **kwargs)


def _outcome_label(error: MyClientError) -> str:
    """What ``Attempt.outcome`` says for an attempt that ended like ``error``."""
    status = getattr(error, "status", None)
    return str(status) if isinstance(status, int) else type(error).__name__


# -- the matrix ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("fault", "column"), list(EXPECTED), ids=[f"{f}-{m}" for f, m in EXPECTED])
def test_fault_matrix(wiremock_admin: WireMockAdmin, fault: str, column: str) -> None:
    expect = EXPECTED[fault, column]
    method, keyed = METHODS[column]
    path = f"/matrix/{fault}/{column.lower().replace('+', '-')}"
    FAULTS[fault](wiremock_admin, method, path)

    error: MyClientError | None = None
    with fresh_client(wiremock_admin.url) as client:
        started = time.monotonic()
        try:
            result = _call(client, column, path)
        except MyClientError as exc:
            error = exc
        elapsed = time.monotonic() - started

    # (b) what WireMock received, and the Idempotency-Key on each request
    received = wiremock_admin.count(method, path)
    logged = wiremock_admin.requests(method, path)
    keys = [header(r, "Idempotency-Key") for r in logged]
    assert (received, len(logged)) == (expect.requests, expect.requests), (
        f"{fault}/{column}: WireMock received {received} requests, expected {expect.requests}; "
        f"outcome {error!r}, attempts {error.attempts if error else None}"
    )
    if keyed:
        assert keys[0], "a keyed POST must send an Idempotency-Key"
        assert keys == [keys[0]] * expect.requests, f"the key changed between attempts: {keys}"
    else:
        assert keys == [None] * expect.requests

    # (a) the outcome
    if expect.outcome is OK:
        assert error is None, f"{fault}/{column}: expected success, got {error!r} ({error})"
        assert result == SUCCESS
    else:
        assert error is not None, f"{fault}/{column}: expected {expect.outcome.__name__}, got {result!r}"
        assert type(error) is expect.outcome, f"{fault}/{column}: {type(error).__name__}: {error}"
        assert (error.method, error.url) == (method, f"{wiremock_admin.url}{path}")
        label = _outcome_label(error)
        assert [a.outcome for a in error.attempts] == [label] * expect.requests
        assert error.attempts[-1].slept == 0.0
        assert all(0.0 <= a.slept <= POLICY.backoff_cap for a in error.attempts[:-1])

    # fault-specific details
    if fault == "read-timeout":
        # each attempt waits out the 1 s read timeout, never the whole 1.5 s delay plus more
        assert expect.requests * 0.95 <= elapsed < expect.requests * TIMEOUT[1] + 1.5, elapsed
    if fault == "429-then-200":
        if expect.outcome is OK:
            assert elapsed >= 1.0, f"Retry-After: 1 was not waited for ({elapsed:.3f}s)"
        else:
            assert isinstance(error, RateLimited)
            assert error.retry_after == 1
            assert elapsed < 1.0
    if fault == "500-html":
        assert isinstance(error, InternalServerError)
        assert error.status == 500
        assert "<h1>Internal Server Error</h1>" in error.body
        assert error.body.lstrip().lower().startswith("<!doctype html>")
        message = str(error)
        assert "\n" not in message and message.startswith("500 "), repr(message)
        assert path in message


# -- deadlines -----------------------------------------------------------------------------------


def test_trickled_body_runs_into_the_deadline(wiremock_admin: WireMockAdmin) -> None:
    """Ten chunks over 5 s: each well inside the 3 s read timeout, the whole far past deadline=2."""
    path = "/deadline/trickle"
    wiremock_admin.stub({
        "request": {"method": "GET", "urlPath": path},
        "response": {
            "status": 200,
            "jsonBody": {"items": list(range(200))},
            "chunkedDribbleDelay": {"numberOfChunks": 10, "totalDuration": 5000},
        },
    })
    with fresh_client(wiremock_admin.url, timeout=(2.0, 3.0)) as client:
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded) as info:
            client.request("GET", path, deadline=2)
        elapsed = time.monotonic() - started
    error = info.value
    assert isinstance(error, myclient.Timeout)
    assert 1.9 <= elapsed < 2.5, elapsed
    assert [a.outcome for a in error.attempts] == ["DeadlineExceeded"]
    assert wiremock_admin.count("GET", path) == 1


def test_long_retry_after_is_not_waited_for_under_a_deadline(wiremock_admin: WireMockAdmin) -> None:
    path = "/deadline/retry-after-3600"
    wiremock_admin.stub({
        "request": {"method": "GET", "urlPath": path},
        "response": {"status": 503, "headers": {"Retry-After": "3600"}, "jsonBody": {"message": "maintenance"}},
    })
    with fresh_client(wiremock_admin.url) as client:
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable) as info:
            client.request("GET", path, deadline=2)
        elapsed = time.monotonic() - started
    error = info.value
    assert error.retry_after == 3600
    assert elapsed < 1.0, elapsed  # not the 2 s deadline, let alone 3600 s
    assert [a.outcome for a in error.attempts] == ["503"]
    assert wiremock_admin.count("GET", path) == 1


# -- the harness itself --------------------------------------------------------------------------


def test_wiremock_admin_counts_sequences_and_resets(wiremock_admin: WireMockAdmin) -> None:
    path = "/harness/sequence"
    name = wiremock_admin.stub_sequence("GET", path, [{"status": 503}, {"status": 200, "body": "ok"}])
    assert wiremock_admin.scenario_state(name) == "Started"
    with requests.Session() as http:
        http.trust_env = False
        statuses = [http.get(f"{wiremock_admin.url}{path}", timeout=5).status_code for _ in range(3)]
    assert statuses == [503, 200, 200]
    assert wiremock_admin.scenario_state(name) == "step-2"
    assert wiremock_admin.count("GET", path) == 3
    assert wiremock_admin.count("POST", path) == 0
    assert [r["url"] for r in wiremock_admin.requests("GET", path)] == [path] * 3
    wiremock_admin.reset()
    assert wiremock_admin.count("GET", path) == 0
    assert wiremock_admin.scenarios() == {}
