"""Tokens encrypted at rest (``encryption_key=``) in the file and cache stores; Redis is in test_fleet.py.

What is stored holds no form of the secret (raw, base64'd, JSON-escaped, percent-encoded); a wrong key,
a tampered entry, a plain entry where an encrypted one is expected (or the reverse) is an ``AuthError``
naming the store — and an OAuth2 flow reading such an entry raises it instead of silently logging in
again, so the misconfiguration is seen. A list of keys rotates: the first encrypts, all decrypt.
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
import responses

import myclient
from myclient.tokens import CacheTokenStore, FileTokenStore, Token, new_key

TOKEN_URL = "https://auth.example/oauth/token"
SECRET = "acc3ss+tok/en.~_-=="


class DictCache:
    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def set(self, key: str, value: Any, timeout: Any = None) -> None:
        self.data[key] = value

    def delete(self, key: str) -> None:
        self.data.pop(key, None)


def token() -> Token:
    return Token(SECRET, refresh_token="refr/esh+tok", expires_at=2e9, issued_at=1e9, scope="read")


def file_store(tmp_path: Path, key: Any) -> FileTokenStore:
    return FileTokenStore(tmp_path / "tokens.json", encryption_key=key)


def raw_of(store: Any) -> str:
    """Everything the store put at rest, as text."""
    if isinstance(store, FileTokenStore):
        return store.path.read_text()
    return json.dumps(store.cache.data)


def forms_of(secret: str) -> list[str]:
    return [secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret),
            base64.b64encode(secret.encode()).decode(), json.dumps(secret)[1:-1],
            json.dumps(secret, ensure_ascii=False)[1:-1]]


@pytest.fixture(params=["file", "cache"])
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    cache = DictCache()

    def build(key: Any = None) -> Any:
        if request.param == "file":
            return file_store(tmp_path, key)
        return CacheTokenStore(cache, encryption_key=key)

    return build


def test_round_trip_and_nothing_of_the_secret_at_rest(make: Any) -> None:
    store = make(new_key())
    store.set("k", token())
    assert store.get("k") == token()
    at_rest = raw_of(store)
    assert "fernet:" in at_rest
    for form in forms_of(SECRET) + forms_of("refr/esh+tok"):
        assert form not in at_rest, form


def test_a_wrong_key_is_an_auth_error_naming_the_store(make: Any) -> None:
    make(new_key()).set("k", token())
    with pytest.raises(myclient.AuthError, match="does not decrypt with the encryption_key") as caught:
        make(new_key()).get("k")
    assert "key 'k'" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_a_plain_entry_is_refused_when_a_key_is_set(make: Any) -> None:
    make(None).set("k", token())  # written before encryption was turned on, or planted
    with pytest.raises(myclient.AuthError, match="not encrypted"):
        make(new_key()).get("k")


def test_an_encrypted_entry_without_the_key_is_an_auth_error(make: Any) -> None:
    make(new_key()).set("k", token())
    with pytest.raises(myclient.AuthError, match="encrypt"):
        make(None).get("k")


def test_a_tampered_entry_is_refused(make: Any) -> None:
    key = new_key()
    store = make(key)
    store.set("k", token())
    if isinstance(store, FileTokenStore):
        data = json.loads(store.path.read_text())
        data["k"] = data["k"][:-6] + ("A" if data["k"][-6] != "A" else "B") + data["k"][-5:]
        store.path.write_text(json.dumps(data))
    else:
        value = store.cache.data["myclient:token:k"]
        store.cache.data["myclient:token:k"] = value[:-6] + ("A" if value[-6] != "A" else "B") + value[-5:]
    with pytest.raises(myclient.AuthError, match="does not decrypt"):
        make(key).get("k")


def test_keys_rotate_first_encrypts_all_decrypt(make: Any) -> None:
    old, new = new_key(), new_key()
    make(old).set("k", token())
    rotated = make([new, old])
    assert rotated.get("k") == token()
    rotated.set("k", token())  # re-written with the new key
    assert make(new).get("k") == token()
    with pytest.raises(myclient.AuthError):
        make(old).get("k")


@pytest.mark.parametrize("bad", ["not-a-key", b"short", [], 42])
def test_a_malformed_key_is_a_usage_error(tmp_path: Path, bad: Any) -> None:
    with pytest.raises(myclient.UsageError, match="encryption_key"):
        FileTokenStore(tmp_path / "t.json", encryption_key=bad)
    with pytest.raises(myclient.UsageError, match="encryption_key"):
        CacheTokenStore(DictCache(), encryption_key=bad)


def test_a_wrong_key_stops_the_flow_instead_of_logging_in_again(make: Any) -> None:
    """The misconfiguration is an AuthError on first use; no token request hides it."""
    writer = myclient.ClientCredentials(TOKEN_URL, "cid", "sec-1234", store=make(new_key()))
    writer.store.set(writer.store_key, Token("persisted-1", expires_at=None))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rs:
        rs.post(TOKEN_URL, json={"access_token": "fresh-1", "token_type": "Bearer", "expires_in": 60})
        with pytest.raises(myclient.AuthError, match="does not decrypt"):  # the flow reads its store at once
            myclient.ClientCredentials(TOKEN_URL, "cid", "sec-1234", store=make(new_key())).token()
        assert len(rs.calls) == 0


def test_the_flow_uses_an_encrypted_store_end_to_end(make: Any) -> None:
    key = new_key()
    flow = myclient.ClientCredentials(TOKEN_URL, "cid", "sec-1234", store=make(key))
    with responses.RequestsMock() as rs:
        rs.post(TOKEN_URL, json={"access_token": "fresh-token-1", "token_type": "Bearer", "expires_in": 600})
        assert flow.token().access_token == "fresh-token-1"
    assert "fresh-token-1" not in raw_of(flow.store)
    again = myclient.ClientCredentials(TOKEN_URL, "cid", "sec-1234", store=make(key))
    assert again.token().access_token == "fresh-token-1"  # read back, no request (none is mocked)
