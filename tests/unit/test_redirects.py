"""Redirects: followed on the client's origin with credentials, elsewhere only bare."""

from __future__ import annotations

from typing import Any

import pytest
import requests

import myclient

BASE = "https://api.example/v1"
OTHER = "https://cdn.example"



def _client() -> myclient.Client:
    session = requests.Session()
    session.headers["X-Gateway-Key"] = "gw-secret"
    session.cookies.set("sid", "cookie-1", domain="api.example")
    return myclient.Client(BASE, token="tok-123456", session=session, headers={"X-Api-Version": "2"})


def test_same_origin_redirect_keeps_auth_and_headers(rs: Any) -> None:
    rs.get(f"{BASE}/old", status=301, headers={"Location": "/v1/new"})
    rs.get(f"{BASE}/new", json={"ok": True})
    assert _client().adapter.get("/old") == {"ok": True}
    final = rs.calls[1].request.headers
    assert final["Authorization"] == "Bearer tok-123456"
    assert final["X-Gateway-Key"] == "gw-secret"
    assert final["X-Api-Version"] == "2"


def test_cross_origin_redirect_carries_no_credentials(rs: Any) -> None:
    rs.get(f"{BASE}/file", status=302, headers={"Location": f"{OTHER}/blob?sig=abc"})
    rs.get(f"{OTHER}/blob", json={"data": 1})
    client = _client()
    assert client.adapter.get("/file") == {"data": 1}
    sent = rs.calls[1].request.headers
    for name in ("Authorization", "X-Gateway-Key", "X-Api-Version", "Cookie", client.adapter.cid_header or ""):
        assert name not in sent
    assert rs.calls[1].request.req_kwargs["cert"] is None


def test_cross_origin_redirect_of_a_post_is_refused(rs: Any) -> None:
    rs.post(f"{BASE}/upload", status=307, headers={"Location": f"{OTHER}/up"})
    with pytest.raises(myclient.CrossOriginError, match="another origin"):
        _client().adapter.post("/upload", json={"a": 1})
    assert len(rs.calls) == 1


def test_303_after_post_becomes_a_get_without_body(rs: Any) -> None:
    rs.post(f"{BASE}/jobs", status=303, headers={"Location": f"{BASE}/jobs/7"})
    rs.get(f"{BASE}/jobs/7", json={"id": 7})
    assert _client().adapter.post("/jobs", json={"a": 1}) == {"id": 7}
    assert rs.calls[1].request.method == "GET"
    assert rs.calls[1].request.body is None


def test_307_keeps_method_and_body_on_same_origin(rs: Any) -> None:
    rs.put(f"{BASE}/a", status=307, headers={"Location": f"{BASE}/b"})
    rs.put(f"{BASE}/b", json={})
    _client().adapter.put("/a", json={"x": 1})
    assert rs.calls[1].request.method == "PUT"
    assert rs.calls[1].request.body == b'{"x": 1}'


def test_redirect_loop_raises_too_many_redirects(rs: Any) -> None:
    rs.get(f"{BASE}/loop", status=302, headers={"Location": f"{BASE}/loop"})
    client = myclient.Client(BASE)
    with pytest.raises(myclient.TooManyRedirects):
        client.adapter.get("/loop")
    assert len(rs.calls) == client.adapter.max_redirects + 1


def test_follow_redirects_false_returns_the_redirect(rs: Any) -> None:
    rs.get(f"{BASE}/old", status=302, headers={"Location": f"{OTHER}/x"})
    client = myclient.Client(BASE, adapter=myclient.RawAdapter)
    response = client.adapter.get("/old", follow_redirects=False)
    assert response.status_code == 302
    assert len(rs.calls) == 1


def test_error_after_redirect_reports_the_final_url(rs: Any) -> None:
    rs.get(f"{BASE}/old", status=301, headers={"Location": f"{BASE}/gone"})
    rs.get(f"{BASE}/gone", status=404)
    with pytest.raises(myclient.NotFound) as info:
        _client().adapter.get("/old")
    assert info.value.url == f"{BASE}/gone"
