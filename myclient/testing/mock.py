"""MockTransport: answer a client's calls from canned routes, with no network and no requests adapter.

For unit tests of code built on myclient: ``Client(base, transport=MockTransport(...))``. Every call
still goes through the adapter and the middleware chain (retries, auth renewal, hooks, decoding,
the error tree), only the exchange itself is replaced. Routes match method and path (or a full
URL); each route answers with a status, JSON or bytes and headers, a sequence of such answers, an
exception from the MyClientError tree (a transport failure), or a function of the call.
"""

from __future__ import annotations

import io
import json as _json
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Union
from urllib.parse import urlsplit

import requests
from requests.structures import CaseInsensitiveDict

from ..calls import Call
from ..exceptions import MyClientError, UsageError

__all__ = ["MockResponse", "MockTransport", "Route"]


class MockResponse:
    """One canned answer: ``status``, and ``json`` or ``body`` (bytes or text), and ``headers``."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int = 200, *, json: Any = None, body: bytes | str | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        if json is not None and body is not None:
            raise UsageError("give json= or body=, not both")
        self.status = status
        self.headers = dict(headers or {})
        if json is not None:
            self.body = _json.dumps(json).encode()
            self.headers.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            self.body = body.encode()
        else:
            self.body = body or b""

    def build(self, call: Call) -> requests.Response:
        """A real ``requests.Response`` for ``call`` (body already read, as the transport leaves it)."""
        response = requests.Response()
        response.status_code = self.status
        response.reason = _REASONS.get(self.status, "")
        response.headers = CaseInsensitiveDict({"Content-Length": str(len(self.body)), **self.headers})
        response.url = call.url
        response.raw = io.BytesIO(self.body)
        if not call.stream:
            response._content = self.body
        prepared = requests.PreparedRequest()
        prepared.prepare(method=call.method, url=call.url, headers=dict(call.headers), params=call.params,
                         json=call.json, data=call.data or None, files=call.files)
        response.request = prepared
        return response


_REASONS = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
            404: "Not Found", 409: "Conflict", 422: "Unprocessable Entity", 429: "Too Many Requests",
            500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}

Answer = Union[MockResponse, MyClientError, Callable[[Call], Union[MockResponse, requests.Response]]]


class Route:
    """A registered route: its answers (used in order, the last one repeats) and the calls it got."""

    def __init__(self, method: str, target: str, answers: list[Answer]) -> None:
        self.method = method
        self.target = target
        self.answers = answers
        self.calls: list[Call] = []

    def matches(self, call: Call) -> bool:
        if self.method != "*" and call.method != self.method:
            return False
        if self.target == "*":
            return True
        if "://" in self.target:
            return call.url.split("?", 1)[0] == self.target
        return urlsplit(call.url).path.endswith(self.target)

    def answer(self, call: Call) -> requests.Response:
        self.calls.append(call)
        answer = self.answers[min(len(self.calls) - 1, len(self.answers) - 1)]
        if isinstance(answer, MyClientError):
            raise answer
        if isinstance(answer, MockResponse):
            return answer.build(call)
        result = answer(call)
        return result.build(call) if isinstance(result, MockResponse) else result

    def __repr__(self) -> str:
        return f"<Route {self.method} {self.target} calls={len(self.calls)}>"


class MockTransport:
    """A Transport answering from routes; unmatched calls raise UsageError naming the call.

    ``add("GET", "/users/1", json={...})``, ``add("POST", "/orders", status=503)``, or a list of
    answers for consecutive calls: ``add("GET", "/flaky", answers=[MockResponse(503), MockResponse(json=1)])``.
    ``calls`` lists every call sent, in order (Call values: method, url, headers, json, ...).
    """

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self.owns_session = False

    def add(self, method: str, target: str, *, status: int = 200, json: Any = None, body: bytes | str | None = None,
            headers: Mapping[str, str] | None = None, answers: Iterable[Answer] | None = None) -> Route:
        """Register a route (method or target ``"*"`` matches any); returns it (``route.calls`` counts its calls)."""
        listed: list[Answer] = list(answers) if answers is not None else [
            MockResponse(status, json=json, body=body, headers=headers)]
        if not listed:
            raise UsageError("a route needs at least one answer")
        route = Route(method.upper(), target, listed)
        self.routes.append(route)
        return route

    def send(self, call: Call) -> requests.Response:
        """Answer ``call`` from the first matching route (the Transport protocol)."""
        with self._lock:
            self.calls.append(call)
            route = next((r for r in self.routes if r.matches(call)), None)
        if route is None:
            raise UsageError(f"MockTransport: no route for {call.method} {call.url}")
        return route.answer(call)

    def close(self) -> None:
        """Nothing to release."""
