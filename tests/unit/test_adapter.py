"""Adapter.request(): URL resolution, return values, settings per request, redirects, timeouts."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import requests
from responses import matchers

import myclient

BASE = "https://api.example/v1"



# -- URL resolution ---------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/users", "users", "users/", "/users/"])
def test_paths_resolve_under_the_base_path_prefix(rs: Any, path: str) -> None:
    rs.get(f"{BASE}/{path.strip('/')}" + ("/" if path.endswith("/") else ""), json=[])
    assert myclient.Client(BASE + "/").adapter.get(path) == []


def test_double_slash_path_stays_a_path_not_a_host(rs: Any) -> None:
    rs.get(f"{BASE}/evil.example/x", json={})
    myclient.Client(BASE).adapter.get("//evil.example/x")


def test_path_with_colon_or_embedded_url_stays_a_path(rs: Any) -> None:
    rs.get(f"{BASE}/users:batchGet", json={})
    rs.get(f"{BASE}/go?next=http://other.example/", json={})
    client = myclient.Client(BASE)
    client.adapter.get("users:batchGet")
    client.adapter.get("go?next=http://other.example/")


def test_absolute_url_on_same_origin_is_accepted(rs: Any) -> None:
    rs.get("https://API.example:443/other", json={"ok": 1})
    assert myclient.Client(BASE).adapter.get("https://API.example:443/other") == {"ok": 1}


@pytest.mark.parametrize(
    "url",
    ["https://evil.example/v1/users", "http://api.example/v1/users", "https://api.example:8443/v1",
     "HTTPS://evil.example/"],
)
def test_absolute_url_on_another_origin_is_refused_before_sending(rs: Any, url: str) -> None:
    client = myclient.Client(BASE, token="t0k3n-abcdef")
    with pytest.raises(myclient.CrossOriginError, match="not the client's origin"):
        client.adapter.get(url)
    assert len(rs.calls) == 0


@pytest.mark.parametrize(
    "base",
    ["", "api.example", "ftp://api.example", "https://", "https://u:p@api.example",
     "https://api.example/?v=1", "https://api.example/#x", "https://api.example:99999/"],
)
def test_bad_base_url_is_a_usage_error(base: str) -> None:
    with pytest.raises(myclient.UsageError):
        myclient.Client(base)


# -- what calls return -------------------------------------------------------------------------

def test_json_adapter_returns_decoded_json(rs: Any) -> None:
    rs.get(f"{BASE}/u/1", json={"id": 1, "name": "Ann"})
    assert myclient.Client(BASE).adapter.get("/u/1") == {"id": 1, "name": "Ann"}


@pytest.mark.parametrize(("status", "body"), [(204, ""), (200, ""), (200, "  \n"), (202, "")])
def test_json_adapter_returns_none_for_no_content(rs: Any, status: int, body: str) -> None:
    rs.delete(f"{BASE}/u/1", status=status, body=body)
    assert myclient.Client(BASE).adapter.delete("/u/1") is None


def test_json_adapter_returns_none_for_head(rs: Any) -> None:
    rs.head(f"{BASE}/u/1", headers={"Content-Length": "20"})
    assert myclient.Client(BASE).adapter.head("/u/1") is None


def test_json_adapter_raises_invalid_response_for_html_2xx(rs: Any) -> None:
    rs.get(f"{BASE}/page", body="<html><body>Login</body></html>", content_type="text/html")
    with pytest.raises(myclient.InvalidResponse) as info:
        myclient.Client(BASE).adapter.get("/page")
    err = info.value
    assert err.status == 200
    assert err.method == "GET"
    assert "text/html" in str(err)
    assert err.body.startswith("<html>")
    assert not isinstance(err, myclient.HTTPError)


def test_raw_adapter_returns_the_response(rs: Any) -> None:
    rs.get(f"{BASE}/x", body="hello")
    response = myclient.Client(BASE, adapter=myclient.RawAdapter).adapter.get("/x")
    assert isinstance(response, requests.Response)
    assert response.text == "hello"


def test_raise_on_error_false_returns_the_error_response(rs: Any) -> None:
    rs.get(f"{BASE}/x", status=404, body="nope")
    response = myclient.Client(BASE, adapter=myclient.RawAdapter).adapter.get("/x", raise_on_error=False)
    assert response.status_code == 404


def test_raise_on_error_false_on_json_adapter_returns_decoded_error_body(rs: Any) -> None:
    rs.get(f"{BASE}/x", status=409, json={"message": "exists"})
    assert myclient.Client(BASE).adapter.get("/x", raise_on_error=False) == {"message": "exists"}


def test_verb_helpers_send_their_method(rs: Any) -> None:
    client = myclient.Client(BASE)
    for verb in ("get", "post", "put", "patch", "delete"):
        rs.add(verb.upper(), f"{BASE}/v", json={"m": verb})
        assert getattr(client.adapter, verb)("/v") == {"m": verb}
    rs.add("OPTIONS", f"{BASE}/v", json={})
    client.adapter.request("options", "/v")
    assert [c.request.method for c in rs.calls] == ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def test_params_json_data_and_files_reach_the_server(rs: Any) -> None:
    rs.post(f"{BASE}/j", match=[matchers.json_params_matcher({"a": 1}),
                                matchers.query_param_matcher({"q": "x y"})], json={})
    rs.post(f"{BASE}/f", match=[matchers.urlencoded_params_matcher({"k": "v"})], json={})
    rs.post(f"{BASE}/m", json={})
    client = myclient.Client(BASE)
    client.adapter.post("/j", json={"a": 1}, params={"q": "x y"})
    client.adapter.post("/f", data={"k": "v"})
    client.adapter.post("/m", files={"file": ("a.txt", b"abc", "text/plain")})
    body = rs.calls[2].request.body
    assert b'name="file"; filename="a.txt"' in body
    assert b"abc" in body


# -- headers, auth, correlation id ----------------------------------------------------------------

def test_token_is_sent_as_bearer(rs: Any) -> None:
    rs.get(f"{BASE}/x", match=[matchers.header_matcher({"Authorization": "Bearer t0k3n"})], json={})
    myclient.Client(BASE, token="t0k3n").adapter.get("/x")


def test_auth_takes_any_authbase(rs: Any) -> None:
    rs.get(f"{BASE}/x", json={})
    myclient.Client(BASE, auth=requests.auth.HTTPBasicAuth("u", "pw")).adapter.get("/x")
    assert rs.calls[0].request.headers["Authorization"].startswith("Basic ")


def test_token_and_auth_together_are_refused() -> None:
    with pytest.raises(myclient.UsageError, match="not both"):
        myclient.Client(BASE, token="t", auth=requests.auth.HTTPBasicAuth("u", "p"))


def test_client_headers_travel_per_request_and_calls_can_override_or_drop_them(rs: Any) -> None:
    rs.get(f"{BASE}/x", json={})
    rs.get(f"{BASE}/y", json={})
    client = myclient.Client(BASE, headers={"X-A": "1", "X-B": "2"})
    client.adapter.get("/x")
    client.adapter.get("/y", headers={"X-A": "override", "X-B": None, "X-C": "3"})
    first, second = (c.request.headers for c in rs.calls)
    assert (first["X-A"], first["X-B"]) == ("1", "2")
    assert (second["X-A"], second.get("X-B"), second["X-C"]) == ("override", None, "3")
    assert client.adapter.headers == {"X-A": "1", "X-B": "2", "X-Correlation-ID": client.cid}


def test_correlation_id_header_is_sent_and_configurable(rs: Any) -> None:
    rs.get(f"{BASE}/x", json={})
    rs.get(f"{BASE}/x", json={})
    rs.get(f"{BASE}/x", json={})
    a = myclient.Client(BASE)
    b = myclient.Client(BASE, cid="fixed-cid", cid_header="X-Trace")
    c = myclient.Client(BASE, cid_header=None)
    for client in (a, b, c):
        client.adapter.get("/x")
    ha, hb, hc = (call.request.headers for call in rs.calls)
    assert ha["X-Correlation-ID"] == a.cid and len(a.cid) == 32
    assert hb["X-Trace"] == "fixed-cid" and "X-Correlation-ID" not in hb
    assert "X-Correlation-ID" not in hc and "X-Trace" not in hc
    assert a.cid != myclient.Client(BASE).cid


def test_session_headers_and_cookies_are_used(rs: Any) -> None:
    rs.get(f"{BASE}/x", json={})
    session = requests.Session()
    session.headers["X-Gateway-Key"] = "gw"
    session.cookies.set("sticky", "node-1", domain="api.example")
    myclient.Client(BASE, token="tok-1234", session=session).adapter.get("/x")
    headers = rs.calls[0].request.headers
    assert headers["X-Gateway-Key"] == "gw"
    assert headers["Cookie"] == "sticky=node-1"
    assert headers["Authorization"] == "Bearer tok-1234"


# -- timeouts --------------------------------------------------------------------------------

def test_default_timeout_is_finite_and_per_call_timeout_overrides(rs: Any) -> None:
    rs.get(f"{BASE}/x", json={})
    rs.get(f"{BASE}/x", json={})
    client = myclient.Client(BASE)
    client.adapter.get("/x")
    client.adapter.get("/x", timeout=1.5)
    assert rs.calls[0].request.req_kwargs["timeout"] == myclient.DEFAULT_TIMEOUT
    assert rs.calls[1].request.req_kwargs["timeout"] == (1.5, 1.5)  # requests reads a float as both


@pytest.mark.parametrize("bad", [None, 0, -1, float("inf"), (1, None), "5", (1, 2, 3), True])
def test_non_finite_or_invalid_timeouts_are_refused(bad: Any) -> None:
    with pytest.raises(myclient.UsageError, match="timeout"):
        myclient.Client(BASE, timeout=bad)


def test_per_call_invalid_timeout_is_refused_without_sending(rs: Any) -> None:
    with pytest.raises(myclient.UsageError):
        myclient.Client(BASE).adapter.get("/x", timeout=0)
    assert len(rs.calls) == 0


def test_unknown_keyword_is_a_usage_error(rs: Any) -> None:
    with pytest.raises(myclient.UsageError, match="unknown option 'no_such_option'"):
        myclient.Client(BASE).adapter.get("/x", no_such_option=1)  # type: ignore[call-arg]
    with pytest.raises(myclient.UsageError, match="did you mean 'timeout'"):
        myclient.Client(BASE).adapter.get("/x", timout=3)  # type: ignore[call-arg]
    with pytest.raises(myclient.UsageError, match="did you mean 'timeout'"):
        myclient.Client(BASE, timout=3)  # type: ignore[call-arg]
    assert not rs.calls


# -- the injected session is never mutated ------------------------------------------------------

def _snapshot(session: requests.Session) -> dict[str, Any]:
    return {
        "headers": dict(session.headers),
        "cookies": sorted((c.name, c.value, c.domain) for c in session.cookies),
        "verify": copy.deepcopy(session.verify),
        "cert": copy.deepcopy(session.cert),
        "proxies": copy.deepcopy(session.proxies),
        "auth": session.auth,
        "adapters": {prefix: id(a) for prefix, a in session.adapters.items()},
        "hooks": {k: list(v) for k, v in session.hooks.items()},
        "params": dict(session.params),
        "trust_env": session.trust_env,
        "max_redirects": session.max_redirects,
        "stream": session.stream,
    }


def test_injected_session_is_never_mutated(rs: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://env-proxy.invalid:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/env/ca.pem")
    rs.get(f"{BASE}/x", json={})
    rs.post(f"{BASE}/x", status=500, json={})
    session = requests.Session()
    session.headers["X-Gateway-Key"] = "gw"
    session.cert = ("client.crt", "client.key")
    session.verify = "corp-ca.pem"
    session.proxies = {"https": "http://corp-proxy.invalid:8080"}
    before = _snapshot(session)
    with myclient.Client(
        BASE, token="tok-abcdef", session=session, headers={"X-Mine": "1"}, verify="other.pem",
        cert="c.pem", proxies={"http": "http://p.invalid:1"}, timeout=3,
    ) as client:
        client.adapter.get("/x")
        with pytest.raises(myclient.ServerError):
            client.adapter.post("/x", json={"a": 1})
    assert _snapshot(session) == before


def test_client_verify_cert_proxies_travel_per_request_only_when_given(rs: Any) -> None:
    rs.get(f"{BASE}/x", json={})
    rs.get(f"{BASE}/x", json={})
    session = requests.Session()
    myclient.Client(BASE, session=session).adapter.get("/x")
    myclient.Client(BASE, session=session, verify=False, cert=("c", "k"),
                    proxies={"https": "http://p.invalid:1"}).adapter.get("/x")
    plain, configured = (c.request.req_kwargs for c in rs.calls)
    assert plain["verify"] is True and plain["cert"] is None
    assert configured["verify"] is False
    assert configured["cert"] == ("c", "k")
    assert configured["proxies"]["https"] == "http://p.invalid:1"


def test_session_verify_false_is_not_overridden(rs: Any) -> None:
    """hvac#991: a client default must never re-enable what the user switched off on the session."""
    rs.get(f"{BASE}/x", json={})
    session = requests.Session()
    session.verify = False
    myclient.Client(BASE, session=session).adapter.get("/x")
    assert rs.calls[0].request.req_kwargs["verify"] is False


@pytest.mark.parametrize("var", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_session_verify_beats_ca_bundle_environment(rs: Any, monkeypatch: pytest.MonkeyPatch, var: str) -> None:
    """psf/requests#3829: plain requests lets the variable win over session.verify."""
    monkeypatch.setenv(var, "/env/ca.pem")
    rs.get(f"{BASE}/x", json={})
    rs.get(f"{BASE}/x", json={})
    session = requests.Session()
    session.verify = "/corp/ca.pem"
    myclient.Client(BASE, session=session).adapter.get("/x")
    session.get(f"{BASE}/x")  # what requests alone does, for contrast
    ours, theirs = (c.request.req_kwargs["verify"] for c in rs.calls)
    assert ours == "/corp/ca.pem"
    assert theirs == "/env/ca.pem"


def test_default_session_still_honours_ca_bundle_environment(rs: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/env/ca.pem")
    rs.get(f"{BASE}/x", json={})
    myclient.Client(BASE).adapter.get("/x")
    assert rs.calls[0].request.req_kwargs["verify"] == "/env/ca.pem"


def test_session_proxies_beat_proxy_environment(rs: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://env-proxy.invalid:3128")
    monkeypatch.setenv("HTTP_PROXY", "http://env-proxy.invalid:3128")
    rs.get(f"{BASE}/x", json={})
    session = requests.Session()
    session.proxies = {"https": "http://corp-proxy.invalid:8080"}
    myclient.Client(BASE, session=session).adapter.get("/x")
    proxies = rs.calls[0].request.req_kwargs["proxies"]
    assert proxies["https"] == "http://corp-proxy.invalid:8080"
    assert session.proxies == {"https": "http://corp-proxy.invalid:8080"}


# -- lifecycle -------------------------------------------------------------------------------

class CountingSession(requests.Session):
    closed = 0

    def close(self) -> None:
        self.closed += 1
        super().close()


def test_close_closes_only_a_session_the_client_made() -> None:
    injected = CountingSession()
    with myclient.Client(BASE, session=injected) as client:
        assert not client.adapter.owns_session
    assert injected.closed == 0
    own = myclient.Client(BASE)
    assert own.adapter.owns_session
    closed: list[bool] = []
    own.session.close = lambda: closed.append(True)  # type: ignore[method-assign]
    own.close()
    assert closed == [True]


def test_session_must_be_a_requests_session() -> None:
    with pytest.raises(myclient.UsageError, match=r"requests\.Session"):
        myclient.Client(BASE, session=object())  # type: ignore[arg-type]


def test_ready_adapter_instance_is_used_and_settings_beside_it_are_applied_never_ignored() -> None:
    adapter = myclient.RawAdapter(BASE)
    assert myclient.Client(BASE, adapter=adapter).adapter is adapter
    configured = myclient.Client(BASE, adapter=adapter, token="t", retry=None, idempotency_key=True,
                                 access_log=True, cid_header=None).adapter
    assert isinstance(configured, myclient.RawAdapter) and configured is not adapter
    assert configured.retry.attempts == 1 and configured.access_log and configured.cid_header is None
    assert configured.settings.idempotency_key and configured.auth is not None
    assert configured.transport is adapter.transport  # same session
    assert adapter.retry.attempts == 3 and adapter.auth is None  # the given instance is left as it was
    with pytest.raises(myclient.UsageError, match="ready adapter"):
        myclient.Client(BASE, adapter=adapter, session=requests.Session())
    with pytest.raises(myclient.UsageError, match="differs"):
        myclient.Client("https://other.example", adapter=adapter)
    with pytest.raises(myclient.UsageError):
        myclient.Client(BASE, adapter=dict)  # type: ignore[arg-type]


def test_reprs_show_no_secret() -> None:
    client = myclient.Client(BASE, token="very-secret-token")
    assert "very-secret-token" not in repr(client)
    assert "very-secret-token" not in repr(client.adapter)
    assert "very-secret-token" not in repr(client.adapter.auth)


def test_407_from_a_plain_http_proxy_is_a_proxy_error(rs: Any) -> None:
    rs.get(f"{BASE}/x", status=407, headers={"Proxy-Authenticate": 'Basic realm="proxy"'})
    with pytest.raises(myclient.ProxyError, match="407") as info:
        myclient.Client(BASE).adapter.get("/x")
    assert isinstance(info.value, myclient.TransportError)


def test_request_raw_returns_the_response_from_a_json_adapter(rs: Any) -> None:
    rs.get(f"{BASE}/file", body=b"bytes", headers={"Content-Length": "5"})
    response = myclient.Client(BASE).adapter.request_raw("get", "/file", stream=True)
    with response:
        assert response.raw.read() == b"bytes"
