"""myclient.testing helpers: scrubbing, no-sleep replay, the network guard."""

from __future__ import annotations

import base64
import gzip
import json
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, urlencode

import pytest
import requests
import yaml
from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.serializers import yamlserializer

import myclient
from myclient import redaction, settings
from myclient.redaction import Registry
from myclient.testing import (
    NetworkBlocked,
    Scrubber,
    SecretsFound,
    make_vcr,
    no_network,
    no_sleep,
    scan_paths,
    scan_text,
)
from myclient.testing import _scan as _scan_module
from myclient.testing import _scrub as _scrub_module
from myclient.testing import _vcr as _vcr_module
from myclient.testing._match import scrubbed_body


def test_no_sleep_skips_the_default_sleep() -> None:
    with no_sleep():
        settings._time_sleep(100)  # time.sleep is forbidden in unit tests: this returns without calling it
    with pytest.raises(AssertionError, match="must not sleep"):
        settings._time_sleep(1)


def test_no_network_blocks_connections() -> None:
    with no_network(), pytest.raises(NetworkBlocked), socket.create_connection(("127.0.0.1", 9), timeout=1):
        pass
    with no_network(), pytest.raises(myclient.TransportError):
        myclient.Client("http://127.0.0.1:9", retry=None).adapter.get("/x")


class FakeRequest:
    def __init__(self, uri: str, body: bytes | None, headers: dict[str, str]) -> None:
        self.uri, self.body, self.headers = uri, body, headers


def test_scrubber_masks_requests_and_responses_and_aliases_origins() -> None:
    scrub = Scrubber()
    scrub.alias("http://127.0.0.1:50123", "http://api.test")
    request = scrub.request(FakeRequest(
        "http://127.0.0.1:50123/token?api_key=k1&x=1", b"grant_type=password&password=pw-123&username=u",
        {"Authorization": "Basic dXNlcjpwdzEyMw==", "Host": "127.0.0.1:50123", "Content-Type":
         "application/x-www-form-urlencoded"}))
    assert request.uri == "http://api.test/token?api_key=***&x=1"
    assert request.body == b"grant_type=password&password=***&username=u"
    assert request.headers["Authorization"] == "***"
    assert request.headers["Host"] == "api.test"
    response = scrub.response({
        "status": {"code": 200, "message": "OK"},
        "headers": {"Set-Cookie": ["sid=abc123"], "Content-Type": ["application/json"], "Content-Length": ["99"],
                    "Location": ["http://127.0.0.1:50123/next?code=c0de"]},
        "body": {"string": b'{"access_token": "at-123456", "refresh_token": "rt-123456", "expires_in": 2}'},
    })
    assert response["headers"]["Set-Cookie"] == ["sid=***"]
    assert response["headers"]["Location"] == ["http://api.test/next?code=***"]
    assert b"at-123456" not in response["body"]["string"]
    assert response["headers"]["Content-Length"] == [str(len(response["body"]["string"]))]
    binary = scrub.response({"headers": {}, "body": {"string": b"\xff\xfe\x00binary"}})
    assert binary["body"]["string"] == b"\xff\xfe\x00binary"




SECRET = "s3cr3t+/= value-42ä"  # needs every kind of encoding


def _variants_of(secret: str) -> list[bytes]:
    forms = [secret, quote(secret, safe=""), quote(secret, safe="").lower(), quote_plus(secret),
             requests.utils.requote_uri(secret), json.dumps(secret)[1:-1]]
    return [f.encode() for f in forms] + [base64.b64encode(b"ann:" + secret.encode())]


def _assert_no_form_of(secret: str, blob: bytes | str) -> None:
    data = blob.encode() if isinstance(blob, str) else blob
    for form in [*_variants_of(secret), base64.b64encode(b"ann:" + secret.encode())[8:24]]:
        assert form not in data, form


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> Registry:
    """A fresh process registry (scrubber and scan use the process-wide one) holding SECRET."""
    reg = Registry()
    reg.add_secret(SECRET)
    for module in (redaction, _scrub_module, _scan_module, _vcr_module):
        monkeypatch.setattr(module, "registry", reg)
    return reg


def _multipart(boundary: str, parts: list[tuple[str, bytes, str | None]]) -> bytes:
    out = b""
    for name, content, filename in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + content + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


def test_multipart_parts_are_scrubbed_field_by_field(registered: Registry) -> None:
    body = _multipart("b0undary", [("username", b"ann", None), ("password", b"hunter2-pw", None),
                                   ("note", quote_plus(SECRET).encode(), None),
                                   ("upload", b"\xff\xfe" + SECRET.encode() + b"\x00", "a.bin")])
    request = Scrubber().request(FakeRequest("https://api.test/upload", body, {
        "Content-Type": "multipart/form-data; boundary=b0undary", "Content-Length": str(len(body))}))
    assert b"hunter2-pw" not in request.body
    _assert_no_form_of(SECRET, request.body)
    assert request.body.count(b"--b0undary") == 5 and b'name="username"\r\n\r\nann\r\n' in request.body
    assert b'name="password"\r\n\r\n***\r\n' in request.body
    assert b"\xff\xfe***\x00" in request.body  # binary part masked byte-wise, the rest kept
    assert request.headers["Content-Length"] == str(len(request.body))


def test_secret_json_keys_and_encoded_values_are_scrubbed_everywhere(registered: Registry) -> None:
    scrub = Scrubber()
    request = scrub.request(FakeRequest(
        f"https://api.test/p/{quote(SECRET, safe='')}?q={quote_plus(SECRET)}",
        json.dumps({SECRET: 1, "note": SECRET}).encode(), {"Content-Type": "application/json"}))
    _assert_no_form_of(SECRET, request.uri)
    _assert_no_form_of(SECRET, request.body)
    assert json.loads(request.body) == {"***": 1, "note": "***"}
    form = scrub.request(FakeRequest("https://api.test/f", urlencode({"note": SECRET, "n": "1"}).encode(),
                                     {"Content-Type": "application/x-www-form-urlencoded"}))
    _assert_no_form_of(SECRET, form.body)
    response = scrub.response({"headers": {"Content-Type": ["application/json"]}, "body": {"string": json.dumps({
        "url": f"https://api.test/p/{quote(SECRET, safe='')}", "json": {SECRET: 1},
        "data": "data:application/octet-stream;base64," + base64.b64encode(b"\x01" + SECRET.encode()).decode(),
    }).encode()}})
    _assert_no_form_of(SECRET, response["body"]["string"])
    assert "***" in json.loads(response["body"]["string"])["data"]


def test_binary_bodies_are_scrubbed_byte_wise(registered: Registry) -> None:
    raw = b"\x89PNG\xff" + SECRET.encode() + b"\x00\x01" + base64.b64encode(SECRET.encode()) + b"\xfe"
    response = Scrubber().response({"headers": {"Content-Type": ["image/png"], "Content-Length": [str(len(raw))]},
                                    "body": {"string": raw}})
    body = response["body"]["string"]
    assert isinstance(body, bytes) and body.startswith(b"\x89PNG\xff***\x00\x01") and body.endswith(b"\xfe")
    _assert_no_form_of(SECRET, body)
    assert base64.b64encode(SECRET.encode())[4:20] not in body
    assert response["headers"]["Content-Length"] == [str(len(body))]
    compressed = Scrubber().request(FakeRequest("https://api.test/x", gzip.compress(raw), {
        "Content-Encoding": "gzip", "Content-Type": "application/octet-stream"}))
    assert gzip.decompress(compressed.body) == body


def test_cookie_values_are_masked_with_names_kept_and_remembered_for_the_cassette(
        registered: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    scrub = Scrubber()
    cookie = "c00k1e-value-9f8e7d6c5b4a"
    expires = "Expires=Wed, 21 Oct 2037 07:28:00 GMT"
    response = scrub.response({"headers": {"Set-Cookie": [f"sid={cookie}; Path=/; {expires}", "lang=en; Path=/"]},
                               "body": {"string": b""}})
    assert response["headers"]["Set-Cookie"] == [f"sid=***; Path=/; {expires}", "lang=***; Path=/"]
    for i in range(300):  # the process pool forgets it: the cassette's own memory does not
        registered.learn(f"other-cookie-value-{i:04d}-0a1b")
    assert registered.text(cookie) == cookie
    later = scrub.request(FakeRequest(f"https://api.test/x?state={cookie}", None, {"Cookie": f"sid={cookie}; a=1"}))
    assert later.uri == "https://api.test/x?state=***" and later.headers["Cookie"] == "sid=***; a=***"


def test_scan_finds_secrets_in_any_encoding_in_binary_bodies_and_under_secret_names(
        registered: Registry, tmp_path: Path) -> None:
    for form in _variants_of(SECRET):
        assert scan_text(b"x " + form + b" y"), form
    given = "given-secret/with space"
    assert any("given" in f for f in scan_text(f"q={quote_plus(given)}", extra_secrets=[given]))
    cassette = tmp_path / "c.yaml"
    cassette.write_text(yaml.safe_dump({"interactions": [{
        "request": {"uri": "https://api.test/x?accessToken=raw-1", "body": b"\xff" + SECRET.encode(),
                    "headers": {"X-Vault-Token": ["hvs.raw"], "PRIVATE-TOKEN": ["***"]}},
        "response": {"headers": {"Content-Type": ["application/json"]},
                     "body": {"string": '{"sessionToken": "raw-2", "ok": 1}'}},
    }]}))
    assert "!!binary" in cassette.read_text()
    found = " ".join(scan_paths([cassette])[str(cassette)])
    for expected in ("registered secret", "'accessToken'", "'X-Vault-Token'", "'sessionToken'"):
        assert expected in found
    assert "PRIVATE-TOKEN" not in found and SECRET not in found and "raw-" not in found


def test_a_cassette_that_would_hold_a_secret_is_never_written(registered: Registry, tmp_path: Path) -> None:
    from vcr.request import Request

    recorder = make_vcr(tmp_path, "all")
    persister = recorder.persister
    shape = "Bearer abcdef0123456789xyz"  # credential-shaped text the scrubber cannot know as a value
    request = Request("GET", "https://api.test/x", None, {})
    response = {"status": {"code": 200, "message": "OK"}, "headers": {"Content-Type": ["text/plain"]},
                "body": {"string": f"see: {shape}".encode()}}
    registered.text = lambda text: text  # type: ignore[method-assign]  # a scrubber that misses it
    with pytest.raises(SecretsFound) as info:
        persister.save_cassette(tmp_path / "leak.yaml", {"requests": [request], "responses": [response]},
                                serializer=yamlserializer)
    assert not list(tmp_path.iterdir())
    assert "abcdef0123456789" not in str(info.value)


def _cassette(tmp_path: Path, request: dict[str, Any]) -> None:
    (tmp_path / "r.yaml").write_text(yaml.safe_dump({"version": 1, "interactions": [{
        "request": {"body": None, "headers": {}, **request},
        "response": {"status": {"code": 200, "message": "OK"}, "headers": {"Content-Type": ["application/json"]},
                     "body": {"string": '{"ok": true}'}}}]}))


@pytest.mark.parametrize(("recorded", "live"), [
    ({"method": "DELETE", "uri": "http://api.test/-/user/token/***"},
     {"method": "DELETE", "url": "http://api.test/-/user/token/npm_0a1B2c3D4e5F"}),
    ({"method": "GET", "uri": "http://api.test/x?state=***&page=2"},
     {"method": "GET", "url": "http://api.test/x?page=2&state=c00k1e-value-9f8e7d6c5b4a"}),
    ({"method": "POST", "uri": "http://api.test/x", "headers": {"Content-Type": ["application/json"]},
      "body": '{"csrf": "***", "n": 1}'},
     {"method": "POST", "url": "http://api.test/x", "json": {"n": 1, "csrf": "c00k1e-value-9f8e7d6c5b4a"}}),
])
def test_replay_matches_a_masked_recording_whatever_the_live_value(
        tmp_path: Path, recorded: dict[str, Any], live: dict[str, Any]) -> None:
    _cassette(tmp_path, recorded)
    session = requests.Session()
    session.trust_env = False
    with make_vcr(tmp_path, "none").use_cassette("r.yaml"), no_network():
        assert session.request(**live).json() == {"ok": True}


def test_replay_still_refuses_a_request_that_differs_outside_the_mask(tmp_path: Path) -> None:
    _cassette(tmp_path, {"method": "DELETE", "uri": "http://api.test/-/user/token/***"})
    with make_vcr(tmp_path, "none").use_cassette("r.yaml"), no_network(), \
            pytest.raises(CannotOverwriteExistingCassetteException, match="no recorded interaction matches"):
        requests.delete("http://api.test/-/org/token/npm_0a1B2c3D4e5F")


def test_an_unrecorded_request_is_named_without_its_secrets(registered: Registry, tmp_path: Path) -> None:
    _cassette(tmp_path, {"method": "GET", "uri": "http://api.test/x"})
    with make_vcr(tmp_path, "none").use_cassette("r.yaml"), no_network(), \
            pytest.raises(CannotOverwriteExistingCassetteException) as info:
        requests.get("http://api.test/y", params={"q": SECRET})
    assert "/y?q=***" in str(info.value)
    _assert_no_form_of(SECRET, str(info.value))


def test_multipart_replay_matches_whatever_the_boundary(registered: Registry, tmp_path: Path) -> None:
    first = _multipart("aaaa", [("password", b"pw-1", None), ("f", b"file", "f.txt")])
    second = _multipart("bbbb", [("password", b"pw-2", None), ("f", b"file", "f.txt")])
    scrub = Scrubber()
    a = scrub.request(FakeRequest("http://x", first, {"Content-Type": "multipart/form-data; boundary=aaaa"}))
    b = scrub.request(FakeRequest("http://x", second, {"Content-Type": "multipart/form-data; boundary=bbbb"}))
    scrubbed_body(a, b)


def test_network_guards_nest_across_threads_in_any_order() -> None:
    entered, release = threading.Event(), threading.Event()

    def other() -> None:
        with no_network():
            entered.set()
            release.wait(5)

    thread = threading.Thread(target=other)
    thread.start()
    entered.wait(5)
    with no_network(allow=("192.0.2.1",)):
        release.set()
        thread.join(5)  # the first guard ends while this one is still on
        with pytest.raises(NetworkBlocked):
            socket.create_connection(("127.0.0.1", 9), timeout=1)
    with pytest.raises(ConnectionRefusedError):  # no guard left: a real (refused) connection attempt
        socket.create_connection(("127.0.0.1", 9), timeout=1).close()


_PLUGIN_IMPORTS = """
import importlib, sys, types
from pathlib import Path
import myclient.testing.plugin as plugin
plugin_modules = sorted(m for m in sys.modules if m.startswith("myclient"))
print("AT-LOAD", " ".join(plugin_modules))
"""


def test_the_plugin_and_testing_package_import_no_other_myclient_module() -> None:
    # The package __init__ is replaced by an empty package so only what the plugin and
    # myclient.testing import themselves is seen (the entry point loads before coverage starts).
    code = ("import sys, types, pathlib\n"
            f"pkg = types.ModuleType('myclient'); pkg.__path__ = [{str(Path(myclient.__file__).parent)!r}]\n"
            "sys.modules['myclient'] = pkg\n" + _PLUGIN_IMPORTS)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = out.split("AT-LOAD", 1)[1].split()
    assert loaded == ["myclient", "myclient.testing", "myclient.testing._guard", "myclient.testing.plugin"]
