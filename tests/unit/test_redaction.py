"""The redaction registry: names, literal values and credential shapes masked in every form."""

from __future__ import annotations

import base64
import json
import re
import sys
import threading
import uuid
from typing import Any
from urllib.parse import quote, quote_plus, urlencode

import pytest
import requests
import responses
from fuzzing import examples
from hypothesis import given, settings
from hypothesis import strategies as st

import myclient
from myclient import transport as _transport
from myclient.redaction import MASK, Registry


def test_query_params_userinfo_and_literals_are_masked_in_urls() -> None:
    reg = Registry()
    reg.add_secret("literal-secret-1")
    url = "https://ann:pw@h.example/p/literal-secret-1?access_token=a&Code=b&q=keep"
    assert reg.url(url) == f"https://ann:{MASK}@h.example/p/{MASK}?access_token={MASK}&Code={MASK}&q=keep"


def test_registered_names_extend_the_defaults() -> None:
    reg = Registry()
    reg.add_header("X-Gateway-Key")
    reg.add_param("sessionid")
    reg.add_field("pin")
    assert reg.header_items({"x-gateway-key": "v", "Accept": "a"}) == {"x-gateway-key": MASK, "Accept": "a"}
    assert reg.url("https://h/x?SessionId=1") == f"https://h/x?SessionId={MASK}"
    assert reg.data({"pin": "1234", "n": [{"pin": "9"}]}) == {"pin": MASK, "n": [{"pin": MASK}]}


def test_text_masks_json_fields_pairs_and_credential_shapes() -> None:
    reg = Registry()
    text = ('{"refresh_token": "r1", "password":"p\\"q"} client_secret=s3 '
            "Authorization: Bearer abcdefgh1234 eyJhbGciOiJI.eyJzdWIiOiIx.c2ln token endpoint")
    out = reg.text(text)
    for secret in ("r1", 'p\\"q', "s3", "abcdefgh1234", "eyJhbGciOiJI"):
        assert secret not in out
    assert reg.contains_secret(out) == []
    assert out.endswith("token endpoint")


def test_longer_secret_masked_whole_when_it_contains_a_shorter_one() -> None:
    reg = Registry()
    reg.add_secret("abcd")
    reg.add_secret("abcdefgh")
    assert reg.text("x abcdefgh y abcd") == f"x {MASK} y {MASK}"


def test_short_values_are_not_registered() -> None:
    reg = Registry()
    reg.add_secret("ab")
    reg.add_secret(None)
    assert reg.secrets == frozenset()


def test_contains_secret_reports_registered_values_and_shapes() -> None:
    reg = Registry()
    reg.add_secret("canary-value")
    found = reg.contains_secret("has canary-value and Basic dXNlcjpwYXNzd29yZA==")
    assert len(found) == 2


def test_form_bodies_mask_secret_fields() -> None:
    reg = Registry()
    assert reg.form("grant_type=password&username=ann&password=pw&client_secret=cs") == (
        f"grant_type=password&username=ann&password={MASK}&client_secret={MASK}"
    )


def test_secret_header_names_are_secret_as_fields_and_params_too() -> None:
    reg = Registry()
    assert reg.data({"Authorization": "Bearer x", "Set-Cookie": "sid=1"}) == {"Authorization": MASK, "Set-Cookie": MASK}
    assert reg.url("https://h/x?Set-Cookie=sid%3D1") == f"https://h/x?Set-Cookie={MASK}"


# -- names: case- and separator-insensitive, secret endings, token headers ----------------------


def test_camel_case_and_separator_variants_of_secret_names_are_masked() -> None:
    reg = Registry()
    doc = {"accessToken": "a-1", "sessionToken": "s-1", "Refresh-Token": "r-1", "nested": [{"clientSecret": "c"}],
           "tokenType": "Bearer", "pageSize": 2, "hasPassword": False, "pin_password": 1234}
    assert reg.data(doc) == {"accessToken": MASK, "sessionToken": MASK, "Refresh-Token": MASK,
                             "nested": [{"clientSecret": MASK}], "tokenType": "Bearer", "pageSize": 2,
                             "hasPassword": False, "pin_password": MASK}
    assert reg.url("https://h/x?accessToken=a-1&pageSize=2") == f"https://h/x?accessToken={MASK}&pageSize=2"
    assert reg.form("sessionToken=s-1&user=ann") == f"sessionToken={MASK}&user=ann"
    out = reg.text('{"sessionToken": "s-1", "xApiKey": "k-1", "count": 3} apiToken=t-1')
    assert "s-1" not in out and "k-1" not in out and "t-1" not in out and '"count": 3' in out


def test_common_token_headers_are_secret_by_default() -> None:
    reg = Registry()
    headers = {"X-Vault-Token": "hvs.1", "PRIVATE-TOKEN": "glpat-1", "x_csrf_token": "c", "Accept": "a"}
    assert reg.header_items(headers) == {"X-Vault-Token": MASK, "PRIVATE-TOKEN": MASK, "x_csrf_token": MASK,
                                         "Accept": "a"}
    assert reg.data({"X-Vault-Token": "hvs.1"}) == {"X-Vault-Token": MASK}  # httpbin echoes headers as JSON
    assert "glpat-1" not in reg.text("PRIVATE-TOKEN: glpat-1\nAccept: a")


# -- encodings: a registered value is masked (and found) in every form it takes ------------------

ODD = "p+s/w=rd 42ä"


def _encodings(secret: str) -> dict[str, str]:
    raw = secret.encode()
    return {
        "quote": quote(secret, safe=""),
        "quote-lower": re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(secret, safe="")),
        "quote_plus": quote_plus(secret),
        "requote": requests.utils.requote_uri(secret),
        "json": json.dumps(secret)[1:-1],
        "json-slash": json.dumps(secret)[1:-1].replace("/", "\\/"),
        "basic": base64.b64encode(b"ann:" + raw).decode(),
        "data-url": base64.b64encode(b"\x00\x01" + raw + b"\x02").decode(),
    }


@pytest.mark.parametrize("kind", list(_encodings(ODD)))
def test_registered_value_is_masked_and_found_in_every_encoding(kind: str) -> None:
    reg = Registry()
    reg.add_secret(ODD)
    encoded = _encodings(ODD)[kind]
    text = f"before {encoded} after"
    assert reg.contains_secret(text), kind
    out = reg.text(text)
    assert encoded not in out and MASK in out
    assert reg.contains_secret(out) == []


def test_registered_value_as_json_key_and_in_form_bodies_under_any_name() -> None:
    reg = Registry()
    reg.add_secret(ODD)
    assert reg.data({ODD: 1, "n": {ODD: [ODD]}}) == {MASK: 1, "n": {MASK: [MASK]}}
    assert reg.data({ODD: 1, f"x{ODD}": 2}) == {MASK: 1, f"x{MASK}": 2}
    body = urlencode({"note": ODD, "n": "1"})
    assert reg.form(body) == f"note={MASK}&n=1"
    assert reg.url(f"https://h/p/{quote(ODD, safe='')}?q={quote_plus(ODD)}") == f"https://h/p/{MASK}?q={MASK}"


# -- deep documents ------------------------------------------------------------------------------


def test_deeply_nested_documents_are_redacted_without_recursion() -> None:
    reg = Registry()
    doc: object = {"password": "pw-1", "ok": True}
    for _ in range(100_000):
        doc = [{"n": doc}]
    out = reg.data(doc)
    for _ in range(100_000):
        out = out[0]["n"]  # type: ignore[index]
    assert out == {"password": MASK, "ok": True}


def test_a_500_deep_json_error_body_raises_the_http_error_not_recursion() -> None:
    body = "[" * 500 + '{"message": "too deep", "token": "t-1"}' + "]" * 500
    with responses.RequestsMock() as rs:
        rs.get("https://api.test/deep", status=400, body=body, content_type="application/json")
        with pytest.raises(myclient.BadRequest) as info:
            myclient.Client("https://api.test", retry=None).adapter.get("/deep")
    assert info.value.status == 400


# -- bounded: pinned and learned values ----------------------------------------------------------


_SENT = requests.Request("GET", "https://api.test/x").prepare()


def _cookie_response(value: str) -> requests.Response:
    response = requests.Response()
    response.request = _SENT
    response.cookies.set("sid", value)
    response.headers["Set-Cookie"] = f"sid={value}"
    return response


def test_rotating_cookies_keep_the_registry_bounded_and_never_recompile(monkeypatch: pytest.MonkeyPatch) -> None:
    reg = Registry()
    monkeypatch.setattr(_transport, "registry", reg)
    compiled: list[int] = []
    real_compile = re.compile

    def spy(pattern: Any, flags: int = 0) -> Any:
        if str(sys._getframe(1).f_globals.get("__name__", "")).startswith("myclient"):
            compiled.append(len(pattern))
        return real_compile(pattern, flags)

    monkeypatch.setattr(re, "compile", spy)
    values = [uuid.UUID(int=i).hex for i in range(1, 20_001)]
    for value in values[:500]:
        _transport._register_cookies(_cookie_response(value), received=True)
    assert compiled == []  # registering a value compiles nothing
    work = []
    for start in range(500, 20_000, 1_000):
        before = reg._literals.touched
        for value in values[start:start + 1_000]:
            _transport._register_cookies(_cookie_response(value), received=True)
        work.append(reg._literals.touched - before)
    assert compiled == []
    assert work[-1] <= work[1]  # the same index work per value after 19,500 values as after 1,500
    _, learned, entries = reg.sizes()
    assert learned <= 256 and len(reg.secrets) <= 256
    assert entries <= 256 * 8 * 8  # grams of at most 256 values' variants
    assert reg.text(f"x={values[-1]}") == f"x={MASK}"  # the live value is masked
    assert reg.text(values[0]) == values[0]  # long-gone values were forgotten


def test_pinned_secrets_are_bounded_and_recent_ones_kept() -> None:
    reg = Registry(pinned_max=100)
    for i in range(1_000):
        reg.add_secret(f"pinned-secret-{i:04d}")
    assert len(reg.secrets) == 100
    assert reg.text("pinned-secret-0999") == MASK
    assert reg.text("pinned-secret-0000") == "pinned-secret-0000"


def test_a_learned_value_registered_on_purpose_is_pinned() -> None:
    reg = Registry(learned_max=2)
    assert reg.learn("learned-value-0a1b2c3d")
    reg.add_secret("learned-value-0a1b2c3d")
    for i in range(10):
        reg.learn(f"other-value-{i:02d}-9f8e7d")
    assert reg.text("learned-value-0a1b2c3d") == MASK


@pytest.mark.parametrize("common", ["not found", "127.0.0.1", "deleted", "en-US", "true", "1700000000",
                                    "2024-01-01", "anonymous-visitor", "   padded   "])
def test_short_and_common_cookie_values_are_not_learned(monkeypatch: pytest.MonkeyPatch, common: str) -> None:
    reg = Registry()
    monkeypatch.setattr(_transport, "registry", reg)
    _transport._register_cookies(_cookie_response(common), received=True)
    text = f"GET http://127.0.0.1:8080/x -> 404 not found; {common}"
    assert reg.text(text) == text
    assert reg.learn("f3a9c1e07b2d4c58a6e1") and reg.text("f3a9c1e07b2d4c58a6e1") == MASK


ENCODERS = {
    "raw": lambda s: s,
    "quote": lambda s: quote(s, safe=""),
    "quote-lower": lambda s: re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(s, safe="")),
    "quote_plus": quote_plus,
    "requote": requests.utils.requote_uri,
    "json": lambda s: json.dumps(s)[1:-1],
    "json-unicode": lambda s: json.dumps(s, ensure_ascii=False)[1:-1],
}
_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="*"), max_size=30)


@settings(max_examples=examples(300), deadline=None)
@given(secret=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="*%"), min_size=4,
                      max_size=40),
       before=_TEXT, after=_TEXT, kind=st.sampled_from(sorted(ENCODERS)))
def test_a_registered_value_is_masked_in_any_encoding_wherever_it_sits(
        secret: str, before: str, after: str, kind: str) -> None:
    reg = Registry()
    reg.add_secret(secret)
    encoded = ENCODERS[kind](secret)
    out = reg.literals(before + encoded + after)
    assert encoded not in out
    assert reg.contains_secret(before + encoded + after)


@settings(max_examples=examples(200), deadline=None)
@given(secret=st.binary(min_size=7, max_size=40), before=st.binary(max_size=12), after=st.binary(max_size=12))
def test_a_registered_value_is_masked_inside_base64_at_any_alignment(secret: bytes, before: bytes,
                                                                      after: bytes) -> None:
    value = secret.decode("latin-1")  # any bytes, registered as text; sent as its UTF-8 bytes
    payload = value.encode("utf-8")
    reg = Registry()
    reg.add_secret(value)
    out = reg.literals(base64.b64encode(before + payload + after).decode())
    align = len(before) % 3  # the characters of base64 that only the value's own bits determine:
    fixed = base64.b64encode(b"\0" * align + payload).decode()[-(-8 * align // 6):(8 * align + 8 * len(payload)) // 6]
    assert len(fixed) >= 6 and fixed not in out and MASK in out


def test_registering_and_masking_from_many_threads_at_once() -> None:
    reg = Registry(learned_max=64)
    reg.add_secret("pinned-before-the-storm-0a1b")
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def learner(n: int) -> None:
        try:
            start.wait(5)
            for i in range(3_000):
                value = f"{n}-learned-{i:05d}-{uuid.UUID(int=i * 8 + n).hex}"
                reg.learn(value)
                if i % 7 == 0:
                    reg.forget(value)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion below
            errors.append(exc)

    def reader(n: int) -> None:
        try:
            start.wait(5)
            for i in range(3_000):
                text = f"GET /x?q={n}-learned-{i:05d}-{uuid.UUID(int=i * 8 + n).hex} pinned-before-the-storm-0a1b"
                assert "pinned-before-the-storm-0a1b" not in reg.text(text)
                reg.contains_secret(text)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=learner if n < 4 else reader, args=(n % 4,)) for n in range(8)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        sys.setswitchinterval(interval)
    assert errors == []
    pinned, learned, _ = reg.sizes()
    assert pinned == 1 and learned <= 64
