"""Client-side rate limiting: ``Client(rate_limit=myclient.RateLimit(50, per=1))``, local or shared on Redis.

The limiter is GCRA (the generic cell rate algorithm, a leaky bucket as a "theoretical arrival time"):
each request reserves the next slot of ``rate`` per ``per`` seconds (``burst`` slots may be taken at
once) and waits until its slot. Locally the state is a number behind a lock (threads and the AsyncClient's
workers share it). With ``redis=`` the state lives in Redis and one Lua script — one round trip, atomic,
on Redis's own clock — reserves the slot, so N workers on any hosts together stay under the rate. (The
``limits`` package was considered: its strategies answer "may I?" and would need polling and sleeping
with several round trips per request; reserving a slot and waiting exactly is what pacing needs.)

Waiting counts against the call's deadline: a wait longer than the time left raises ``RateLimited`` at
once, without sending or reserving. The step also reads limits the server announces
(``RateLimit-Remaining``/``RateLimit-Reset``, the ``RateLimit`` header of the IETF draft,
``X-RateLimit-Remaining``/``X-RateLimit-Reset`` and ``Retry-After`` on 429/503): when the remaining budget
is 0, later calls wait until the reset instead of earning a 429 (shared through Redis when configured).
Redis unreachable raises ``LimiterUnavailable`` (nothing sent; retried like any failure before sending)
unless ``on_unavailable="local"`` asks to fall back to limiting in this process alone.
"""

from __future__ import annotations

import contextlib
import email.utils
import logging
import math
import re
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import requests

from . import _context
from ._parse import ascii_int, header, parse_retry_after
from ._redis import check_client, unavailable_errors
from .exceptions import ConnectError, RateLimited, UsageError
from .middleware import Retry
from .redaction import registry

if TYPE_CHECKING:
    from .calls import Call
    from .middleware import Next
    from .settings import Settings

__all__ = ["LimiterUnavailable", "RateLimit"]

log = logging.getLogger("myclient")

#: GCRA in Redis: KEYS = bucket, blocked-until; ARGV = interval ms, tolerance ms, max wait ms (-1: none).
#: Returns {allowed 1|0, wait ms}. Redis's TIME is the one clock of the fleet.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local interval, tolerance, max_wait = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local wait = tat - tolerance - now
if wait < 0 then wait = 0 end
local blocked = tonumber(redis.call('GET', KEYS[2]) or 0)
if blocked - now > wait then wait = blocked - now end
if max_wait >= 0 and wait > max_wait then return {0, tostring(wait)} end
local new_tat = tat + interval
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil(new_tat - now + interval + 1000))
return {1, tostring(wait)}
"""
#: Blocks the bucket for ARGV[1] ms from now on Redis's clock (KEYS[1]: blocked-until).
_BLOCK = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local ms = tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or 0)
if now + ms > current then redis.call('SET', KEYS[1], tostring(now + ms), 'PX', math.ceil(ms) + 1000) end
return 1
"""
#: Buckets one process tracks at most (per RateLimit and clock); see ``_bounded``.
MAX_BUCKETS = 4096
_DRAFT = re.compile(r"(?:^|[;,\s])([rt])=(\d+)", re.ASCII)


class LimiterUnavailable(ConnectError):
    """The shared rate limiter (Redis) could not be asked; the request was not sent."""


class _Local:
    """GCRA state in this process: one theoretical arrival time per key, behind a lock."""

    __slots__ = ("_blocked", "_lock", "_tat", "clock")

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._tat: dict[str, float] = {}
        self._blocked: dict[str, float] = {}
        self._lock = threading.Lock()

    def reserve(self, key: str, interval: float, tolerance: float, max_wait: float | None) -> tuple[bool, float]:
        """(reserved, seconds to wait for the slot); nothing is reserved when the wait exceeds ``max_wait``."""
        lock = self._lock
        lock.acquire()  # on every call: acquire/release cost less than a with block
        try:
            now = self.clock()
            tats = self._tat
            tat = tats.get(key, now)
            if tat < now:
                tat = now
            wait = tat - tolerance - now
            blocked_until = self._blocked
            if blocked_until:
                blocked = blocked_until.get(key)
                if blocked is not None and blocked - now > wait:
                    wait = blocked - now
            if wait < 0.0:
                wait = 0.0
            if max_wait is not None and wait > max_wait:
                return False, wait
            tats[key] = tat + interval
            if len(tats) > MAX_BUCKETS:
                self._tat = _bounded(tats, now)
            return True, wait
        finally:
            lock.release()

    def block(self, key: str, seconds: float) -> None:
        """No request for ``key`` before ``seconds`` from now (an announced reset)."""
        with self._lock:
            until = self.clock() + seconds
            self._blocked[key] = max(self._blocked.get(key, 0.0), until)
            if len(self._blocked) > MAX_BUCKETS:
                self._blocked = _bounded(self._blocked, until - seconds)


def _bounded(times: dict[str, float], now: float) -> dict[str, float]:
    """``times`` without the entries already past; if still too many, without those nearest to passing.

    A bucket whose time has passed holds nothing (a new one starts equal). Forgetting one that has not
    passed grants its key a fresh burst: the price of a bound when keys are unbounded (``key="route"``
    over paths with ids), paid by the least loaded buckets only.
    """
    live = {k: v for k, v in times.items() if v > now}
    if len(live) > MAX_BUCKETS * 3 // 4:
        keep = sorted(live.items(), key=lambda item: item[1])[-(MAX_BUCKETS * 3 // 4):]
        live = dict(keep)
    return live


class _Shared:
    """GCRA state in Redis (one Lua round trip per reservation)."""

    def __init__(self, redis_client: Any, prefix: str) -> None:
        check_client(redis_client, "RateLimit(redis=...)", ("register_script",))
        self.prefix = prefix
        self._reserve = redis_client.register_script(_RESERVE)
        self._block = redis_client.register_script(_BLOCK)
        self._errors = unavailable_errors()

    def reserve(self, key: str, interval: float, tolerance: float, max_wait: float | None) -> tuple[bool, float]:
        """As ``_Local.reserve``, in one atomic round trip to Redis."""
        result = self._reserve(keys=[f"{self.prefix}{key}", f"{self.prefix}{key}:blocked"],
                               args=[interval * 1000, tolerance * 1000, -1 if max_wait is None else max_wait * 1000])
        return bool(int(result[0])), float(result[1]) / 1000

    def block(self, key: str, seconds: float) -> None:
        self._block(keys=[f"{self.prefix}{key}:blocked"], args=[int(seconds * 1000)])


class RateLimit:
    """At most ``rate`` requests per ``per`` seconds (``None``: only the limits the server announces).

    ``burst`` requests may go at once (default 1: evenly spaced). ``key`` names the bucket: ``"client"``
    (one for the client's base URL), ``"host"`` (one per origin), ``"route"`` (per method and path), or a
    function of the call. ``redis`` (a ``redis.Redis`` with a ``socket_timeout``) shares the buckets
    with every worker using the same ``prefix``. ``announced`` reads the server's rate-limit headers.
    """

    def __init__(self, rate: float | None, per: float = 1.0, *, burst: int = 1, key: Any = "client",
                 redis: Any = None, prefix: str = "myclient:rl:", announced: bool = True,
                 on_unavailable: str = "raise") -> None:
        if rate is not None and (isinstance(rate, bool) or not isinstance(rate, (int, float)) or not
                                 0 < rate < math.inf):
            raise UsageError(f"rate must be a positive number of requests (or None), got {rate!r}")
        if isinstance(per, bool) or not isinstance(per, (int, float)) or not 0 < per <= 86400 * 31:
            raise UsageError(f"per must be a positive number of seconds, got {per!r}")
        if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
            raise UsageError(f"burst must be an int >= 1, got {burst!r}")
        if key not in ("client", "host", "route") and not callable(key):
            raise UsageError(f"key must be 'client', 'host', 'route' or a function of the call, got {key!r}")
        if on_unavailable not in ("raise", "local"):
            raise UsageError("on_unavailable must be 'raise' or 'local'")
        self.rate, self.per, self.burst, self.key = rate, float(per), burst, key
        self.announced = announced
        self.on_unavailable = on_unavailable
        self.interval = self.per / rate if rate else 0.0
        self.tolerance = self.interval * (burst - 1)
        self._shared = _Shared(redis, prefix) if redis is not None else None
        self._locals: dict[Callable[[], float], _Local] = {}
        self._locals_lock = threading.Lock()

    def bucket(self, call: Call, base_url: str) -> str:
        """The bucket name of ``call``."""
        if callable(self.key):
            return str(self.key(call))
        if self.key == "client":
            return base_url
        origin = call.url.split("/", 3)
        if self.key == "host":
            return "/".join(origin[:3])
        return f"{call.method} {call.url.split('?', 1)[0]}"

    def middleware(self, settings: Settings) -> Any:
        """The chain step for one client (the adapter adds it)."""
        with self._locals_lock:  # one local state per clock: clients sharing this RateLimit share buckets
            local = self._locals.get(settings.clock)
            if local is None:
                local = self._locals[settings.clock] = _Local(settings.clock)
        return _Step(self, local, settings)

    def __repr__(self) -> str:
        where = "redis" if self._shared is not None else "local"
        return f"RateLimit({self.rate}, per={self.per:g}, burst={self.burst}, key={self.key!r}, {where})"


class _Step:
    """Reserve a slot (or wait out an announced reset) before each exchange; read announced limits after."""

    __slots__ = ("announced", "fixed_key", "interval", "limit", "local", "reserve", "settings", "tolerance")

    def __init__(self, limit: RateLimit, local: _Local, settings: Settings) -> None:
        self.limit, self.local, self.settings = limit, local, settings
        #: The bucket of every call when it does not depend on the call (key="client").
        self.fixed_key = settings.base_url if limit.key == "client" else None
        self.interval, self.tolerance, self.announced = limit.interval, limit.tolerance, limit.announced
        self.reserve: Callable[[str, float, float, float | None], tuple[bool, float]] = (
            local.reserve if limit._shared is None else self._reserve)

    def __call__(self, call: Call, next: Next) -> requests.Response:  # noqa: A002
        key = self.fixed_key
        if key is None:
            key = self.limit.bucket(call, self.settings.base_url)
        state = call.state
        left = None if state.limit is None else max(state.left(), 0.0)  # type: ignore[type-var]
        reserved, wait = self.reserve(key, self.interval, self.tolerance, left)
        if wait:
            self._wait(call, reserved, wait, left)
        response = next(call)
        if self.announced:
            store = getattr(response.headers, "_store", None)
            if (store is None or "x-ratelimit-remaining" in store or response.status_code in (429, 503)
                    or "ratelimit-remaining" in store or "ratelimit" in store):
                reset = announced_wait(response)
                if reset is not None and reset > 0:
                    self._block(key, reset)
        return response

    def _wait(self, call: Call, reserved: bool, wait: float, left: float | None) -> None:
        """Sleep until the reserved slot, or raise RateLimited when it lies beyond the deadline."""
        if not reserved:
            raise RateLimited(f"429 Too Many Requests (client-side): {call.method} {registry.url(call.url)}: the "
                              f"rate limit allows the next request in {wait:.2f}s, after the {left or 0:.2f}s "
                              "left of the deadline; nothing was sent", status=429, method=call.method,
                              url=call.url, retry_after=wait)
        self.settings.sleep(wait)
        cancel = _context.cancellation.get()
        if cancel is not None and cancel.cancelled:
            raise Retry._cancelled(call)

    def _reserve(self, key: str, interval: float, tolerance: float, left: float | None) -> tuple[bool, float]:
        """Reserve on Redis (or, when it is away and the limit says so, locally)."""
        limit = self.limit
        if limit._shared is not None:
            try:
                return limit._shared.reserve(key, interval, tolerance, left)
            except limit._shared._errors as exc:
                if limit.on_unavailable == "raise":
                    raise LimiterUnavailable(f"LimiterUnavailable: the shared rate limiter (Redis) did not answer "
                                             f"({type(exc).__name__}); nothing was sent") from None
                log.warning("myclient rate limiter: Redis unavailable (%s); limiting in this process only",
                            type(exc).__name__)
        return self.local.reserve(key, interval, tolerance, left)

    def _block(self, key: str, seconds: float) -> None:
        limit = self.limit
        if limit._shared is not None:
            with contextlib.suppress(*limit._shared._errors):  # the local block below still paces this process
                limit._shared.block(key, seconds)
        self.local.block(key, seconds)


def announced_wait(response: requests.Response) -> float | None:
    """Seconds until the budget the server announces is back, when it says none is left (else None).

    Reads ``Retry-After`` on 429/503, the IETF draft's ``RateLimit: ...;r=0;t=30`` and
    ``RateLimit-Remaining``/``-Reset``, and ``X-RateLimit-Remaining``/``-Reset`` (a reset above 10^9 is
    a Unix time, as GitHub sends, counted from the response's ``Date``; else seconds).
    """
    headers = response.headers
    if response.status_code in (429, 503):
        after = parse_retry_after(header(headers, "retry-after"))
        if after is not None:
            return after
    combined = header(headers, "ratelimit")
    if combined:  # a list of policies: '"burst";r=0;t=5, "daily";r=900;t=3600' -> wait for each one spent
        spent = [fields["t"] for fields in (dict(_DRAFT.findall(item)) for item in combined.split(","))
                 if fields.get("r") == "0" and "t" in fields]
        if spent:
            return float(max(int(t) for t in spent))
    for remaining_name, reset_name in (("ratelimit-remaining", "ratelimit-reset"),
                                       ("x-ratelimit-remaining", "x-ratelimit-reset")):
        remaining = ascii_int(header(headers, remaining_name))
        if remaining == 0:
            reset = ascii_int(header(headers, reset_name))
            if reset is None:
                return None
            if reset <= 1_000_000_000:
                return float(reset)
            return max(0.0, reset - _server_now(headers))
    return None


def _server_now(headers: Any) -> float:
    """The server's clock when it answered (its ``Date``, so a skewed local clock cannot send early)."""
    date = header(headers, "date")
    if date:
        try:
            return email.utils.parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            pass
    return time.time()
