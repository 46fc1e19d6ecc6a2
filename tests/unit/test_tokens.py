"""Token values and stores: persistence, file safety (0600, atomic, locked) and no secret in repr."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path
from typing import Any

import pytest

import myclient
from myclient.tokens import CacheTokenStore, FileTokenStore, MemoryTokenStore, Token


def _token(n: int = 1, **kw: Any) -> Token:
    return Token(access_token=f"access-{n}-xyz", refresh_token=f"refresh-{n}-xyz", expires_at=2000.0,
                 issued_at=1000.0, scope="read", **kw)


def test_from_response_turns_expires_in_into_expires_at() -> None:
    token = Token.from_response({"access_token": "a-12345", "token_type": "bearer", "expires_in": 2,
                                 "scope": ["read", "write"], "custom": 1}, now=100.0)
    assert (token.expires_at, token.issued_at, token.scope) == (102.0, 100.0, "read write")
    assert token.extra == {"custom": 1}
    assert token.expires_within(3, now=100.0)
    assert not token.expires_within(1, now=100.0)
    assert not Token("no-expiry").expires_within(10_000)


def test_token_round_trips_and_hides_secrets() -> None:
    token = _token(extra={"k": "v"})
    assert Token.from_dict(json.loads(json.dumps(token.to_dict()))) == token
    assert "access-1-xyz" not in repr(token)
    assert "refresh-1-xyz" not in repr(token)
    with pytest.raises(myclient.UsageError):
        Token("")


@pytest.mark.parametrize("make", [MemoryTokenStore, lambda: CacheTokenStore(DictCache())])
def test_stores_get_set_delete(make: Any) -> None:
    store = make()
    assert store.get("k") is None
    store.set("k", _token())
    assert store.get("k") == _token()
    store.delete("k")
    store.delete("k")
    assert store.get("k") is None


class DictCache:
    """Django-cache shaped: get(key) and set(key, value, timeout)."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.timeouts: list[Any] = []

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def set(self, key: str, value: Any, timeout: Any) -> None:
        self.timeouts.append(timeout)
        self.data[key] = value


class NoDeleteCache(DictCache):
    pass


def test_cache_store_uses_prefix_json_and_no_expiry() -> None:
    cache = DictCache()
    CacheTokenStore(cache, prefix="app:").set("k", _token())
    assert list(cache.data) == ["app:k"]
    assert json.loads(cache.data["app:k"])["access_token"] == "access-1-xyz"
    assert cache.timeouts == [None]
    with pytest.raises(myclient.UsageError):
        CacheTokenStore(object())


def test_cache_store_accepts_bytes_like_redis() -> None:
    cache = DictCache()
    store = CacheTokenStore(cache)
    store.set("k", _token())
    cache.data["myclient:token:k"] = cache.data["myclient:token:k"].encode()
    assert store.get("k") == _token()


def test_file_store_creates_0600_file_and_persists(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "tokens.json"
    FileTokenStore(path).set("a", _token(1))
    FileTokenStore(path).set("b", _token(2))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    fresh = FileTokenStore(path)
    assert fresh.get("a") == _token(1)
    assert fresh.get("b") == _token(2)
    fresh.delete("a")
    assert FileTokenStore(path).get("a") is None
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_file_store_reports_a_corrupt_file_clearly(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text("{not json")
    with pytest.raises(myclient.AuthError, match="not valid JSON"):
        FileTokenStore(path).get("a")
    with pytest.raises(myclient.UsageError, match="directory"):
        FileTokenStore(tmp_path)


def test_file_store_concurrent_writers_never_corrupt_it(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    store = FileTokenStore(path)

    def write(n: int) -> None:
        for i in range(20):
            FileTokenStore(path).set(f"key-{n}", _token(i))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(json.loads(path.read_text())) == [f"key-{n}" for n in range(8)]
    assert store.get("key-3") == _token(19)


def test_file_store_lock_is_reentrant_for_its_holder(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "tokens.json")
    with store.lock(), store.lock():
        store.set("k", _token())
    assert store.get("k") == _token()


# -- tampered or hostile stored tokens (issue 10, item 27) -----------------------------------------

SECRET_ACCESS = "stored-access-secret-1"


@pytest.mark.parametrize(("field", "value"), [
    ("extra", 5), ("extra", [1, 2]), ("refresh_token", 12345678), ("access_token", 42), ("access_token", ""),
    ("access_token", None), ("expires_at", "soon"), ("expires_at", 1e400), ("expires_at", True),
    ("issued_at", [1]), ("scope", {"a": 1}), ("token_type", 7), ("id_token", 3.5),
    ("access_token", "with\\r\\nnewline"),
])
@pytest.mark.parametrize("kind", ["file", "cache"])
def test_a_tampered_entry_is_an_auth_error_naming_store_and_key(tmp_path: Path, kind: str, field: str,
                                                                value: Any) -> None:
    entry = Token(SECRET_ACCESS, refresh_token="stored-refresh-secret-2").to_dict()
    entry[field] = value.replace("\\r\\n", "\r\n") if isinstance(value, str) else value
    text = json.dumps(entry)
    if kind == "file":
        path = tmp_path / "tokens.json"
        path.write_text(json.dumps({"the-key": json.loads(text)}))
        store: Any = FileTokenStore(path)
    else:
        cache = DictCache()
        cache.data["myclient:token:the-key"] = text
        store = CacheTokenStore(cache)
    with pytest.raises(myclient.AuthError) as info:
        store.get("the-key")
    message = str(info.value)
    assert "the-key" in message
    assert (str(tmp_path) if kind == "file" else "DictCache") in message
    assert field in message
    assert "stored-access" not in message and "stored-refresh" not in message
    assert not isinstance(info.value, myclient.UsageError)


DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize("raw", [b"\xff\xfe not utf-8", DEEP, b"5", b"[]", b'{"a": 1}'],
                         ids=["not-utf8", "deep", "number", "list", "no-access-token"])
def test_undecodable_cache_entries_are_auth_errors(raw: bytes) -> None:
    cache = DictCache()
    cache.data["myclient:token:k"] = raw
    with pytest.raises(myclient.AuthError, match="'k'"):
        CacheTokenStore(cache).get("k")


@pytest.mark.parametrize("raw", [b"\xff\xfe not utf-8", DEEP, b'{"k": 5}', b'{"k": "access-token-as-string"}'],
                         ids=["not-utf8", "deep", "number-entry", "string-entry"])
def test_undecodable_token_files_are_auth_errors(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "tokens.json"
    path.write_bytes(raw)
    with pytest.raises(myclient.AuthError, match=r"tokens\.json"):
        FileTokenStore(path).get("k")


def test_token_from_response_refuses_an_infinite_lifetime() -> None:
    with pytest.raises(myclient.AuthError, match="expires_in"):
        Token.from_response(json.loads('{"access_token": "a-12345", "expires_in": 1e400}'))
    with pytest.raises(myclient.AuthError, match="expires_in"):
        Token.from_response({"access_token": "a-12345", "expires_in": "3600s"})
    assert Token.from_response({"access_token": "a-12345", "expires_in": "3600"}, now=0.0).expires_at == 3600.0


# -- planted symbolic links (issue 10, item 28) ------------------------------------------------------

def test_a_planted_lock_symlink_is_not_followed(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    victim = tmp_path / "victim-created-by-the-lock"
    os.symlink(victim, f"{path}.lock")
    store = FileTokenStore(path)
    with pytest.raises(myclient.AuthError, match="lock"):
        store.set("k", _token())
    assert not victim.exists()
    assert not path.exists()


def test_a_planted_token_file_symlink_is_neither_read_nor_written_through(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    planted = tmp_path / "attacker-tokens.json"
    planted.write_text(json.dumps({"k": _token(7).to_dict()}))
    before = planted.read_text()
    os.symlink(planted, path)
    store = FileTokenStore(path)
    with pytest.raises(myclient.AuthError, match="symbolic link"):
        store.get("k")
    with pytest.raises(myclient.AuthError, match="symbolic link"):
        store.set("k", _token(1))
    assert planted.read_text() == before
    assert path.is_symlink()


def test_a_fifo_planted_as_the_token_file_does_not_hang(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    os.mkfifo(path)
    with pytest.raises(myclient.AuthError, match="regular file"):
        FileTokenStore(path).get("k")
