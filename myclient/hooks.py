"""Lifecycle hooks: observe every request, response, retry and give-up of a client's calls.

Hooks only observe. Each receives one redacted Event and cannot change the request (write a
middleware for that); a hook that raises is logged (WARNING, on the ``myclient`` logger) and the call
goes on. Hooks may be plain functions or, on an AsyncClient, coroutine functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple, Optional, Union

from ._log import get_logger
from .exceptions import MyClientError, UsageError

__all__ = ["HOOK_NAMES", "Event", "Hook", "HookSpec", "Hooks"]

log = get_logger("myclient")

#: The events a hook can be registered for, in the order they happen.
HOOK_NAMES = ("on_request", "on_response", "on_retry", "on_give_up")


class Event(NamedTuple):
    """What a hook sees (read-only). ``url`` is redacted; times are seconds.

    ``elapsed`` is this attempt's time, ``total`` the time since the call started (retries and
    waits included). ``delay`` and ``reason`` are set for ``on_retry`` (the wait ahead and why)
    and ``reason`` for ``on_give_up``; ``error`` for an attempt or call that failed.
    """

    name: str
    method: str
    url: str
    attempt: int
    elapsed: float
    total: float
    cid: str
    status: Optional[int] = None
    request_id: Optional[str] = None
    error: Optional[MyClientError] = None
    delay: Optional[float] = None
    reason: Optional[str] = None


Hook = Callable[[Event], Any]
HookSpec = Union[Hook, Iterable[Hook]]


class Hooks:
    """The hooks of one client, by event name: ``hooks.add("on_retry", fn)`` or ``hooks.on_retry.append(fn)``."""

    def __init__(self, hooks: Mapping[str, HookSpec] | None = None) -> None:
        self.on_request: list[Hook] = []
        self.on_response: list[Hook] = []
        self.on_retry: list[Hook] = []
        self.on_give_up: list[Hook] = []
        if hooks is not None:
            self.update(hooks)

    def update(self, hooks: Mapping[str, HookSpec]) -> None:
        """Add every hook of ``hooks`` (name → a callable or a list of them)."""
        if not isinstance(hooks, Mapping):
            raise UsageError(f"hooks must map hook names to callables, got {type(hooks).__name__}")
        for name, spec in hooks.items():
            for fn in [spec] if callable(spec) else list(spec):
                self.add(name, fn)

    def copy(self) -> Hooks:
        """A new registry with the same hooks (later changes to either do not affect the other)."""
        new = Hooks()
        for name in HOOK_NAMES:
            getattr(new, name).extend(getattr(self, name))
        return new

    def add(self, name: str, hook: Hook) -> Hook:
        """Register ``hook`` for ``name`` (one of HOOK_NAMES); returns it, so it works as a decorator."""
        self._list(name).append(self._check(name, hook))
        return hook

    def remove(self, name: str, hook: Hook) -> None:
        """Unregister ``hook`` (ValueError if it was not registered)."""
        self._list(name).remove(hook)

    def emit(self, name: str, event: Event) -> None:
        """Call every hook for ``name`` with ``event``; a failing hook is logged and skipped.

        An async hook's coroutine is awaited on the AsyncClient's loop (from a sync client: closed and logged).
        """
        hooks: list[Hook] = getattr(self, name) if name in HOOK_NAMES else self._list(name)
        for hook in hooks:
            try:
                result = hook(event)
            except Exception:
                log.warning("myclient hook %r for %s raised; ignored", hook, name, exc_info=True)
                continue
            if result is not None and hasattr(result, "__await__"):
                self._await(hook, name, result)

    @staticmethod
    def _await(hook: Hook, name: str, awaitable: Any) -> None:
        """Run an async hook's coroutine on the AsyncClient's event loop and wait for it (from the worker)."""
        import asyncio

        from ._context import event_loop

        loop = event_loop.get()
        if loop is None or not asyncio.iscoroutine(awaitable):
            close = getattr(awaitable, "close", None)
            if callable(close):
                close()
            log.warning("myclient hook %r for %s is async; it runs only on an AsyncClient", hook, name)
            return
        try:
            asyncio.run_coroutine_threadsafe(awaitable, loop).result()
        except Exception:
            log.warning("myclient hook %r for %s raised; ignored", hook, name, exc_info=True)

    def _list(self, name: str) -> list[Hook]:
        if name not in HOOK_NAMES:
            raise UsageError(f"unknown hook {name!r}; expected one of {', '.join(HOOK_NAMES)}")
        hooks: list[Hook] = getattr(self, name)
        return hooks

    @staticmethod
    def _check(name: str, hook: Hook) -> Hook:
        if not callable(hook):
            raise UsageError(f"hook for {name} must be callable, got {type(hook).__name__}")
        return hook

    def __bool__(self) -> bool:
        return bool(self.on_request or self.on_response or self.on_retry or self.on_give_up)

    def __repr__(self) -> str:
        counts = ", ".join(f"{n}={len(self._list(n))}" for n in HOOK_NAMES)
        return f"Hooks({counts})"
