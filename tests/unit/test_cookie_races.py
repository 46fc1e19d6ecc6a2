"""A late answer to a request made with an old session cookie must not expire or replace a newer one.

Threads share the session's jar: when one thread logs in again while another's request (carrying the
old session) is still in flight, that late answer's ``Set-Cookie: sessionid=""; expires=...`` (what
Django sends for an invalid session) used to delete the new session, and every thread then had to
log in again (a flaky extra login in tests/integration/test_logins.py).
"""

from __future__ import annotations

from typing import Any

import requests
import responses

import myclient

BASE = "https://api.example.test"
EXPIRE = "sessionid=\"\"; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/"


def _client() -> tuple[myclient.Client, requests.Session]:
    session = requests.Session()
    session.cookies.set("sessionid", "new-session-7f3a", domain="api.example.test", path="/")
    return myclient.Client(BASE, session=session, raise_on_error=False), session


def test_a_late_answer_for_the_old_session_does_not_delete_the_new_one(rs: Any) -> None:
    rs.add(responses.GET, f"{BASE}/items", status=403, headers={"Set-Cookie": EXPIRE})
    client, session = _client()
    client.adapter.get("/items", cookies={"sessionid": "old-session-1b2c"})  # sent with the old session
    assert "sessionid=old-session-1b2c" in rs.calls[0].request.headers["Cookie"]
    assert session.cookies.get("sessionid") == "new-session-7f3a"


def test_an_answer_for_the_current_session_still_expires_it(rs: Any) -> None:
    rs.add(responses.GET, f"{BASE}/logout", status=200, headers={"Set-Cookie": EXPIRE})
    client, session = _client()
    client.adapter.get("/logout")
    assert session.cookies.get("sessionid") is None


def test_an_answer_for_the_current_session_may_replace_it(rs: Any) -> None:
    rs.add(responses.GET, f"{BASE}/rotate", status=200, headers={"Set-Cookie": "sessionid=rotated-9d8e; Path=/"})
    client, session = _client()
    client.adapter.get("/rotate")
    assert session.cookies.get("sessionid") == "rotated-9d8e"
