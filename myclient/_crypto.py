"""Tokens encrypted at rest: what every token store uses when it is given an ``encryption_key``.

Fernet (AES-128-CBC + HMAC-SHA256, from the well-kept ``cryptography`` package: ``pip install
'myclient[encryption]'``) encrypts and authenticates each stored entry. A list of keys allows rotation
(the first encrypts, all decrypt). An entry that does not decrypt — a wrong key, a tampered entry — or a
plain entry where an encrypted one is expected is an ``AuthError`` naming the store, never a silent
re-login that would hide the misconfiguration (or accept a token planted in the store).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .exceptions import AuthError, UsageError

__all__ = ["PREFIX", "Cipher", "new_key"]

#: Encrypted entries start with this, so a plain one is recognised (and refused) when a key is set.
PREFIX = "fernet:"


def new_key() -> str:
    """A new random encryption key (Fernet's urlsafe-base64 text); keep it in your secret store."""
    return str(_fernet_module().Fernet.generate_key().decode("ascii"))


def _fernet_module() -> Any:
    try:
        import cryptography.fernet as fernet
    except ImportError:
        raise UsageError("encrypting tokens at rest needs the cryptography package: "
                         "pip install 'myclient[encryption]'") from None
    return fernet


class Cipher:
    """Encrypts and decrypts one store's entries with a key (or keys, for rotation)."""

    def __init__(self, key: str | bytes | Sequence[str | bytes], where: str) -> None:
        fernet = _fernet_module()
        keys = [key] if isinstance(key, (str, bytes)) else list(key) if isinstance(key, (list, tuple)) else None
        if not keys:
            raise UsageError("encryption_key must be a key or a non-empty list of keys")
        try:
            ciphers = [fernet.Fernet(k) for k in keys]
        except (ValueError, TypeError):
            raise UsageError("encryption_key must be a Fernet key (32 url-safe base64-encoded bytes): "
                             "make one with myclient.tokens.new_key()") from None
        self._fernet = fernet.MultiFernet(ciphers)
        self._invalid = fernet.InvalidToken
        self.where = where

    def encrypt(self, text: str) -> str:
        """The entry to store for ``text``."""
        return PREFIX + str(self._fernet.encrypt(text.encode("utf-8")).decode("ascii"))

    def decrypt(self, stored: str, key: str) -> str:
        """The text of a stored entry; AuthError when it is plain or does not decrypt with the key(s)."""
        if not stored.startswith(PREFIX):
            raise AuthError(f"{self.where}, key {key!r}: the stored token is not encrypted, but an encryption_key "
                            "is set (refused: it may have been planted); delete the entry or log in again")
        try:
            return str(self._fernet.decrypt(stored[len(PREFIX):].encode("ascii")).decode("utf-8"))
        except (self._invalid, UnicodeError, ValueError):
            raise AuthError(f"{self.where}, key {key!r}: the stored token does not decrypt with the "
                            "encryption_key (a wrong key, or a tampered entry)") from None
