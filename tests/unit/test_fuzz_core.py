"""Fuzzing the core's contract with hypothesis: only MyClientError escapes, credentials stay home.

Bounded in CI (the ``ci`` profile); ``benchmarks/soak_fuzz.py`` runs the same properties with many
more examples. The URL property is differential: whatever ``adapter.url()`` accepts must connect,
as urllib3 reads the prepared URL, to the client's own origin.
"""

from __future__ import annotations

import json
import string
from typing import Any

import requests
import responses
from fuzzing import examples
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from urllib3.util import parse_url

import myclient
from myclient._parse import parse_retry_after

BASE = "http://127.0.0.1:8000/v1"
ORIGIN = ("http", "127.0.0.1", 8000)
FUZZ = settings(max_examples=examples(100), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# Pieces that make authorities and paths hostile: backslashes, @, brackets, ports, encodings, spaces.
PIECES = st.sampled_from(["http://", "https://", "//", "\\", "@", ":", "/", "?", "#", "[", "]", "%", "%2e", "%40",
                          "%5c", "..", ".", "127.0.0.1", "localhost", "evil.example", "8000", "9999", " ", "\t",
                          "\n", "\udcff", "ü", "a", "x", "users", "%00", "\x00", "::1", "ftp://", "HTTP://"])
HOSTS = st.sampled_from(["127.0.0.1", "localhost", "evil.example", "[::1]", "ü.example"])
PORTS = st.sampled_from(["", ":8000", ":9999"])
SEPARATORS = st.sampled_from(["\\", "%5c", "\\\\", "/", "#", "?", " ", "\t", ""])
# Userinfo that itself looks like an authority, then the real one: where URL parsers disagree.
TWO_AUTHORITIES = st.tuples(st.sampled_from(["http://", "https://", "HTTP://"]), HOSTS, PORTS, SEPARATORS,
                            st.just("@"), HOSTS, PORTS, st.sampled_from(["", "/", "/x", "?q=1"])).map("".join)
URLISH = st.one_of(st.lists(PIECES, max_size=12).map("".join), TWO_AUTHORITIES)


def _connects_to(url: str) -> tuple[str, str, int] | None:
    prepared = requests.Request("GET", url).prepare().url or ""
    parts = parse_url(prepared)
    if parts.host is None:
        return None
    host = parts.host.strip("[]").lower().rstrip(".")
    return (parts.scheme or "", host, parts.port or {"http": 80, "https": 443}.get(parts.scheme or "", 0))


@FUZZ
@given(URLISH)
@example("http://localhost:9999\\@127.0.0.1:8000/x")
def test_what_adapter_url_accepts_connects_to_the_clients_origin(path: str) -> None:
    adapter = myclient.Client(BASE).adapter
    try:
        url = adapter.url(path)
    except myclient.MyClientError:
        return
    try:
        target = _connects_to(url)
    except (requests.RequestException, ValueError, UnicodeError):
        return  # requests refuses it before connecting: nothing can be sent anywhere
    assert target == ORIGIN, (path, url, target)


@FUZZ
@given(URLISH, st.sampled_from([301, 302, 303, 307, 308]), st.sampled_from(["GET", "POST"]))
def test_any_redirect_location_keeps_credentials_on_the_origin(location: str, status: int, method: str) -> None:
    assume("\n" not in location and "\r" not in location)
    client = myclient.Client(BASE, token="fuzz-token-0123456789", retry=None, max_redirects=2)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rs:
        rs.add(responses.Response(method, f"{BASE}/start", status=status,
                                  headers={"Location": location.encode("utf-8", "surrogatepass").decode("latin-1")}))
        rs.add_callback(responses.GET, _anything(), callback=lambda r: (200, {}, "{}"))
        rs.add_callback(responses.POST, _anything(), callback=lambda r: (200, {}, "{}"))
        try:
            client.adapter.request(method, "/start", json={"a": 1})
        except myclient.MyClientError:
            pass
        for call in rs.calls[1:]:
            if _connects_to(call.request.url or "") != ORIGIN:
                assert "Authorization" not in call.request.headers
                assert call.request.method in ("GET", "HEAD")


def _anything() -> Any:
    import re

    return re.compile(r".*")


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=20)


@FUZZ
@given(st.one_of(JSON.map(lambda d: json.dumps(d).encode()), st.binary(max_size=300),
                 st.integers(1, 5000).map(lambda n: b"[" * n + b"]" * n)),
       st.sampled_from(["application/json", "application/json; charset=latin-1", "application/json; charset=bogus",
                        "text/html; charset=utf8mb4", "application/problem+json", ""]),
       st.sampled_from([200, 201, 204, 400, 404, 409, 422, 429, 500, 503]),
       st.sampled_from(["json", "bytes", "text", "auto"]))
def test_any_body_decodes_or_raises_a_myclient_error(body: bytes, ctype: str, status: int, decode: str) -> None:
    client = myclient.Client(BASE, retry=None)
    headers = {"Content-Type": ctype} if ctype else {}
    with responses.RequestsMock() as rs:
        rs.get(f"{BASE}/x", status=status, body=body, headers=headers)
        try:
            result = client.adapter.get("/x", decode=decode, detailed=True)  # type: ignore[arg-type]
        except myclient.HTTPError as error:
            assert error.status == status >= 400
            assert len(error.body) <= 2048
            return
        except myclient.InvalidResponse:
            assert decode in ("json", "auto")
            return
    assert result.status == status < 400
    if decode == "bytes":
        assert result.data == body or status == 204


@FUZZ
@given(st.text(alphabet=string.printable + "²³١٢٣ü\u00a0", max_size=60))
def test_any_retry_after_parses_or_is_ignored(value: str) -> None:
    seconds = parse_retry_after(value)
    assert seconds is None or 0 <= seconds <= 10**12
    client = myclient.Client(BASE, retry=myclient.RetryPolicy(attempts=2), sleep=lambda s: None)
    safe = value.replace("\r", " ").replace("\n", " ")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rs:
        rs.get(f"{BASE}/x", status=429, headers={"Retry-After": safe})
        try:
            client.adapter.get("/x")
        except myclient.RateLimited as error:
            assert error.retry_after is None or error.retry_after >= 0
