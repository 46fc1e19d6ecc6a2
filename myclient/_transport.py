"""One HTTP exchange for the adapter: send through the session, follow redirects, read a body in time.

It logs one redacted DEBUG line per request and maps requests' failures to the TransportError
branch; it never retries and never decides what a call returns (that is the adapter's loop).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any, Callable

import requests
from requests.utils import default_headers

from . import _urls
from ._deadline import read_body
from .exceptions import (
    CrossOriginError,
    DeadlineExceeded,
    MyClientError,
    TooManyRedirects,
    UsageError,
    from_transport_error,
)
from .redaction import registry

log = logging.getLogger("myclient")

_REDIRECT_TO_GET = {301: ("POST",), 302: ("POST",), 303: ("POST", "PUT", "PATCH", "DELETE", "OPTIONS")}


class _UrlOnly:
    """The one attribute requests needs to pick a connection pool for a URL."""

    __slots__ = ("url",)

    def __init__(self, url: str) -> None:
        self.url = url


def _register_cookies(response: requests.Response) -> None:
    """Let the redaction registry learn cookie values sent and received (no log, error or cassette shows them).

    ``learn`` keeps only values that look like secrets (a cookie set to ``not found`` or
    ``127.0.0.1`` must not blank those words everywhere) in a bounded pool at a constant cost per
    value, so a server that sets a new cookie on every response does not slow later calls down.
    """
    sent = response.request.headers.get("Cookie") if response.request is not None else None
    if sent:
        for pair in sent.split(";"):
            registry.learn(pair.partition("=")[2])
    for cookie in response.cookies:
        registry.learn(cookie.value)


class Transport:
    """The exchange half of the Adapter (a mixin: the Adapter provides the attributes below)."""

    _session: requests.Session
    _origin: _urls.Origin | None
    cid: str
    clock: Callable[[], float]
    max_redirects: int

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
        _register_cookies(response)
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
