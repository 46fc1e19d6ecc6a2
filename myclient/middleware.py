"""The middleware chain between the adapter and the transport, and the built-in steps on it.

A middleware is any callable ``middleware(call, next) -> response``: it may change the call (a copy
made with ``call.replace``/``call.with_headers``) before handing it on, inspect the response that
comes back, or call ``next`` again to replay (a fresh token, a signature with a new timestamp). The
chain a call runs through, outermost first::

    Retry -> your middleware (``middleware=[...]``) -> Reauthenticate -> [rate limit] -> Observe -> transport

so your middleware runs once per attempt, sees every attempt's response before the retry decision,
and a replay it makes goes through auth renewal and the hooks like any other exchange. Retry holds
the attempt loop (the pure ``RetryPolicy.decide`` says what to do; the deadline bounds it all),
Reauthenticate renews credentials once on 401 and replays, Observe feeds the ``on_request`` and
``on_response`` hooks. Steps decide on facts (statuses, error attributes), never on message text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import requests

from . import _context
from ._log import fields, get_logger
from ._parse import parse_retry_after
from .calls import Call
from .exceptions import Attempt, DeadlineExceeded, HTTPError, MyClientError, TransportError, request_id_of
from .hooks import Event
from .redaction import registry
from .retry import Decision

if TYPE_CHECKING:
    from .settings import Settings

__all__ = ["Middleware", "Next", "Observe", "Reauthenticate", "Retry", "build_chain", "display_url", "needs_reauth"]

log = get_logger("myclient")

#: The rest of the chain: hand it a call, get the response back.
Next = Callable[[Call], requests.Response]


class Middleware(Protocol):
    """One step of the chain: ``middleware(call, next) -> response``."""

    def __call__(self, call: Call, next: Next, /) -> requests.Response:  # noqa: A002 - the protocol's word
        """Handle ``call``, usually by returning ``next(call)`` (or a variant of it)."""


def build_chain(steps: Sequence[Middleware], send: Next) -> Next:
    """Compose ``steps`` (outermost first) around ``send`` into one callable."""
    handler = send
    for step in reversed(steps):
        handler = _link(step, handler)
    return handler


def _link(step: Middleware, following: Next) -> Next:
    def handle(call: Call) -> requests.Response:
        return step(call, following)

    return handle


def display_url(call: Call) -> str:
    """The call's URL with its query parameters, redacted: what hooks and logs show (computed once per call)."""
    state = call.state
    if state.shown:
        return state.shown
    key = (call.url, tuple(call.params.items())) if isinstance(call.params, dict) else (
        (call.url, call.params) if isinstance(call.params, (str, type(None))) else None)
    generation = registry.generation
    try:
        cached = _SHOWN.get(key) if key is not None else None
    except TypeError:  # an unhashable parameter value: not cached
        key, cached = None, None
    if cached is not None and cached[0] == generation:
        state.shown = cached[1]
        return state.shown
    url = call.url
    if call.params:
        prepared = requests.PreparedRequest()
        try:
            prepared.prepare_url(call.url, call.params)
            url = prepared.url or call.url
        except (requests.RequestException, ValueError, TypeError, UnicodeError):
            url = call.url
    state.shown = registry.url(url)
    if key is not None:
        if len(_SHOWN) >= 512:
            _SHOWN.clear()
        _SHOWN[key] = (generation, state.shown)
    return state.shown


#: Redacted display URLs by (url, params), valid while the registry's generation is the same.
_SHOWN: dict[Any, tuple[int, str]] = {}


def needs_reauth(response: requests.Response) -> bool:
    """401, or a 403 whose WWW-Authenticate says the token is invalid (RFC 6750 §3.1)."""
    status = response.status_code
    if status == 401:
        return True
    return status == 403 and "invalid_token" in response.headers.get("www-authenticate", "")


def emit(settings: Settings, name: str, call: Call, elapsed: float, *, response: requests.Response | None = None,
         error: MyClientError | None = None, delay: float | None = None, reason: str | None = None) -> None:
    """Build the redacted Event and hand it to the hooks registered for ``name``."""
    status = request_id = None
    if response is not None:
        status = response.status_code
        request_id = request_id_of(response.headers)
    elif isinstance(error, HTTPError):
        status, request_id = error.status, error.request_id
    state = call.state
    settings.hooks.emit(name, Event(name, call.method, display_url(call), state.attempt, elapsed, state.elapsed(),
                                    settings.cid, status, request_id, error, delay, reason))


class Retry:
    """The attempt loop: retries as the call's RetryPolicy decides, within the call's deadline."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def __call__(self, call: Call, next: Next) -> requests.Response:  # noqa: A002
        state = call.state
        policy = call.options.retry
        clock = state.clock
        history = state.history
        while True:
            state.attempt += 1
            attempt = state.attempt
            if state.limit is not None and state.left() <= 0:  # type: ignore[operator]
                raise self._out_of_time(call)
            if attempt > 1:
                cancel = _context.cancellation.get()
                if cancel is not None and cancel.cancelled:
                    raise self._cancelled(call)
                if call.rewind is not None:
                    call.rewind()
            began = clock()
            token = None if state.limit is None else _context._LEFT.set(state.left)  # type: ignore[arg-type]
            try:
                response = next(call)
            except TransportError as failure:
                if token is not None:
                    _context._LEFT.reset(token)
                    token = None
                decision = policy.decide(attempt=attempt, method=call.method, keyed=call.keyed, error=failure,
                                         replayable=call.replayable, time_left=state.left(),
                                         random=self.settings.random())
                history.append(Attempt(error=failure, elapsed=clock() - began,
                                       slept=decision.delay if decision.retry else 0.0))
                if not decision.retry:
                    state.reason = decision.reason
                    failure.attempts = history
                    raise
                self._pause(call, decision, clock() - began, error=failure)
                continue
            finally:
                if token is not None:
                    _context._LEFT.reset(token)
            status = response.status_code
            if status in policy.statuses and status not in call.options.ok_statuses:
                decision = policy.decide(attempt=attempt, method=call.method, keyed=call.keyed, status=status,
                                         retry_after=parse_retry_after(response.headers.get("retry-after")),
                                         replayable=call.replayable, time_left=state.left(),
                                         random=self.settings.random())
                if decision.retry:
                    history.append(Attempt(status=status, elapsed=clock() - began, slept=decision.delay))
                    response.close()
                    self._pause(call, decision, clock() - began, response=response)
                    continue
                state.reason = decision.reason
            return response

    @staticmethod
    def _cancelled(call: Call) -> MyClientError:
        """The awaiting task was cancelled between attempts: no further attempt is made."""
        from .exceptions import Cancelled

        error = Cancelled(f"Cancelled: {call.method} {registry.url(call.url)}: the awaiting task was cancelled",
                          method=call.method, url=call.url)
        error.attempts = call.state.history
        call.state.reason = "cancelled"
        return error

    def _out_of_time(self, call: Call) -> MyClientError:
        """The error for a deadline that ran out between attempts: the real last error, if any."""
        state = call.state
        last = state.history[-1].error if state.history else None
        state.reason = "the deadline ran out"
        if isinstance(last, MyClientError):
            last.attempts = state.history
            return last
        error = DeadlineExceeded(f"DeadlineExceeded: {call.method} {registry.url(call.url)}: no time left of the "
                                 f"{state.limit or 0:g}s deadline", method=call.method, url=call.url)
        error.attempts = state.history
        return error

    def _pause(self, call: Call, decision: Decision, elapsed: float, *, response: requests.Response | None = None,
               error: MyClientError | None = None) -> None:
        """Wait before the next attempt; logs the decision and calls the on_retry hooks first."""
        settings = self.settings
        if log.isEnabledFor(10):
            shown = display_url(call)
            log.debug("retrying %s %s after %.2fs (attempt %d: %s) cid=%s", call.method, shown, decision.delay,
                      call.state.attempt, decision.reason, settings.cid,
                      extra=fields(cid=settings.cid, baseurl=settings.base_url, method=call.method,
                                   endpoint=_endpoint(shown, settings.base_url), url=shown,
                                   status=response.status_code if response is not None else type(error).__name__))
        if settings.hooks.on_retry:
            emit(settings, "on_retry", call, elapsed, response=response, error=error, delay=decision.delay,
                 reason=decision.reason)
        if decision.delay > 0:
            settings.sleep(decision.delay)


def _endpoint(url: str, base: str) -> str:
    return url[len(base):] if url.startswith(base) else ""


class Reauthenticate:
    """On 401 (or 403 ``invalid_token``), let the auth renew its credentials once, then replay the call."""

    def __call__(self, call: Call, next: Next) -> requests.Response:  # noqa: A002
        response = next(call)
        handle = getattr(call.options.auth, "handle_unauthorized", None)
        if handle is None or not call.replayable or not needs_reauth(response):
            return response
        try:
            renewed = handle(response)
        except BaseException:
            response.close()
            raise
        if not renewed:
            return response
        elapsed = response.elapsed.total_seconds() if response.elapsed else 0.0
        call.state.history.append(Attempt(status=response.status_code, elapsed=elapsed))
        response.close()
        if call.rewind is not None:
            call.rewind()
        return next(call)


class Observe:
    """Feeds the ``on_request`` and ``on_response`` hooks around every exchange (replays included)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def __call__(self, call: Call, next: Next) -> requests.Response:  # noqa: A002
        hooks = self.settings.hooks
        if not (hooks.on_request or hooks.on_response):
            return next(call)
        if hooks.on_request:
            emit(self.settings, "on_request", call, 0.0)
        began = call.state.clock()
        response = next(call)
        if hooks.on_response:
            emit(self.settings, "on_response", call, call.state.clock() - began, response=response)
        return response
