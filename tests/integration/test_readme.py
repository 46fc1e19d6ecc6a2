"""Every Python block of README.rst runs here, as written, against the real servers of the harness.

Only URLs, credentials and file names are swapped for the test ones, and names a block leaves to the
reader (``metrics``, ``cache``, ``TOKEN_KEY``, ``browser_visits``) are given stand-ins that record
what the block did with them. ``test_every_python_block_has_a_runner`` fails when a block is added to
the README without a runner here (each runner claims its block by a marker string only it contains).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import re
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from servers import (
    Gateway,
    JsonServer,
    LoginServer,
    OAuthServer,
    RateLimitServer,
    RedisServer,
    StaticServer,
)

import myclient
from myclient.testing import MockResponse, MockTransport

pytest_plugins = ("pytester",)

README = Path(__file__).resolve().parents[2] / "README.rst"

#: marker (text only its block contains) -> the runner below that runs the block.
RUNNERS = {
    "class AcmeClient(myclient.Client)": "test_quick_start_runs_against_the_mtls_gateway",
    'env_prefix = "ACME_"': "test_settings_example",
    "ok_statuses={404}, detailed=True)": "test_results_example",
    "class Repos(myclient.ApiGroup)": "test_group_declaration_example_is_valid",
    "class Blog(myclient.Client)": "test_resource_example_against_json_server",
    "class Users(myclient.ApiGroup[A])": "test_one_group_serves_both_clients_and_mypy_sees_both",
    "import pickle, myclient": "test_errors_example",
    "policy = myclient.RetryPolicy(attempts=3": "test_retry_example_runs_against_httpbin",
    "myclient.SessionLogin(": "test_login_flows_example",
    "class ExchangeLogin": "test_a_login_flow_of_your_own",
    "FileTokenStore(": "test_client_credentials_file_store_example",
    "CacheTokenStore(cache": "test_cache_token_store_example",
    "parse_authorization_response": "test_authorization_code_example",
    "def sign(": "test_middleware_example",
    "mock = MockTransport()": "test_mock_transport_example",
    "def count_retries": "test_hooks_example",
    "%(myclient_cid)s": "test_keystone_formatter_example",
    'add_header("X-Acme-Gateway")': "test_redaction_example",
    "runnable against json-server 0.17.4 (its db.json": "test_the_checkpoint_example_runs_against_json_server",
    "class Events(myclient.Resource)": "test_cursor_resource_example",
    "tqdm_progress(desc=": "test_the_download_example_runs_against_nginx",
    'from_config("acme.yaml")': "test_config_example",
    "max_workers=10": "test_async_example",
    "class Keystone(myclient.AsyncClient)": "test_keystone_async_example",
    'RedisTokenStore(r, "acme:token"': "test_fleet_example",
    "def test_user_lookup": "test_testing_plugin_example",
}


def _blocks(language: str = "python") -> list[str]:
    text = README.read_text(encoding="utf-8")
    found = re.findall(rf"\.\. code-block:: {language}\n\n((?:    .*\n|\n)+)", text)
    return [textwrap.dedent(block) for block in found]


def _block(marker: str, language: str = "python") -> str:
    assert marker in RUNNERS or language != "python", f"{marker!r} is not a registered marker"
    matches = [b for b in _blocks(language) if marker in b]
    assert len(matches) == 1, f"expected one README block containing {marker!r}, found {len(matches)}"
    return matches[0]


def _run(code: str, namespace: dict[str, Any] | None = None) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(README), "exec"), {"__name__": "readme", **(namespace or {})})
    return out.getvalue()


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


def test_every_python_block_has_a_runner() -> None:
    source = Path(__file__).read_text(encoding="utf-8")
    blocks = _blocks()
    for block in blocks:
        claimed = [marker for marker in RUNNERS if marker in block]
        assert len(claimed) == 1, f"README block without exactly one runner marker ({claimed}):\n{block[:300]}"
    for marker, runner in RUNNERS.items():
        assert sum(marker in block for block in blocks) == 1, f"marker {marker!r} matches no or several blocks"
        assert f"def {runner}(" in source, f"runner {runner} is missing"
        body = source[source.index(f"def {runner}("):]
        body = body[:body.find("\ndef ", 1)]
        assert f"_block({marker!r}" in body or f"_block({marker!r}".replace("'", '"') in body, (
            f"{runner} does not run the block of {marker!r}")


# ------------------------------------------------------------------------------------------ quick start
def test_quick_start_runs_against_the_mtls_gateway(gateway: Gateway) -> None:
    code = (_block("class AcmeClient(myclient.Client)")
            .replace("https://gateway.example/v1", gateway.mtls_url + "/v1")
            .replace('"s3cret"', repr(gateway.gateway_key))
            .replace('"client.crt"', repr(gateway.client_cert))
            .replace('"client.key"', repr(gateway.client_key))
            .replace('"corp-ca.pem"', repr(gateway.ca_path)))
    assert _run(code) == f"404 GET {gateway.mtls_url}/v1/users/42\n"


# ------------------------------------------------------------------------------------------ settings, results
def test_settings_example(httpbin_url: str) -> None:
    output = _run(_block('env_prefix = "ACME_"').replace("http://127.0.0.1:8080", httpbin_url)).splitlines()
    assert output == ["(1.0, 1.0) (5.0, 5.0)", "{'q': 'x'} False", "(3.0, 10.0)",
                      "unknown option 'timout' (did you mean 'timeout'?)"]


def test_results_example(httpbin_url: str) -> None:
    code = _block("ok_statuses={404}, detailed=True)").replace("http://127.0.0.1:8080", httpbin_url)
    output = _run(code).splitlines()
    assert output == ["200 True {'page': '2'} 1", "application/json bytes", "404 False None", "b'\\x89PNG'",
                      "b'<!DOCTYPE html>'"]


# ------------------------------------------------------------------------------------------ groups
def test_group_declaration_example_is_valid() -> None:
    namespace_code = "import myclient\n" + _block("class Repos(myclient.ApiGroup)")
    _run(namespace_code + "\nassert isinstance(Acme('https://x.example').orgs.repos, Repos)\n")


def test_resource_example_against_json_server(json_server: JsonServer) -> None:
    output = _run(_block("class Blog(myclient.Client)").replace("http://127.0.0.1:3000", json_server.url))
    assert output.splitlines() == ["hello", "Posts does not support update() (verbs = ('list', 'get', 'create', "
                                   "'delete'))"]
    assert len(requests.get(f"{json_server.url}/posts", timeout=10).json()) == 250  # the created one is gone


REVEALS = '''

def _sync(url: str) -> None:
    reveal_type(Acme(url).users.get(1))


async def _async(url: str) -> None:
    reveal_type(AsyncAcme(url).users.get(1))
    reveal_type(await AsyncAcme(url).users.get(1))
'''


def test_one_group_serves_both_clients_and_mypy_sees_both(tmp_path: Path) -> None:
    code = _block("class Users(myclient.ApiGroup[A])")
    namespace: dict[str, Any] = {}
    exec(compile(code, str(README), "exec"), namespace)
    mock = MockTransport()
    mock.add("GET", "/users/1", json={"id": 1, "name": "Ada"})
    assert namespace["Acme"]("https://api.example/v1", transport=mock).users.get(1) == {"id": 1, "name": "Ada"}

    async def use() -> Any:
        async with namespace["AsyncAcme"]("https://api.example/v1", transport=mock) as client:
            return await client.users.get(1)

    assert asyncio.run(use()) == {"id": 1, "name": "Ada"}
    snippet = tmp_path / "readme_groups.py"
    snippet.write_text(code + REVEALS)
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(snippet)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout  # mypy --strict accepts the block as written
    user = "TypedDict(readme_groups.User, {'id': int, 'name': str})"
    assert re.findall(r'Revealed type is "(.*)"', done.stdout) == [user, f"typing.Awaitable[{user}]", user]
    shown = README.read_text(encoding="utf-8")  # and the README shows what mypy said
    assert "users.get(1))            # User\n" in shown and "# Awaitable[User]\n" in shown


# ------------------------------------------------------------------------------------------ errors, retries
def test_errors_example(httpbin_url: str) -> None:
    output = _run(_block("import pickle, myclient").replace("http://127.0.0.1:8080", httpbin_url)).splitlines()
    assert output == ["ClientError 418 GET", "418 True None", "None True"]


def test_retry_example_runs_against_httpbin(httpbin_url: str) -> None:
    output = _run(_block("policy = myclient.RetryPolicy(attempts=3").replace("http://127.0.0.1:8080",
                                                                                httpbin_url)).splitlines()
    assert output[0] == "['503', '503', '503']"
    assert re.fullmatch(r"[0-9a-f-]{36}", output[1])
    assert output[2:] == ["DeadlineExceeded", "1"]


# ------------------------------------------------------------------------------------------ auth
def _login_code(code: str, server: LoginServer) -> str:
    return (code.replace("http://127.0.0.1:8000", server.url)
            .replace('"alice"', repr(server.username)).replace('"pa55word"', repr(server.password)))


def test_login_flows_example(login_server: LoginServer) -> None:
    output = _run(_login_code(_block("myclient.SessionLogin("), login_server)).splitlines()
    assert output == [login_server.username, "False", "a", "True"]


def test_a_login_flow_of_your_own(login_server: LoginServer) -> None:
    assert _run(_login_code(_block("class ExchangeLogin"), login_server)) == f"{login_server.username}\n"


def _oauth_code(code: str, server: OAuthServer) -> str:
    return (code.replace("https://auth.example/oauth/token", server.token_url)
            .replace("https://auth.example/authorize", server.authorize_url)
            .replace('"my-service"', repr(server.cc_client_id))
            .replace('"client-secret"', repr(server.cc_client_secret))
            .replace('"web-app"', repr(server.public_client_id))
            .replace("http://127.0.0.1:8765/callback", server.redirect_uri)
            .replace("https://api.example/v1", server.url)
            .replace('"/me"', '"/api/me"'))


def test_client_credentials_file_store_example(oauth_server: OAuthServer, tmp_path: Path) -> None:
    key = myclient.tokens.new_key()
    code = _oauth_code(_block("FileTokenStore("), oauth_server).replace("~/.cache/acme/tokens.json",
                                                                          str(tmp_path / "tokens.json"))
    _run(code, {"TOKEN_KEY": key})
    stored = (tmp_path / "tokens.json").read_text()
    assert oauth_server.cc_client_id in stored and "fernet:" in stored  # the key names the entry; the token is sealed
    again = myclient.FileTokenStore(tmp_path / "tokens.json", encryption_key=key)
    assert len(again._read()) == 1


class DictCache:
    """Django's cache API: get(key) and set(key, value, timeout)."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def set(self, key: str, value: Any, timeout: Any = None) -> None:
        self.data[key] = value


def test_cache_token_store_example(oauth_server: OAuthServer, caplog: pytest.LogCaptureFixture) -> None:
    cache = DictCache()
    with caplog.at_level(logging.INFO, logger="acme.audit"):
        _run(_oauth_code(_block("CacheTokenStore(cache"), oauth_server), {"cache": cache})
    assert list(cache.data) == [f"acme:token:client_credentials:{oauth_server.cc_client_id}@{oauth_server.token_url}"]
    assert "token renewed" in caplog.text


def _browser_visits(server: OAuthServer) -> Callable[[str], str]:
    """What the user's browser does: log in (CSRF form), follow the authorization URL, come back."""
    def visit(url: str) -> str:
        browser = _session()
        browser.get(server.login_url, timeout=10)
        form = {"username": server.username, "password": server.password,
                "csrfmiddlewaretoken": browser.cookies["csrftoken"]}
        browser.post(server.login_url, data=form, headers={"Referer": server.login_url}, allow_redirects=False,
                     timeout=10)
        return str(browser.get(url, allow_redirects=False, timeout=10).headers["Location"])

    return visit


def test_authorization_code_example(oauth_server: OAuthServer) -> None:
    output = _run(_oauth_code(_block("parse_authorization_response"), oauth_server),
                  {"browser_visits": _browser_visits(oauth_server)})
    assert output == f"{oauth_server.username}\n"


# ------------------------------------------------------------------------------------------ middleware, mock
def test_middleware_example(httpbin_url: str) -> None:
    assert _run(_block("def sign(").replace("http://127.0.0.1:8080", httpbin_url)) == "['X-Signature']\n"


def test_mock_transport_example() -> None:
    assert _run(_block("mock = MockTransport()")).splitlines() == ["Ada", "{'id': 7}", "3 1"]


# ------------------------------------------------------------------------------------------ hooks, logging, redaction
class Recorder:
    """Stands in for a metrics or alerting client: records every method call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Callable[..., None]:
        def record(*args: Any, **kwargs: Any) -> None:
            self.calls.append((name, args, kwargs))

        return record


def test_hooks_example(httpbin_url: str, caplog: pytest.LogCaptureFixture) -> None:
    metrics, alerts = Recorder(), Recorder()
    code = (_block("def count_retries").replace("https://api.example/v1", httpbin_url)
            .replace("access_log=True)", "access_log=True, sleep=lambda seconds: None)"))
    namespace = {"metrics": metrics, "alerts": alerts, "myclient": myclient}
    code += textwrap.dedent("""
        try:
            client.adapter.get("/status/503")
        except myclient.ServiceUnavailable:
            pass
    """)
    with caplog.at_level(logging.INFO, logger="myclient.access"):
        _run(code, namespace)
    assert [c[0] for c in metrics.calls] == ["increment", "increment"]
    assert metrics.calls[0][2]["tags"] == ["reason:status 503", "attempt:1"] or metrics.calls[0][1][0] == "api.retry"
    assert len(alerts.calls) == 1 and "/status/503 failed" in alerts.calls[0][1][0]
    assert " 503 " in caplog.text and "attempts=3" in caplog.text


def test_keystone_formatter_example(httpbin_url: str) -> None:
    logger = logging.getLogger("myclient")
    handlers, level = list(logger.handlers), logger.level
    try:
        output = _run(_block("%(myclient_cid)s").replace("http://127.0.0.1:8080", httpbin_url))
    finally:
        logger.handlers[:] = handlers
        logger.setLevel(level)
    lines = output.splitlines()
    assert lines, "the formatter printed nothing"
    prefix = "[req-42] GET /status/503?api_key=*** -> "  # every record has the fields the formatter names
    assert all(line.startswith((f"DEBUG {prefix}", f"INFO {prefix}")) for line in lines), lines
    assert sum(line.startswith(f"INFO {prefix}503 ") for line in lines) == 1  # the access line
    assert sum("retrying" in line for line in lines) == 1 and len(lines) == 4, lines
    assert "k-123" not in output and "api_key=***" in output


def test_redaction_example(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_GATEWAY_KEY", "gw-key-5e1f9a")
    try:
        assert _run(_block('add_header("X-Acme-Gateway")')) == "key=***\n"
        assert myclient.redact.registry.text("x gw-key-5e1f9a y") == "x *** y"
    finally:
        myclient.redact.registry.forget("gw-key-5e1f9a")


# ------------------------------------------------------------------------------------------ pagination, downloads
def test_the_checkpoint_example_runs_against_json_server(json_server: JsonServer) -> None:
    output = _run(_block("runnable against json-server 0.17.4 (its db.json").replace("http://127.0.0.1:3000",
                                                                                        json_server.url))
    assert output.splitlines() == ["250 250", "1 100 250", "2 100 250", "3 50 250"]


def test_cursor_resource_example() -> None:
    mock = MockTransport()

    def events(call: myclient.Call) -> MockResponse:
        params = dict(call.params or {})
        assert params["type"] == "push" and params["limit"] == 200
        if "cursor" not in params:
            return MockResponse(json={"data": [{"id": 1}, {"id": 2}], "meta": {"next_cursor": "c2"}})
        assert params["cursor"] == "c2"
        return MockResponse(json={"data": [{"id": 3}], "meta": {"next_cursor": None}})

    mock.add("GET", "/events", answers=[events])
    code = "import myclient\n" + _block("class Events(myclient.Resource)").replace(
        'Acme("https://api.example/v1")', 'Acme("https://api.example/v1", transport=mock)')
    assert _run(code, {"mock": mock}).splitlines() == ["1", "2", "3"]
    assert len(mock.calls) == 2


def test_the_download_example_runs_against_nginx(static_server: StaticServer, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"dataset-{os.getpid()}.tar"
    data = os.urandom(3 << 20)
    (static_server.www / name).write_bytes(data)
    monkeypatch.chdir(tmp_path)
    code = (_block("tqdm_progress(desc=")
            .replace("http://127.0.0.1:8080", static_server.url)
            .replace("/files/dataset.tar", f"/files/{name}"))
    assert _run(code) == "dataset.tar\n"
    assert (tmp_path / "dataset.tar").read_bytes() == data


# ------------------------------------------------------------------------------------------ spec-driven
def test_config_example(json_server: JsonServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ACME_TOKEN", "config-token-81c2")
    (tmp_path / "acme.yaml").write_text(_block("base_url: http://127.0.0.1:3000", "yaml")
                                        .replace("http://127.0.0.1:3000", json_server.url))
    assert _run(_block('from_config("acme.yaml")')).splitlines() == ["1 250", "UsageError"]


# ------------------------------------------------------------------------------------------ async
def test_async_example(httpbin_url: str) -> None:
    output = _run(_block("max_workers=10").replace("http://127.0.0.1:8080", httpbin_url))
    assert output.splitlines() == ["20 {'n': '7'}", "204", "cancelled"]


def test_keystone_async_example(login_server: LoginServer) -> None:
    output = _run(_login_code(_block("class Keystone(myclient.AsyncClient)"), login_server))
    assert output == f"{login_server.username} cluster-1\n"


# ------------------------------------------------------------------------------------------ fleet
def test_fleet_example(redis_db: RedisServer, oauth_server: OAuthServer, ratelimit_server: RateLimitServer) -> None:
    code = _oauth_code(_block('RedisTokenStore(r, "acme:token"').replace("https://api.example/v1",
                                                                          ratelimit_server.url), oauth_server)
    code = code.replace("redis://127.0.0.1:6379/0", redis_db.url)
    oauth_server.reset_stats()
    ratelimit_server.settle()
    start = ratelimit_server.mark()
    _run(code, {"TOKEN_KEY": myclient.tokens.new_key()})
    window = ratelimit_server.window(start, ratelimit_server.mark())
    assert window.ok == 10 and window.limited == 0
    # Paced at 50/s: slots 20 ms apart (the first request's slot was reserved before its token was
    # fetched, so the next ones may follow it closely; nginx's burst absorbs that, and no 429 came).
    assert window.duration >= 0.12
    assert Counter(e["uri"].split("?")[0] for e in window.entries) == {"/api/item": 10}
    assert oauth_server.stats()["by_grant_type"] == {"client_credentials": 1}
    stored = [key for key in redis_db.command("KEYS", "acme:token:*") or []]  # type: ignore[union-attr]
    assert len(stored) == 2 or len(stored) == 1, stored  # the token (and possibly the released lock's name)


# ------------------------------------------------------------------------------------------ testing kit
ACME_MODULE = '''
import myclient

class Users(myclient.Resource):
    path = "/users"

class AcmeClient(myclient.Client):
    users = myclient.group(Users)
'''


def test_testing_plugin_example(pytester: pytest.Pytester, json_server: JsonServer,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("MYCLIENT_RECORD_MODE", raising=False)
    pytester.makepyfile(acme=ACME_MODULE)
    pytester.makeini("[pytest]\nasyncio_mode = strict\n")
    pytester.makepyfile(test_acme=_block("def test_user_lookup").replace("https://api.acme.example/v1",
                                                                         json_server.url))
    recorded = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--record-mode=once")
    recorded.assert_outcomes(passed=3)
    assert (pytester.path / "cassettes" / "acme" / "users.yaml").is_file()
    replayed = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--record-mode=none")
    replayed.assert_outcomes(passed=3)
