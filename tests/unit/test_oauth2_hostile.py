"""Hostile token endpoints: whatever the token endpoint sends back, a flow returns a Token or raises
AuthError — never OverflowError, RecursionError, AttributeError or the caller's UsageError — and
server text in the error is redacted and cannot forge log lines."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator

import pytest
import responses
from fuzzing import examples
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import myclient
from myclient.redaction import registry

API = "https://api.example"
TOKEN_URL = "https://auth.example/oauth/token"
SECRET = "hostile-client-secret-8"
DEEP = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECT = b'{"a":' * 50_000 + b"1" + b"}" * 50_000
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@contextlib.contextmanager
def _isolated_registry() -> Iterator[None]:
    """Keep fuzzed token values out of the process-wide redaction registry used by other tests."""
    before = registry.secrets
    try:
        yield
    finally:
        for value in registry.secrets - before:
            registry.forget(value)


def _ask(body: bytes, status: int = 200, content_type: str = "application/json") -> myclient.Token:
    """One token request against a token endpoint answering ``body``."""
    with responses.RequestsMock() as rs:
        rs.post(TOKEN_URL, body=body, status=status, content_type=content_type)
        flow = myclient.ClientCredentials(TOKEN_URL, "cid", SECRET)
        myclient.Client(API, auth=flow, retry=None)
        return flow.login()


HOSTILE = {
    "expires_in-1e400": b'{"access_token": "a-12345", "expires_in": 1e400}',
    "expires_in-NaN": b'{"access_token": "a-12345", "expires_in": NaN}',
    "expires_in-negative": b'{"access_token": "a-12345", "expires_in": -5}',
    "expires_in-huge-int": b'{"access_token": "a-12345", "expires_in": ' + b"9" * 400 + b"}",
    "expires_in-word": b'{"access_token": "a-12345", "expires_in": "an hour"}',
    "expires_in-true": b'{"access_token": "a-12345", "expires_in": true}',
    "expires_in-list": b'{"access_token": "a-12345", "expires_in": [60]}',
    "scope-number": b'{"access_token": "a-12345", "scope": 5}',
    "scope-object": b'{"access_token": "a-12345", "scope": {"read": true}}',
    "scope-list-of-numbers": b'{"access_token": "a-12345", "scope": [1, 2]}',
    "token_type-number": b'{"access_token": "a-12345", "token_type": 5}',
    "token_type-crlf": b'{"access_token": "a-12345", "token_type": "Bearer\\r\\nX: y"}',
    "access_token-missing": b'{"token_type": "Bearer"}',
    "access_token-empty": b'{"access_token": ""}',
    "access_token-number": b'{"access_token": 12345678}',
    "access_token-crlf": b'{"access_token": "a-12345\\r\\nX-Injected: 1"}',
    "access_token-space": b'{"access_token": "a 12345"}',
    "access_token-non-ascii": b'{"access_token": "a-12345\\u00e9"}',
    "refresh_token-number": b'{"access_token": "a-12345", "refresh_token": 12345678}',
    "id_token-object": b'{"access_token": "a-12345", "id_token": {}}',
    "error-number": b'{"error": 5}',
    "error-list": b'{"error": ["invalid_grant"]}',
    "error-in-200-with-token": b'{"access_token": "a-12345", "error": "invalid_grant"}',
    "extra-too-deep": b'{"access_token": "a-12345", "x": ' + b"[" * 100 + b"]" * 100 + b"}",
    "deep-array": DEEP,
    "deep-object": DEEP_OBJECT,
    "not-utf8": b'{"access_token": "\xff\xfe"}',
    "array": b'["access_token"]',
    "string": b'"access_token"',
    "empty": b"",
}


@pytest.mark.parametrize("status", [200, 400])
@pytest.mark.parametrize("body", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_token_documents_are_auth_errors(body: bytes, status: int) -> None:
    with _isolated_registry(), pytest.raises(myclient.AuthError) as info:
        _ask(body, status)
    err = info.value
    assert not isinstance(err, myclient.UsageError)
    assert (err.status, err.url) == (status, TOKEN_URL)
    assert not CONTROL.search(str(err))


@pytest.mark.parametrize("status", [400, 401])
def test_hostile_error_text_is_redacted_and_cannot_forge_log_lines(status: int) -> None:
    doc = {"error": "invalid_client", "error_description": f"bad secret {SECRET}\r\nINFO forged log line\x1b[31m"}
    with pytest.raises(myclient.AuthError) as info:
        _ask(json.dumps(doc).encode(), status)
    err = info.value
    assert err.error == "invalid_client"
    shown = f"{err} {err!r} {err.description}"
    assert SECRET not in shown
    assert not CONTROL.search(str(err)) and not CONTROL.search(err.description or "")
    assert "forged log line" in str(err)  # kept readable, on one line


def test_an_error_code_outside_the_rfc_alphabet_is_not_reported_as_one() -> None:
    with pytest.raises(myclient.AuthError) as info:
        _ask(b'{"error": "invalid\\"grant\\u0000"}', 400)
    assert info.value.error is None
    assert "answered 400" in str(info.value)


def test_a_valid_document_still_makes_a_token() -> None:
    token = _ask(b'{"access_token": "a-12345", "token_type": "bearer", "expires_in": "60", "scope": ["r", "w"],'
                 b' "refresh_token": "r-12345", "custom": {"nested": [1, 2]}}')
    assert (token.access_token, token.token_type, token.scope, token.refresh_token) == (
        "a-12345", "bearer", "r w", "r-12345")
    assert token.extra == {"custom": {"nested": [1, 2]}}
    assert token.expires_at is not None and token.issued_at is not None
    assert token.expires_at - token.issued_at == 60


# -- fuzz: any JSON document or any bytes -> a Token or AuthError, nothing else ---------------------

_KEYS = ("access_token", "token_type", "expires_in", "expires_at", "refresh_token", "scope", "id_token", "error",
         "error_description")
_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.text(max_size=8), inner, max_size=3), max_leaves=8)
_tokenish = st.from_regex(r"[A-Za-z0-9._~+/-]{1,24}", fullmatch=True) | st.sampled_from(["60", "1e400", " 60 "])
_token_like = st.fixed_dictionaries({}, optional={k: _values | st.text(max_size=30) | _tokenish for k in _KEYS})
_with_token = st.fixed_dictionaries({"access_token": _tokenish},
                                    optional={k: _tokenish | _values for k in _KEYS if k != "access_token"})
_documents = (_token_like | _with_token | _values).map(lambda doc: json.dumps(doc).encode())
_FUZZ = settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                         HealthCheck.too_slow])


def _token_or_auth_error(body: bytes, status: int) -> None:
    with _isolated_registry():
        try:
            token = _ask(body, status)
        except myclient.AuthError as err:
            failure: myclient.AuthError | None = err
        else:
            failure = None
    if failure is not None:
        assert not isinstance(failure, myclient.UsageError)
        assert not CONTROL.search(str(failure))
        event("AuthError")
        return
    event("Token")
    assert status < 400
    assert re.fullmatch(r"[\x21-\x7e]+", token.access_token)
    assert token.expires_at is None or token.expires_at < float("inf")


@_FUZZ
@given(body=_documents, status=st.sampled_from([200, 201, 400, 401, 500]))
def test_fuzz_any_json_document_gives_a_token_or_an_auth_error(body: bytes, status: int) -> None:
    _token_or_auth_error(body, status)


@_FUZZ
@given(body=st.binary(max_size=200), status=st.sampled_from([200, 400, 503]))
def test_fuzz_any_bytes_give_a_token_or_an_auth_error(body: bytes, status: int) -> None:
    _token_or_auth_error(body, status)
