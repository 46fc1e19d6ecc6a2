"""Regression tests for defects found in the core (adapter, transport, mapping, logging, input checks)."""

from __future__ import annotations

import gc
import http.client
import logging
import ssl
import weakref
from typing import Any

import pytest
import requests
import urllib3.exceptions

import myclient
from myclient._deadline import watchdog
from myclient._mapping import map_transport_error
from myclient._parse import ascii_int, parse_retry_after

BASE = "https://api.example/v1"



# -- issue 9, item 2: a finished call under a deadline releases its response at once ---------------------


class _Big(requests.adapters.BaseAdapter):
    """Answers every request with 1 MiB, in memory, keeping no reference to what it sent."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        import io

        response = requests.Response()
        response.status_code, response.url, response.request = 200, request.url or "", request
        response.raw = io.BytesIO(b"x" * (1 << 20))
        return response

    def close(self) -> None:
        pass


def test_a_call_under_a_deadline_holds_nothing_after_it_returns() -> None:
    session = requests.Session()
    session.mount("https://", _Big())
    client = myclient.Client(BASE, session=session, adapter=myclient.RawAdapter, deadline=60)
    response = client.adapter.get("/big")
    ref = weakref.ref(response)
    assert len(response.content) == 1 << 20
    del response
    gc.collect()
    assert ref() is None
    assert watchdog.pending() == 0


# -- issue 9, item 12: an Idempotency-Key set on the client's headers after construction counts ---------


def test_idempotency_header_added_after_construction_makes_post_safe_to_retry(rs: Any) -> None:
    rs.post(f"{BASE}/pay", status=503)
    rs.post(f"{BASE}/pay", status=201, json={"ok": True})
    client = myclient.Client(BASE, sleep=lambda s: None)
    client.adapter.headers["Idempotency-Key"] = "order-42"
    assert client.adapter.post("/pay", json={"amount": 1}) == {"ok": True}
    assert [c.request.headers["Idempotency-Key"] for c in rs.calls] == ["order-42", "order-42"]


# -- issue 9, item 11: errors carry facts; the mapping reads types, not text ---------------------------------


def test_certificate_refusal_and_proxy_status_are_facts_read_from_types() -> None:
    verify = requests.exceptions.SSLError(urllib3.exceptions.MaxRetryError(
        None, "/hostname", urllib3.exceptions.SSLError(ssl.SSLCertVerificationError(1, "certificate verify failed"))))
    tls = map_transport_error(verify, "GET", f"{BASE}/hostname")
    assert isinstance(tls, myclient.TLSError) and tls.verify_failed
    reset = requests.exceptions.SSLError(ssl.SSLError("EOF occurred in violation of protocol (hostname)"))
    other = map_transport_error(reset, "GET", f"{BASE}/hostname")
    assert isinstance(other, myclient.TLSError) and not other.verify_failed
    tunnel = requests.exceptions.ProxyError(urllib3.exceptions.ProxyError(
        "Unable to connect to proxy", OSError("Tunnel connection failed: 407 Proxy Authentication Required")))
    refused = map_transport_error(tunnel, "GET", f"{BASE}/orders/407")
    assert isinstance(refused, myclient.ProxyError) and refused.status == 407
    dropped = requests.exceptions.ProxyError(urllib3.exceptions.ProxyError("x", ConnectionResetError(104)))
    lost = map_transport_error(dropped, "GET", f"{BASE}/orders/407")
    assert isinstance(lost, myclient.ProxyError) and lost.status is None and lost.lost_after_send
    assert myclient.RetryPolicy().decide(attempt=1, method="GET", error=lost).retry


@pytest.mark.parametrize("root", [http.client.LineTooLong("header line"), http.client.BadStatusLine("HTTP/2.0 200"),
                                  http.client.HTTPException("got more than 100 headers"),
                                  http.client.UnknownProtocol("HTTP/2.0")])
def test_a_malformed_answer_maps_to_connection_lost_after_sending(root: Exception) -> None:
    exc = requests.ConnectionError(urllib3.exceptions.ProtocolError("Connection aborted.", root))
    error = map_transport_error(exc, "POST", f"{BASE}/orders")
    assert isinstance(error, myclient.ConnectionLost) and not error.before_response
    assert not myclient.RetryPolicy().decide(attempt=1, method="POST", error=error, reused=True).retry


# -- issue 9, item 10: every record of every myclient logger carries the same fields -------------------------


def test_every_myclient_record_has_the_documented_fields(rs: Any, caplog: pytest.LogCaptureFixture) -> None:
    rs.get(f"{BASE}/flaky", status=503)
    rs.get(f"{BASE}/flaky", json={"ok": 1})
    client = myclient.Client(BASE, sleep=lambda s: None, access_log=True,
                             hooks={"on_request": lambda e: 1 / 0})  # a failing hook logs a WARNING
    formatter = logging.Formatter("%(cid)s %(baseurl)s %(method)s %(endpoint)s %(url)s %(status)s %(message)s")
    with caplog.at_level(logging.DEBUG, logger="myclient"):
        client.adapter.get("/flaky", params={"page": 2})
    records = [r for r in caplog.records if r.name.startswith("myclient")]
    assert {r.name for r in records} == {"myclient", "myclient.access"}
    assert len(records) >= 5  # 2 requests, 1 retry, 1 access line, hook warnings
    for record in records:
        line = formatter.format(record)
        assert record.myclient_cid == record.cid  # type: ignore[attr-defined]
        if record.levelno != logging.WARNING:
            assert line.startswith(f"{client.cid} {BASE} GET /flaky?page=2 {BASE}/flaky?page=2 ")


# -- issue 10, items 6 and 36: hostile numbers and absurd settings ---------------------------------------------


@pytest.mark.parametrize("value", ["²³¹", "١٢٣", "9" * 40, "Wed, 21 Oct 2015 07:28:00 +9999999999", "1e400",
                                   "Fri, 31 Dec 99999 23:59:59 GMT", "-5", ""])
def test_retry_after_from_a_hostile_server_never_raises(rs: Any, value: str) -> None:
    assert parse_retry_after(value) is None or parse_retry_after(value) >= 0  # type: ignore[operator]
    rs.get(f"{BASE}/x", status=503, headers={"Retry-After": value})
    with pytest.raises(myclient.ServiceUnavailable):
        myclient.Client(BASE, retry=None).adapter.get("/x")


def test_ascii_int_accepts_only_ascii_digits() -> None:
    assert ascii_int(" 42 ") == 42 and ascii_int("²") is None and ascii_int("4２") is None
    assert ascii_int("1" * 19) is None and ascii_int(True) is None and ascii_int(-1) is None


@pytest.mark.parametrize("settings", [{"timeout": 1e300}, {"timeout": (1, 1e300)}, {"deadline": 1e300},
                                      {"deadline": float("nan")}, {"max_redirects": 10**9}])
def test_absurd_settings_are_refused_at_construction(settings: dict[str, Any]) -> None:
    with pytest.raises(myclient.UsageError):
        myclient.Client(BASE, **settings)


# -- issue 10, items 19, 29, 30, 31: what a caller passes in -------------------------------------------------------


def test_error_excerpt_is_redacted_before_it_is_cut(rs: Any) -> None:
    secret = "straddle-secret-9f8e7d6c5b4a"
    myclient.redact.add_secret(secret)
    rs.get(f"{BASE}/x", status=500, body="x" * 2040 + secret + "y" * 100, content_type="text/plain")
    with pytest.raises(myclient.InternalServerError) as info:
        myclient.Client(BASE, retry=None).adapter.get("/x")
    assert len(info.value.body) == 2048 and "straddle" not in info.value.body
    assert secret[:4] not in info.value.body[2000:]


@pytest.mark.parametrize("path", ["/../admin", "../admin", "/users/../../admin", "/%2e%2e/admin", "/./x",
                                  "/users/%2E%2e"])
def test_dot_segments_cannot_leave_the_base_path(rs: Any, path: str) -> None:
    with pytest.raises(myclient.UsageError, match=r"'\.\.'"):
        myclient.Client(BASE).adapter.get(path)
    assert not rs.calls


def test_a_lone_surrogate_is_a_usage_error(rs: Any) -> None:
    with pytest.raises(myclient.UsageError):
        myclient.path("/users/{id}", id="a\udcffb")
    with pytest.raises(myclient.UsageError):
        myclient.Client(BASE).adapter.get("/users/\udcff")
    with pytest.raises(myclient.UsageError):
        myclient.Client(BASE).adapter.get("/users", params={"q": "\udcff"})
    assert not rs.calls


@pytest.mark.parametrize("headers", [{"X-A": "1\r\nX-B: 2"}, {"X-A": "a\nb"}, {"X-A": "nul\x00"}, {"Bad Name": "1"},
                                     {"X-A": " padded"}])
def test_header_injection_is_refused_before_sending(rs: Any, headers: dict[str, str]) -> None:
    with pytest.raises(myclient.UsageError, match="header"):
        myclient.Client(BASE).adapter.get("/x", headers=headers)
    with pytest.raises(myclient.UsageError, match="header"):
        myclient.Client(BASE, headers=headers)
    assert not rs.calls
