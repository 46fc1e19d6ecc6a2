"""Adapter: the one choke point every call goes through, on top of a user-suppliable requests.Session.

It resolves paths under the base URL, applies auth/headers/timeouts per request, follows redirects
without leaking credentials, logs one redacted line per request and maps failures to MyClientError.
It never writes to the session it was given.
"""

from __future__ import annotations

import logging
import random as _random
import time
import uuid
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import requests
from requests.auth import AuthBase

from . import _urls
from ._attempts import _MISSING, AttemptLoop, TimeoutSpec, check_deadline, check_retry, check_timeout
from .exceptions import (
    InvalidResponse,
    UsageError,
    from_transport_error,
)
from .hooks import Hooks, HookSpec
from .redaction import registry
from .retry import RetryPolicy

__all__ = ["Adapter", "RawAdapter", "JSONAdapter", "DEFAULT_TIMEOUT", "TimeoutSpec"]

log = logging.getLogger("myclient")

#: (connect, read) seconds used when neither the client nor the call says otherwise.
DEFAULT_TIMEOUT = (10.0, 30.0)

#: Above zero while recorded interactions replay (myclient.testing.no_sleep): waits are skipped.
sleep_suspended = [0]


def _sleep(seconds: float) -> None:
    if sleep_suspended[0]:
        return
    time.sleep(seconds)  # looked up per call, so tests can replace time.sleep


class Adapter(AttemptLoop):
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
        hooks: Mapping[str, HookSpec] | None = None,
        access_log: bool = False,
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
        #: Observers of every request, response, retry and give-up (see myclient.hooks).
        self.hooks = Hooks(hooks)
        #: One INFO line per call on the ``myclient.access`` logger.
        self.access_log = access_log
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
