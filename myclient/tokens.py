"""Token values and the stores that keep them: memory, a JSON file shared by processes, any cache.

A store only keeps tokens; it never asks a server for one. Secrets never appear in a repr.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from .exceptions import UsageError
from .redaction import registry

__all__ = ["Token", "TokenStore", "MemoryTokenStore", "FileTokenStore", "CacheTokenStore"]

_KNOWN = ("access_token", "token_type", "refresh_token", "expires_at", "issued_at", "scope", "id_token")


@dataclass(frozen=True)
class Token:
    """An OAuth2 token. ``expires_at`` and ``issued_at`` are Unix times (None: unknown)."""

    access_token: str
    token_type: str = "Bearer"
    refresh_token: str | None = None
    expires_at: float | None = None
    issued_at: float | None = None
    scope: str | None = None
    id_token: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.access_token, str) or not self.access_token:
            raise UsageError("a token needs a non-empty access_token")
        for secret in (self.access_token, self.refresh_token, self.id_token):
            registry.add_secret(secret)

    @classmethod
    def from_response(cls, data: Mapping[str, Any], now: float | None = None) -> Token:
        """Build a token from a token-endpoint response (``expires_in`` becomes ``expires_at``)."""
        issued = time.time() if now is None else now
        expires_in = data.get("expires_in")
        expires_at = data.get("expires_at")
        if expires_in not in (None, ""):
            expires_at = issued + float(expires_in)
        scope = data.get("scope")
        if isinstance(scope, (list, tuple)):
            scope = " ".join(scope)
        extra = {k: v for k, v in data.items() if k not in _KNOWN and k != "expires_in"}
        return cls(
            access_token=str(data["access_token"]),
            token_type=str(data.get("token_type") or "Bearer"),
            refresh_token=data.get("refresh_token") or None,
            expires_at=float(expires_at) if expires_at is not None else None,
            issued_at=issued,
            scope=scope,
            id_token=data.get("id_token") or None,
            extra=extra,
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Token:
        """Inverse of ``to_dict``."""
        known = {k: data[k] for k in _KNOWN if k in data}
        return cls(**known, extra=dict(data.get("extra") or {}))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (what the stores persist)."""
        out = {k: getattr(self, k) for k in _KNOWN}
        out["extra"] = dict(self.extra)
        return out

    def expires_within(self, seconds: float, now: float | None = None) -> bool:
        """True when the token expires in less than ``seconds`` (never, if its expiry is unknown)."""
        if self.expires_at is None:
            return False
        return (time.time() if now is None else now) + seconds >= self.expires_at

    def __repr__(self) -> str:
        return (f"Token(token_type={self.token_type!r}, access_token=***, refresh_token="
                f"{'***' if self.refresh_token else None}, expires_at={self.expires_at!r}, scope={self.scope!r})")


@runtime_checkable
class TokenStore(Protocol):
    """Where tokens live between calls and processes, by key."""

    def get(self, key: str) -> Token | None:
        """The stored token, or None."""

    def set(self, key: str, token: Token) -> None:
        """Store ``token`` under ``key``, replacing what was there."""

    def delete(self, key: str) -> None:
        """Forget the token under ``key`` (no error if there is none)."""


class MemoryTokenStore:
    """Tokens in this process's memory (the default)."""

    def __init__(self) -> None:
        self._tokens: dict[str, Token] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Token | None:
        with self._lock:
            return self._tokens.get(key)

    def set(self, key: str, token: Token) -> None:
        with self._lock:
            self._tokens[key] = token

    def delete(self, key: str) -> None:
        with self._lock:
            self._tokens.pop(key, None)

    def __repr__(self) -> str:
        return f"MemoryTokenStore(keys={len(self._tokens)})"


class FileTokenStore:
    """Tokens in one JSON file, mode 0600, shared safely by threads and processes.

    Every write goes to a temporary file in the same directory and is renamed over the old one,
    so a reader never sees half a file. ``lock()`` holds an exclusive lock on ``<path>.lock``
    (``fcntl.flock``) so two processes refreshing at once take turns; the OAuth2 flows hold it
    around "re-read, refresh if still needed, write".
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        if self.path.exists() and self.path.is_dir():
            raise UsageError(f"FileTokenStore path {self.path} is a directory")
        self._thread_lock = threading.RLock()
        self._depth = 0  # how deep the owning thread is inside lock()

    # -- cross-process lock ---------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive across threads and processes (POSIX advisory lock on ``<path>.lock``)."""
        with self._thread_lock:
            if self._depth:  # re-entered by the thread holding it: flock on a new fd would deadlock
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                _flock(fd, exclusive=True)
                self._depth = 1
                yield
            finally:
                self._depth = 0
                _flock(fd, exclusive=False)
                os.close(fd)

    # -- TokenStore -----------------------------------------------------------------------------
    def get(self, key: str) -> Token | None:
        data = self._read().get(key)
        return Token.from_dict(data) if isinstance(data, dict) else None

    def set(self, key: str, token: Token) -> None:
        with self.lock():
            data = self._read()
            data[key] = token.to_dict()
            self._write(data)

    def delete(self, key: str) -> None:
        with self.lock():
            data = self._read()
            if data.pop(key, None) is not None:
                self._write(data)

    def _read(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        try:
            data = json.loads(text) if text.strip() else {}
        except ValueError as exc:
            raise UsageError(f"token file {self.path} is not valid JSON: {exc.__class__.__name__}") from None
        if not isinstance(data, dict):
            raise UsageError(f"token file {self.path} does not hold a JSON object")
        return data

    def _write(self, data: dict[str, Any]) -> None:
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def __repr__(self) -> str:
        return f"FileTokenStore({str(self.path)!r})"


def _flock(fd: int, exclusive: bool) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: one process per token file
        return
    fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_UN)


class CacheTokenStore:
    """Tokens in any cache with ``get(key)`` and ``set(key, value, timeout)``.

    Django's cache API and Redis-like clients both fit. Tokens are stored as JSON strings under
    ``prefix + key`` with no expiry (``timeout=None``): a refresh token outlives its access token.
    ``delete`` uses the cache's ``delete`` when it has one.
    """

    def __init__(self, cache: Any, *, prefix: str = "myclient:token:") -> None:
        if not (callable(getattr(cache, "get", None)) and callable(getattr(cache, "set", None))):
            raise UsageError("CacheTokenStore needs an object with get(key) and set(key, value, timeout)")
        self.cache = cache
        self.prefix = prefix

    def get(self, key: str) -> Token | None:
        raw = self.cache.get(self.prefix + key)
        if raw is None:
            return None
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8")
        return Token.from_dict(json.loads(raw) if isinstance(raw, str) else raw)

    def set(self, key: str, token: Token) -> None:
        self.cache.set(self.prefix + key, json.dumps(token.to_dict()), None)

    def delete(self, key: str) -> None:
        delete = getattr(self.cache, "delete", None)
        if callable(delete):
            delete(self.prefix + key)
        else:
            self.cache.set(self.prefix + key, None, None)

    def __repr__(self) -> str:
        return f"CacheTokenStore({type(self.cache).__name__}, prefix={self.prefix!r})"
