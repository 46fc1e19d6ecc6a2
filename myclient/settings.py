"""The options of a client, defined once: the frozen ``Settings`` value, the per-call ``CallOptions``, ``DEFAULT``.

Every entry point takes the same option names with the same meaning: ``Client(**settings)``,
``client.with_options(**settings)``, and per call ``request``/verbs/``paginate``/``download``/``upload``/
``Resource`` methods/generated operations (``**CallOptions``). A per-call option left out, or given as
``myclient.DEFAULT``, means "the client's setting"; ``None`` means "off" (no retries, no deadline, no
idempotency key), except ``timeout``, which is always finite. Misspelt names fail ``mypy --strict``
(the TypedDicts) and raise ``UsageError`` at run time. Validation lives here, once.
"""

from __future__ import annotations

import math
import os
import secrets
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal, TypedDict, Union

from ._deadline import body_rewinder
from .exceptions import UsageError
from .retry import MAX_SECONDS, RetryPolicy

if TYPE_CHECKING:
    from requests.auth import AuthBase

    from .hooks import Hooks, HookSpec
    from .middleware import Middleware
    from .ratelimit import RateLimit

__all__ = [
    "DEFAULT",
    "DEFAULT_TIMEOUT",
    "MAX_BODY_SIZE",
    "CallOptions",
    "ClientOptions",
    "Decode",
    "Options",
    "Settings",
    "TimeoutSpec",
    "check_int",
    "check_timeout",
    "new_id",
]

#: (connect, read) seconds used when neither the client nor the call says otherwise.
DEFAULT_TIMEOUT: Final = (10.0, 30.0)
#: Largest response body read into memory by default (bytes); ``max_body_size=None`` lifts the cap.
MAX_BODY_SIZE: Final = 64 * 1024 * 1024

#: A timeout: seconds for both phases, or (connect, read).
TimeoutSpec = Union[float, "tuple[float, float]"]
#: How a response body becomes the call's data: a name, a callable taking the Response, or a model class.
Decode = Union[Literal["json", "bytes", "text", "auto", "response"], Callable[[Any], Any], type]
_DECODE_NAMES = ("json", "bytes", "text", "auto", "response")


class _Default:
    """The type of ``DEFAULT``: "use the client's setting" (distinct from None, which means "off")."""

    _instance: _Default | None = None

    def __new__(cls) -> _Default:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "myclient.DEFAULT"

    def __reduce__(self) -> str:
        return "DEFAULT"


#: Give an option as DEFAULT to mean "the client's setting" (as if it were left out).
DEFAULT: Final = _Default()


class CallOptions(TypedDict, total=False):
    """What any single call may override; accepted unchanged by every entry point."""

    timeout: TimeoutSpec | _Default
    deadline: float | _Default | None
    retry: RetryPolicy | _Default | None
    headers: Mapping[str, str | None] | _Default | None
    idempotency_key: bool | str | _Default | None
    raise_on_error: bool | _Default
    ok_statuses: Iterable[int] | _Default
    decode: Decode | _Default
    auth: AuthBase | Callable[[Any], Any] | _Default | None
    verify: bool | str | _Default | None
    cert: str | tuple[str, str] | _Default | None
    proxies: Mapping[str, str] | _Default | None
    cookies: Mapping[str, str] | _Default | None
    follow_redirects: bool | _Default
    max_redirects: int | _Default
    max_body_size: int | _Default | None


class ClientOptions(TypedDict, total=False):
    """The settings of a client: ``Client(base_url, **ClientOptions)`` and ``with_options(**ClientOptions)``."""

    token: str | Callable[[], str | None] | None
    auth: AuthBase | Callable[[Any], Any] | None
    timeout: TimeoutSpec
    verify: bool | str | None
    cert: str | tuple[str, str] | None
    proxies: Mapping[str, str] | None
    headers: Mapping[str, str] | None
    cookies: Mapping[str, str] | None
    cid: str | None
    cid_header: str | None
    retry: RetryPolicy | None
    deadline: float | None
    idempotency_key: bool
    idempotency_header: str | None
    follow_redirects: bool
    max_redirects: int
    hooks: Mapping[str, HookSpec] | None
    access_log: bool
    decode: Decode
    raise_on_error: bool
    ok_statuses: Iterable[int]
    max_body_size: int | None
    middleware: Sequence[Middleware]
    rate_limit: RateLimit | None
    sleep: Callable[[float], None] | None
    clock: Callable[[], float] | None
    random: Callable[[], float] | None


CALL_OPTIONS: Final = frozenset(CallOptions.__annotations__)
CLIENT_OPTIONS: Final = frozenset(ClientOptions.__annotations__)


def new_id() -> str:
    """A random 128-bit id in UUID4 text form (what Idempotency-Key and correlation ids look like)."""
    h = bytearray(os.urandom(16))
    h[6] = (h[6] & 0x0F) | 0x40
    h[8] = (h[8] & 0x3F) | 0x80
    x = h.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


# -- validators (the only ones) ---------------------------------------------------------------------


def check_int(name: str, value: Any, minimum: int, maximum: int | None = None) -> int:
    """An int (not a bool) in [minimum, maximum]."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or (
        maximum is not None and value > maximum
    ):
        limit = f"an int >= {minimum}" if maximum is None else f"an int in [{minimum}, {maximum}]"
        raise UsageError(f"{name} must be {limit}, got {value!r}")
    return value


def _positive_seconds(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_SECONDS:
        raise UsageError(f"{name} must be a positive number of seconds up to {MAX_SECONDS:g}, got {value!r}")
    return float(value)


def check_timeout(timeout: Any) -> tuple[float, float]:
    """A timeout as (connect, read): a positive finite number, or a pair of them. None is refused."""
    if timeout is None:
        raise UsageError("timeout must be finite: give seconds or (connect, read); None (wait forever) is refused")
    if isinstance(timeout, tuple):
        if len(timeout) != 2:
            raise UsageError(f"timeout must be seconds or a (connect, read) pair, got {timeout!r}")
        return (_positive_seconds("timeout", timeout[0]), _positive_seconds("timeout", timeout[1]))
    seconds = _positive_seconds("timeout", timeout)
    return (seconds, seconds)


def check_deadline(deadline: Any) -> float | None:
    """None (no deadline) or a positive number of seconds for a whole call."""
    return None if deadline is None else _positive_seconds("deadline", deadline)


def check_retry(retry: Any) -> RetryPolicy:
    """A RetryPolicy; None means no retries."""
    if retry is None:
        return NO_RETRY
    if not isinstance(retry, RetryPolicy):
        raise UsageError(f"retry must be a RetryPolicy or None, got {type(retry).__name__}")
    return retry


NO_RETRY: Final = RetryPolicy(attempts=1)


def _check_header_name(name: Any) -> str:
    if not isinstance(name, str) or not name or not all(33 <= ord(c) <= 126 and c not in '"(),/:;<=>?@[\\]{}'
                                                        for c in name):
        raise UsageError(f"header name {name!r} is not a valid HTTP token")
    return name


def check_header_value(name: str, value: Any) -> str:
    """A header value: a str (or bytes) without CR, LF or NUL; the value itself is never echoed."""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if not isinstance(value, str):
        raise UsageError(f"header {name!r} must be a string, got {type(value).__name__}")
    if any(c in value for c in "\r\n\0"):
        raise UsageError(f"header {name!r} contains a line break or NUL; refused (header injection)")
    if value != value.strip(" \t"):
        raise UsageError(f"header {name!r} has leading or trailing whitespace; strip it first")
    return value


def check_headers(headers: Any, *, allow_none: bool = False) -> dict[str, Any]:
    """Validated headers; with ``allow_none`` a None value means "remove this header" for one call."""
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise UsageError(f"headers must be a mapping of names to values, got {type(headers).__name__}")
    out: dict[str, Any] = {}
    for name, value in headers.items():
        _check_header_name(name)
        out[name] = None if value is None and allow_none else check_header_value(name, value)
    return out


def _check_mapping(name: str, value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise UsageError(f"{name} must be a mapping of strings to strings, got {value!r}")
    return dict(value)


def check_decode(decode: Any) -> Decode:
    """One of "json", "bytes", "text", "auto", "response", a callable, or a model class."""
    if isinstance(decode, str):
        if decode not in _DECODE_NAMES:
            raise UsageError(f"decode must be one of {', '.join(map(repr, _DECODE_NAMES))}, a callable or a "
                             f"model class, got {decode!r}")
        return decode  # type: ignore[return-value]
    if not callable(decode):
        raise UsageError(f"decode must be a name, a callable or a model class, got {decode!r}")
    return decode  # type: ignore[no-any-return]


def check_statuses(name: str, value: Any) -> frozenset[int]:
    """A set of HTTP status codes (100-599)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise UsageError(f"{name} must be a collection of status codes, got {value!r}")
    codes = frozenset(value)
    if not all(isinstance(s, int) and not isinstance(s, bool) and 100 <= s <= 599 for s in codes):
        raise UsageError(f"{name} must hold HTTP status codes (100-599), got {sorted(codes, key=str)!r}")
    return codes


def _check_verify(value: Any) -> bool | str | None:
    if value is None or isinstance(value, bool) or (isinstance(value, str) and value):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)  # type: ignore[no-any-return]
    raise UsageError(f"verify must be True, False, None or a CA bundle path, got {value!r}")


def _check_cert(value: Any) -> str | tuple[str, str] | None:
    if value is None or (isinstance(value, str) and value):
        return value
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, str) and v for v in value):
        return value
    raise UsageError(f"cert must be a file path or a (cert, key) pair of paths, got {value!r}")


def _check_auth(value: Any) -> Any:
    if value is not None and not callable(value):
        raise UsageError("auth must be a requests.auth.AuthBase (or any callable taking a request)")
    return value


def _check_max_body(value: Any) -> int | None:
    return None if value is None else check_int("max_body_size", value, 1)


def _check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise UsageError(f"{name} must be True or False, got {value!r}")
    return value


def _check_idempotency(value: Any) -> bool | str | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value:
        return check_header_value("idempotency key", value)
    raise UsageError(f"idempotency_key must be True, False, None or a non-empty string, got {value!r}")


#: Per-call option validators, by name (headers and idempotency_key are handled by the call builder).
_CALL_CHECKS: dict[str, Callable[[Any], Any]] = {
    "timeout": check_timeout,
    "deadline": check_deadline,
    "retry": check_retry,
    "raise_on_error": lambda v: _check_bool("raise_on_error", v),
    "ok_statuses": lambda v: check_statuses("ok_statuses", v),
    "decode": check_decode,
    "auth": _check_auth,
    "verify": _check_verify,
    "cert": _check_cert,
    "proxies": lambda v: _check_mapping("proxies", v),
    "cookies": lambda v: _check_mapping("cookies", v),
    "follow_redirects": lambda v: _check_bool("follow_redirects", v),
    "max_redirects": lambda v: check_int("max_redirects", v, 0, 100),
    "max_body_size": _check_max_body,
}


def unknown_option(name: str, known: Iterable[str]) -> UsageError:
    """The error for a misspelt option, with the closest known name when there is one."""
    import difflib  # lazily: only on this error path

    close = difflib.get_close_matches(name, sorted(known), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return UsageError(f"unknown option {name!r}{hint}")


class Options:
    """The resolved options of one call (the client's settings with the call's overrides applied)."""

    __slots__ = ("auth", "cert", "cookies", "deadline", "decode", "follow_redirects", "max_body_size",
                 "max_redirects", "ok_statuses", "proxies", "raise_on_error", "retry", "timeout", "verify")

    timeout: tuple[float, float]
    deadline: float | None
    retry: RetryPolicy
    raise_on_error: bool
    ok_statuses: frozenset[int]
    decode: Decode
    auth: Any
    verify: bool | str | None
    cert: str | tuple[str, str] | None
    proxies: dict[str, str] | None
    cookies: dict[str, str] | None
    follow_redirects: bool
    max_redirects: int
    max_body_size: int | None

    def replaced(self, changes: Mapping[str, Any]) -> Options:
        """A copy with validated ``changes`` (names from CallOptions other than headers/idempotency_key)."""
        new = Options.__new__(Options)
        for name in Options.__slots__:
            object.__setattr__(new, name, getattr(self, name))
        for name, value in changes.items():
            if value is DEFAULT:
                continue
            check = _CALL_CHECKS.get(name)
            if check is None:
                raise unknown_option(name, CALL_OPTIONS)
            value = check(value)
            if name == "proxies" and value is not None and self.proxies:
                value = {**self.proxies, **value}  # a call's proxies add to the client's
            object.__setattr__(new, name, value)
        return new

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("call options are frozen")

    def __repr__(self) -> str:
        return "Options(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__ if n != "auth") + ")"


def _time_sleep(seconds: float) -> None:
    from .adapters import sleep_suspended  # late: the testing kit's no-sleep switch lives there

    if sleep_suspended[0]:
        return
    time.sleep(seconds)  # looked up per call, so tests can replace time.sleep


def _random() -> float:
    return secrets.randbits(53) / (1 << 53)


class Settings:
    """Everything a client needs to send a call, as one frozen value (change it with ``replace``).

    Built from ``Client(base_url, **options)``; read by the adapter, the middleware and the transport.
    ``defaults`` is the resolved per-call ``Options`` a call without overrides uses.
    """

    __slots__ = (
        "_given",
        "_resolved",
        "access_log",
        "base_url",
        "cid",
        "cid_header",
        "clock",
        "defaults",
        "headers",
        "hooks",
        "idempotency_header",
        "idempotency_key",
        "middleware",
        "random",
        "rate_limit",
        "sleep",
    )

    base_url: str
    cid: str
    cid_header: str | None
    headers: dict[str, str]
    idempotency_key: bool
    idempotency_header: str | None
    hooks: Hooks
    access_log: bool
    middleware: tuple[Middleware, ...]
    rate_limit: RateLimit | None
    sleep: Callable[[float], None]
    clock: Callable[[], float]
    random: Callable[[], float]
    defaults: Options
    _given: dict[str, Any]
    _resolved: dict[tuple[Any, ...], Options]

    @classmethod
    def build(cls, base_url: str, options: Mapping[str, Any], *, hooks: Hooks | None = None) -> Settings:
        """Validate ``options`` (ClientOptions names, ``token`` excluded) into a Settings value."""
        from . import _urls
        from .hooks import Hooks

        unknown = set(options) - CLIENT_OPTIONS
        if unknown:
            raise unknown_option(sorted(unknown)[0], CLIENT_OPTIONS)
        if "token" in options:
            raise UsageError("token is turned into auth by the Client; give token= to Client(...)")
        get = options.get
        self = object.__new__(cls)
        put = object.__setattr__
        put(self, "_given", dict(options))
        put(self, "base_url", _urls.check_base_url(base_url))
        cid = get("cid")
        if cid is not None and (not isinstance(cid, str) or not cid):
            raise UsageError(f"cid must be a non-empty string, got {cid!r}")
        put(self, "cid", check_header_value("cid", cid) if cid else os.urandom(16).hex())
        cid_header = get("cid_header", "X-Correlation-ID")
        put(self, "cid_header", None if cid_header is None else _check_header_name(cid_header))
        headers = check_headers(get("headers"))
        if self.cid_header and not any(k.lower() == self.cid_header.lower() for k in headers):
            headers[self.cid_header] = self.cid
        put(self, "headers", headers)
        put(self, "idempotency_key", _check_bool("idempotency_key", get("idempotency_key", False)))
        header = get("idempotency_header", "Idempotency-Key")
        put(self, "idempotency_header", None if header is None else _check_header_name(header))
        if hooks is None:
            hooks = Hooks(get("hooks"))
        elif get("hooks"):
            hooks = hooks.copy()
            hooks.update(options["hooks"])
        put(self, "hooks", hooks)
        put(self, "access_log", _check_bool("access_log", get("access_log", False)))
        middleware = tuple(get("middleware") or ())
        if not all(callable(m) for m in middleware):
            raise UsageError("middleware must be callables middleware(call, next) -> response")
        put(self, "middleware", middleware)
        rate_limit = get("rate_limit")
        if rate_limit is not None and not callable(getattr(rate_limit, "middleware", None)):
            raise UsageError(f"rate_limit must be a myclient.RateLimit, got {type(rate_limit).__name__}")
        put(self, "rate_limit", rate_limit)
        for name, fallback in (("sleep", _time_sleep), ("clock", time.monotonic), ("random", _random)):
            value = get(name)
            if value is not None and not callable(value):
                raise UsageError(f"{name} must be callable, got {value!r}")
            put(self, name, value or fallback)
        defaults = Options.__new__(Options)
        base = {
            "timeout": check_timeout(get("timeout", DEFAULT_TIMEOUT)),
            "deadline": check_deadline(get("deadline")),
            "retry": check_retry(get("retry", RetryPolicy())) if "retry" in options else DEFAULT_RETRY,
            "raise_on_error": _check_bool("raise_on_error", get("raise_on_error", True)),
            "ok_statuses": check_statuses("ok_statuses", get("ok_statuses", ())),
            "decode": check_decode(get("decode", "json")),
            "auth": _check_auth(get("auth")),
            "verify": _check_verify(get("verify")),
            "cert": _check_cert(get("cert")),
            "proxies": _check_mapping("proxies", get("proxies")),
            "cookies": _check_mapping("cookies", get("cookies")),
            "follow_redirects": _check_bool("follow_redirects", get("follow_redirects", True)),
            "max_redirects": check_int("max_redirects", get("max_redirects", 10), 0, 100),
            "max_body_size": _check_max_body(get("max_body_size", MAX_BODY_SIZE)),
        }
        for name, value in base.items():
            object.__setattr__(defaults, name, value)
        put(self, "defaults", defaults)
        put(self, "_resolved", {})
        return self

    def replace(self, **changes: Any) -> Settings:
        """A new Settings with ``changes`` (ClientOptions names) applied over what this one was built from."""
        merged = {**self._given, **{k: v for k, v in changes.items() if v is not DEFAULT}}
        if "cid" not in changes:
            merged["cid"] = self.cid
        if "headers" not in changes and self.cid_header:
            merged.setdefault("headers", {})
        return Settings.build(self.base_url, merged, hooks=self.hooks if "hooks" not in changes else None)

    def resolve(self, overrides: Mapping[str, Any]) -> Options:
        """The Options of a call given its per-call ``overrides`` (already without headers/idempotency_key).

        Calls repeat their overrides (the same ``timeout=``, ``deadline=`` each time): resolved Options
        for hashable overrides are kept (a bounded cache), so a per-call option costs a dict lookup.
        """
        if not overrides:
            return self.defaults
        try:
            key = tuple(sorted(overrides.items()))
            cached = self._resolved.get(key)
        except TypeError:  # an unhashable value (a dict of proxies, say): resolve every time
            return self.defaults.replaced(overrides)
        if cached is None:
            cached = self.defaults.replaced(overrides)
            if len(self._resolved) < 256:
                self._resolved[key] = cached
        return cached

    def given(self) -> dict[str, Any]:
        """The options this value was built from (what ``with_options`` starts from)."""
        return dict(self._given)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"settings are frozen; use client.with_options({name}=...) or adapter.{name} = ...")

    def __repr__(self) -> str:
        from .redaction import registry

        return f"Settings(base_url={registry.url(self.base_url)!r}, cid={self.cid!r})"


DEFAULT_RETRY: Final = RetryPolicy()


def replayable_body(data: Any, files: Any) -> bool:
    """Whether a request body can be sent again as is (see ``_deadline.body_rewinder``)."""
    return body_rewinder(data, files)[0]


def finite(value: float) -> bool:
    """True for a finite float (helper for validators elsewhere)."""
    return math.isfinite(value)
