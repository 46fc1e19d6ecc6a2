"""Token values and the stores that keep them: memory, a JSON file shared by processes, any cache.

A store only keeps tokens; it never asks a server for one. Secrets never appear in a repr.

Every field of a token is checked wherever a token comes from, by one rule (``_token_check``): a
token built in code that does not validate is a UsageError; a token endpoint's document or a
stored entry that does not validate (tampered, truncated, hostile) is an AuthError naming the
field and, for a store, the store and key — never a value.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ._crypto import PREFIX, Cipher
from ._token_check import KNOWN_FIELDS, Invalid, check, response_fields
from .exceptions import AuthError, UsageError
from .redaction import registry

__all__ = ["CacheTokenStore", "FileTokenStore", "MemoryTokenStore", "StaleLock", "Token", "TokenStore", "new_key"]


class StaleLock(AuthError):
    """A store refused a write made under a lock that had expired (another worker took it and renewed).

    The OAuth2 flows catch it and use the token the store holds; it reaches callers only from
    direct use of a store.
    """

_KNOWN = KNOWN_FIELDS


@dataclass(frozen=True)
class Token:
    """An OAuth2 token. ``expires_at`` and ``issued_at`` are Unix times (None: unknown).

    Built in code, a token whose fields do not validate raises UsageError; built by
    ``from_response`` or ``from_dict`` (data from a server or a store), AuthError.
    """

    access_token: str
    token_type: str = "Bearer"
    refresh_token: str | None = None
    expires_at: float | None = None
    issued_at: float | None = None
    scope: str | None = None
    id_token: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        try:
            checked = check({name: getattr(self, name) for name in (*_KNOWN, "extra")})
        except Invalid as exc:
            raise UsageError(f"invalid Token: {exc}") from None
        for name, value in checked.items():
            object.__setattr__(self, name, value)
        for secret in (self.access_token, self.refresh_token, self.id_token):
            registry.add_secret(secret)

    @classmethod
    def from_response(cls, data: Mapping[str, Any], now: float | None = None) -> Token:
        """Build a token from a token-endpoint response (``expires_in`` becomes ``expires_at``).

        Raises AuthError when the document does not validate.
        """
        try:
            return cls(**check(response_fields(data, time.time() if now is None else now)))
        except Invalid as exc:
            raise AuthError(f"the token response does not validate: {exc}") from None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Token:
        """Inverse of ``to_dict``; raises AuthError when the data does not validate."""
        try:
            if not isinstance(data, Mapping):
                raise Invalid("it is not a JSON object")
            return cls(**check({k: data.get(k) for k in (*_KNOWN, "extra")}))
        except Invalid as exc:
            raise AuthError(f"the stored token does not validate: {exc}") from None

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

    Neither the token file nor the lock file is opened through a symbolic link, and both must be
    regular files: a link or FIFO planted in a shared directory is refused with AuthError instead
    of being read, written through or created at its target (the temporary file is created with
    ``O_EXCL`` under a random name, and the rename replaces a link rather than following it). A
    file that cannot be read, is not a JSON object, or holds an entry that does not validate is
    an AuthError naming the file and key.
    """

    def __init__(self, path: str | os.PathLike[str], *, encryption_key: Any = None) -> None:
        self.path = Path(path).expanduser()
        if self.path.exists() and self.path.is_dir():
            raise UsageError(f"FileTokenStore path {self.path} is a directory")
        self._cipher = Cipher(encryption_key, f"token file {self.path}") if encryption_key is not None else None
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
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise AuthError(f"token file directory {self.path.parent} cannot be created "
                                f"({type(exc).__name__})") from None
            fd = _open_regular(Path(f"{self.path}.lock"), os.O_RDWR | os.O_CREAT, "token lock file")
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
        entry = self._read().get(key)
        if entry is None:
            return None
        entry = _open_entry(entry, self._cipher, f"token file {self.path}", key)
        try:
            return Token.from_dict(entry)
        except AuthError as exc:
            raise AuthError(f"token file {self.path}, key {key!r}: {exc}") from None

    def set(self, key: str, token: Token) -> None:
        with self.lock():
            data = self._read()
            data[key] = _seal_entry(token, self._cipher)
            self._write(data)

    def delete(self, key: str) -> None:
        with self.lock():
            data = self._read()
            if data.pop(key, None) is not None:
                self._write(data)

    def _read(self) -> dict[str, Any]:
        try:
            fd = _open_regular(self.path, os.O_RDONLY, "token file")
        except FileNotFoundError:
            return {}
        try:
            with os.fdopen(fd, "rb") as fh:
                raw = fh.read()
        except OSError as exc:
            raise AuthError(f"token file {self.path} cannot be read ({type(exc).__name__})") from None
        try:
            text = raw.decode("utf-8")
            data = json.loads(text) if text.strip() else {}
        except (ValueError, RecursionError) as exc:
            raise AuthError(f"token file {self.path} is not valid JSON ({type(exc).__name__})") from None
        if not isinstance(data, dict):
            raise AuthError(f"token file {self.path} does not hold a JSON object")
        return data

    def _write(self, data: dict[str, Any]) -> None:
        tmp: str | None = None
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException as exc:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
            if isinstance(exc, OSError):
                raise AuthError(f"token file {self.path} cannot be written ({type(exc).__name__})") from None
            raise

    def __repr__(self) -> str:
        return f"FileTokenStore({str(self.path)!r})"


_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


def _open_regular(path: Path, flags: int, what: str) -> int:
    """Open ``path`` not through a symbolic link, never blocking on a FIFO; only a regular file.

    FileNotFoundError passes through (no file yet); every other failure is an AuthError.
    """
    try:
        fd = os.open(path, flags | _NO_FOLLOW, 0o600)
    except FileNotFoundError:
        raise
    except OSError as exc:
        if path.is_symlink():
            raise AuthError(f"{what} {path} is a symbolic link; refusing to follow it") from None
        raise AuthError(f"{what} {path} cannot be opened ({type(exc).__name__})") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise AuthError(f"{what} {path} is not a regular file")
    return fd


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

    def __init__(self, cache: Any, *, prefix: str = "myclient:token:", encryption_key: Any = None) -> None:
        if not (callable(getattr(cache, "get", None)) and callable(getattr(cache, "set", None))):
            raise UsageError("CacheTokenStore needs an object with get(key) and set(key, value, timeout)")
        self.cache = cache
        self.prefix = prefix
        self._cipher = Cipher(encryption_key, repr(self)) if encryption_key is not None else None

    def get(self, key: str) -> Token | None:
        """The cached token; an entry that is not a valid token's JSON is an AuthError naming the key."""
        raw = self.cache.get(self.prefix + key)
        if raw is None:
            return None
        try:
            if isinstance(raw, (bytes, bytearray)):
                raw = bytes(raw).decode("utf-8")
            if self._cipher is not None:
                raw = self._cipher.decrypt(raw if isinstance(raw, str) else "", key)
            elif isinstance(raw, str) and raw.startswith(PREFIX):
                raise AuthError(f"{self!r}, key {key!r}: the stored token is encrypted; give the store its "
                                "encryption_key")
            data = json.loads(raw) if isinstance(raw, str) else raw
        except (ValueError, RecursionError) as exc:
            raise AuthError(f"{self!r}, key {key!r}: the entry is not valid JSON ({type(exc).__name__})") from None
        try:
            return Token.from_dict(data)
        except AuthError as exc:
            raise AuthError(f"{self!r}, key {key!r}: {exc}") from None

    def set(self, key: str, token: Token) -> None:
        text = json.dumps(token.to_dict())
        self.cache.set(self.prefix + key, self._cipher.encrypt(text) if self._cipher is not None else text, None)

    def delete(self, key: str) -> None:
        delete = getattr(self.cache, "delete", None)
        if callable(delete):
            delete(self.prefix + key)
        else:
            self.cache.set(self.prefix + key, None, None)

    def __repr__(self) -> str:
        return f"CacheTokenStore({type(self.cache).__name__}, prefix={self.prefix!r})"


def _seal_entry(token: Token, cipher: Cipher | None) -> Any:
    """What a file store keeps for ``token``: its dict, or the dict's JSON encrypted."""
    data = token.to_dict()
    return cipher.encrypt(json.dumps(data)) if cipher is not None else data


def _open_entry(entry: Any, cipher: Cipher | None, where: str, key: str) -> Any:
    """The dict a stored entry holds (decrypting it when the store has a key)."""
    if cipher is None:
        if isinstance(entry, str) and entry.startswith(PREFIX):
            raise AuthError(f"{where}, key {key!r}: the stored token is encrypted; give the store its encryption_key")
        return entry
    text = cipher.decrypt(entry if isinstance(entry, str) else "", key)
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise AuthError(f"{where}, key {key!r}: the decrypted entry is not a token") from None


def new_key() -> str:
    """A new random key for ``encryption_key=`` (keep it in your secret store, not beside the tokens)."""
    from ._crypto import new_key as make

    return make()
