"""The README's code blocks run as written against the real servers: the quick start (nginx mTLS
gateway), retries (httpbin), client credentials (OAuth2 server), pagination checkpoints
(json-server) and downloads (static nginx) — only URLs, keys, secrets and paths swapped."""

from __future__ import annotations

import contextlib
import io
import os
import re
import textwrap
from pathlib import Path

import pytest
from servers import Gateway, JsonServer, OAuthServer, StaticServer

README = Path(__file__).resolve().parents[2] / "README.rst"


def _blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    found = re.findall(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)", text)
    return [textwrap.dedent(block) for block in found]


def _block(marker: str) -> str:
    matches = [b for b in _blocks() if marker in b]
    assert len(matches) == 1, f"expected one README block containing {marker!r}"
    return matches[0]


def _run(code: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(README), "exec"), {"__name__": "readme"})
    return out.getvalue()


def test_quick_start_runs_against_the_mtls_gateway(gateway: Gateway) -> None:
    code = (_block("class AcmeClient")
            .replace("https://gateway.example/v1", gateway.mtls_url + "/v1")
            .replace('"s3cret"', repr(gateway.gateway_key))
            .replace('"client.crt"', repr(gateway.client_cert))
            .replace('"client.key"', repr(gateway.client_key))
            .replace('"corp-ca.pem"', repr(gateway.ca_path)))
    assert _run(code) == f"404 GET {gateway.mtls_url}/v1/users/42\n"


def test_group_declaration_example_is_valid() -> None:
    namespace_code = "import myclient\n" + _block("class Repos")
    _run(namespace_code + "\nassert isinstance(Acme('https://x.example').orgs.repos, Repos)\n")


def test_retry_example_runs_against_httpbin(httpbin_url: str) -> None:
    output = _run(_block("runnable against httpbin").replace("http://127.0.0.1:8080", httpbin_url)).splitlines()
    assert output[0] == "['503', '503', '503']"
    assert re.fullmatch(r"[0-9a-f-]{36}", output[1])
    assert output[2:] == ["DeadlineExceeded", "1"]


def test_client_credentials_file_store_example_runs_against_the_oauth_server(oauth_server: OAuthServer,
                                                                             tmp_path: Path) -> None:
    code = (_block("FileTokenStore(")
            .replace("https://auth.example/oauth/token", oauth_server.token_url)
            .replace('"my-service"', repr(oauth_server.cc_client_id))
            .replace('"client-secret"', repr(oauth_server.cc_client_secret))
            .replace("~/.cache/acme/tokens.json", str(tmp_path / "tokens.json"))
            .replace("https://api.example/v1", oauth_server.url)
            .replace('"/me"', '"/api/me"'))
    _run(code)
    assert oauth_server.cc_client_id in (tmp_path / "tokens.json").read_text()


def test_the_checkpoint_example_runs_against_json_server(json_server: JsonServer) -> None:
    output = _run(_block("runnable against json-server").replace("http://127.0.0.1:3000", json_server.url))
    assert output.splitlines() == ["250 250", "1 100 250", "2 100 250", "3 50 250"]


def test_the_download_example_runs_against_nginx(static_server: StaticServer, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("tqdm")
    name = f"dataset-{os.getpid()}.tar"
    data = os.urandom(3 << 20)
    (static_server.www / name).write_bytes(data)
    monkeypatch.chdir(tmp_path)
    code = (_block("tqdm_progress(desc=")
            .replace("http://127.0.0.1:8080", static_server.url)
            .replace("/files/dataset.tar", f"/files/{name}"))
    assert _run(code) == "dataset.tar\n"
    assert (tmp_path / "dataset.tar").read_bytes() == data
