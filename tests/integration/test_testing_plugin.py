"""The shipped pytest plugin, run as a user would (pytester): record against httpbin, replay offline,
fail loudly on an unrecorded request, and never write a secret into a cassette."""

from __future__ import annotations

from pathlib import Path

import pytest

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
