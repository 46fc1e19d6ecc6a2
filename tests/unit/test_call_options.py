"""Options defined once: every entry point takes the same per-call options with the same meaning;
settings are one frozen value (copies, environment, validated setters); the middleware seam; MockTransport."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest
import requests

import myclient
from myclient.calls import Call
from myclient.testing.mock import MockResponse, MockTransport

BASE = "https://api.example/v1"


class Items(myclient.Resource):
    path = "/items"


class Api(myclient.Client):
    items = myclient.group(Items)


def _api(**settings: Any) -> tuple[Api, MockTransport]:
    mock = MockTransport()
    mock.add("*", "/items", json=[{"id": 1}])
    mock.add("*", "/items/1", json={"id": 1})
    mock.add("*", "/x", json={"ok": True})
    mock.add("*", "/blob", body=b"0123456789", headers={"Content-Type": "application/octet-stream"})
    settings.setdefault("sleep", lambda s: None)
    return Api(BASE, transport=mock, **settings), mock


ENTRY_POINTS: dict[str, Callable[[Api, Path, dict[str, Any]], Any]] = {
    "request": lambda c, tmp, o: c.adapter.request("GET", "/x", **o),
    "get": lambda c, tmp, o: c.adapter.get("/x", **o),
    "head": lambda c, tmp, o: c.adapter.head("/x", **o),
    "post": lambda c, tmp, o: c.adapter.post("/x", json={}, **o),
    "put": lambda c, tmp, o: c.adapter.put("/x", json={}, **o),
    "patch": lambda c, tmp, o: c.adapter.patch("/x", json={}, **o),
    "delete": lambda c, tmp, o: c.adapter.delete("/x", **o),
    "client.request": lambda c, tmp, o: c.request("GET", "/x", **o),
    "paginate": lambda c, tmp, o: list(c.paginate("/items", **o)),
    "download": lambda c, tmp, o: c.download("/blob", tmp / "blob.bin", **o),
    "upload": lambda c, tmp, o: c.upload("/x", _file(tmp), **o),
    "Resource.list": lambda c, tmp, o: list(c.items.list(**o)),
    "Resource.get": lambda c, tmp, o: c.items.get(1, **o),
    "Resource.create": lambda c, tmp, o: c.items.create({"a": 1}, **o),
    "Resource.update": lambda c, tmp, o: c.items.update(1, {"a": 1}, **o),
    "Resource.replace": lambda c, tmp, o: c.items.replace(1, {"a": 1}, **o),
    "Resource.delete": lambda c, tmp, o: c.items.delete(1, **o),
}


def _file(tmp: Path) -> Path:
    path = tmp / "up.bin"
    path.write_bytes(b"data")
    return path


POLICY = myclient.RetryPolicy(attempts=2, backoff=0)
#: option -> (value given, what the transport must see on the call)
OPTIONS: dict[str, tuple[Any, Callable[[Call], Any], Any]] = {
    "timeout": ((1.5, 7.0), lambda call: call.options.timeout, (1.5, 7.0)),
    "deadline": (9.0, lambda call: round(call.state.limit or 0, 1), 9.0),  # a download passes on what is left
    "deadline=None": (None, lambda call: call.state.limit, None),
    "retry": (POLICY, lambda call: call.options.retry, POLICY),
    "retry=None": (None, lambda call: call.options.retry.attempts, 1),
    "headers": ({"X-Call": "1"}, lambda call: call.headers.get("X-Call"), "1"),
    "raise_on_error": (False, lambda call: call.options.raise_on_error, False),
    "ok_statuses": ([404], lambda call: call.options.ok_statuses, frozenset({404})),
    "verify": (False, lambda call: call.options.verify, False),
    "cert": ("client.pem", lambda call: call.options.cert, "client.pem"),
    "proxies": ({"https": "http://proxy.example:3128"}, lambda call: call.options.proxies,
                {"https": "http://proxy.example:3128"}),
    "cookies": ({"c": "v"}, lambda call: call.options.cookies, {"c": "v"}),
    "follow_redirects": (False, lambda call: call.options.follow_redirects, False),
    "max_redirects": (2, lambda call: call.options.max_redirects, 2),
    "max_body_size": (12345, lambda call: call.options.max_body_size, 12345),
    "auth": (myclient.BearerAuth("per-call-token-1234567"), lambda call: repr(call.options.auth),
             "BearerAuth(token=***)"),
}


@pytest.mark.parametrize("option", list(OPTIONS))
@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_each_option_means_the_same_at_every_entry_point(entry: str, option: str, tmp_path: Path) -> None:
    client, mock = _api(deadline=60.0, retry=myclient.RetryPolicy(attempts=3), headers={"X-Client": "c"})
    value, seen, expected = OPTIONS[option]
    name = option.split("=")[0]
    ENTRY_POINTS[entry](client, tmp_path, {name: value})
    assert mock.calls, "the call reached the transport"
    for call in mock.calls:
        assert seen(call) == expected
        assert call.headers.get("X-Client") == "c"  # the client's settings still apply


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_default_means_the_clients_setting_everywhere(entry: str, tmp_path: Path) -> None:
    client, mock = _api(timeout=(3.0, 4.0), deadline=60.0)
    ENTRY_POINTS[entry](client, tmp_path, {"timeout": myclient.DEFAULT, "deadline": myclient.DEFAULT})
    assert all(c.options.timeout == (3.0, 4.0) and c.state.limit is not None for c in mock.calls)


@pytest.mark.parametrize("entry", [e for e in ENTRY_POINTS if e != "Resource.list"])
def test_a_misspelt_option_is_refused_everywhere_before_sending(entry: str, tmp_path: Path) -> None:
    client, mock = _api()
    with pytest.raises(myclient.UsageError, match="did you mean 'timeout'"):
        ENTRY_POINTS[entry](client, tmp_path, {"timout": 3})
    assert not mock.calls


def test_idempotency_key_option_on_every_writing_entry_point(tmp_path: Path) -> None:
    client, mock = _api()
    client.adapter.post("/x", json={}, idempotency_key="k-1")
    client.items.create({"a": 1}, idempotency_key="k-2")
    client.upload("/x", _file(tmp_path), method="POST", idempotency_key="k-3")
    assert [c.headers["Idempotency-Key"] for c in mock.calls] == ["k-1", "k-2", "k-3"]
    assert all(c.keyed for c in mock.calls)


def test_a_misspelt_option_fails_mypy_strict(tmp_path: Path) -> None:
    snippet = tmp_path / "snippet.py"
    snippet.write_text(textwrap.dedent('''
        import myclient

        client = myclient.Client("https://api.example", timeout=3)
        client.adapter.get("/x", timout=3)
        myclient.Client("https://api.example", retyr=None)
        result: myclient.Result[object] = client.adapter.get("/x", detailed=True)
        data: int = client.adapter.get("/x", detailed=True)
    '''))
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(snippet)],
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2])
    out = done.stdout
    assert done.returncode == 1, out
    assert 'Unexpected keyword argument "timout"' in out
    assert 'Unexpected keyword argument "retyr"' in out
    assert 'Incompatible types in assignment (expression has type "Result[Any]", variable has type "int")' in out
    assert "snippet.py:7:" not in out and "snippet.py:4:" not in out  # the well-typed lines pass


def test_resource_list_treats_unknown_names_as_query_filters() -> None:
    client, mock = _api()
    list(client.items.list(status="open", timeout=2, params={"timeout": "as-a-filter"}))
    assert mock.calls[0].params == {"timeout": "as-a-filter", "status": "open"}
    assert mock.calls[0].options.timeout == (2.0, 2.0)


# -- settings as one value ------------------------------------------------------------------------------------


def test_with_options_copies_share_the_session_and_leave_the_original_alone() -> None:
    session = requests.Session()
    client = Api(BASE, session=session, timeout=5, headers={"X-A": "1"})
    fast = client.with_options(timeout=1, retry=None)
    assert fast.session is session and fast.adapter.timeout == (1.0, 1.0) and fast.adapter.retry.attempts == 1
    assert client.adapter.timeout == (5.0, 5.0) and client.adapter.retry.attempts == 3
    assert fast.adapter.headers["X-A"] == "1" and fast.cid == client.cid
    assert fast.items._adapter is fast.adapter and client.items._adapter is client.adapter


def test_validating_setters_refuse_bad_values() -> None:
    adapter = myclient.Client(BASE).adapter
    for name, value in (("timeout", float("inf")), ("timeout", None), ("deadline", -1), ("retry", "3"),
                        ("max_redirects", -1), ("verify", 3)):
        with pytest.raises(myclient.UsageError):
            setattr(adapter, name, value)
    adapter.timeout = 2
    adapter.retry = None
    assert adapter.timeout == (2.0, 2.0) and adapter.retry.attempts == 1


def test_from_env_reads_prefixed_variables_and_refuses_bad_ones() -> None:
    class Acme(myclient.Client):
        env_prefix = "ACME_"

    env = {"ACME_BASE_URL": "https://acme.example/v2", "ACME_TOKEN": "env-token-abcdef12", "ACME_TIMEOUT": "2,9",
           "ACME_VERIFY": "false", "ACME_RETRIES": "5", "OTHER": "x"}
    client = Acme.from_env(environ=env)
    assert client.base_url == "https://acme.example/v2" and client.adapter.timeout == (2.0, 9.0)
    assert client.adapter.verify is False and client.adapter.retry.attempts == 5
    assert repr(client.adapter.auth) == "BearerAuth(token=***)"
    with pytest.raises(myclient.UsageError, match="ACME_TIMEOUT") as info:
        Acme.from_env(environ={**env, "ACME_TIMEOUT": "soon"})
    assert "soon" not in str(info.value)
    assert Acme.from_env(environ=env, timeout=4).adapter.timeout == (4.0, 4.0)


def test_class_defaults_apply_unless_overridden() -> None:
    class Acme(myclient.Client):
        default_base_url = "https://acme.example"
        default_settings: ClassVar[Mapping[str, Any]] = {"timeout": 3, "headers": {"X-Acme": "1"}}

    assert Acme().adapter.timeout == (3.0, 3.0) and Acme().adapter.headers["X-Acme"] == "1"
    assert Acme(timeout=8).adapter.timeout == (8.0, 8.0)


# -- the middleware seam -----------------------------------------------------------------------------------


def test_middleware_can_change_the_request_inspect_the_response_and_replay() -> None:
    mock = MockTransport()
    mock.add("GET", "/x", answers=[MockResponse(200, json={"stale": True}), MockResponse(200, json={"fresh": 1})])
    seen: list[tuple[int, str]] = []

    def sign(call: Call, next: myclient.Next) -> requests.Response:
        signed = call.with_headers(**{"X-Signature": f"sig-{call.state.attempt}"})
        response = next(signed)
        seen.append((response.status_code, signed.headers["X-Signature"]))
        if response.json().get("stale"):  # a condition only the application knows: bounce it back down
            response.close()
            response = next(signed.with_headers(**{"X-Refresh": "1"}))
        return response

    client = myclient.Client(BASE, transport=mock, middleware=[sign])
    assert client.adapter.get("/x") == {"fresh": 1}
    assert [c.headers.get("X-Signature") for c in mock.calls] == ["sig-1", "sig-1"]
    assert mock.calls[1].headers["X-Refresh"] == "1" and seen == [(200, "sig-1")]


def test_middleware_runs_once_per_attempt_inside_the_retry_loop() -> None:
    mock = MockTransport()
    mock.add("GET", "/x", answers=[MockResponse(503), MockResponse(503), MockResponse(200, json=1)])
    attempts: list[int] = []

    def count(call: Call, next: myclient.Next) -> requests.Response:
        attempts.append(call.state.attempt)
        return next(call)

    client = myclient.Client(BASE, transport=mock, middleware=[count], sleep=lambda s: None)
    assert client.adapter.get("/x") == 1 and attempts == [1, 2, 3]


def test_mock_transport_answers_routes_and_refuses_unknown_calls() -> None:
    mock = MockTransport()
    route = mock.add("POST", "/orders", status=201, json={"id": 7})
    mock.add("GET", "/down", answers=[myclient.ConnectError("refused")])
    client = myclient.Client(BASE, transport=mock, retry=None)
    assert client.adapter.post("/orders", json={"n": 1}) == {"id": 7}
    assert route.calls[0].json == {"n": 1}
    with pytest.raises(myclient.ConnectError):
        client.adapter.get("/down")
    with pytest.raises(myclient.UsageError, match="no route"):
        client.adapter.get("/nowhere")
