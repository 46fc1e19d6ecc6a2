"""The MyClientError tree: status mapping, attributes a caller reads, transport mapping, redaction."""

from __future__ import annotations

import email.utils
import pickle

import pytest
import requests
import responses
import urllib3.exceptions

import myclient
from myclient._mapping import error_from_response as from_response
from myclient._mapping import map_transport_error as from_transport_error
from myclient._parse import parse_retry_after

BASE = "https://api.example/v1"


def _error(status: int, **kwargs: object) -> myclient.HTTPError:
    client = myclient.Client(BASE, retry=None)
    with responses.RequestsMock() as rs:
        rs.get(f"{BASE}/thing", status=status, **kwargs)  # type: ignore[arg-type]
        with pytest.raises(myclient.HTTPError) as info:
            client.adapter.get("/thing")
    return info.value


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, myclient.BadRequest),
        (401, myclient.Unauthorized),
        (403, myclient.Forbidden),
        (404, myclient.NotFound),
        (409, myclient.Conflict),
        (412, myclient.PreconditionFailed),
        (422, myclient.UnprocessableEntity),
        (429, myclient.RateLimited),
        (500, myclient.InternalServerError),
        (502, myclient.BadGateway),
        (503, myclient.ServiceUnavailable),
        (504, myclient.GatewayTimeout),
    ],
)
def test_each_known_status_maps_to_its_precise_class(status: int, cls: type) -> None:
    err = _error(status)
    assert type(err) is cls
    assert isinstance(err, myclient.MyClientError)
    assert err.status == status
    assert err.method == "GET"
    assert err.url == f"{BASE}/thing"


@pytest.mark.parametrize(
    ("status", "cls"),
    [(402, myclient.ClientError), (418, myclient.ClientError), (451, myclient.ClientError),
     (501, myclient.ServerError), (520, myclient.ServerError), (599, myclient.ServerError)],
)
def test_other_statuses_map_to_their_range_class(status: int, cls: type) -> None:
    err = _error(status)
    assert type(err) is cls
    assert err.status == status


def test_client_and_server_errors_sit_under_http_error() -> None:
    assert issubclass(myclient.ClientError, myclient.HTTPError)
    assert issubclass(myclient.ServerError, myclient.HTTPError)
    assert issubclass(myclient.HTTPError, myclient.MyClientError)
    assert issubclass(myclient.TransportError, myclient.MyClientError)
    for cls in (myclient.ConnectError, myclient.Timeout, myclient.TLSError, myclient.ProxyError,
                myclient.ConnectionLost):
        assert issubclass(cls, myclient.TransportError)
    assert issubclass(myclient.ConnectTimeout, myclient.ConnectError)
    assert issubclass(myclient.ConnectTimeout, myclient.Timeout)
    assert issubclass(myclient.InvalidResponse, myclient.MyClientError)
    assert issubclass(myclient.AuthError, myclient.MyClientError)


def test_error_carries_request_id_retry_after_body_and_errors() -> None:
    err = _error(
        422,
        json={"message": "validation failed", "errors": [{"field": "email", "message": "taken"}]},
        headers={"X-Request-ID": "req-123", "Retry-After": "7"},
    )
    assert err.request_id == "req-123"
    assert err.retry_after == 7.0
    assert err.errors == [{"field": "email", "message": "taken"}]
    assert '"validation failed"' in err.body
    assert err.headers["X-Request-ID"] == "req-123"
    assert isinstance(err.response, requests.Response)
    assert str(err) == (
        f"422 Unprocessable Entity: GET {BASE}/thing (request id req-123) - validation failed"
    )


def test_str_is_one_line_without_headers_or_full_body() -> None:
    body = "<html>" + ("x" * 50_000) + "\n</html>"
    err = _error(500, body=body, headers={"X-Secret-Header": "value-1234"}, content_type="text/html")
    text = str(err)
    assert "\n" not in text
    assert "value-1234" not in text
    assert len(text) < 300
    assert len(err.body) <= 2048


def test_errors_accepts_common_shapes() -> None:
    assert _error(400, json={"errors": ["a", "b"]}).errors == ["a", "b"]
    assert _error(422, json={"detail": [{"loc": ["x"], "msg": "bad"}]}).errors == [
        {"loc": ["x"], "msg": "bad"}
    ]
    assert _error(400, json={"errors": {"name": ["blank"]}}).errors == [
        {"field": "name", "message": ["blank"]}
    ]
    err = _error(400, json={"error": {"code": "E1", "message": "nope"}})
    assert err.errors == [{"code": "E1", "message": "nope"}]
    assert str(err).endswith("- nope")
    assert _error(400, body="plain text").errors == []


def test_retry_after_parses_seconds_and_http_date() -> None:
    assert parse_retry_after("120") == 120.0
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after(date, now=now) == pytest.approx(30.0)
    past = email.utils.formatdate(now - 30, usegmt=True)
    assert parse_retry_after(past, now=now) == 0.0
    for bad in (None, "", "soon", "-5", "1.5e9x"):
        assert parse_retry_after(bad) is None


def test_retry_after_set_on_rate_limited_from_date_header() -> None:
    date = email.utils.formatdate(usegmt=True)
    err = _error(429, headers={"Retry-After": date})
    assert isinstance(err, myclient.RateLimited)
    assert err.retry_after is not None
    assert 0.0 <= err.retry_after <= 1.0


@pytest.mark.parametrize("header", ["X-Request-Id", "Request-Id", "X-Amzn-RequestId", "CF-Ray"])
def test_request_id_is_read_from_usual_headers(header: str) -> None:
    assert _error(404, headers={header: "abc"}).request_id == "abc"


def test_secrets_in_query_body_and_headers_are_redacted() -> None:
    client = myclient.Client(BASE)
    with responses.RequestsMock() as rs:
        rs.get(
            f"{BASE}/thing",
            status=400,
            json={"message": "bad token", "access_token": "leaky-token-value"},
            headers={"Set-Cookie": "session=cookie-value-999"},
        )
        with pytest.raises(myclient.BadRequest) as info:
            client.adapter.get("/thing", params={"api_key": "key-value-555", "q": "x"})
    err = info.value
    everything = " ".join([str(err), repr(err), err.url or "", err.body, str(err.headers), str(err.args)])
    for secret in ("leaky-token-value", "cookie-value-999", "key-value-555"):
        assert secret not in everything
    assert "q=x" in (err.url or "")
    assert err.headers["Set-Cookie"] == "***"


def test_http_error_survives_pickling() -> None:
    err = _error(404, json={"message": "gone"}, headers={"X-Request-ID": "r"})
    err.response = None
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is myclient.NotFound
    assert (copy.status, copy.request_id, str(copy)) == (404, "r", str(err))


def _wrapped(reason: BaseException) -> requests.ConnectionError:
    return requests.ConnectionError(urllib3.exceptions.MaxRetryError(None, "/x", reason))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("exc", "cls"),
    [
        (requests.exceptions.ProxyError("407"), myclient.ProxyError),
        (requests.exceptions.SSLError("bad cert"), myclient.TLSError),
        (requests.exceptions.ConnectTimeout("slow"), myclient.ConnectTimeout),
        (requests.exceptions.ReadTimeout("slow"), myclient.ReadTimeout),
        (requests.exceptions.TooManyRedirects("loop"), myclient.TooManyRedirects),
        (_wrapped(urllib3.exceptions.NewConnectionError(None, "refused")), myclient.ConnectError),  # type: ignore[arg-type]
        (requests.ConnectionError(urllib3.exceptions.ProtocolError("reset", ConnectionResetError(104))),
         myclient.ConnectionLost),
        (requests.exceptions.ChunkedEncodingError("bad chunk"), myclient.ConnectionLost),
    ],
)
def test_transport_failures_map_into_transport_branch(exc: BaseException, cls: type) -> None:
    err = from_transport_error(exc, "GET", f"{BASE}/x?access_token=abcdef123")
    assert type(err) is cls
    assert err.method == "GET"
    assert err.url == f"{BASE}/x?access_token=***"
    assert "abcdef123" not in str(err)


def test_network_failure_raises_transport_error_naming_its_cause_without_chaining_it() -> None:
    client = myclient.Client(BASE, retry=None)
    with responses.RequestsMock() as rs:
        rs.get(f"{BASE}/x", body=requests.ConnectionError("connection refused"))
        with pytest.raises(myclient.TransportError) as info:
            client.adapter.get("/x")
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert info.value.cause == "requests.exceptions.ConnectionError: connection refused"
    assert isinstance(info.value, myclient.MyClientError)


def test_from_response_works_on_a_streamed_body_without_reading_it_all() -> None:
    client = myclient.Client(BASE, adapter=myclient.RawAdapter)
    with responses.RequestsMock() as rs:
        rs.get(f"{BASE}/big", status=500, body=b"e" * 10_000_000)
        response = client.adapter.get("/big", stream=True, raise_on_error=False)
        err = from_response(response, "GET")
    assert len(err.body) == 2048


def test_read_timeout_while_streaming_the_body_is_a_read_timeout_not_a_connect_error() -> None:
    inner = urllib3.exceptions.ReadTimeoutError(None, "/drip", "Read timed out.")  # type: ignore[arg-type]
    err = from_transport_error(requests.ConnectionError(inner), "POST", f"{BASE}/drip")
    assert type(err) is myclient.ReadTimeout
    assert not myclient.RetryPolicy().decide(attempt=1, method="POST", error=err).retry
