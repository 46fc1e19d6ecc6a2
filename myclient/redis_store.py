"""RedisTokenStore: one token shared by a fleet of workers on any number of hosts, renewed once per expiry.

Tokens live in Redis under ``<key>:<token key>`` (one atomic SET each, so a reader never sees half a
token). ``lock()`` is a Redis lock (redis-py's ``Lock``: a random token, an expiry) that the OAuth2 flows
hold around "re-read, renew if still needed, store": across processes and hosts exactly one renews,
the others wait and then read the new token. A crashed holder's lock expires after ``lock_timeout``.
Writes made under the lock are **fenced**: a Lua script stores the token only if the lock still holds
this worker's lock token, so a renewer slower than ``lock_timeout`` (whose lock expired and was taken by
another worker) cannot overwrite the newer token; its write is refused with ``StaleLock`` and the flow
uses what the store holds. Redis being unreachable is an ``AuthError`` saying so. With
``encryption_key`` the entries are encrypted at rest (Fernet).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from typing import Any

from . import _context
from ._crypto import PREFIX, Cipher
from ._redis import check_client, unavailable_errors
from .exceptions import AuthError, UsageError
from .tokens import StaleLock, Token

__all__ = ["RedisTokenStore"]

_FENCED_SET = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('set', KEYS[2], ARGV[2])
  return 1
end
return 0
"""


class RedisTokenStore:
    """Tokens in Redis, shared by every worker; ``lock()`` makes renewal single-flight across hosts.

    ``redis_client`` is a ``redis.Redis`` (give it a ``socket_timeout``: a hung Redis must not hold a
    call); ``key`` names this store's Redis keys (``<key>:<token key>`` per token, ``<key>:lock``: one
    per API and client id); ``lock_timeout`` is how long a holder may keep the lock (longer than a
    token request takes); ``wait_timeout`` how long a worker waits for it (bounded by the call's
    deadline too).
    """

    def __init__(self, redis_client: Any, key: str = "myclient:token", *, lock_timeout: float = 30.0,
                 wait_timeout: float = 60.0, encryption_key: Any = None) -> None:
        check_client(redis_client, "RedisTokenStore", ("get", "set", "delete", "lock", "register_script"))
        if not isinstance(key, str) or not key:
            raise UsageError(f"key must be a non-empty string, got {key!r}")
        for name, value in (("lock_timeout", lock_timeout), ("wait_timeout", wait_timeout)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 3600:
                raise UsageError(f"{name} must be a number of seconds in (0, 3600], got {value!r}")
        self.redis = redis_client
        self.prefix = key
        self.lock_timeout = float(lock_timeout)
        self.wait_timeout = float(wait_timeout)
        self._cipher = Cipher(encryption_key, repr(self)) if encryption_key is not None else None
        self._fenced = redis_client.register_script(_FENCED_SET)
        self._errors = unavailable_errors()
        self._local = threading.local()  # the lock this thread holds, and how deeply

    def _key(self, key: str) -> str:
        return f"{self.prefix}:{key}"

    def _unavailable(self, exc: BaseException) -> AuthError:
        return AuthError(f"{self!r}: Redis is unavailable ({type(exc).__name__}); the token cannot be read or "
                         "renewed")

    # -- TokenStore -------------------------------------------------------------------------------------
    def get(self, key: str) -> Token | None:
        """The stored token (decrypted, validated), or None."""
        try:
            raw = self.redis.get(self._key(key))
        except self._errors as exc:
            raise self._unavailable(exc) from None
        if raw is None:
            return None
        text = raw.decode("utf-8", "replace") if isinstance(raw, (bytes, bytearray)) else str(raw)
        if self._cipher is not None:
            text = self._cipher.decrypt(text, key)
        elif text.startswith(PREFIX):
            raise AuthError(f"{self!r}, key {key!r}: the stored token is encrypted; give the store its encryption_key")
        try:
            return Token.from_dict(json.loads(text))
        except (ValueError, RecursionError):
            raise AuthError(f"{self!r}, key {key!r}: the entry is not a token's JSON") from None
        except AuthError as exc:
            raise AuthError(f"{self!r}, key {key!r}: {exc}") from None

    def set(self, key: str, token: Token) -> None:
        """Store ``token``; under ``lock()``, only while the lock is still this worker's (fenced)."""
        text = json.dumps(token.to_dict())
        if self._cipher is not None:
            text = self._cipher.encrypt(text)
        held = getattr(self._local, "lock", None)
        try:
            if held is None:
                self.redis.set(self._key(key), text)
                return
            token_value = held.local.token
            stored = self._fenced(keys=[held.name, self._key(key)], args=[token_value, text])
        except self._errors as exc:
            raise self._unavailable(exc) from None
        if not stored:
            raise StaleLock(f"{self!r}: the lock expired before the renewed token was stored (a renewal slower "
                            f"than lock_timeout={self.lock_timeout:g}s); another worker renewed it")

    def delete(self, key: str) -> None:
        """Forget the token under ``key``."""
        try:
            self.redis.delete(self._key(key))
        except self._errors as exc:
            raise self._unavailable(exc) from None

    # -- the cross-host lock ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive across threads, processes and hosts; re-entrant for the thread holding it."""
        depth = getattr(self._local, "depth", 0)
        if depth:
            self._local.depth = depth + 1
            try:
                yield
            finally:
                self._local.depth -= 1
            return
        wait = self.wait_timeout
        left = _context.time_left()
        if left is not None:
            wait = max(0.0, min(wait, left))
        lock = self.redis.lock(f"{self.prefix}:lock", timeout=self.lock_timeout, blocking=True,
                               blocking_timeout=wait, thread_local=True, sleep=0.05)
        try:
            acquired = lock.acquire()
        except self._errors as exc:
            raise self._unavailable(exc) from None
        if not acquired:
            raise AuthError(f"{self!r}: the token lock was not free within {wait:g}s (another worker renewing?)")
        self._local.lock, self._local.depth = lock, 1
        try:
            yield
        finally:
            self._local.lock, self._local.depth = None, 0
            with contextlib.suppress(Exception):  # expired already (then another worker holds it): not ours
                lock.release()

    def __repr__(self) -> str:
        return f"RedisTokenStore(key={self.prefix!r})"
