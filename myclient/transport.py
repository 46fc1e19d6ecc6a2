"""The transport seam: ``Transport`` (one method, ``send(call)``) and ``RequestsTransport`` on a requests.Session.

``RequestsTransport`` owns one exchange: it prepares the request once — applying the session's
headers, cookies, auth, params and hooks exactly as ``Session.request`` would, with the environment
lookups (proxy variables, CA bundle variables, ``.netrc``) cached per transport — sends it through
the session's own mounted adapter, follows redirects (credentials only to the client's origin),
reads the body under the call's deadline (the watchdog cuts the socket when it passes, from the
first byte sent to the last byte read) and maps every failure by type onto the MyClientError tree.
It never retries and never decides what a call returns. The session is never written to, except
that cookies the server sets land in its jar, as with ``session.request``.
"""

from __future__ import annotations

import datetime
import os
import time
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urljoin, urlparse

import requests
from requests import cookies as _cookies
from requests import hooks as _hooks
from requests.adapters import HTTPAdapter
from requests.cookies import RequestsCookieJar
from requests.structures import CaseInsensitiveDict
from requests.utils import default_headers, get_environ_proxies, get_netrc_auth

from . import _context, _urls
from ._deadline import Alarm, watchdog
from ._log import fields, get_logger
from ._mapping import ERROR_READ_BYTES, map_transport_error
from ._parse import header
from ._wire import Exchange, TrackingTimeout
from .calls import Call
from .exceptions import (
    Cancelled,
    ConnectionLost,
    CrossOriginError,
    DeadlineExceeded,
    InvalidResponse,
    MyClientError,
    ProxyError,
    RedirectError,
    Timeout,
    TooManyRedirects,
    UsageError,
)
from .redaction import registry

__all__ = ["RequestsTransport", "Transport"]

log = get_logger("myclient")

_TO_GET = {301: ("POST",), 302: ("POST",), 303: ("POST", "PUT", "PATCH", "DELETE", "OPTIONS")}
_BODY_HEADERS = ("content-length", "content-type", "transfer-encoding")
_READ_CHUNK = 64 * 1024
_CACHE_LIMIT = 256


@runtime_checkable
class Transport(Protocol):
    """Sends one call and returns the final response (after redirects); raises MyClientError subclasses.

    Implementations own the exchange only: no retries, no auth renewal, no decoding. The response's
    body is read (``response.content``) unless ``call.stream`` is set.
    """

    def send(self, call: Call) -> requests.Response:
        """One exchange for ``call``."""

    def close(self) -> None:
        """Release what the transport owns."""


class _Environment:
    """What requests would read from the environment on every call, read once per transport."""

    def __init__(self) -> None:
        self.proxies: dict[tuple[str, int | None, str | None], dict[str, str]] = {}
        self.netrc: dict[str, Any] = {}
        self.ca_bundle: str | None = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")

    def environ_proxies(self, url: str, no_proxy: str | None) -> dict[str, str]:
        parts = urlparse(url)
        key = (parts.hostname or "", parts.port, no_proxy)
        found = self.proxies.get(key)
        if found is None:
            if len(self.proxies) >= _CACHE_LIMIT:
                self.proxies.clear()
            found = self.proxies[key] = get_environ_proxies(url, no_proxy=no_proxy)
        return found

    def netrc_auth(self, url: str) -> Any:
        host = urlparse(url).netloc
        if host not in self.netrc:
            if len(self.netrc) >= _CACHE_LIMIT:
                self.netrc.clear()
            self.netrc[host] = get_netrc_auth(url)
        return self.netrc[host]


class RequestsTransport:
    """A Transport on a ``requests.Session`` (the user's, used as given, or one it creates and owns)."""

    def __init__(self, session: requests.Session | None = None) -> None:
        if session is not None and not isinstance(session, requests.Session):
            raise UsageError(f"session must be a requests.Session, got {type(session).__name__}")
        self.owns_session = session is None
        self.session = session if session is not None else requests.Session()
        self._env = _Environment()
        #: Prepared URLs (already checked to connect where they read) by URL and flat params.
        self._urls: dict[tuple[Any, ...], str] = {}

    def refresh_environment(self) -> None:
        """Read proxy/CA-bundle variables and ``~/.netrc`` again (they are cached per transport)."""
        self._env = _Environment()

    def close(self) -> None:
        """Close the session if this transport created it; an injected session stays open."""
        if self.owns_session:
            self.session.close()

    def pool_stats(self, url: str) -> dict[str, int]:
        """The connection pool for ``url``'s origin: ``opened`` (ever), ``idle`` and ``checked_out`` (in use now).

        All zeros when the mounted adapter has no urllib3 pool for it (yet). A checked-out connection
        that never comes back is a leak: after every call has ended, ``checked_out`` must be 0.
        """
        stats = {"opened": 0, "idle": 0, "checked_out": 0}
        origin = _urls.connected_origin(url)
        manager = getattr(self.session.get_adapter(url), "poolmanager", None)
        pools = getattr(manager, "pools", None)
        if origin is None or pools is None:
            return stats
        for key in list(pools.keys()):
            pool = pools.get(key)
            if pool is None or getattr(pool, "host", None) != origin.host or getattr(pool, "port", None) != origin.port:
                continue
            queue = getattr(pool, "pool", None)
            if queue is None:
                continue
            waiting = list(queue.queue)
            stats["opened"] += int(getattr(pool, "num_connections", 0))
            stats["idle"] += sum(1 for conn in waiting if conn is not None)
            stats["checked_out"] += queue.maxsize - len(waiting)
        return stats

    def __repr__(self) -> str:
        return f"<RequestsTransport session={'own' if self.owns_session else 'injected'}>"

    # -- one exchange -----------------------------------------------------------------------------
    def send(self, call: Call) -> requests.Response:
        """Send ``call`` (following redirects as its options say); read its body unless streamed."""
        exchange = Exchange()
        left = call.state.left()
        if left is not None and left <= 0:
            raise self._out_of_time(call, call.url)
        cancel = _context.cancellation.get()
        if cancel is not None:
            if cancel.cancelled:
                raise Cancelled(f"Cancelled: {call.method} {registry.url(call.url)}: the awaiting task was cancelled",
                                method=call.method, url=call.url)
            cancel.attach(exchange)
        alarm = watchdog.arm(left, exchange.cut) if left is not None else None
        try:
            response = self._send_prepared(call, self.prepare(call, call.url), exchange, alarm)
            if call.options.follow_redirects and response.is_redirect:
                response = self._follow(call, response, exchange, alarm)
                response.myclient_redirected = True  # type: ignore[attr-defined]
            if response.status_code == 407:
                response.close()
                error = ProxyError(f"ProxyError: {call.method} {registry.url(response.url)}: the proxy requires "
                                   "authentication (407)", method=call.method, url=response.url)
                error.status = 407
                raise error
            if exchange.headers_cut:
                response.close()
                lost = ConnectionLost(f"ConnectionLost: {call.method} {registry.url(response.url)}: the response "
                                      "ended inside its header block", method=call.method, url=response.url)
                lost.reused = exchange.reused
                raise lost
            if not call.stream:
                self._read_body(call, response, exchange, alarm)
            return response
        finally:
            if alarm is not None:
                alarm.cancel()
            if cancel is not None:
                cancel.detach(exchange)

    def prepare(self, call: Call, url: str) -> requests.PreparedRequest:
        """The request as ``Session.request`` would prepare it (session settings merged), built once.

        The same steps in the same order as ``PreparedRequest.prepare`` (method, URL, headers,
        cookies, body, auth, hooks), with the merges ``Session.prepare_request`` makes computed
        directly; the prepared URL (and where it connects) is cached for a URL and flat params.
        """
        session = self.session
        options = call.options
        try:
            p = requests.PreparedRequest()
            p.prepare_method(call.method)
            self._prepare_url(p, call, url, _merge(call.params or {}, session.params))
            p.prepare_headers(_merged_headers(session.headers, call.headers))
            jar = session.cookies
            cookies = options.cookies
            if cookies or len(jar):
                merged = merge_cookies(RequestsCookieJar(), jar)
                if cookies:  # as requests does: a jar of its own first, so the call's cookies replace the session's
                    merged = merge_cookies(merged, _cookies.cookiejar_from_dict(cookies))  # type: ignore[no-untyped-call]
                p.prepare_cookies(merged)
            else:
                p._cookies = RequestsCookieJar()  # type: ignore[attr-defined]
            p.prepare_body(call.data or {}, call.files, call.json)
            auth = options.auth
            if session.trust_env and not auth and not session.auth:
                auth = self._env.netrc_auth(url)
            p.prepare_auth(auth if auth is not None else session.auth, url)
            p.prepare_hooks(session.hooks)
        except MyClientError:
            raise
        except (requests.RequestException, ValueError, TypeError, LookupError, OSError) as exc:
            mapped = map_transport_error(exc, call.method, url)
            failure = mapped if isinstance(mapped, UsageError) else UsageError(
                f"invalid request for {call.method} {registry.url(url)}: {mapped.cause}", method=call.method, url=url)
        else:
            return p
        raise failure

    def _prepare_url(self, p: requests.PreparedRequest, call: Call, url: str, params: Any) -> None:
        """``p.prepare_url`` (cached), refusing a URL that would connect elsewhere than it reads."""
        key = _params_key(url, params)
        cached = self._urls.get(key) if key is not None else None
        if cached is None:
            p.prepare_url(url, params)
            prepared = p.url or ""
            expected = _urls.origin_of(url)
            if expected is None or _urls.connected_origin(prepared) != expected:
                raise CrossOriginError(f"refusing {call.method} {registry.url(url)}: the URL's authority is read "
                                       "differently by the parsers (it would connect elsewhere)",
                                       method=call.method, url=url)
            if key is not None:
                if len(self._urls) >= _CACHE_LIMIT:
                    self._urls.clear()
                self._urls[key] = prepared
        else:
            p.url = cached

    def _send_settings(self, url: str, options: Any) -> dict[str, Any]:
        """verify/cert/proxies for the adapter, with the documented precedence (the session beats the environment)."""
        session = self.session
        verify = options.verify
        if verify is None and session.verify is not True:
            verify = session.verify
        proxies: dict[str, str] = {}
        if options.proxies or session.proxies:
            proxies = {**session.proxies, **(options.proxies or {})}
        if session.trust_env:
            for key, value in self._env.environ_proxies(url, proxies.get("no_proxy")).items():
                proxies.setdefault(key, value)
            if verify is True or verify is None:
                verify = self._env.ca_bundle or verify
        return {
            "proxies": _merge(proxies, session.proxies),
            "verify": verify if verify is not None else session.verify,
            "cert": options.cert if options.cert is not None else session.cert,
        }

    def _send_prepared(
        self, call: Call, p: requests.PreparedRequest, exchange: Exchange, alarm: Alarm | None, *,
        settings: dict[str, Any] | None = None,
    ) -> requests.Response:
        """One request through the session's mounted adapter, without following redirects; logs one line."""
        url = p.url or ""
        session = self.session
        if settings is None:
            settings = self._send_settings(url, call.options)
        connect, read = call.options.timeout
        left = call.state.left()  # after prepare(): an auth flow may have spent time on a token request
        clipped = False
        if left is not None:
            if left <= 0:
                raise self._out_of_time(call, url)
            clipped = exchange.clipped = left < connect or left < read
            connect, read = min(connect, left), min(read, left)
        start = time.perf_counter()
        failure: MyClientError | None = None
        response: requests.Response | None = None
        try:
            adapter = session.get_adapter(url)
            timeout: Any = TrackingTimeout(connect, read, exchange) if isinstance(adapter, HTTPAdapter) else (
                connect, read)
            response = adapter.send(p, stream=True, timeout=timeout, **settings)
        except MyClientError:
            raise
        except (requests.RequestException, OSError, ValueError, TypeError, LookupError) as exc:
            if alarm is not None and alarm.fired:
                failure = self._out_of_time(call, url)
            elif exchange.cut_requested:
                failure = Cancelled(f"Cancelled: {call.method} {registry.url(url)}: the awaiting task was cancelled",
                                    method=call.method, url=url)
            elif isinstance(exc, (requests.RequestException, ConnectionError, TimeoutError)):
                failure = map_transport_error(exc, call.method, url, received=exchange.received,
                                              reused=exchange.reused)
                if clipped and isinstance(failure, Timeout):
                    failure = self._out_of_time(call, url)  # the timeout was the deadline's, cut to the time left
            else:  # raised before sending: a bad argument, or a local file (certificate, CA bundle) missing
                failure = UsageError(f"invalid request for {call.method} {registry.url(url)}: "
                                     f"{type(exc).__name__}: {registry.text(str(exc))}", method=call.method, url=url)
        if failure is not None or response is None:
            self._log(call, url, type(failure).__name__, start)
            raise failure or UsageError(f"the transport adapter returned nothing for {call.method}")
        response.elapsed = datetime.timedelta(seconds=time.perf_counter() - start)
        hooks = p.hooks.get("response")
        if hooks:
            response = _hooks.dispatch_hook(  # type: ignore[no-untyped-call]
                "response", p.hooks, response, stream=True, timeout=(connect, read), **settings)
        if header(response.headers, "set-cookie") is not None:
            _store_cookies(session.cookies, p, response)
            _register_cookies(response, received=True)
        elif p.headers is not None and header(p.headers, "cookie") is not None:
            _register_cookies(response, received=False)
        self._log(call, response.url or url, response.status_code, start)
        return response

    def _log(self, call: Call, url: str, outcome: object, start: float) -> None:
        if log.isEnabledFor(10):
            elapsed_ms = (time.perf_counter() - start) * 1000
            shown = registry.url(url)
            state = call.state
            base = state.base_url
            endpoint = shown[len(base):] if base and shown.startswith(base) else ""
            log.debug("%s %s -> %s in %.1f ms cid=%s", call.method, shown, outcome, elapsed_ms, state.cid,
                      extra=fields(cid=state.cid, baseurl=base, method=call.method, endpoint=endpoint, url=shown,
                                   status=outcome, elapsed_ms=round(elapsed_ms, 3)))

    # -- redirects ------------------------------------------------------------------------------
    def _follow(self, call: Call, response: requests.Response, exchange: Exchange,
                alarm: Alarm | None) -> requests.Response:
        """Follow redirects: with credentials on the call's origin; elsewhere only GET/HEAD, bare."""
        method = call.method
        current = call
        origin = _urls.origin_of(call.url)
        for _ in range(call.options.max_redirects):
            target = self._location(current, response)
            status = response.status_code
            response.close()
            if method in _TO_GET.get(status, ()):
                method = "GET"
                headers = {k: v for k, v in current.headers.items() if k.lower() not in _BODY_HEADERS}
                current = current.replace(method="GET", json=None, data=None, files=None, headers=headers,
                                          params=None)
            else:
                current = current.replace(params=None)
                if current.data is not None or current.files is not None or current.json is not None:
                    if not current.replayable:
                        raise RedirectError(f"RedirectError: {status} redirect for {method} "
                                            f"{registry.url(target)} needs the request body again, but it was a "
                                            "one-shot stream; send bytes or a seekable file", method=method,
                                            url=target)
                    if current.rewind is not None:
                        current.rewind()
            if _urls.connected_origin(target) == origin:
                response = self._send_prepared(current, self.prepare(current, target), exchange, alarm)
            else:
                response = self._send_elsewhere(current, method, target, exchange, alarm)
            if not response.is_redirect:
                return response
        response.close()
        raise TooManyRedirects(f"TooManyRedirects: more than {call.options.max_redirects} redirects for {method} "
                               f"{registry.url(response.url)}", method=method, url=response.url)

    def _location(self, call: Call, response: requests.Response) -> str:
        """The absolute URL a redirect points at; InvalidResponse when it is not a usable http(s) URL."""
        try:
            location = self.session.get_redirect_target(response)
            target = urljoin(response.url, location or "")
            if _urls.ambiguous(target):
                response.close()
                raise CrossOriginError(f"{response.status_code} response to {call.method} "
                                       f"{registry.url(response.url)} redirects to a URL whose authority the URL "
                                       "parsers read differently; not followed", method=call.method, url=response.url)
            if _urls.origin_of(target) is None or _urls.connected_origin(
                    requests.Request("GET", target).prepare().url or "") is None:
                raise ValueError("not an http(s) URL with a valid host")
            if "@" in _urls.authority(target):
                raise ValueError("a redirect must not carry credentials in its URL")
        except (ValueError, UnicodeError, requests.RequestException) as exc:
            if isinstance(exc, MyClientError):
                raise
            response.close()
            raise InvalidResponse(f"{response.status_code} response to {call.method} {registry.url(response.url)} "
                                  f"redirects to an invalid URL: {type(exc).__name__}", method=call.method,
                                  url=response.url, status=response.status_code) from None
        return target

    def _send_elsewhere(self, call: Call, method: str, url: str, exchange: Exchange,
                        alarm: Alarm | None) -> requests.Response:
        """A credential-free GET/HEAD to another origin (redirect target)."""
        if method not in ("GET", "HEAD"):
            raise CrossOriginError(f"redirected to another origin ({registry.url(url)}); not re-sending a {method} "
                                   "there", method=method, url=url)
        prepared = requests.Request(method, url, headers=default_headers()).prepare()
        settings = self._send_settings(url, call.options)
        settings["cert"] = None
        bare = call.replace(method=method, headers={}, json=None, data=None, files=None, params=None)
        return self._send_prepared(bare, prepared, exchange, alarm, settings=settings)

    # -- the body ---------------------------------------------------------------------------------
    def _read_body(self, call: Call, response: requests.Response, exchange: Exchange, alarm: Alarm | None) -> None:
        """Read the body into ``response.content`` within the deadline and the size cap.

        An error answer that will be raised is read only as far as its excerpt needs (the rest is
        never downloaded); HEAD, 204 and 304 have no body.
        """
        status = response.status_code
        options = call.options
        if call.method == "HEAD" or status in (204, 304):
            # http.client knows these have no body; reading it (0 bytes) closes the response, so the
            # connection goes back to the pool clean. Released unread, the next request on it would
            # fail with ResponseNotReady.
            try:
                response.raw.read()
            except Exception:  # noqa: BLE001 - a broken connection is simply not reused
                response.raw.close()
            response._content = b""
            response._content_consumed = True  # type: ignore[attr-defined]
            response.close()
            return
        failing = status >= 400 and options.raise_on_error and status not in options.ok_statuses
        limit = ERROR_READ_BYTES if failing else options.max_body_size
        chunks: list[bytes] = []
        size = 0
        truncated = False
        failure: MyClientError | None = None
        try:
            for chunk in _stream(response.raw):
                size += len(chunk)
                chunks.append(chunk)
                if limit is not None and size > limit:
                    truncated = True
                    break
        except MyClientError:
            raise
        except Exception as exc:  # noqa: BLE001 - whatever the body stream raised is mapped below
            if alarm is not None and alarm.fired:
                failure = self._out_of_time(call, response.url)
            else:
                failure = map_transport_error(exc, call.method, response.url, received=exchange.received,
                                              in_body=True, reused=exchange.reused)
        late = alarm is not None and alarm.fired
        if (failure is None and late) or (isinstance(failure, Timeout) and exchange.clipped):
            failure = self._out_of_time(call, response.url)
        if failure is not None:
            response.close()
            raise failure
        content = b"".join(chunks)
        if truncated:
            response.close()
            if not failing:
                raise InvalidResponse(f"{status} response to {call.method} {registry.url(response.url)} is larger "
                                      f"than max_body_size ({limit} bytes); stream it or raise the limit",
                                      method=call.method, url=response.url, status=status)
            response.myclient_truncated = True  # type: ignore[attr-defined]
            content = content[:ERROR_READ_BYTES]
        response._content = content
        response._content_consumed = True  # type: ignore[attr-defined]

    @staticmethod
    def _out_of_time(call: Call, url: str) -> DeadlineExceeded:
        limit = call.state.limit
        return DeadlineExceeded(f"DeadlineExceeded: {call.method} {registry.url(url)}: the call did not finish "
                                f"within its {limit or 0:g}s deadline", method=call.method, url=url)


def _merge(request: Any, session: Any) -> Any:
    """What ``requests.sessions.merge_setting`` gives for a per-request setting over the session's.

    The request's value when the session has none (None) or either is not a mapping; else the session's
    items updated by the request's, without the None-valued ones. (Equal to requests' result; computed
    without its per-item protocol checks, which cost more than the rest of a call.)
    """
    if request is None:
        request = {}
    if session is None or not isinstance(request, Mapping) or not isinstance(session, Mapping):
        return request
    if not session:
        if all(v is not None for v in request.values()):
            return request
        return {k: v for k, v in request.items() if v is not None}
    merged = {**session, **request}
    return {k: v for k, v in merged.items() if v is not None}


def _merged_headers(session: Mapping[str, Any], call: Mapping[str, Any]) -> CaseInsensitiveDict[Any]:
    """The session's headers updated by the call's (case-insensitively, in requests' order); None removes.

    As ``merge_setting`` does, a None-valued header is dropped wherever it comes from: the call's
    (removing the session's) or the session's own (``session.headers["Accept-Encoding"] = None``).
    Built on the dict's store directly (what ``__setitem__`` does, without a method call per header).
    """
    merged: CaseInsensitiveDict[Any] = CaseInsensitiveDict()
    store: dict[str, tuple[str, Any]] = merged._store  # type: ignore[attr-defined]  # lower name -> (name, value)
    if type(session) is CaseInsensitiveDict:
        store.update(session._store)  # type: ignore[attr-defined]
    else:
        merged.update(session)
    for name, value in call.items():
        store[name.lower()] = (name, value)
    for _, value in store.values():
        if value is None:
            for key in [key for key, (_, v) in store.items() if v is None]:
                del store[key]
            break
    return merged


def _params_key(url: str, params: Any) -> tuple[Any, ...] | None:
    """A cache key for (url, params) when params are flat scalars (else None: not cached)."""
    if not params:
        return (url,)
    if isinstance(params, Mapping):
        items = tuple(params.items())
        if all(isinstance(k, str) and type(v) in (str, int) for k, v in items):
            return (url, items)
    return None


def merge_cookies(jar: Any, cookies: Any) -> Any:
    """Requests' own cookie merge."""
    return _cookies.merge_cookies(jar, cookies)  # type: ignore[no-untyped-call]


def _stream(raw: Any) -> Any:
    """Decoded body chunks from a urllib3 response (or any file-like ``raw`` a custom adapter gives)."""
    if hasattr(raw, "stream"):
        yield from raw.stream(_READ_CHUNK, decode_content=True)
        return
    while True:
        chunk = raw.read(_READ_CHUNK)
        if not chunk:
            return
        yield chunk


def _register_cookies(response: requests.Response, *, received: bool) -> None:
    """Let the redaction registry learn cookie values sent and received (no log, error or cassette shows them).

    ``learn`` keeps only values that look like secrets (a cookie set to ``not found`` or
    ``127.0.0.1`` must not blank those words everywhere) in a bounded pool at a constant cost per
    value, so a server that sets a new cookie on every response does not slow later calls down.
    """
    request = response.request
    sent = request.headers.get("Cookie") if request is not None else None
    if sent:
        for pair in sent.split(";"):
            registry.learn(pair.partition("=")[2])
    if received:
        for cookie in response.cookies:
            registry.learn(cookie.value)


def _store_cookies(jar: RequestsCookieJar, p: requests.PreparedRequest, response: requests.Response) -> None:
    """Put the cookies ``response`` sets into ``jar``, except over ones that changed since ``p`` was sent.

    A late answer to a request made with an old session (say, from before another thread logged in
    again) may expire or replace the session cookie; requests would apply it and lose the new session.
    A cookie whose value in the jar is no longer the one this request carried was set by a newer
    answer, and it is kept.
    """
    sent: dict[str, str] = {}
    for pair in (header(p.headers, "cookie") or "").split(";"):
        name, _, value = pair.strip().partition("=")
        if name:
            sent[name] = value
    newer = [c for c in jar if c.name in sent and c.value != sent[c.name]]
    _cookies.extract_cookies_to_jar(jar, p, response.raw)  # type: ignore[no-untyped-call]
    for cookie in newer:
        if jar.get(cookie.name, domain=cookie.domain, path=cookie.path) != cookie.value:
            jar.set_cookie(cookie)

