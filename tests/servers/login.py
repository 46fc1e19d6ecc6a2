"""Real non-OAuth login endpoints: the ``login_api`` app served by the OAuth2 test server's Django project.

The same gunicorn process as :mod:`.oauth` (see ``oauth_project/login_api``) answers three login
styles, against the same users and database:

* a token API (DRF-token style): ``POST /api/auth/login`` (JSON or form) returns a 40-hex token in
  the body and in ``X-Auth-Token``; ``Authorization: Token <key>`` or ``Bearer <key>`` opens
  ``/api/auth/me`` and ``/api/items``; a bad token is a 401 with ``WWW-Authenticate: Token``;
  ``POST /api/auth/logout`` revokes it;
* npm / Verdaccio login: ``PUT /-/user/org.couchdb.user:<name>``, ``GET /-/whoami``,
  ``DELETE /-/user/token/<token>``;
* a session login with Django's CSRF protection on (cookie ``csrftoken``, header ``X-CSRFToken``):
  ``/session/csrf``, ``/session/login``, ``/session/whoami``, ``/session/items``, ``/session/logout``.

:func:`attach_login_server` turns a running :class:`~servers.oauth.OAuthServer` into a
:class:`LoginServer` (every URL, two users, the test-control calls), creating the user with the
awkward credentials on the way.
"""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from ._proc import HarnessError
from .oauth import OAuthServer

DEFAULT_TTL = 3600
"""Seconds a token lives unless :meth:`LoginServer.configure` says otherwise (``login_api.state``)."""
SPECIAL_USERNAME = "zoë+login@example.com"
"""A username that breaks naive encodings: ``+`` (a space in forms), ``@``, non-ASCII."""

# No proxies from the environment: only ever 127.0.0.1, directly.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def special_password() -> str:
    """A fresh password with every character that must survive form, JSON and URL encoding."""
    return 'p+a%2Bs%2bs &w=ö"\\/:' + secrets.token_urlsafe(12)


@dataclass(frozen=True)
class LoginServer:
    """What a test needs to use the login endpoints (fixtures ``login_server`` and ``login_server_info``)."""

    url: str
    """``http://127.0.0.1:PORT`` (no trailing slash), the OAuth2 server's."""
    username: str
    """``alice``, the OAuth2 server's user."""
    password: str
    special_username: str
    """:data:`SPECIAL_USERNAME`."""
    special_password: str
    """From :func:`special_password`: ``+``, ``%2B``, ``%2b``, space, ``&``, ``=``, ``ö``, ``"``, backslash, ``/``."""

    # Token API.
    token_login_url: str
    """``POST`` JSON or form ``username``/``password``: ``{"token", "user", "expires_in", "auth": {"token"}}``."""
    token_me_url: str
    token_logout_url: str
    items_url: str
    """``GET`` a list; ``POST`` a JSON object -> 201 with its ``id``."""
    token_header: str
    """``X-Auth-Token``: the login response's header carrying the token."""
    token_challenge: str
    """``Token``: the ``WWW-Authenticate`` of every 401 of the token API."""

    # npm registry login.
    npm_registry_url: str
    """``{url}/`` (npm's ``registry`` setting)."""
    npm_whoami_url: str

    # Session login (CSRF on).
    session_csrf_url: str
    session_login_url: str
    session_whoami_url: str
    session_items_url: str
    session_logout_url: str
    csrf_cookie_name: str
    csrf_header_name: str
    csrf_form_field: str
    session_cookie_name: str

    # Test control (no authentication).
    config_url: str
    revoke_all_url: str
    users_url: str
    stats_url: str
    reset_url: str
    default_ttl: int

    def npm_user_url(self, name: str) -> str:
        """``PUT`` here to log in as ``name`` (percent-encoded as npm does)."""
        return f"{self.url}/-/user/org.couchdb.user:{quote(name, safe='')}"

    def npm_token_url(self, token: str) -> str:
        """``DELETE`` here (with ``Authorization: Bearer``) to log ``token`` out."""
        return f"{self.url}/-/user/token/{quote(token, safe='')}"

    def _call(self, method: str, url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = None if body is None and method == "GET" else json.dumps(body or {}).encode()
        request = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with _OPENER.open(request, timeout=10.0) as response:
                result: dict[str, Any] = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:500]
            raise HarnessError(f"login server {method} {url} answered {exc.code}: {detail}") from None
        except (OSError, ValueError) as exc:
            raise HarnessError(f"login server {method} {url} failed: {exc}") from exc
        return result

    def stats(self) -> dict[str, Any]:
        """Counters since start or the last :meth:`reset`.

        ``requests``, ``logins``, ``login_failures``, ``logouts``, ``unauthorized`` (401s) and
        ``forbidden`` (403s, CSRF rejections included) over all flows; the same per flow in
        ``by_flow`` (``token``, ``npm``, ``session``); ``by_endpoint`` (e.g. ``"POST /api/items"``,
        ``"PUT /-/user/org.couchdb.user:{name}"``); ``by_status`` (``"401"``: n); ``recent`` (the last
        200 requests: ``seq``, ``flow``, ``endpoint``, ``path``, ``status``, ``headers``); ``since``.
        Test-control calls are not counted.
        """
        return self._call("GET", self.stats_url)

    def reset(self) -> None:
        """Zero the counters, restore the default configuration, delete every stored item."""
        self._call("POST", self.reset_url)

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Change the configuration; returns all of it.

        ``ttl``: seconds (fractions allowed) the tokens issued from now on live; ``0`` issues
        expired tokens, ``None`` never-expiring ones. ``anonymous_status``: 401 (default) or 403,
        what ``/session/whoami`` and ``/session/items`` answer without a session.
        """
        return self._call("POST", self.config_url, changes)

    def config(self) -> dict[str, Any]:
        return self._call("GET", self.config_url)

    def revoke_all(self) -> dict[str, int]:
        """Revoke every token and end every ``/session/login`` session: ``{"tokens": n, "sessions": m}``."""
        result = self._call("POST", self.revoke_all_url)
        return {key: int(value) for key, value in result.items()}

    def create_user(self, username: str, password: str) -> dict[str, Any]:
        """Create ``username`` (or set its password); any strings work. Returns ``{"id", "username"}``."""
        return self._call("POST", self.users_url, {"username": username, "password": password})


def attach_login_server(oauth: OAuthServer) -> LoginServer:
    """The login endpoints of the running OAuth2 server ``oauth``; creates the special user."""
    url = oauth.url
    server = LoginServer(
        url=url,
        username=oauth.username,
        password=oauth.password,
        special_username=SPECIAL_USERNAME,
        special_password=special_password(),
        token_login_url=f"{url}/api/auth/login",
        token_me_url=f"{url}/api/auth/me",
        token_logout_url=f"{url}/api/auth/logout",
        items_url=f"{url}/api/items",
        token_header="X-Auth-Token",
        token_challenge="Token",
        npm_registry_url=f"{url}/",
        npm_whoami_url=f"{url}/-/whoami",
        session_csrf_url=f"{url}/session/csrf",
        session_login_url=f"{url}/session/login",
        session_whoami_url=f"{url}/session/whoami",
        session_items_url=f"{url}/session/items",
        session_logout_url=f"{url}/session/logout",
        csrf_cookie_name="csrftoken",
        csrf_header_name="X-CSRFToken",
        csrf_form_field="csrfmiddlewaretoken",
        session_cookie_name="sessionid",
        config_url=f"{url}/api/_test/config",
        revoke_all_url=f"{url}/api/_test/revoke_all",
        users_url=f"{url}/api/_test/users",
        stats_url=f"{url}/api/_test/stats",
        reset_url=f"{url}/api/_test/reset",
        default_ttl=DEFAULT_TTL,
    )
    server.create_user(server.special_username, server.special_password)
    return server
