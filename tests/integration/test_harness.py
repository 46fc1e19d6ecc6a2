"""Proves the integration-test servers work, using plain ``requests``.

These check the harness itself (httpbin, the nginx gateway with its key
header, HTTPS and mTLS servers, and the CI skip policy), not myclient.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from servers import PKI, Gateway

TIMEOUT = 10.0
TESTS_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture
def http() -> Iterator[requests.Session]:
    """A session that ignores proxy/netrc settings from the environment."""
    with requests.Session() as session:
        session.trust_env = False
        yield session


def test_httpbin_get(http: requests.Session, httpbin_url: str) -> None:
    assert not httpbin_url.endswith("/")
    response = http.get(f"{httpbin_url}/get", params={"q": "1"}, timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.json()["args"] == {"q": "1"}


def test_gateway_without_key_is_401(http: requests.Session, gateway: Gateway) -> None:
    response = http.get(f"{gateway.http_url}/get", timeout=TIMEOUT)
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"error": "missing gateway key"}


def test_gateway_with_wrong_key_is_401(http: requests.Session, gateway: Gateway) -> None:
    response = http.get(f"{gateway.http_url}/get", headers={gateway.header_name: "wrong"}, timeout=TIMEOUT)
    assert response.status_code == 401
    assert response.json() == {"error": "invalid gateway key"}


def test_gateway_with_key_proxies_to_httpbin(http: requests.Session, gateway: Gateway) -> None:
    assert gateway.header_name == "X-Gateway-Key"
    response = http.get(
        f"{gateway.http_url}/get",
        headers={gateway.header_name: gateway.gateway_key},
        timeout=TIMEOUT,
    )
    assert response.status_code == 200
    echoed = response.json()["headers"]
    assert echoed["X-Gateway-Key"] == gateway.gateway_key
    # proxy_set_header Host $http_host: httpbin sees the gateway's host:port.
    assert echoed["Host"] == gateway.http_url.removeprefix("http://")


def test_https_with_test_ca(http: requests.Session, gateway: Gateway) -> None:
    response = http.post(f"{gateway.https_url}/post", json={"a": 1}, verify=gateway.ca_path, timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.json()["json"] == {"a": 1}


def test_https_with_wrong_ca_fails(http: requests.Session, gateway: Gateway) -> None:
    with pytest.raises(requests.exceptions.SSLError):
        http.get(f"{gateway.https_url}/get", verify=gateway.wrong_ca_path, timeout=TIMEOUT)


def test_mtls_without_client_cert_is_400(http: requests.Session, gateway: Gateway) -> None:
    response = http.get(f"{gateway.mtls_url}/get", verify=gateway.ca_path, timeout=TIMEOUT)
    assert response.status_code == 400
    assert "No required SSL certificate was sent" in response.text


def test_mtls_with_client_cert(http: requests.Session, gateway: Gateway) -> None:
    response = http.get(
        f"{gateway.mtls_url}/get",
        verify=gateway.ca_path,
        cert=(gateway.client_cert, gateway.client_key),
        timeout=TIMEOUT,
    )
    assert response.status_code == 200
    echoed = response.json()["headers"]
    assert echoed["X-Ssl-Client-Verify"] == "SUCCESS"
    assert "CN=myclient test client" in echoed["X-Ssl-Client-S-Dn"]


def test_mtls_with_client_cert_from_wrong_ca_is_400(http: requests.Session, gateway: Gateway, pki: PKI) -> None:
    response = http.get(
        f"{gateway.mtls_url}/get",
        verify=gateway.ca_path,
        cert=(str(pki.wrong_client_cert), str(pki.wrong_client_key)),
        timeout=TIMEOUT,
    )
    assert response.status_code == 400


# ------------------------------------------------------------ CI skip policy

_SKIPPING_TESTS = """\
import pytest

def test_skips():
    pytest.skip("skipped on purpose")

@pytest.mark.skip(reason="marked skip")
def test_marked():
    pass

@pytest.mark.xfail(reason="an xfail is not a skip")
def test_xfails():
    assert False
"""

_SKIPPING_MODULE = """\
import pytest

pytest.skip("whole module skipped", allow_module_level=True)
"""


def _run_inner_pytest(tmp_path: Path, ci: bool, *args: str) -> subprocess.CompletedProcess[str]:
    """Run pytest on a copy of tests/conftest.py + tests/servers with skipping tests."""
    tests = tmp_path / "tests"
    shutil.copytree(TESTS_DIR / "servers", tests / "servers", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(TESTS_DIR / "conftest.py", tests / "conftest.py")
    (tests / "test_skipping.py").write_text(_SKIPPING_TESTS)
    (tests / "test_skipping_module.py").write_text(_SKIPPING_MODULE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_") and k != "CI"}
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", *args, "tests"],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_skips_are_allowed_without_ci(tmp_path: Path) -> None:
    result = _run_inner_pytest(tmp_path, False, "-p", "no:xdist")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 skipped, 1 xfailed" in result.stdout


@pytest.mark.parametrize("xdist", [False, True], ids=["serial", "xdist"])
def test_skips_fail_under_ci(tmp_path: Path, xdist: bool) -> None:
    if xdist:
        pytest.importorskip("xdist")
    mode = ["-n", "2"] if xdist else ["-p", "no:xdist"]
    # A skipped module becomes a collection error, which would end the run early.
    result = _run_inner_pytest(tmp_path, True, "--continue-on-collection-errors", *mode)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "CI=true forbids skipped tests" in output
    for reason in ("skipped on purpose", "marked skip", "whole module skipped"):
        assert reason in output
    assert "XFAIL" in output  # an xfail stays an xfail
