"""The foundation against real servers: httpbin directly, and nginx as the API gateway (key, TLS, mTLS)."""

from __future__ import annotations

import copy
import socket
from typing import Any

import pytest
import requests
from servers import Gateway

import myclient


def _fresh_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


@pytest.fixture
def client(httpbin_url: str) -> myclient.Client:
    return myclient.Client(httpbin_url, token="integration-token-1", retry=None, session=_fresh_session())


# -- httpbin ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("status", "cls"),
    [(400, myclient.BadRequest), (401, myclient.Unauthorized), (403, myclient.Forbidden),
     (404, myclient.NotFound), (409, myclient.Conflict), (412, myclient.PreconditionFailed),
     (418, myclient.ClientError), (422, myclient.UnprocessableEntity), (429, myclient.RateLimited),
     (500, myclient.InternalServerError), (502, myclient.BadGateway), (503, myclient.ServiceUnavailable),
     (504, myclient.GatewayTimeout), (520, myclient.ServerError)],
)
def test_real_statuses_map_to_the_tree(client: myclient.Client, httpbin_url: str, status: int, cls: type) -> None:
    with pytest.raises(cls) as info:
        client.adapter.get(f"/status/{status}")
    err = info.value
    assert type(err) is cls
    assert (err.status, err.method, err.url) == (status, "GET", f"{httpbin_url}/status/{status}")
    assert str(err).startswith(f"{status} ")


def test_teapot_body_is_kept_as_an_excerpt(client: myclient.Client) -> None:
    with pytest.raises(myclient.ClientError) as info:
        client.adapter.get("/status/418")
    assert "teapot" in info.value.body


def test_204_returns_none(client: myclient.Client) -> None:
    assert client.adapter.get("/status/204") is None


def test_html_body_raises_invalid_response(client: myclient.Client) -> None:
    with pytest.raises(myclient.InvalidResponse) as info:
        client.adapter.get("/html")
    assert info.value.status == 200
    assert "<html" in info.value.body.lower()


def test_bearer_token_is_accepted_by_httpbin(client: myclient.Client, httpbin_url: str) -> None:
    assert client.adapter.get("/bearer") == {"authenticated": True, "token": "integration-token-1"}
    with pytest.raises(myclient.Unauthorized):
        myclient.Client(httpbin_url, retry=None).adapter.get("/bearer")


def test_basic_auth_against_httpbin(httpbin_url: str) -> None:
    good = myclient.Client(httpbin_url, auth=myclient.BasicAuth("ann", "pw-1234"), retry=None)
    assert good.adapter.get("/basic-auth/ann/pw-1234") == {"authenticated": True, "user": "ann"}
    bad = myclient.Client(httpbin_url, auth=myclient.BasicAuth("ann", "wrong-pw"), retry=None)
    with pytest.raises(myclient.Unauthorized):
        bad.adapter.get("/basic-auth/ann/pw-1234")


def test_read_timeout_on_delay(client: myclient.Client) -> None:
    with pytest.raises(myclient.ReadTimeout) as info:
        client.adapter.get("/delay/3", timeout=(2, 0.5))
    assert isinstance(info.value, myclient.Timeout)
    assert info.value.cause.startswith("builtins.TimeoutError")  # the low-level cause, named, not chained
    assert info.value.__cause__ is None


def test_headers_travel_per_request(httpbin_url: str) -> None:
    session = _fresh_session()
    session.headers["X-Gateway-Key"] = "session-level"
    client = myclient.Client(httpbin_url, token="tok-77777", session=session, headers={"X-Client": "c"})
    seen = client.adapter.get("/headers", headers={"X-Call": "k"})["headers"]
    assert seen["Authorization"] == "Bearer tok-77777"
    assert seen["X-Gateway-Key"] == "session-level"
    assert seen["X-Client"] == "c"
    assert seen["X-Call"] == "k"
    assert seen["X-Correlation-Id"] == client.cid


def test_same_origin_redirect_is_followed_with_auth(client: myclient.Client) -> None:
    assert client.adapter.get("/redirect-to", params={"url": "/bearer"})["authenticated"] is True


def test_redirect_to_another_origin_carries_no_credentials(httpbin_url: str) -> None:
    session = _fresh_session()
    session.headers["X-Gateway-Key"] = "gw-cred"
    client = myclient.Client(httpbin_url, token="tok-xorigin", session=session, retry=None)
    other = httpbin_url.replace("127.0.0.1", "localhost") + "/headers"
    seen = client.adapter.get("/redirect-to", params={"url": other})["headers"]
    assert "Authorization" not in seen
    assert "X-Gateway-Key" not in seen
    assert "X-Correlation-Id" not in seen
    assert seen["Host"].startswith("localhost:")


def test_absolute_url_to_another_origin_is_refused(client: myclient.Client, httpbin_url: str) -> None:
    with pytest.raises(myclient.CrossOriginError):
        client.adapter.get(httpbin_url.replace("127.0.0.1", "localhost") + "/get")


def test_connection_refused_is_a_connect_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = myclient.Client(f"http://127.0.0.1:{port}", retry=None)
    with pytest.raises(myclient.ConnectError) as info:
        client.adapter.get("/x")
    assert isinstance(info.value, myclient.TransportError)
    assert "ConnectionRefusedError" in info.value.cause


def test_post_json_and_form_and_files_round_trip(client: myclient.Client) -> None:
    assert client.adapter.post("/post", json={"a": [1, 2]})["json"] == {"a": [1, 2]}
    assert client.adapter.put("/put", data={"k": "v"})["form"] == {"k": "v"}
    echoed = client.adapter.post("/post", files={"f": ("a.txt", b"file-bytes", "text/plain")})
    assert echoed["files"] == {"f": "file-bytes"}


# -- nginx gateway -------------------------------------------------------------------------------

def _snapshot(session: requests.Session) -> dict[str, Any]:
    return {
        "headers": dict(session.headers), "cookies": session.cookies.get_dict(),
        "verify": copy.deepcopy(session.verify), "cert": copy.deepcopy(session.cert),
        "proxies": copy.deepcopy(session.proxies), "adapters": dict(session.adapters),
        "auth": session.auth, "hooks": copy.deepcopy(session.hooks),
    }


def _gateway_session(gateway: Gateway) -> requests.Session:
    session = requests.Session()
    session.headers[gateway.header_name] = gateway.gateway_key
    return session


def test_gateway_refuses_without_its_key(gateway: Gateway) -> None:
    with pytest.raises(myclient.Unauthorized) as info:
        myclient.Client(gateway.http_url, retry=None).adapter.get("/get")
    assert info.value.errors == [] and "missing gateway key" in info.value.body


def test_gateway_key_on_injected_session_is_used_and_session_untouched(gateway: Gateway) -> None:
    session = _gateway_session(gateway)
    before = _snapshot(session)
    with myclient.Client(gateway.http_url, token="gw-token-123", session=session) as client:
        seen = client.adapter.get("/headers")["headers"]
        with pytest.raises(myclient.NotFound):
            client.adapter.get("/users/42")
    assert seen["Authorization"] == "Bearer gw-token-123"
    assert _snapshot(session) == before


def test_tls_gateway_with_client_verify(gateway: Gateway) -> None:
    client = myclient.Client(gateway.https_url, verify=gateway.ca_path, retry=None)
    assert client.adapter.get("/get")["url"].startswith("https://")


def test_tls_gateway_with_wrong_ca_is_a_tls_error(gateway: Gateway) -> None:
    client = myclient.Client(gateway.https_url, verify=gateway.wrong_ca_path, retry=None)
    with pytest.raises(myclient.TLSError):
        client.adapter.get("/get")


def test_session_verify_beats_ca_bundle_environment(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    """psf/requests#3829 on a real TLS handshake: the variable would make requests reject our CA."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", gateway.wrong_ca_path)
    monkeypatch.setenv("CURL_CA_BUNDLE", gateway.wrong_ca_path)
    session = requests.Session()
    session.verify = gateway.ca_path
    with pytest.raises(requests.exceptions.SSLError):
        session.get(f"{gateway.https_url}/get", timeout=5)  # plain requests: the environment wins
    assert myclient.Client(gateway.https_url, session=session, retry=None).adapter.get("/get")["url"]
    assert session.verify == gateway.ca_path


def test_environment_ca_bundle_still_applies_to_a_default_session(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", gateway.ca_path)
    assert myclient.Client(gateway.https_url, retry=None).adapter.get("/get")["url"]


def test_mtls_without_client_cert_is_bad_request(gateway: Gateway) -> None:
    client = myclient.Client(gateway.mtls_url, verify=gateway.ca_path, retry=None)
    with pytest.raises(myclient.BadRequest) as info:
        client.adapter.get("/get")
    assert "certificate" in info.value.body.lower()


def test_mtls_with_session_cert_and_ca(gateway: Gateway) -> None:
    session = _gateway_session(gateway)
    session.cert = (gateway.client_cert, gateway.client_key)
    session.verify = gateway.ca_path
    before = _snapshot(session)
    client = myclient.Client(gateway.mtls_url, token="mtls-token-1", session=session)
    seen = client.adapter.get("/headers")["headers"]
    assert seen["Authorization"] == "Bearer mtls-token-1"
    assert seen[gateway.header_name] == gateway.gateway_key
    assert _snapshot(session) == before


def test_mtls_with_client_cert_option(gateway: Gateway) -> None:
    client = myclient.Client(gateway.mtls_url, verify=gateway.ca_path,
                             cert=(gateway.client_cert, gateway.client_key), retry=None)
    assert client.adapter.get("/get")["url"].startswith("https://")


def test_missing_certificate_file_is_a_usage_error(gateway: Gateway) -> None:
    client = myclient.Client(gateway.mtls_url, verify=gateway.ca_path, cert=("/nonexistent.crt", "/nonexistent.key"),
                             retry=None)
    with pytest.raises(myclient.UsageError, match="certificate file"):
        client.adapter.get("/get")
