"""Differential test: what myclient hands the session's transport adapter equals what ``session.request`` hands it.

``RequestsTransport`` prepares each request itself (the steps of ``PreparedRequest.prepare``, the merges of
``Session.prepare_request``, environment lookups cached per transport) and calls the mounted adapter's
``send`` directly. The oracle is the call myclient's first version made on a twin session::

    session.request(method, url, params=..., json=..., data=..., files=...,
                    headers=<client headers updated with the call's>, auth=<client's or call's>,
                    cookies=<client's or call's>, timeout=(connect, read), allow_redirects=False, stream=True,
                    verify=V, cert=C, proxies=P)   # V, C, P passed only as ``_oracle_send_settings`` says

Both sessions get the same settings and the same environment (proxy variables in both cases, CA bundle
variables, a netrc file through ``NETRC`` or ``$HOME``); a recording ``HTTPAdapter`` mounted on each
keeps what ``send`` received — method, URL, headers in order, body (multipart boundary normalized),
cookie jar, verify, cert, proxies, timeout — and the kwargs the session's response hooks got. The
``stream`` flag is not compared: myclient always streams (it reads the body itself, under its deadline).

Headers are compared exactly, in order: a call's None removes a session header, and a call's header
overrides the client's in place, as requests merges them.

Longer soak: ``MYCLIENT_EQUIVALENCE_EXAMPLES=5000 python3 -m pytest -n 0 tests/unit/test_transport_equivalence.py``.
"""

from __future__ import annotations

import base64
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from fuzzing import examples
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase, HTTPBasicAuth, HTTPDigestAuth
from requests.structures import CaseInsensitiveDict

import myclient

EXAMPLES = int(os.environ.get("MYCLIENT_EQUIVALENCE_EXAMPLES", "300"))


class _Omitted:
    """A per-call option or client setting that is not given at all (falsy, like an absent mapping)."""

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "OMIT"


OMIT: Any = _Omitted()
ENV_NAMES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY",
             "no_proxy", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "NETRC", "HOME", "REQUEST_METHOD")

# (base URL, path, the host as the prepared URL spells it)
URLS = [
    ("http://api.example", "items", "api.example"),
    ("https://api.example:8443/v1", "/users/7", "api.example"),
    ("http://bücher.example/api", "orders", "xn--bcher-kva.example"),
    ("https://api.example/v2/", "search?q=a%20b&x=1", "api.example"),
    ("http://127.0.0.1:8080", "ping", "127.0.0.1"),
]
#: Where ``request_url`` sends a scenario's second call (same host on another port or scheme, other hosts).
OTHER_URLS = ["https://api.example/token", "http://api.example:8443/x", "https://api.example:8443/v1/users/7?p=1",
              "http://other.example/cb?x=1", "http://127.0.0.1:8081/y", "http://bücher.example/o",
              "https://xn--bcher-kva.example:8443/v1/deep"]


class TagAuth(AuthBase):
    """Sets ``X-Auth: <tag>``: shows which auth ran."""

    def __init__(self, tag: str) -> None:
        self.tag = tag

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["X-Auth"] = self.tag
        return r


def make_auth(spec: Any) -> Any:
    """A fresh auth object for a spec (each side gets its own; digest auth keeps state)."""
    if spec in (None, OMIT):
        return spec
    kind, _, tag = spec.partition(":")
    return {"tuple": lambda: ("su", "sp"), "basic": lambda: HTTPBasicAuth(tag, "pw-" + tag),
            "tag": lambda: TagAuth(tag), "digest": lambda: HTTPDigestAuth("du", "dp")}[kind]()


class Recorder(HTTPAdapter):
    """A transport adapter that records what ``send`` got and answers 200 ``{}`` without any network."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[dict[str, Any]] = []

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
             verify: Any = True, cert: Any = None, proxies: Any = None) -> requests.Response:
        headers = list(request.headers.items())
        boundary = re.search(r"boundary=([0-9a-f]+)", request.headers.get("Content-Type", ""))
        body = request.body.encode() if isinstance(request.body, str) else request.body
        if boundary:  # multipart boundaries are random: name them alike on both sides
            headers = [(k, v.replace(boundary.group(1), "B")) for k, v in headers]
            body = body.replace(boundary.group(1).encode(), b"B") if body is not None else None
        jar = getattr(request, "_cookies", None)
        self.sent.append({
            "method": request.method, "url": request.url, "headers": headers, "body": body,
            "jar": sorted((c.name, c.value, c.domain, c.path, c.secure) for c in jar or ()),
            "hooks": {k: [getattr(h, "__name__", type(h).__name__) for h in v] for k, v in request.hooks.items()},
            "verify": verify, "cert": cert, "proxies": None if proxies is None else dict(proxies),
            "timeout": _pair(timeout)})
        response = requests.Response()
        response.status_code, response.reason, response.url, response.request = 200, "OK", request.url or "", request
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json", "Content-Length": "2"})
        response.raw, response.encoding = io.BytesIO(b"{}"), None
        return response


def _pair(timeout: Any) -> Any:
    """(connect, read) from requests' tuple or myclient's TrackingTimeout (which unpacks like one)."""
    return None if timeout is None else tuple(float(t) for t in timeout)


@dataclass
class Scenario:
    """One combination: URL, session settings, environment, client settings, per-call arguments."""

    url: int = 0
    other: int = 0
    session: dict[str, Any] = field(default_factory=dict)
    env: dict[str, Any] = field(default_factory=lambda: {"netrc": "missing"})
    client: dict[str, Any] = field(default_factory=dict)
    #: The first call's arguments (sent twice to the path) and the second's (to OTHER_URLS, then to the path).
    calls: list[dict[str, Any]] = field(default_factory=lambda: [{}, {}])
    method: str = "GET"


def build_session(sc: Scenario, host: str) -> tuple[requests.Session, Recorder, list[dict[str, Any]]]:
    """A session configured as the scenario says, with a Recorder mounted and a recording response hook."""
    spec = sc.session
    s, recorder, hooked = requests.Session(), Recorder(), []
    s.mount("http://", recorder)
    s.mount("https://", recorder)
    if spec.get("plain_headers"):
        s.headers = dict(s.headers)  # type: ignore[assignment]
    for name, value in spec.get("headers", ()):
        s.headers[name] = value
    if "params" in spec:
        s.params = spec["params"]
    s.auth = make_auth(spec.get("auth"))
    for name, value, domain, path, secure in spec.get("cookies", ()):
        s.cookies.set(name, value, domain=host if domain == "HOST" else domain, path=path, secure=secure)
    s.verify = spec.get("verify", True)
    s.cert = spec.get("cert")
    s.proxies = dict(spec.get("proxies", {}))
    s.trust_env = spec.get("trust_env", True)
    s.max_redirects = spec.get("max_redirects", 30)
    if spec.get("hook"):
        s.hooks["response"].append(lambda r, **kw: hooked.append({**kw, "timeout": _pair(kw.get("timeout"))}))
    return s, recorder, hooked


def apply_env(mp: pytest.MonkeyPatch, env: dict[str, Any], files: dict[str, Path]) -> None:
    for name in ENV_NAMES:
        mp.delenv(name, raising=False)
    for name, value in env.items():
        if name == "netrc":
            if value == "home":
                mp.setenv("HOME", str(files["home"]))
            else:  # point NETRC at a file (a missing one: no netrc at all)
                mp.setenv("HOME", str(files["empty_home"]))
                mp.setenv("NETRC", str(files[value]))
        else:
            mp.setenv(name, value)


def _timeout(value: Any) -> tuple[float, float]:
    return (float(value[0]), float(value[1])) if isinstance(value, tuple) else (float(value), float(value))


def resolved(sc: Scenario, call: dict[str, Any]) -> dict[str, Any]:
    """The client's settings with the call's options applied, as documented (a call's proxies add to the client's)."""
    client = sc.client
    out = {name: call[name] if call.get(name, OMIT) is not OMIT else client.get(name, OMIT)
           for name in ("auth", "verify", "cert", "cookies", "timeout")}
    out = {k: (None if v is OMIT else v) for k, v in out.items()}
    out["timeout"] = _timeout(out["timeout"] if out["timeout"] is not None else (10.0, 30.0))
    proxies = client.get("proxies") or None
    if call.get("proxies", OMIT) is not OMIT:
        proxies = call["proxies"] if call["proxies"] is None or not proxies else {**proxies, **call["proxies"]}
    out["proxies"] = proxies
    return out


def _oracle_send_settings(session: requests.Session, r: dict[str, Any]) -> dict[str, Any]:
    """verify/cert/proxies as the first version passed them (session's non-default verify/proxies beat the env)."""
    out: dict[str, Any] = {}
    if r["verify"] is not None:
        out["verify"] = r["verify"]
    elif session.verify is not True:
        out["verify"] = session.verify
    if r["cert"] is not None:
        out["cert"] = r["cert"]
    if r["proxies"] or session.proxies:
        out["proxies"] = {**session.proxies, **(r["proxies"] or {})}
    return out


def client_headers(sc: Scenario) -> dict[str, str]:
    headers = dict(sc.client.get("headers") or {})
    if sc.client.get("cid_header"):
        headers.setdefault(sc.client["cid_header"], "cid-1")
    return headers


def body_args(call: dict[str, Any]) -> dict[str, Any]:
    """Fresh body arguments (file objects are consumed by a send)."""
    files = call.get("files")
    if files == "tuple":
        files = {"upload": ("a.txt", b"hello \xff", "text/plain")}
    elif files == "fileobj":
        files = {"doc": io.BytesIO(b"file body"), "meta": (None, '{"k": 1}', "application/json")}
    params = call.get("params")
    return {"params": None if params is OMIT else params, "json": call.get("json"), "data": call.get("data"),
            "files": files}


def make_client(sc: Scenario, session: requests.Session) -> myclient.Client:
    settings = {k: (make_auth(v) if k == "auth" else v) for k, v in sc.client.items() if v is not OMIT}
    settings.setdefault("cid_header", None)
    if settings["cid_header"]:
        settings["cid"] = "cid-1"
    return myclient.Client(URLS[sc.url][0], session=session, retry=None, follow_redirects=False, decode="response",
                           **settings)


def send_mine(client: myclient.Client, sc: Scenario, call: dict[str, Any], kind: str) -> str | None:
    """One call through myclient: ``client.request`` for the scenario's path, or ``request_url`` elsewhere."""
    options = {k: (make_auth(v) if k == "auth" else v) for k, v in call.items()
               if k not in ("params", "json", "data", "files") and v is not OMIT}
    try:
        if kind == "path":
            client.request(sc.method, URLS[sc.url][1], **body_args(call), **options)
        else:
            client.adapter.request_url(sc.method, OTHER_URLS[sc.other], **body_args(call), **options)
    except myclient.MyClientError as exc:
        return type(exc).__name__
    return None


def send_oracle(session: requests.Session, sc: Scenario, call: dict[str, Any], kind: str) -> str | None:
    """The same call as the first version made it: ``session.request`` with everything resolved."""
    r = resolved(sc, call)
    if kind == "path":
        base, path, _ = URLS[sc.url]
        url, headers, auth = f"{base.rstrip('/')}/{path.lstrip('/')}", client_headers(sc), r["auth"]
    else:  # request_url: only the correlation id of the client's headers, and no client auth
        url, headers = OTHER_URLS[sc.other], {k: v for k, v in client_headers(sc).items() if k == "X-Correlation-ID"}
        auth = call["auth"] if call.get("auth", OMIT) is not OMIT else None
    headers.update(call.get("headers") or {})  # what the first version passed on (None: remove)
    try:
        session.request(sc.method, url, **body_args(call), headers=headers, auth=make_auth(auth), cookies=r["cookies"],
                        timeout=r["timeout"], allow_redirects=False, stream=True, **_oracle_send_settings(session, r))
    except (requests.RequestException, ValueError, TypeError) as exc:
        return type(exc).__name__
    return None


#: Each scenario makes four calls per side, through one client: the first call twice (the second time
#: from myclient's caches: prepared URL, environment), then the second call to another URL through
#: ``request_url`` (same host on another port or scheme, or other hosts) and to the path again.
SENDS = ((0, "path"), (0, "path"), (1, "url"), (1, "path"))


def check_equivalent(sc: Scenario, files: dict[str, Path]) -> list[dict[str, Any]]:
    """Send ``sc`` through myclient and through the oracle; the adapters must get the same. Returns myclient's."""
    with pytest.MonkeyPatch.context() as mp:
        apply_env(mp, sc.env, files)  # before the client exists: the transport reads the environment once
        host = URLS[sc.url][2]
        (mine, mine_rec, mine_hooks), (theirs, theirs_rec, theirs_hooks) = build_session(sc, host), build_session(
            sc, host)
        client = make_client(sc, mine)
        outcomes = [((i, kind), send_mine(client, sc, sc.calls[i], kind), send_oracle(theirs, sc, sc.calls[i], kind))
                    for i, kind in SENDS]
    sent = []
    for kind, failed, oracle_failed in outcomes:
        if oracle_failed is not None:  # requests refuses it: myclient must refuse it too (and send nothing)
            if currently_in_test_context():
                event(f"refused by requests: {oracle_failed}")
            assert failed == "UsageError", (kind, oracle_failed, failed)
        else:
            assert failed is None, f"myclient refused what requests sends ({kind}): {failed}"
            sent.append(kind)
    assert len(mine_rec.sent) == len(theirs_rec.sent) == len(sent)
    for (i, kind), got, want in zip(sent, mine_rec.sent, theirs_rec.sent, strict=True):
        _events(want)
        assert got == want, (i, kind)
    assert mine_hooks == theirs_hooks
    client.close()
    return mine_rec.sent


def _events(sent: dict[str, Any]) -> None:
    """What the compared request carried (``--hypothesis-show-statistics`` shows how often)."""
    if not currently_in_test_context():
        return
    headers = dict(sent["headers"])
    event(f"Authorization: {headers.get('Authorization', '-')[:10]}, X-Auth: {headers.get('X-Auth', '-')}")
    event(f"Cookie header: {'yes' if 'Cookie' in headers else 'no'}; query: {'yes' if '?' in sent['url'] else 'no'}")
    event(f"proxies: {sorted(sent['proxies'] or {})}")
    event(f"verify: {sent['verify']}; cert: {sent['cert'] is not None}")
    event(f"body: {'multipart' if 'multipart' in headers.get('Content-Type', '') else type(sent['body']).__name__}")


# -- the generated combinations ---------------------------------------------------------------------


def ordered_subset(pool: list[Any], max_size: int | None = None) -> st.SearchStrategy[list[Any]]:
    return st.lists(st.sampled_from(pool), unique=True, max_size=max_size or len(pool))


SESSION_HEADERS = [("User-Agent", "agent/1"), ("accept", "application/vnd.x+json"), ("X-Gateway-Key", "gw-secret"),
                   ("Accept-Encoding", None), ("X-Session-Null", None), ("X-Tenant", "t1")]
COOKIES = [("sid", "sess", "HOST", "/", False), ("other", "o", "other.example", "/", False),
           ("sec", "s", "HOST", "/", True), ("deep", "d", "HOST", "/v1", False), ("bare", "b", "", "/", False),
           ("sid", "elsewhere", "other.example", "/", False)]
PROXY_ENV = [("HTTP_PROXY", "http://envproxy:3128"), ("http_proxy", "http://lower-envproxy:3128"),
             ("HTTPS_PROXY", "http://envproxy:3129"), ("https_proxy", "http://lower-envproxy:3129"),
             ("ALL_PROXY", "socks5://allproxy:1080"), ("all_proxy", "socks5://lower-allproxy:1080")]
NO_PROXY = ["api.example", ".example", "other.example", "127.0.0.1", "127.0.0.0/8", "api.example:8443",
            "xn--bcher-kva.example", "bücher.example", "*", "localhost, api.example"]
CLIENT_HEADERS = [("X-Client", "c1"), ("Accept", "application/json"), ("X-Client-2", "c2"),
                  ("X-Gateway-Key", "client-gw")]
CALL_HEADERS = [("X-Call", "1"), ("accept", "text/plain"), ("X-Gateway-Key", None), ("user-agent", None),
                ("x-client", "call-over"), ("X-Client-2", None), ("X-Tenant", "t2")]
PARAMS = [OMIT, None, {}, "", [], {"page": 2, "tags": ["x", "y"], "skip": None}, [("a", "1"), ("a", "2")],
          "raw=1&b=%20", {"api": None}, {"q": "ü ß"}]


@st.composite
def calls(draw: st.DrawFn) -> dict[str, Any]:
    one = lambda *values: draw(st.sampled_from(values))  # noqa: E731
    return {
        "params": one(*PARAMS), "json": one(None, None, {"k": "v", "n": [1, 2]}, [], "text"),
        "data": one(None, None, {"f": "1", "g": ["a", "b"]}, b"raw-bytes", "text-\u00e9", [("x", "1"), ("x", "2")],
                    {}),
        "files": one(None, None, None, "tuple", "fileobj"),
        "headers": dict(draw(ordered_subset(CALL_HEADERS, 3))) or one(OMIT, None),
        "auth": one(OMIT, OMIT, None, "tag:call", "basic:call"),
        "cookies": one(OMIT, OMIT, None, {"sid": "call-sid"}, {"z2": "v", "c2": "w", "bare": "call"}),
        "verify": one(OMIT, OMIT, None, True, False, "/call-ca.pem"),
        "cert": one(OMIT, OMIT, None, "/k.pem", ("/k.crt", "/k.key")),
        "proxies": one(OMIT, OMIT, None, {"http": "http://callproxy:9"}, {"no_proxy": "api.example"},
                       {"no_proxy": "api.example:8443"}),
        "timeout": one(OMIT, 3, (0.5, 60))}


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    one = lambda *values: draw(st.sampled_from(values))  # noqa: E731
    sc = Scenario(url=draw(st.integers(0, len(URLS) - 1)), other=draw(st.integers(0, len(OTHER_URLS) - 1)),
                  method=one("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"))
    sc.session = {
        "headers": draw(ordered_subset(SESSION_HEADERS, 4)), "plain_headers": draw(st.booleans()),
        "params": one({}, None, {"api": "1", "v": ["1", "2"]}, {"api": "1", "drop": None}, "s=1"),
        "auth": one(None, "tuple", "tag:session", "digest"), "cookies": draw(ordered_subset(COOKIES, 4)),
        "verify": one(True, False, "/etc/session-ca.pem"), "cert": one(None, "/s.pem", ("/s.crt", "/s.key")),
        "proxies": one({}, {"http": "http://sproxy:1"}, {"https": "http://sproxy:2", "no_proxy": "api.example"},
                       {"all": "http://sproxy:3"}, {"no_proxy": "127.0.0.1,xn--bcher-kva.example"}),
        "trust_env": one(True, True, False), "hook": draw(st.booleans()), "max_redirects": one(30, 3)}
    env: dict[str, Any] = dict(draw(ordered_subset(PROXY_ENV, 3)))
    no_proxy = one(None, *NO_PROXY)
    if no_proxy is not None:
        env[one("NO_PROXY", "no_proxy")] = no_proxy
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        value = one(None, "", f"/env/{name.lower()}.pem")
        if value is not None:
            env[name] = value
    env["netrc"] = one("missing", "netrc_host", "netrc_other", "netrc_default", "home")
    sc.env = env
    sc.client = {
        "headers": dict(draw(ordered_subset(CLIENT_HEADERS, 3))) or one(OMIT, None),
        "cid_header": one(None, "X-Correlation-ID"), "auth": one(OMIT, None, "basic:client", "tag:client"),
        "verify": one(OMIT, None, True, False, "/client-ca.pem"), "cert": one(OMIT, None, "/c.pem", ("/c.crt", "/c.k")),
        "proxies": one(OMIT, None, {"https": "http://cproxy:1"}, {"no_proxy": "api.example"}),
        "cookies": one(OMIT, None, {"sid": "client-sid"}, {"zc": "1", "c": "2"}), "timeout": one(OMIT, 5, (1.5, 7))}
    sc.calls = [draw(calls()), draw(calls())]
    return sc


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("equivalence")
    out = {"missing": root / "no-such-netrc", "home": root / "home", "empty_home": root / "empty-home"}
    for name, text in (("netrc_host", "machine api.example login nu password np\n"
                                      "machine bücher.example login bu password bp\n"
                                      "machine 127.0.0.1 login iu password ip\n"),
                       ("netrc_other", "machine other.example login ou password op\n"),
                       ("netrc_default", "machine other.example login ou password op\ndefault login du password dp\n")):
        out[name] = root / name
        out[name].write_text(text, encoding="utf-8")
    for home in ("home", "empty_home"):
        out[home].mkdir()
    (out["home"] / ".netrc").write_text("machine api.example login hu password hp\n", encoding="utf-8")
    return out


# The discrepancies the fuzz found, fixed in RequestsTransport.prepare (each also has a focused test below).
SAME_NAME_COOKIES = Scenario(session={"cookies": [("sid", "sess", "", "/", False),
                                                  ("theme", "dark", "other.example", "/", False)]},
                             client={"cookies": {"sid": "client", "theme": "light"}})
NONE_SESSION_HEADER = Scenario(session={"headers": [("Accept-Encoding", None)]})
EMPTY_CALL_PARAMS = Scenario(session={"params": {"api": "1"}}, calls=[{"params": ""}, {"params": []}])


@settings(max_examples=examples(EXAMPLES), derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(scenarios())
@example(sc=SAME_NAME_COOKIES)
@example(sc=NONE_SESSION_HEADER)
@example(sc=EMPTY_CALL_PARAMS)
def test_myclient_sends_what_session_request_sends(files: dict[str, Path], sc: Scenario) -> None:
    check_equivalent(sc, files)


# -- focused cases: each is checked against the oracle, and says what the user sees ------------------------


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def header(record: dict[str, Any], name: str) -> str | None:
    return next((v for k, v in record["headers"] if k.lower() == name.lower()), None)


def cookie_names(record: dict[str, Any]) -> list[str]:
    return [pair.split("=")[0] for pair in (header(record, "Cookie") or "").split("; ") if pair]


def test_call_cookies_replace_the_sessions_cookie_of_that_name_and_are_never_dropped(files: dict[str, Path]) -> None:
    # requests puts a call's cookies in a jar of their own first, then over the session's: the call's
    # "sid" replaces the session's host-less one, and "theme" goes out although the session holds a
    # "theme" for another host (before the fix both were dropped in favour of the session's).
    first = check_equivalent(SAME_NAME_COOKIES, files)[0]
    assert sorted((header(first, "Cookie") or "").split("; ")) == ["sid=client", "theme=light"]


def test_a_none_valued_session_header_is_left_out_not_refused(files: dict[str, Path]) -> None:
    # session.headers["Accept-Encoding"] = None is requests' way to not send it (was a UsageError
    # whenever the call and the client had no headers of their own).
    first = check_equivalent(NONE_SESSION_HEADER, files)[0]
    assert header(first, "Accept-Encoding") is None and header(first, "Accept") == "*/*"


def test_empty_call_params_still_send_the_sessions_params(files: dict[str, Path]) -> None:
    records = check_equivalent(EMPTY_CALL_PARAMS, files)  # params="" then params=[]: requests reads both as none
    assert [r["url"] for r in records] == ["http://api.example/items?api=1"] * 2 + [
        "https://api.example/token?api=1", "http://api.example/items?api=1"]


def test_a_calls_none_header_removes_the_sessions_header(files: dict[str, Path]) -> None:
    sc = Scenario(session={"headers": [("X-Gateway-Key", "gw-secret")]},
                  calls=[{"headers": {"X-Gateway-Key": None}}] * 2)
    first = check_equivalent(sc, files)[0]
    assert header(first, "X-Gateway-Key") is None


def test_a_calls_header_overrides_a_client_header_in_place(files: dict[str, Path]) -> None:
    sc = Scenario(client={"headers": {"X-A": "1", "X-B": "2"}}, calls=[{"headers": {"x-a": "3"}}] * 2)
    first = check_equivalent(sc, files)[0]
    assert [k for k, _ in first["headers"]][-2:] == ["x-a", "X-B"]


@pytest.mark.parametrize(("session", "client", "netrc", "expected"), [
    ({}, {}, "netrc_host", _basic("nu", "np")),  # no auth anywhere: NETRC's entry for the host
    ({}, {}, "home", _basic("hu", "hp")),  # NETRC unset: ~/.netrc
    ({}, {}, "netrc_other", None),  # an entry for another host only
    ({}, {}, "netrc_default", _basic("du", "dp")),  # the default entry
    ({"trust_env": False}, {}, "netrc_host", None),  # the session does not trust the environment
    ({"auth": "tuple"}, {}, "netrc_host", _basic("su", "sp")),  # the session's auth beats netrc
    ({}, {"auth": "basic:client"}, "netrc_host", _basic("client", "pw-client")),  # so does the client's
])
def test_netrc(files: dict[str, Path], session: dict[str, Any], client: dict[str, Any], netrc: str,
               expected: str | None) -> None:
    first = check_equivalent(Scenario(session=session, client=client, env={"netrc": netrc}), files)[0]
    assert header(first, "Authorization") == expected


def test_client_auth_beats_session_auth_and_auth_none_falls_back_to_it(files: dict[str, Path]) -> None:
    sc = Scenario(session={"auth": "tuple"}, client={"auth": "tag:client"}, env={"netrc": "netrc_host"})
    records = check_equivalent(sc, files)
    assert (header(records[0], "X-Auth"), header(records[0], "Authorization")) == ("client", None)
    # request_url never sends the client's auth: the session's applies, as it would in session.request
    assert (header(records[2], "X-Auth"), header(records[2], "Authorization")) == (None, _basic("su", "sp"))
    sc.calls = [{"auth": None}, {"auth": "tag:call"}]
    records = check_equivalent(sc, files)
    assert (header(records[0], "X-Auth"), header(records[0], "Authorization")) == (None, _basic("su", "sp"))
    assert header(records[2], "X-Auth") == "call"


def test_no_proxy_for_the_host(files: dict[str, Path]) -> None:
    # host:port in NO_PROXY: the base on 8443 goes direct, the same host on 443 (request_url) through the proxy
    env = {"HTTPS_PROXY": "http://envproxy:3129", "NO_PROXY": "api.example:8443", "netrc": "missing"}
    records = check_equivalent(Scenario(url=1, other=OTHER_URLS.index("https://api.example/token"), env=env), files)
    assert [r["proxies"].get("https") for r in records] == [None, None, "http://envproxy:3129", None]
    # the session's own no_proxy entry, and a call's: only that call goes direct
    env = {"HTTP_PROXY": "http://envproxy:3128", "netrc": "missing"}
    elsewhere = OTHER_URLS.index("http://other.example/cb?x=1")
    sc = Scenario(other=elsewhere, env=env, session={"proxies": {"no_proxy": "api.example"}})
    assert [r["proxies"].get("http") for r in check_equivalent(sc, files)] == [None, None, "http://envproxy:3128",
                                                                                None]
    sc = Scenario(other=elsewhere, env=env, calls=[{"proxies": {"no_proxy": "api.example"}}, {}])
    assert [r["proxies"].get("http") for r in check_equivalent(sc, files)] == [None, None] + [
        "http://envproxy:3128"] * 2


@pytest.mark.parametrize(("session", "client", "env", "expected"), [
    ({}, {}, {"REQUESTS_CA_BUNDLE": "/env/req.pem"}, "/env/req.pem"),
    ({}, {}, {"CURL_CA_BUNDLE": "/env/curl.pem"}, "/env/curl.pem"),
    ({}, {}, {"REQUESTS_CA_BUNDLE": "", "CURL_CA_BUNDLE": "/env/curl.pem"}, "/env/curl.pem"),
    ({"verify": "/etc/session-ca.pem"}, {}, {"REQUESTS_CA_BUNDLE": "/env/req.pem"}, "/etc/session-ca.pem"),
    ({"verify": False}, {}, {"REQUESTS_CA_BUNDLE": "/env/req.pem"}, False),  # psf/requests#3829: the session wins
    ({}, {"verify": "/client-ca.pem"}, {"REQUESTS_CA_BUNDLE": "/env/req.pem"}, "/client-ca.pem"),
    ({}, {"verify": True}, {"REQUESTS_CA_BUNDLE": "/env/req.pem"}, "/env/req.pem"),  # True means "verify": env CA
    ({"trust_env": False}, {}, {"REQUESTS_CA_BUNDLE": "/env/req.pem"}, True),
])
def test_ca_bundle_variables_and_session_verify(files: dict[str, Path], session: dict[str, Any],
                                                client: dict[str, Any], env: dict[str, Any], expected: Any) -> None:
    records = check_equivalent(Scenario(url=1, session=session, client=client, env={**env, "netrc": "missing"}), files)
    assert {r["verify"] for r in records} == {expected}


def test_cookie_jar_scoping(files: dict[str, Path]) -> None:
    jar = [("sid", "s", "HOST", "/", False), ("other", "o", "other.example", "/", False),
           ("sec", "x", "HOST", "/", True), ("deep", "d", "HOST", "/v1", False), ("bare", "b", "", "/", False)]
    plain = check_equivalent(Scenario(url=0, other=OTHER_URLS.index("http://127.0.0.1:8081/y"),
                                      session={"cookies": jar}), files)
    assert sorted(cookie_names(plain[0])) == ["bare", "sid"]  # not another host's, not secure over http, not /v1
    assert cookie_names(plain[2]) == ["bare"]  # 127.0.0.1 (request_url): only the host-less cookie
    tls = check_equivalent(Scenario(url=1, other=OTHER_URLS.index("http://other.example/cb?x=1"),
                                    session={"cookies": jar}), files)
    assert sorted(cookie_names(tls[0])) == ["bare", "deep", "sec", "sid"]
    assert sorted(cookie_names(tls[2])) == ["bare", "other"]  # http://other.example


def test_refresh_environment_rereads_what_the_transport_cached(files: dict[str, Path]) -> None:
    sc = Scenario(url=1, env={"HTTPS_PROXY": "http://old:1", "REQUESTS_CA_BUNDLE": "/old.pem", "netrc": "missing"})
    with pytest.MonkeyPatch.context() as mp:
        apply_env(mp, sc.env, files)
        session, recorder, _ = build_session(sc, "api.example")
        client = make_client(sc, session)
        client.request("GET", "/users/7")
        mp.setenv("HTTPS_PROXY", "http://new:2")
        mp.setenv("REQUESTS_CA_BUNDLE", "/new.pem")
        mp.setenv("NETRC", str(files["netrc_host"]))
        client.request("GET", "/users/7")  # the environment was read when the client was made
        client.adapter.transport.refresh_environment()  # type: ignore[attr-defined]
        client.request("GET", "/users/7")
        twin, twin_recorder, _ = build_session(sc, "api.example")
        twin.request("GET", "https://api.example:8443/v1/users/7", headers={}, timeout=(10.0, 30.0),
                     allow_redirects=False, stream=True)
    before, cached, refreshed = recorder.sent
    assert (cached["proxies"]["https"], cached["verify"], header(cached, "Authorization")) == (
        "http://old:1", "/old.pem", None) == (before["proxies"]["https"], before["verify"], None)
    assert (refreshed["proxies"]["https"], refreshed["verify"], header(refreshed, "Authorization")) == (
        "http://new:2", "/new.pem", _basic("nu", "np"))
    assert refreshed == twin_recorder.sent[0]
