"""Adapter: the one choke point every call goes through, on top of a user-suppliable requests.Session.

It resolves paths under the base URL, applies auth/headers/timeouts per request, follows redirects
without leaking credentials, logs one redacted line per request and maps failures to MyClientError.
It never writes to the session it was given.
"""

from __future__ import annotations

import logging
import math
import random as _random
import time
import uuid
import warnings
from collections.abc import Callable, Mapping
from typing import Any, Union

import requests
from requests.auth import AuthBase
from requests.utils import default_headers

from . import _urls
from ._deadline import body_rewinder, read_body
from .exceptions import (
    Attempt,
    CrossOriginError,
    DeadlineExceeded,
    InvalidResponse,
    MyClientError,
    ProxyError,
    TooManyRedirects,
    TransportError,
    UsageError,
    from_response,
    from_transport_error,
    parse_retry_after,
)
from .redaction import registry
from .retry import Decision, RetryPolicy

__all__ = ["Adapter", "RawAdapter", "JSONAdapter", "DEFAULT_TIMEOUT", "TimeoutSpec"]

log = logging.getLogger("myclient")

#: (connect, read) seconds used when neither the client nor the call says otherwise.
DEFAULT_TIMEOUT = (10.0, 30.0)
#: A timeout: seconds for both phases, or (connect, read).
TimeoutSpec = Union[float, "tuple[float, float]"]

_MISSING: Any = object()
_REDIRECT_TO_GET = {301: ("POST",), 302: ("POST",), 303: ("POST", "PUT", "PATCH", "DELETE", "OPTIONS")}


def check_timeout(timeout: Any) -> float | tuple[float, float]:
    """Validate a timeout: a positive finite number or a (connect, read) pair of them."""
    values = timeout if isinstance(timeout, tuple) else (timeout,)
    if len(values) not in (1, 2) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v < math.inf for v in values
    ):
        raise UsageError(
            f"timeout must be a positive finite number or a (connect, read) pair, got {timeout!r}"
        )
    return timeout  # type: ignore[no-any-return]


def clip_timeout(timeout: float | tuple[float, float], left: float) -> float | tuple[float, float]:
    """The attempt's timeout with each phase cut to the time left of the call's deadline."""
    if isinstance(timeout, tuple):
        return (min(timeout[0], left), min(timeout[1], left))
    return min(timeout, left)


def check_deadline(deadline: Any) -> float | None:
    """Validate a deadline: None (none) or a positive finite number of seconds."""
    if deadline is None:
        return None
    if isinstance(deadline, bool) or not isinstance(deadline, (int, float)) or not 0 < deadline < math.inf:
        raise UsageError(f"deadline must be None or a positive finite number of seconds, got {deadline!r}")
    return float(deadline)


def check_retry(retry: Any) -> RetryPolicy:
    """Validate a retry setting: a RetryPolicy, or None for no retries."""
    if retry is None:
        return _NO_RETRY
    if not isinstance(retry, RetryPolicy):
        raise UsageError(f"retry must be a RetryPolicy or None, got {type(retry).__name__}")
    return retry


_NO_RETRY = RetryPolicy.off()


def _needs_reauth(response: requests.Response) -> bool:
    """401, or a 403 whose WWW-Authenticate says the token is invalid (RFC 6750 §3.1)."""
    status = response.status_code
    if status == 401:
        return True
    return status == 403 and "invalid_token" in response.headers.get("www-authenticate", "")


def _sleep(seconds: float) -> None:
    time.sleep(seconds)  # looked up per call, so tests can replace time.sleep


class _UrlOnly:
    """The one attribute requests needs to pick a connection pool for a URL."""

    __slots__ = ("url",)

    def __init__(self, url: str) -> None:
        self.url = url


class Adapter:
    """Sends requests for one base URL through one ``requests.Session`` and raises MyClientError.

    The session is used exactly as given: nothing is mounted on it and none of its headers,
    cookies, verify, cert or proxies is written. The adapter's own headers, auth and timeout
    travel per request. ``verify``/``cert``/``proxies`` given here travel per request only when
    given; a session's own non-default ``verify`` and ``proxies`` are passed explicitly so that
    ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``/proxy environment variables cannot override them.

    ``request()`` returns the ``requests.Response``; subclasses decide what a call returns by
    overriding ``_result``.
    """

    def __init__(
        self,
        base_url: str,
        *,
        session: requests.Session | None = None,
        auth: AuthBase | None = None,
        timeout: TimeoutSpec = DEFAULT_TIMEOUT,
        verify: bool | str | None = None,
        cert: str | tuple[str, str] | None = None,
        proxies: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        cid: str | None = None,
        cid_header: str | None = "X-Correlation-ID",
        max_redirects: int = 10,
        retry: RetryPolicy | None = RetryPolicy(),  # noqa: B008 - immutable value
        deadline: float | None = None,
        idempotency_key: bool = False,
        idempotency_header: str | None = "Idempotency-Key",
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        random: Callable[[], float] | None = None,
    ) -> None:
        self.base_url = _urls.check_base_url(base_url)
        self._origin = _urls.origin_of(self.base_url)
        if session is not None and not isinstance(session, requests.Session):
            raise UsageError(f"session must be a requests.Session, got {type(session).__name__}")
        if auth is not None and not callable(auth):
            raise UsageError("auth must be a requests.auth.AuthBase (or any callable taking a request)")
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()
        self.auth = auth
        self.timeout = check_timeout(timeout)
        self.verify = verify
        self.cert = cert
        self.proxies = dict(proxies) if proxies else None
        self.cid = cid or uuid.uuid4().hex
        self.cid_header = cid_header
        self.max_redirects = max_redirects
        self.headers: dict[str, str] = dict(headers or {})
        if cid_header:
            self.headers.setdefault(cid_header, self.cid)
        self.retry = check_retry(retry)
        self.deadline = check_deadline(deadline)
        self.idempotency_key = bool(idempotency_key)
        self.idempotency_header = idempotency_header
        self._keyed_by_default = bool(idempotency_header) and any(
            k.lower() == idempotency_header.lower() for k in self.headers  # type: ignore[union-attr]
        )
        #: Injectable for tests: how to wait, what time it is (monotonic), and jitter in [0, 1).
        self.sleep: Callable[[float], None] = sleep or _sleep
        self.clock: Callable[[], float] = clock or time.monotonic
        self.random: Callable[[], float] = random or _random.random
        if session is not None:
            self._warn_about_session_retries()

    def _warn_about_session_retries(self) -> None:
        """Warn when the injected session retries on its own, so attempts would multiply silently."""
        transport = self._session.get_adapter(self.base_url)
        retries = getattr(transport, "max_retries", None)
        if retries is None or self.retry.attempts <= 1:
            return
        counts = [getattr(retries, name, 0) for name in ("total", "connect", "read", "status", "other")]
        if any(isinstance(c, int) and not isinstance(c, bool) and c > 0 for c in counts):
            warnings.warn(
                f"the injected session already retries requests to {self.base_url} (max_retries="
                f"{retries!r}); with myclient's RetryPolicy too, attempts multiply. Pass retry=None "
                "to rely on the session's retries, or mount an HTTPAdapter without max_retries.",
                RuntimeWarning,
                stacklevel=4,
            )

    # -- public surface ---------------------------------------------------------------------
    @property
    def session(self) -> requests.Session:
        """The session requests go through (the user's, when one was injected)."""
        return self._session

    @property
    def owns_session(self) -> bool:
        """True when this adapter created its session and so closes it in ``close()``."""
        return self._owns_session

    def close(self) -> None:
        """Close the session if this adapter created it; an injected session is left open."""
        if self._owns_session:
            self._session.close()

    def url(self, path: str) -> str:
        """The absolute URL for ``path`` (refuses another origin with CrossOriginError)."""
        return _urls.join(self.base_url, self._origin, path)  # type: ignore[arg-type]

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        data: Any = None,
        files: Any = None,
        headers: Mapping[str, str | None] | None = None,
        timeout: TimeoutSpec | None = None,
        raise_on_error: bool = True,
        stream: bool = False,
        retry: RetryPolicy | None = _MISSING,
        deadline: float | None = _MISSING,
        idempotency_key: bool | str | None = None,
        **requests_kwargs: Any,
    ) -> Any:
        """Send one call, retrying as the policy allows, and return what this adapter returns.

        Raises an HTTPError subclass for 4xx/5xx (unless ``raise_on_error=False``), a
        TransportError subclass when no response arrived, and UsageError/CrossOriginError for a
        call that must not be sent; the exception's ``attempts`` lists every try. ``retry``,
        ``deadline`` (seconds for the whole call: attempts, waits and body) and
        ``idempotency_key`` (True: one generated key for all attempts; a string: used as is)
        override the client's defaults. Extra keyword arguments go to ``requests`` unchanged
        (``allow_redirects``, ``cookies``, and per-call ``auth``, ``verify``, ``cert``, ``proxies``).
        """
        method = method.upper()
        response = self._call(
            method, self.url(path), self.headers, params=params, json=json, data=data, files=files,
            headers=headers, timeout=timeout, raise_on_error=raise_on_error, stream=stream, retry=retry,
            deadline=deadline, idempotency_key=idempotency_key, **requests_kwargs,
        )
        return self._result(response, method)

    def request_raw(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Like ``request()`` but always returns the ``requests.Response``, whatever the adapter.

        For streaming downloads and pagination, which need headers and the body stream; errors
        raise exactly as in ``request()``. Close the response (or use it as a context manager).
        """
        return self._call(method.upper(), self.url(path), self.headers, **kwargs)

    def request_url(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """Like ``request()`` for an absolute URL on any origin, returning the ``requests.Response``.

        For endpoints outside the API, such as an OAuth2 token or revocation endpoint on another
        host: the session (its gateway headers, certificates, proxies, CA), timeouts, retries and
        logging apply, but neither the adapter's auth nor its extra headers are sent — only the
        correlation id and what ``headers=`` gives. Pass ``auth=`` to authenticate.
        """
        if _urls.origin_of(url) is None:
            raise UsageError(f"request_url needs an absolute http(s) URL, got {registry.url(str(url))!r}")
        kwargs.setdefault("auth", None)
        base = {self.cid_header: self.cid} if self.cid_header else {}
        return self._call(method.upper(), url, base, **kwargs)

    def _call(
        self,
        method: str,
        url: str,
        base_headers: Mapping[str, str],
        *,
        params: Any = None,
        json: Any = None,
        data: Any = None,
        files: Any = None,
        headers: Mapping[str, str | None] | None = None,
        timeout: TimeoutSpec | None = None,
        raise_on_error: bool = True,
        stream: bool = False,
        retry: RetryPolicy | None = _MISSING,
        deadline: float | None = _MISSING,
        idempotency_key: bool | str | None = None,
        **requests_kwargs: Any,
    ) -> requests.Response:
        """The attempt loop behind request() and request_url(): returns the final response."""
        policy = self.retry if retry is _MISSING else check_retry(retry)
        limit = self.deadline if deadline is _MISSING else check_deadline(deadline)
        send_headers, keyed = self._headers_for(method, base_headers, headers, idempotency_key)
        kwargs = self._settings(requests_kwargs)
        allow_redirects = kwargs.pop("allow_redirects", True)
        base_timeout = self.timeout if timeout is None else check_timeout(timeout)
        call = {"params": params, "json": json, "data": data, "files": files, "headers": send_headers,
                "stream": stream or limit is not None, **kwargs}
        retrying = policy.attempts > 1
        reauth = getattr(kwargs["auth"], "handle_unauthorized", None)
        replayable, rewind = body_rewinder(data, files) if retrying or reauth else (True, None)
        watch_reuse = retrying and not policy.is_safe(method, keyed)
        clock = self.clock
        started = clock()
        history: list[Attempt] = []
        attempt = 0
        while True:
            attempt += 1
            if limit is not None:
                left = limit - (clock() - started)
                if left <= 0:
                    raise self._deadline_error(method, url, limit, history)
                call["timeout"] = clip_timeout(base_timeout, left)
            else:
                call["timeout"] = base_timeout
            if rewind is not None and len(history):
                rewind()
            opened = self._connections_opened(url, kwargs) if watch_reuse else None
            began = clock()
            try:
                response = self._exchange(method, url, allow_redirects, call, stream, limit, started)
            except TransportError as failure:
                reused = opened is not None and self._connections_opened(url, kwargs) == opened
                decision = policy.decide(
                    attempt=attempt, method=method, keyed=keyed, error=failure, reused=reused,
                    replayable=replayable, time_left=self._left(limit, started), random=self.random(),
                )
                history.append(Attempt(error=failure, elapsed=clock() - began,
                                       slept=decision.delay if decision.retry else 0.0))
                if not decision.retry:
                    failure.attempts = history
                    raise
                self._pause(method, url, attempt, decision)
                continue
            status = response.status_code
            if reauth is not None and replayable and _needs_reauth(response) and reauth(response):
                # Re-authenticated: replay once with the new credentials (not a retry attempt).
                history.append(Attempt(status=status, elapsed=clock() - began))
                response.close()
                reauth = None
                attempt -= 1
                continue
            if status in policy.statuses and attempt < policy.attempts:
                decision = policy.decide(
                    attempt=attempt, method=method, keyed=keyed, status=status,
                    retry_after=parse_retry_after(response.headers.get("retry-after")),
                    replayable=replayable, time_left=self._left(limit, started), random=self.random(),
                )
                if decision.retry:
                    history.append(Attempt(status=status, elapsed=clock() - began, slept=decision.delay))
                    response.close()
                    self._pause(method, url, attempt, decision)
                    continue
            break
        if status == 407:
            response.close()
            refused = ProxyError(f"ProxyError: {method} {registry.url(url)}: the proxy requires "
                                 "authentication (407)", method=method, url=url)
            history.append(Attempt(status=status, elapsed=clock() - began))
            refused.attempts = history
            raise refused
        if raise_on_error and status >= 400:
            try:
                error = from_response(response, method)
            finally:
                response.close()
            history.append(Attempt(status=status, elapsed=clock() - began))
            error.attempts = history
            raise error
        return response

    def get(self, path: str, **kwargs: Any) -> Any:
        """GET ``path``; see ``request``."""
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        """POST ``path``; see ``request``."""
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Any:
        """PUT ``path``; see ``request``."""
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Any:
        """PATCH ``path``; see ``request``."""
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        """DELETE ``path``; see ``request``."""
        return self.request("DELETE", path, **kwargs)

    def head(self, path: str, **kwargs: Any) -> Any:
        """HEAD ``path``; see ``request``."""
        return self.request("HEAD", path, **kwargs)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} base_url={registry.url(self.base_url)!r} cid={self.cid!r}>"

    # -- what a call returns ----------------------------------------------------------------
    def _result(self, response: requests.Response, method: str) -> Any:
        """Turn a successful (or tolerated) response into the call's return value."""
        return response

    # -- sending ----------------------------------------------------------------------------
    def _settings(self, overrides: dict[str, Any]) -> dict[str, Any]:
        """Per-request auth/verify/cert/proxies: the call's, else the adapter's, else the session's.

        A session's non-default verify and its proxies are passed explicitly (a fresh dict each
        time, since requests adds environment proxies into the dict it is given) so environment
        variables never override what the user set on the session (psf/requests#3829).
        """
        kwargs = overrides
        if "auth" not in kwargs:
            kwargs["auth"] = self.auth
        if "verify" not in kwargs:
            if self.verify is not None:
                kwargs["verify"] = self.verify
            elif self._session.verify is not True:
                kwargs["verify"] = self._session.verify
        if "cert" not in kwargs and self.cert is not None:
            kwargs["cert"] = self.cert
        if "proxies" in kwargs:
            kwargs["proxies"] = {**self._session.proxies, **(self.proxies or {}), **kwargs["proxies"]}
        elif self.proxies or self._session.proxies:
            kwargs["proxies"] = {**self._session.proxies, **(self.proxies or {})}
        return kwargs

    def _headers_for(
        self,
        method: str,
        base: Mapping[str, str],
        headers: Mapping[str, str | None] | None,
        key: bool | str | None,
    ) -> tuple[Mapping[str, Any], bool]:
        """The headers for one call and whether it carries an idempotency key.

        A generated key is made here, once per call, so every attempt sends the same one.
        """
        if key is None:
            key = self.idempotency_key and method in ("POST", "PATCH")
        if key is True:
            key = str(uuid.uuid4())
        elif key is False:
            key = None
        elif not isinstance(key, str) or not key:
            raise UsageError(f"idempotency_key must be True, False, None or a non-empty string, got {key!r}")
        if not headers and key is None and base is self.headers:
            return base, self._keyed_by_default
        merged: dict[str, Any] = dict(base)
        if headers:
            merged.update(headers)
        name = self.idempotency_header
        if key is not None:
            if not name:
                raise UsageError("idempotency_key given but the client's idempotency_header is None")
            for existing in [k for k in merged if k.lower() == name.lower()]:
                del merged[existing]
            merged[name] = key
            return merged, True
        keyed = name is not None and any(k.lower() == name.lower() and v for k, v in merged.items())
        return merged, keyed

    def _exchange(
        self, method: str, url: str, allow_redirects: bool, call: dict[str, Any], stream: bool,
        limit: float | None, started: float,
    ) -> requests.Response:
        """One attempt: send, follow redirects, and (under a deadline) read the body in time."""
        response = self._send(method, url, **call)
        if allow_redirects and response.is_redirect:
            follow = dict(call)
            del follow["params"]
            response = self._follow_redirects(response, method, **follow)
        if limit is not None and not stream:
            try:
                complete = read_body(response, limit - (self.clock() - started))
            except requests.RequestException as exc:
                raise from_transport_error(exc, method, response.url) from exc
            if not complete:
                raise DeadlineExceeded(
                    f"DeadlineExceeded: {method} {registry.url(response.url)}: the body did not arrive "
                    f"within the {limit:g}s deadline",
                    method=method,
                    url=response.url,
                )
        return response

    def _left(self, limit: float | None, started: float) -> float | None:
        return None if limit is None else limit - (self.clock() - started)

    def _deadline_error(self, method: str, url: str, limit: float, history: list[Attempt]) -> MyClientError:
        """The error for a deadline that ran out between attempts: the real last error if any."""
        last = history[-1].error if history else None
        if isinstance(last, MyClientError):
            last.attempts = history
            return last
        error = DeadlineExceeded(
            f"DeadlineExceeded: {method} {registry.url(url)}: no time left of the {limit:g}s deadline",
            method=method, url=url,
        )
        error.attempts = history
        return error

    def _pause(self, method: str, url: str, attempt: int, decision: Decision) -> None:
        """Wait before the next attempt (the seam where retry hooks are called)."""
        if log.isEnabledFor(logging.DEBUG):
            log.debug("retrying %s %s after %.2fs (attempt %d: %s) cid=%s", method, registry.url(url),
                      decision.delay, attempt, decision.reason, self.cid)
        if decision.delay > 0:
            self.sleep(decision.delay)

    def _connections_opened(self, url: str, kwargs: Mapping[str, Any]) -> int | None:
        """How many connections the session's pool for ``url`` has opened so far (None: unknown).

        Compared before and after a failed attempt, an unchanged count proves the attempt ran on
        a reused keep-alive connection.
        """
        try:
            transport = self._session.get_adapter(url)
            settings = self._session.merge_environment_settings(
                url, dict(kwargs.get("proxies") or {}), False, kwargs.get("verify"), kwargs.get("cert")
            )
            pool = transport.get_connection_with_tls_context(  # type: ignore[attr-defined]
                _UrlOnly(url), settings["verify"], settings["proxies"], settings["cert"]
            )
            return int(pool.num_connections)
        except Exception:  # noqa: BLE001 - a custom transport may not have pools; then we do not know
            return None

    def _send(
        self, method: str, url: str, prepared: requests.PreparedRequest | None = None, **kwargs: Any
    ) -> requests.Response:
        """One HTTP exchange through the session, without following redirects; logs one line.

        ``prepared`` sends a ready request as is (no session headers, cookies or auth merged).
        """
        start = time.perf_counter()
        try:
            if prepared is None:
                response = self._session.request(method, url, allow_redirects=False, **kwargs)
            else:
                response = self._session.send(prepared, allow_redirects=False, **kwargs)
        except requests.RequestException as exc:
            sent_url = getattr(exc.request, "url", None) or url
            error = from_transport_error(exc, method, sent_url)
            self._log(method, sent_url, type(error).__name__, start)
            raise error from exc
        except (ValueError, TypeError, OSError) as exc:
            # Raised before anything was sent: a bad argument, or a local file (certificate, CA
            # bundle, body) that cannot be read.
            if isinstance(exc, MyClientError):
                raise
            raise UsageError(f"invalid request for {method} {registry.url(url)}: {exc}") from exc
        self._log(method, response.url, response.status_code, start)
        return response

    def _log(self, method: str, url: str, outcome: object, start: float) -> None:
        if log.isEnabledFor(logging.DEBUG):
            elapsed_ms = (time.perf_counter() - start) * 1000
            log.debug(
                "%s %s -> %s in %.1f ms cid=%s",
                method, registry.url(url), outcome, elapsed_ms, self.cid,
                extra={"myclient_method": method, "myclient_status": outcome,
                       "myclient_elapsed_ms": elapsed_ms, "myclient_cid": self.cid},
            )

    def _follow_redirects(
        self, response: requests.Response, method: str, **kwargs: Any
    ) -> requests.Response:
        """Follow redirects ourselves so credentials can be kept to the client's own origin.

        Same origin: re-sent with auth and headers (303, and 301/302 after POST, become GET
        without a body). Another origin: only GET/HEAD are followed, as a bare request with no
        auth, no client or session headers and no client certificate.
        """
        for _ in range(self.max_redirects):
            location = self._session.get_redirect_target(response)
            if location is None:
                return response
            target = requests.compat.urljoin(response.url, location)
            status = response.status_code
            if method in _REDIRECT_TO_GET.get(status, ()):
                method = "GET"
                kwargs.update(json=None, data=None, files=None)
            response.close()
            if _urls.origin_of(target) == self._origin:
                response = self._send(method, target, **kwargs)
            else:
                response = self._send_elsewhere(method, target, kwargs)
            if not response.is_redirect:
                return response
        response.close()
        raise TooManyRedirects(
            f"TooManyRedirects: more than {self.max_redirects} redirects for {method} "
            f"{registry.url(response.url)}",
            method=method,
            url=response.url,
        )

    def _send_elsewhere(self, method: str, url: str, kwargs: dict[str, Any]) -> requests.Response:
        """A credential-free request to another origin (redirect target)."""
        if method not in ("GET", "HEAD"):
            raise CrossOriginError(
                f"redirected to another origin ({registry.url(url)}); not re-sending a {method} there",
                method=method,
                url=url,
            )
        if _urls.origin_of(url) is None:
            raise UsageError(f"redirect to an unsupported URL: {registry.url(url)}", method=method, url=url)
        prepared = requests.Request(method, url, headers=default_headers()).prepare()
        proxies = kwargs.get("proxies")
        settings = self._session.merge_environment_settings(
            url, dict(proxies) if proxies else {}, kwargs["stream"], kwargs.get("verify"), None
        )
        settings["cert"] = None
        return self._send(method, url, prepared, timeout=kwargs["timeout"], **settings)


class RawAdapter(Adapter):
    """Returns the ``requests.Response`` itself (errors still raise). Close it when streaming."""


class JSONAdapter(Adapter):
    """Returns decoded JSON; ``None`` for 204, HEAD or an empty body. Never returns a Response.

    A body that is not JSON raises InvalidResponse with the status and a redacted excerpt.
    """

    def _result(self, response: requests.Response, method: str) -> Any:
        if response.status_code == 204 or method == "HEAD":
            response.close()
            return None
        try:
            content = response.content
        except requests.RequestException as exc:
            raise from_transport_error(exc, method, response.url) from exc
        finally:
            response.close()
        if not content or content.isspace():
            return None
        try:
            return response.json()
        except ValueError as exc:
            ctype = response.headers.get("content-type", "no content type")
            raise InvalidResponse(
                f"{response.status_code} response to {method} {registry.url(response.url)} is not "
                f"JSON ({ctype}): {exc}",
                method=method,
                url=response.url,
                status=response.status_code,
                body=content[:4096].decode("utf-8", "replace"),
                response=response,
            ) from exc
