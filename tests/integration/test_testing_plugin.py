"""The shipped pytest plugin, run as a user would (pytester): record against httpbin, replay offline,
fail loudly on an unrecorded request, and never write a secret into a cassette."""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

import pytest
import requests
import yaml

pytest_plugins = ("pytester",)

CANARIES = ("canary-token-7f3a91", "canary-gateway-5b2c77", "canary-apikey-9d1e04", "canary-secret-3c8b55",
            "canary-cookie-6a0f12", "canary-refresh-2e7d99")

USER_TEST = '''
import os
import pytest
import requests
import myclient

BASE = os.environ["MYCLIENT_TEST_BASE"]


@pytest.mark.myclient_cassette("users/flow.yaml")
def test_flow(myclient_cassette, {extra_fixtures}):
    myclient.redact.add_secret("canary-gateway-5b2c77")
    session = requests.Session()
    session.trust_env = False
    session.headers["X-Gateway-Key"] = "canary-gateway-5b2c77"
    client = myclient.Client(BASE, token="canary-token-7f3a91", session=session)
    echoed = client.adapter.get("/headers")["headers"]
    assert "Authorization" in echoed  # masked in the cassette: replays see "***"
    assert client.adapter.get("/get", params={{"api_key": "canary-apikey-9d1e04", "page": "2"}})["args"]["page"] == "2"
    form = client.adapter.post("/anything", data={{"grant_type": "client_credentials",
                                                  "client_secret": "canary-secret-3c8b55"}})
    assert form["form"]["grant_type"] == "client_credentials"
    client.adapter.post("/anything", json={{"refresh_token": "canary-refresh-2e7d99", "n": 1}})
    client.adapter.get("/response-headers", params={{"Set-Cookie": "sid=canary-cookie-6a0f12"}})
    {extra_call}
'''


def _write_user_test(pytester: pytest.Pytester, extra_fixtures: str = "myclient_record_mode",
                     extra_call: str = "") -> None:
    pytester.makepyfile(test_user=USER_TEST.format(extra_fixtures=extra_fixtures, extra_call=extra_call))


@pytest.fixture
def user(pytester: pytest.Pytester, httpbin_url: str, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("MYCLIENT_TEST_BASE", httpbin_url)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("MYCLIENT_RECORD_MODE", raising=False)
    return pytester


def test_record_then_replay_offline_with_no_secret_written(user: pytest.Pytester) -> None:
    _write_user_test(user)
    recorded = user.runpytest_subprocess("-p", "no:cacheprovider", "--record-mode=once")
    recorded.assert_outcomes(passed=1)
    cassette = Path(user.path) / "cassettes" / "users" / "flow.yaml"
    text = cassette.read_text()
    assert "interactions" in text
    for canary in CANARIES:
        assert canary not in text, canary
    assert "Set-Cookie" in text or "set-cookie" in text.lower()

    _write_user_test(user, extra_fixtures="myclient_no_network")
    replayed = user.runpytest_subprocess("-p", "no:cacheprovider", "--record-mode=none")
    replayed.assert_outcomes(passed=1)


def test_unrecorded_request_fails_loudly_naming_it(user: pytest.Pytester) -> None:
    _write_user_test(user)
    user.runpytest_subprocess("-p", "no:cacheprovider", "--record-mode=once").assert_outcomes(passed=1)
    _write_user_test(user, extra_fixtures="myclient_no_network",
                     extra_call='client.adapter.get("/uuid", params={"new": "request"})')
    result = user.runpytest_subprocess("-p", "no:cacheprovider", "--record-mode=none")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*CannotOverwriteExistingCassetteException*"])
    result.stdout.fnmatch_lines(["*/uuid?new=request*"])


def test_record_mode_from_environment_and_ci_default(user: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    user.makepyfile(test_mode="def test_mode(myclient_record_mode):\n    print('MODE=' + myclient_record_mode)\n")
    monkeypatch.setenv("CI", "true")
    user.runpytest_subprocess("-s", "-p", "no:cacheprovider").stdout.fnmatch_lines(["*MODE=none*"])
    monkeypatch.setenv("MYCLIENT_RECORD_MODE", "new_episodes")
    user.runpytest_subprocess("-s", "-p", "no:cacheprovider").stdout.fnmatch_lines(["*MODE=new_episodes*"])
    user.runpytest_subprocess("-s", "-p", "no:cacheprovider", "--record-mode=all").stdout.fnmatch_lines(["*MODE=all*"])


def test_mock_fixture_binds_paths_to_the_clients_base_url(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_mock='''
import myclient

def test_get(myclient_mock):
    client = myclient.Client("https://api.example/v1")
    api = myclient_mock(client)
    api.get("/users/1", json={"id": 1})
    assert client.adapter.get("/users/1") == {"id": 1}
    assert api.calls[0].request.url == "https://api.example/v1/users/1"
''')
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_secret_scan_command(tmp_path: Path, pytester: pytest.Pytester) -> None:
    clean = tmp_path / "clean.yaml"
    clean.write_text("headers: {Authorization: ['***']}\n")
    dirty = tmp_path / "sub" / "dirty.yaml"
    dirty.parent.mkdir()
    dirty.write_text("headers: {Authorization: ['Bearer abcdef0123456789']}\nbody: my-own-secret-value\n")
    ok = pytester.run("python", "-m", "myclient.testing", "scan", str(clean))
    assert ok.ret == 0
    bad = pytester.run("python", "-m", "myclient.testing", "scan", str(tmp_path), "--secret", "my-own-secret-value")
    assert bad.ret == 1
    out = bad.stdout.str()
    assert "dirty.yaml" in out
    assert "my-own-secret-value" not in out
    assert "abcdef0123456789" not in out


# -- what a cassette may hold, whatever the body ----------------------------------------------------

ODD = "canary+odd/secret= 7f3a"
JSON_KEY = "canary-json-key-5b2c77"
BINARY = "canary-binary-secret-9d1e04"
HIDDEN = ("canary-pass-2e7d99", "canary-vault-4e9a1f", "canary-gitlab-8b2d6e", "canary-access-3f7c9a",
          "canary-session-1d5e8b", "canary-sessq-6c0a2f")

BODIES_TEST = '''
import os
import pytest
import requests
import myclient

BASE = os.environ["MYCLIENT_TEST_BASE"]


@pytest.mark.myclient_cassette("bodies.yaml")
def test_bodies(myclient_cassette, {extra_fixtures}):
    for secret in ({odd!r}, {json_key!r}, {binary!r}):
        myclient.redact.add_secret(secret)
    session = requests.Session()
    session.trust_env = False
    session.headers.update({{"X-Vault-Token": {hidden[1]!r}, "PRIVATE-TOKEN": {hidden[2]!r}}})
    client = myclient.Client(BASE, session=session, retry=None)
    up = client.adapter.post("/anything", data={{"username": "ann", "password": {hidden[0]!r}}},
                             files={{"f": ("a.txt", b"hello")}})
    assert up["form"]["username"] == "ann" and up["files"]["f"] == "hello"
    assert client.adapter.post("/anything", json={{{json_key!r}: 1, "n": 2}})["json"]["n"] == 2
    assert client.adapter.get("/anything/" + {odd!r}, params={{"note": {odd!r}}})["method"] == "GET"
    assert client.adapter.post("/anything", data={{"note": {odd!r}, "n": "1"}})["form"]["n"] == "1"
    binary = b"\\xff\\xfe\\x00" + {binary!r}.encode() + b"\\x80\\x81"
    echoed = client.adapter.post("/anything", data=binary, headers={{"Content-Type": "application/octet-stream"}})
    assert echoed["data"].startswith("data:application/octet-stream;base64,")
    assert "X-Vault-Token" in client.adapter.get("/headers")["headers"]
    client.adapter.post("/anything", json={{"accessToken": {hidden[3]!r}, "sessionToken": {hidden[4]!r}}})
    client.adapter.get("/anything", params={{"sessionToken": {hidden[5]!r}}})
'''


def _forms(secret: str) -> list[bytes]:
    return [f.encode() for f in (secret, quote(secret, safe=""), quote(secret, safe="").lower(), quote_plus(secret),
                                 requests.utils.requote_uri(secret), json.dumps(secret)[1:-1])]


def _strings(value: Any) -> Iterator[bytes]:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, (str, bytes)):
            yield item.encode() if isinstance(item, str) else item


def test_multipart_json_keys_binary_bodies_and_encoded_secrets_never_reach_the_cassette(user: pytest.Pytester) -> None:
    def write(extra_fixtures: str) -> None:
        user.makepyfile(test_bodies=BODIES_TEST.format(extra_fixtures=extra_fixtures, odd=ODD, json_key=JSON_KEY,
                                                       binary=BINARY, hidden=HIDDEN))

    write("myclient_record_mode")
    user.runpytest_subprocess("-p", "no:cacheprovider", "--record-mode=once").assert_outcomes(passed=1)
    cassette = Path(user.path) / "cassettes" / "bodies.yaml"
    text = cassette.read_bytes()
    decoded = yaml.safe_load(text)
    assert len(decoded["interactions"]) == 8
    assert b"!!binary" in text  # the non-UTF-8 body, scrubbed byte-wise
    everything = [text, *_strings(decoded)]
    for secret in (ODD, JSON_KEY, BINARY, *HIDDEN):
        for form in _forms(secret):
            assert not any(form in blob for blob in everything), (secret, form)
    echoed = json.loads(decoded["interactions"][4]["response"]["body"]["string"])["data"]
    assert base64.b64encode(b"\x00" + BINARY.encode())[4:20].decode() not in echoed

    write("myclient_no_network")
    user.runpytest_subprocess("-p", "no:cacheprovider", "--record-mode=none").assert_outcomes(passed=1)


# -- replay compares scrubbed with scrubbed -----------------------------------------------------------

LATE = "c00k1e-sid-0a1b2c3d4e5f"

LATE_SECRET_TEST = f'''
import os
import pytest
import requests
import myclient

BASE = os.environ["MYCLIENT_TEST_BASE"]


@pytest.mark.myclient_cassette("late.yaml")
def test_late(myclient_cassette):
    session = requests.Session()
    session.trust_env = False
    client = myclient.Client(BASE, session=session, retry=None)
    # the value is in a URL path before the server makes it a cookie (a secret)...
    assert "sid" in client.adapter.get("/cookies/set/sid/{LATE}")["cookies"]
    # ...and then sent in a query under a name that is not secret
    assert client.adapter.get("/anything", params={{"state": "{LATE}"}})["args"]["state"]
'''


def test_a_value_that_becomes_secret_mid_recording_still_replays(user: pytest.Pytester) -> None:
    user.makepyfile(test_late=LATE_SECRET_TEST)
    user.runpytest_subprocess("-p", "no:cacheprovider", "--record-mode=once").assert_outcomes(passed=1)
    text = (Path(user.path) / "cassettes" / "late.yaml").read_text()
    assert LATE not in text and "/cookies/set/sid/***" in text and "state=***" in text
    replayed = user.runpytest_subprocess("-p", "no:cacheprovider", "--record-mode=none")
    replayed.assert_outcomes(passed=1)


# -- threads --------------------------------------------------------------------------------------------

THREADS_TEST = '''
import os
import threading
import pytest
import requests
import myclient

BASE = os.environ["MYCLIENT_TEST_BASE"]


@pytest.mark.parametrize("round", range(int(os.environ["ROUNDS"])))
@pytest.mark.myclient_cassette("threads.yaml")
def test_threads(myclient_cassette, round):
    session = requests.Session()
    session.trust_env = False
    client = myclient.Client(BASE, session=session, retry=None)
    start = threading.Barrier(4)
    seen, errors = [], []

    def work(t):
        try:
            start.wait(10)
            for i in range(3):
                seen.append(client.adapter.get("/get", params={"t": t, "i": i})["args"])
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted((a["t"], a["i"]) for a in seen) == [(str(t), str(i)) for t in range(4) for i in range(3)]
'''


class CountingProxy:
    """A TCP forwarder on loopback that counts the connections made through it."""

    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            server = socket.create_connection(self.upstream)
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self.listener.close()


def test_threads_sharing_a_cassette_record_everything_and_replay_without_connecting(
        user: pytest.Pytester, httpbin_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = CountingProxy(httpbin_url)
    try:
        monkeypatch.setenv("MYCLIENT_TEST_BASE", proxy.url)
        user.makepyfile(test_threads=THREADS_TEST)
        for attempt in range(3):  # the race lost requests in most recordings: record several times
            cassette = Path(user.path) / "cassettes" / "threads.yaml"
            cassette.unlink(missing_ok=True)
            monkeypatch.setenv("ROUNDS", "1")
            user.runpytest_subprocess("-p", "no:cacheprovider", "--record-mode=once").assert_outcomes(passed=1)
            recorded = yaml.safe_load(cassette.read_text())["interactions"]
            assert len(recorded) == 12, f"recording {attempt}: {len(recorded)} of 12 requests recorded"
        before = proxy.connections
        monkeypatch.setenv("ROUNDS", "15")
        user.runpytest_subprocess("-p", "no:cacheprovider", "--record-mode=none").assert_outcomes(passed=15)
        assert proxy.connections == before  # 15 replays, 180 requests: not one real connection
    finally:
        proxy.close()


def test_replay_refuses_real_connections_without_asking(user: pytest.Pytester, httpbin_url: str) -> None:
    port = urlsplit(httpbin_url).port
    user.makepyfile(test_guard=f'''
import os, socket
import pytest
import requests
from myclient.testing import NetworkBlocked


@pytest.mark.myclient_cassette("guard.yaml")
def test_refused(myclient_cassette):
    session = requests.Session()
    session.trust_env = False
    assert session.get(os.environ["MYCLIENT_TEST_BASE"] + "/get").status_code == 200
    if not myclient_cassette.recording:
        with pytest.raises(NetworkBlocked):
            socket.create_connection(("127.0.0.1", {port}), timeout=5)


@pytest.mark.myclient_cassette("guard.yaml", network=True)
def test_opt_out(myclient_cassette):
    socket.create_connection(("127.0.0.1", {port}), timeout=5).close()
''')
    user.runpytest_subprocess("-p", "no:cacheprovider", "--record-mode=once", "-k", "refused").assert_outcomes(
        passed=1)
    user.runpytest_subprocess("-p", "no:cacheprovider", "--record-mode=none").assert_outcomes(passed=2)


# -- the plugin loads before coverage starts ---------------------------------------------------------------

def test_loading_the_plugin_imports_no_client_module(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('''
import sys

AT_LOAD = sorted(m for m in sys.modules if m.startswith("myclient."))


def pytest_configure(config):
    assert config.pluginmanager.has_plugin("myclient"), "the plugin is loaded"
    print("AT-LOAD", AT_LOAD)
    print("AT-CONFIGURE", sorted(m for m in sys.modules if m.startswith("myclient.")))
''')
    pytester.makepyfile(test_nothing="def test_nothing():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s")
    result.assert_outcomes(passed=1)
    for stage in ("AT-LOAD", "AT-CONFIGURE"):
        line = next(line for line in result.outlines if line.startswith(stage))
        assert "myclient.adapters" not in line and "myclient.client" not in line, line
