"""What the Redis-backed parts (token store, shared rate limiter) ask of the ``redis.Redis`` client they are given.

redis-py is an optional extra (``pip install 'myclient[redis]'``): these helpers check the given client
has a socket timeout — a Redis that hangs must fail the call within its deadline, never hold it — and
name the exceptions that mean "Redis did not answer".
"""

from __future__ import annotations

from typing import Any

from .exceptions import UsageError

__all__ = ["check_client", "unavailable_errors"]


def check_client(client: Any, what: str, needs: tuple[str, ...]) -> None:
    """Refuse a client without the methods ``needs`` or without a ``socket_timeout``."""
    if not all(callable(getattr(client, name, None)) for name in needs):
        raise UsageError(f"{what} needs a redis.Redis client (with {', '.join(needs)}), got {type(client).__name__}")
    pool = getattr(client, "connection_pool", None)
    kwargs = getattr(pool, "connection_kwargs", None)
    if isinstance(kwargs, dict) and kwargs.get("socket_timeout") is None:
        raise UsageError(f"{what}: give the Redis client a socket_timeout (e.g. redis.Redis(..., socket_timeout=1)): "
                         "a Redis that hangs must fail the call, not hold it")


def unavailable_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that mean Redis could not be asked (refused, timed out, loading, reset)."""
    try:
        import redis.exceptions as errors
    except ImportError:  # pragma: no cover - a duck-typed client without the redis package
        return (ConnectionError, TimeoutError, OSError)
    return (errors.ConnectionError, errors.TimeoutError, errors.BusyLoadingError, OSError)
