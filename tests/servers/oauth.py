"""A real OAuth2 authorization server: django-oauth-toolkit 3.x in the Django project ``oauth_project``.

:func:`start_oauth_server` prepares a fresh SQLite database in the run's directory (tables,
the user ``alice`` with a random password, one application per grant type with random
secrets; see ``oauth_project/oauth_project/bootstrap.py``), then serves the project under
gunicorn (``-k gthread --threads 16 -w 1``) on a free port of 127.0.0.1 with a random
``SECRET_KEY``. Access tokens live :data:`DEFAULT_ACCESS_TOKEN_LIFETIME` seconds; refresh tokens
rotate, so reusing an old one is ``invalid_grant``.

The fixture value is an :class:`OAuthServer`: every URL, the credentials, and
:meth:`OAuthServer.stats` / :meth:`OAuthServer.reset_stats` for the token-endpoint counters, and
:meth:`OAuthServer.token_state` to check server-side that a token was revoked.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._proc import (
    LOCALHOST,
    HarnessError,
    ManagedProcess,
    ServerStartError,
    ServerUnavailable,
    free_port,
    http_probe,
    retry_on_port_conflict,
    start_timeout,
    tail,
)
from .httpbin import gunicorn_supports_no_control_socket

PROJECT_DIR = Path(__file__).resolve().parent / "oauth_project"
"""The Django project root (holds ``manage.py`` and the package ``oauth_project``)."""

DEFAULT_ACCESS_TOKEN_LIFETIME = 2
REDIRECT_URI = "http://127.0.0.1/callback"
USERNAME = "alice"
THREADS = 16
REQUIRED_PACKAGES = {"django": "Django", "oauth2_provider": "django-oauth-toolkit", "gunicorn": "gunicorn"}
"""Importable module -> PyPI name of what the server needs."""

# No proxies from the environment: only ever 127.0.0.1, directly.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class OAuthServer:
    """What a test needs to use the OAuth2 server (the ``oauth_server`` fixture)."""

    url: str
    """``http://127.0.0.1:PORT`` (no trailing slash)."""
    token_url: str
    authorize_url: str
    revoke_url: str
    introspect_url: str
    login_url: str
    me_url: str
    """Bad token: 401 with ``WWW-Authenticate: Bearer error="invalid_token",...``."""
    classic_url: str
    """Bad token: bare 403 (the classic ``ProtectedResourceView``)."""
    forbid_invalid_token_url: str
    """Bad token: 403 with ``WWW-Authenticate: Bearer error="invalid_token"``."""
    forbid_plain_url: str
    """Always 403, no ``WWW-Authenticate``."""
    stats_url: str
    broken_token_url: str
    """A token endpoint answering 500 with an HTML page."""
    username: str
    password: str
    redirect_uri: str
    cc_client_id: str
    """Confidential client, grant ``client_credentials``."""
    cc_client_secret: str
    password_client_id: str
    """Confidential client, grant ``password``."""
    password_client_secret: str
    code_client_id: str
    """Confidential client, grant ``authorization_code`` (PKCE required, no consent form)."""
    code_client_secret: str
    public_client_id: str
    """Public client (no secret), grant ``authorization_code`` (PKCE required, no consent form)."""
    access_token_lifetime: int
    """Seconds an access token is valid."""

    def _call(self, method: str, path: str, form: bytes = b"") -> dict[str, Any]:
        request = urllib.request.Request(f"{self.url}{path}", method=method, data=form if method == "POST" else None)
        try:
            with _OPENER.open(request, timeout=10.0) as response:
                result: dict[str, Any] = json.loads(response.read())
        except (OSError, ValueError) as exc:
            raise HarnessError(f"OAuth server {method} {path} failed: {exc}") from exc
        return result

    def stats(self) -> dict[str, Any]:
        """Token-endpoint counters since start or the last :meth:`reset_stats`.

        Keys: ``token_requests`` and ``by_grant_type`` (requests to ``token_url``),
        ``by_path`` (``token_url``'s and ``broken_token_url``'s paths), ``recent`` (the last 100
        requests to either: ``seq``, ``path``, ``method``, ``grant_type`` and ``headers``, a
        dict of header name to value, e.g. ``X-Gateway-Key``), ``since`` (epoch seconds).
        """
        return self._call("GET", "/stats")

    def reset_stats(self) -> None:
        """Set the token-endpoint counters back to zero."""
        self._call("POST", "/stats/reset")

    def token_state(self, token: str) -> dict[str, str]:
        """What the server's database says about ``token``, without spending it.

        ``{"access_token": "active" | "expired" | "absent", "refresh_token": "active" | "revoked" |
        "absent"}``; django-oauth-toolkit deletes a revoked access token, so it is ``absent``.
        """
        result = self._call("POST", "/test/token-state", urllib.parse.urlencode({"token": token}).encode())
        return {str(k): str(v) for k, v in result.items()}


class OAuthServerProcess:
    """The running server; :attr:`info` is the fixture's :class:`OAuthServer`."""

    def __init__(self, process: ManagedProcess, info: OAuthServer, startup_seconds: float) -> None:
        self.process = process
        self.info = info
        self.startup_seconds = startup_seconds
        """Seconds from creating the database to the server answering."""

    def __repr__(self) -> str:
        return f"<OAuthServerProcess {self.info.url} (up in {self.startup_seconds:.2f}s)>"

    def log_tail(self, lines: int = 40) -> str:
        return self.process.log_tail(lines)

    def stop(self) -> None:
        self.process.stop()


def _environment(workdir: Path, access_token_lifetime: int) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_DIR), env.get("PYTHONPATH")]))
    env["DJANGO_SETTINGS_MODULE"] = "oauth_project.settings"
    env["MYCLIENT_OAUTH_DB"] = str(workdir / "db.sqlite3")
    env["MYCLIENT_OAUTH_SECRET_KEY"] = secrets.token_urlsafe(50)
    env["MYCLIENT_OAUTH_ACCESS_TOKEN_SECONDS"] = str(access_token_lifetime)
    return env


def _bootstrap(workdir: Path, env: dict[str, str], spec: dict[str, Any]) -> None:
    """Create the database, the user and the applications (one Python process)."""
    spec_path = workdir / "bootstrap.json"
    spec_path.write_text(json.dumps(spec, indent=2), encoding="utf-8")
    log_path = workdir / "bootstrap.log"
    timeout = start_timeout()
    try:
        with log_path.open("wb") as log:
            result = subprocess.run(
                [sys.executable, "-m", "oauth_project.bootstrap", str(spec_path)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=workdir,
                env=env,
                timeout=timeout,
                check=False,
            )
    except subprocess.TimeoutExpired:
        raise ServerStartError(f"OAuth server bootstrap took more than {timeout:.1f}s") from None
    if result.returncode != 0:
        raise ServerStartError(
            f"OAuth server bootstrap exited with code {result.returncode}\n--- log tail ---\n{tail(log_path)}"
        )


def _serve(workdir: Path, env: dict[str, str], timeout: float | None) -> tuple[ManagedProcess, str]:
    port = free_port()
    url = f"http://{LOCALHOST}:{port}"
    argv = [sys.executable, "-m", "gunicorn", "-k", "gthread", "--threads", str(THREADS), "-w", "1"]
    if gunicorn_supports_no_control_socket():
        argv.append("--no-control-socket")
    argv += [
        "-b", f"{LOCALHOST}:{port}",
        "--worker-tmp-dir", str(workdir),
        "--graceful-timeout", "3",
        "--access-logfile", "-",
        "--error-logfile", "-",
        "oauth_project.wsgi:application",
    ]  # fmt: skip
    process = ManagedProcess(
        "OAuth server (django-oauth-toolkit under gunicorn)",
        argv,
        log_path=workdir / "gunicorn.log",
        ready=http_probe(f"{url}/", ok_statuses={200}),
        cwd=workdir,
        env=env,
    )
    process.start_and_wait(timeout)
    return process, url


def start_oauth_server(
    workdir: Path,
    *,
    access_token_lifetime: int = DEFAULT_ACCESS_TOKEN_LIFETIME,
    timeout: float | None = None,
) -> OAuthServerProcess:
    """Start the OAuth2 server with a fresh database; every file goes under ``workdir``."""
    for module, package in REQUIRED_PACKAGES.items():
        if importlib.util.find_spec(module) is None:
            raise ServerUnavailable(f"the Python package {package!r} is not installed")
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    env = _environment(workdir, access_token_lifetime)
    password = secrets.token_urlsafe(16)
    cc_secret, password_secret, code_secret = (secrets.token_urlsafe(32) for _ in range(3))
    confidential: dict[str, Any] = {"client_type": "confidential"}
    code: dict[str, Any] = {"grant_type": "authorization-code", "redirect_uris": REDIRECT_URI}
    code["skip_authorization"] = True  # no consent form
    applications: list[dict[str, Any]] = [
        {**confidential, "grant_type": "client-credentials", "client_id": "cc-client", "client_secret": cc_secret},
        {**confidential, "grant_type": "password", "client_id": "password-client", "client_secret": password_secret},
        {**confidential, **code, "client_id": "code-client", "client_secret": code_secret},
        {**code, "client_type": "public", "client_id": "public-code-client"},
    ]
    for application in applications:
        application["name"] = application["client_id"]
    spec = {"user": {"username": USERNAME, "password": password}, "applications": applications}
    _bootstrap(workdir, env, spec)
    process, url = retry_on_port_conflict(lambda: _serve(workdir, env, timeout))
    info = OAuthServer(
        url=url,
        token_url=f"{url}/o/token/",
        authorize_url=f"{url}/o/authorize/",
        revoke_url=f"{url}/o/revoke_token/",
        introspect_url=f"{url}/o/introspect/",
        login_url=f"{url}/accounts/login/",
        me_url=f"{url}/api/me",
        classic_url=f"{url}/api/classic",
        forbid_invalid_token_url=f"{url}/api/forbid-invalid-token",
        forbid_plain_url=f"{url}/api/forbid-plain",
        stats_url=f"{url}/stats",
        broken_token_url=f"{url}/broken/token",
        username=USERNAME,
        password=password,
        redirect_uri=REDIRECT_URI,
        cc_client_id="cc-client",
        cc_client_secret=cc_secret,
        password_client_id="password-client",
        password_client_secret=password_secret,
        code_client_id="code-client",
        code_client_secret=code_secret,
        public_client_id="public-code-client",
        access_token_lifetime=access_token_lifetime,
    )
    return OAuthServerProcess(process, info, time.monotonic() - began)
