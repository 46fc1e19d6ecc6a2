"""The attempt loop behind every call: retries, deadline, re-authentication on 401, and history.

It asks RetryPolicy.decide() what to do and sleeps through the injected ``sleep``; it does not
build URLs or headers (the adapter) nor talk to the session itself (the transport).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from typing import Any, Union

import requests

from ._context import call_deadline
from ._deadline import body_rewinder
from ._transport import Transport
from .exceptions import (
    Attempt,
    DeadlineExceeded,
    HTTPError,
    MyClientError,
    ProxyError,
    TransportError,
    UsageError,
    from_response,
    parse_retry_after,
    request_id_of,
)
from .hooks import Event, Hooks
from .redaction import registry
from .retry import Decision, RetryPolicy

log = logging.getLogger("myclient")
#: The optional one-line-per-call access log (INFO), switched on with ``access_log=True``.
access_log = logging.getLogger("myclient.access")

#: Marks an argument the caller did not give (None means "off" for retry and deadline).
_MISSING: Any = object()
#: A timeout: seconds for both phases, or (connect, read).
TimeoutSpec = Union[float, "tuple[float, float]"]


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


def _with_params(url: str, params: Any) -> str:
    prepared = requests.PreparedRequest()
    prepared.prepare_url(url, params)
    return prepared.url or url


def _needs_reauth(response: requests.Response) -> bool:
    """401, or a 403 whose WWW-Authenticate says the token is invalid (RFC 6750 §3.1)."""
    status = response.status_code
    if status == 401:
        return True
    return status == 403 and "invalid_token" in response.headers.get("www-authenticate", "")


class AttemptLoop(Transport):
    """The loop half of the Adapter (a mixin: the Adapter provides the attributes below)."""

    retry: RetryPolicy
    deadline: float | None
    timeout: float | tuple[float, float]
    sleep: Callable[[float], None]
    random: Callable[[], float]
    hooks: Hooks
    access_log: bool

    def _settings(self, overrides: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def _headers_for(
        self, method: str, base: Mapping[str, str], headers: Mapping[str, str | None] | None, key: bool | str | None
    ) -> tuple[Mapping[str, Any], bool]:
        raise NotImplementedError

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
        hooks = self.hooks
        observed = bool(hooks.on_request or hooks.on_response or hooks.on_retry or hooks.on_give_up)
        if params and (observed or self.access_log):
            url = _with_params(url, params)  # what hooks and the access log show; sending uses params
            call["params"] = None
        clock = self.clock
        started = clock()
        history: list[Attempt] = []
        attempt = 0
        reason = ""
        while True:
            attempt += 1
            if limit is not None:
                left = limit - (clock() - started)
                if left <= 0:
                    raise self._finish(self._deadline_error(method, url, limit, history), method, url, attempt,
                                       started, "the deadline ran out")
                call["timeout"] = clip_timeout(base_timeout, left)
            else:
                call["timeout"] = base_timeout
            if rewind is not None and len(history):
                rewind()
            opened = self._connections_opened(url, kwargs) if watch_reuse else None
            if observed and hooks.on_request:
                self._notify("on_request", method, url, attempt, 0.0, started)
            began = clock()
            try:
                with call_deadline(None if limit is None else lambda: limit - (clock() - started)):
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
                    raise self._finish(failure, method, url, attempt, started, decision.reason) from failure.__cause__
                self._pause(method, url, attempt, decision, clock() - began, started, error=failure)
                continue
            status = response.status_code
            if observed and hooks.on_response:
                self._notify("on_response", method, url, attempt, clock() - began, started, response=response)
            if (reauth is not None and replayable and _needs_reauth(response)
                    and self._reauthenticated(reauth, response)):
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
                    self._pause(method, url, attempt, decision, clock() - began, started, response=response)
                    continue
                reason = decision.reason
            break
        response.total_elapsed = clock() - started  # type: ignore[attr-defined]
        if status == 407:
            response.close()
            refused = ProxyError(f"ProxyError: {method} {registry.url(url)}: the proxy requires "
                                 "authentication (407)", method=method, url=url)
            history.append(Attempt(status=status, elapsed=clock() - began))
            refused.attempts = history
            raise self._finish(refused, method, url, attempt, started, "the proxy refused")
        if raise_on_error and status >= 400:
            try:
                error = from_response(response, method)
            finally:
                response.close()
            history.append(Attempt(status=status, elapsed=clock() - began))
            error.attempts = history
            if not reason:
                reason = f"status {status} is not retried" if status not in policy.statuses else "no attempts left"
            raise self._finish(error, method, url, attempt, started, reason)
        if self.access_log:
            self._access(method, url, status, attempt, started, response.headers)
        return response

    @staticmethod
    def _reauthenticated(reauth: Callable[[requests.Response], bool], response: requests.Response) -> bool:
        """Ask the auth to renew after a 401; the rejected response is closed if renewal fails."""
        try:
            return reauth(response)
        except BaseException:
            response.close()
            raise

    def _notify(self, name: str, method: str, url: str, attempt: int, elapsed: float, started: float, *,
                response: requests.Response | None = None, error: MyClientError | None = None,
                delay: float | None = None, reason: str | None = None) -> None:
        """Build the redacted Event and hand it to the hooks registered for ``name``."""
        status = request_id = None
        if response is not None:
            status = response.status_code
            request_id = request_id_of(response.headers)
        elif isinstance(error, HTTPError):
            status, request_id = error.status, error.request_id
        self.hooks.emit(name, Event(
            name=name, method=method, url=registry.url(url), attempt=attempt, elapsed=elapsed,
            total=self.clock() - started, cid=self.cid, status=status, request_id=request_id, error=error,
            delay=delay, reason=reason,
        ))

    def _finish(self, error: MyClientError, method: str, url: str, attempt: int, started: float,
                reason: str) -> MyClientError:
        """The call failed for good: tell on_give_up and the access log; returns ``error`` to raise."""
        if self.hooks.on_give_up:
            elapsed = error.attempts[-1].elapsed if error.attempts else 0.0
            self._notify("on_give_up", method, url, attempt, elapsed, started, error=error, reason=reason)
        if self.access_log:
            status = getattr(error, "status", None)
            self._access(method, url, status if isinstance(status, int) else type(error).__name__, attempt,
                         started, getattr(error, "headers", None) or {})
        return error

    def _access(self, method: str, url: str, outcome: object, attempts: int, started: float,
                headers: Mapping[str, str]) -> None:
        """One INFO line per call on ``myclient.access``: the outcome after all attempts."""
        if access_log.isEnabledFor(logging.INFO):
            request_id = request_id_of(headers) or "-"
            access_log.info("%s %s %s %.1fms attempts=%d rid=%s cid=%s", method, registry.url(url), outcome,
                            (self.clock() - started) * 1000, attempts, request_id, self.cid)

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

    def _pause(self, method: str, url: str, attempt: int, decision: Decision, elapsed: float, started: float,
               *, response: requests.Response | None = None, error: MyClientError | None = None) -> None:
        """Wait before the next attempt; logs the decision and calls the on_retry hooks first."""
        if log.isEnabledFor(logging.DEBUG):
            log.debug("retrying %s %s after %.2fs (attempt %d: %s) cid=%s", method, registry.url(url),
                      decision.delay, attempt, decision.reason, self.cid)
        if self.hooks.on_retry:
            self._notify("on_retry", method, url, attempt, elapsed, started, response=response, error=error,
                         delay=decision.delay, reason=decision.reason)
        if decision.delay > 0:
            self.sleep(decision.delay)
