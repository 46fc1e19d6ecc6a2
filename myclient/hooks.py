"""Lifecycle hooks: observe every request, response, retry and give-up of a client's calls.

Hooks only observe. Each receives one redacted Event and cannot change the request; a hook that
raises is logged (WARNING, on the ``myclient`` logger) and the call goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Optional, Union

from .exceptions import MyClientError, UsageError

__all__ = ["HOOK_NAMES", "Event", "Hook", "Hooks"]

log = logging.getLogger("myclient")

#: The events a hook can be registered for, in the order they happen.
HOOK_NAMES = ("on_request", "on_response", "on_retry", "on_give_up")


@dataclass(frozen=True)
class Event:
    """What a hook sees. ``url`` is redacted; times are seconds.

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


Hook = Callable[[Event], object]
HookSpec = Union[Hook, Iterable[Hook]]


class Hooks:
    """The hooks of one adapter, by event name: ``hooks.add("on_retry", fn)`` or ``hooks.on_retry.append(fn)``."""

    def __init__(self, hooks: Mapping[str, HookSpec] | None = None) -> None:
        self.on_request: list[Hook] = []
        self.on_response: list[Hook] = []
        self.on_retry: list[Hook] = []
        self.on_give_up: list[Hook] = []
        for name, spec in (hooks or {}).items():
            for fn in [spec] if callable(spec) else list(spec):
                self.add(name, fn)

    def add(self, name: str, hook: Hook) -> Hook:
        """Register ``hook`` for ``name`` (one of HOOK_NAMES); returns it, so it works as a decorator."""
        self._list(name).append(self._check(name, hook))
        return hook

    def remove(self, name: str, hook: Hook) -> None:
        """Unregister ``hook`` (ValueError if it was not registered)."""
        self._list(name).remove(hook)

    def emit(self, name: str, event: Event) -> None:
        """Call every hook for ``name`` with ``event``; a failing hook is logged and skipped."""
        for hook in self._list(name):
            try:
                hook(event)
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

    def __repr__(self) -> str:
        counts = ", ".join(f"{n}={len(self._list(n))}" for n in HOOK_NAMES)
        return f"Hooks({counts})"
