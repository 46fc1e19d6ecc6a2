"""Login flows for APIs that are not OAuth2: ``TokenLogin`` (credentials in, token out) and ``SessionLogin``.

Both implement ``myclient.auth.LoginFlow`` — the protocol ``Client(auth=...)``, ``client.login()``,
``client.logout()`` and ``client.is_authenticated()`` work with — and send their own requests through
the client's adapter (its session, gateway headers, certificates, proxies, timeouts and logging), with
paths relative to the client's base URL, never with the flow's own credentials attached. Logging in is
single-flight: any number of threads needing a login cause one login request. Passwords and tokens go
into the redaction registry before anything is sent, so no log line, error or cassette can show them.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import requests
from requests.auth import AuthBase

from . import _context
from .auth import clean_credential
from .exceptions import AuthError, DeadlineExceeded, UsageError
from .redaction import registry

if TYPE_CHECKING:
    from .adapters import Adapter
    from .tokens import TokenStore

__all__ = ["SessionLogin", "TokenLogin"]

_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _dig(doc: Any, dotted: str) -> Any:
    value = doc
    for part in dotted.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdecimal() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


class _LoginBase(AuthBase):
    """What both flows share: the bound adapter, credentials kept for re-login, the single-flight lock."""

    def __init__(self, login_path: str, *, username: str | None, password: str | None, body: str, method: str,
                 username_field: str, password_field: str, extra: Mapping[str, Any] | None,
                 whoami_path: str | None, logout_path: str | None, logout_method: str, relogin: bool) -> None:
        if not isinstance(login_path, str) or not login_path:
            raise UsageError("login_path must be a path under the client's base URL, e.g. '/api/auth/login'")
        if body not in ("json", "form"):
            raise UsageError(f"body must be 'json' or 'form', got {body!r}")
        self.login_path = login_path
        self.body = body
        self.method = method.upper()
        self.username_field = username_field
        self.password_field = password_field
        self.extra = dict(extra or {})
        self.whoami_path = whoami_path
        self.logout_path = logout_path
        self.logout_method = logout_method.upper()
        self.relogin = relogin
        self.username: str | None = None
        self._password: str | None = None
        self._adapter: Adapter | None = None
        self._lock = threading.RLock()
        self._remember(username, password)

    def _remember(self, username: str | None, password: str | None) -> None:
        if username is not None:
            self.username = clean_credential(username, "username", keep_spaces=True)
        if password is not None:
            self._password = clean_credential(password, "password", keep_spaces=True)
            registry.add_secret(self._password)

    def bind(self, adapter: Adapter) -> None:
        """Send the flow's own requests through ``adapter`` (the Client does this)."""
        self._adapter = adapter

    def _bound(self) -> Adapter:
        if self._adapter is None:
            raise UsageError(f"{type(self).__name__} is not bound to a client: use Client(..., auth=flow)")
        return self._adapter

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One request of the flow itself: through the client's adapter, without the flow's credentials."""
        adapter = self._bound()
        left = _context.time_left()
        if left is not None:
            if left <= 0:
                raise DeadlineExceeded(f"DeadlineExceeded: no time left of the call's deadline to {method} "
                                       f"{registry.url(path)}", method=method)
            kwargs["deadline"] = left
        return adapter.request_raw(method, path, auth=None, raise_on_error=False, **kwargs)

    def _credentials(self) -> dict[str, Any]:
        if not (self.username and self._password):
            raise AuthError(f"{type(self).__name__} needs a username and password: call login(username, password)")
        return {self.username_field: self.username, self.password_field: self._password, **self.extra}

    def _body(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        return {"json": dict(fields)} if self.body == "json" else {"data": dict(fields)}

    def _path(self, template: str, **values: str) -> str:
        from .groups import path

        fields = {k: v for k, v in values.items() if "{" + k + "}" in template}
        return path(template, **fields) if fields else template

    @staticmethod
    def _refused(response: requests.Response, what: str) -> AuthError:
        detail = ""
        try:
            doc = response.json() if response.content else None
        except (ValueError, RecursionError):
            doc = None
        if isinstance(doc, Mapping):
            found = doc.get("detail") or doc.get("error") or doc.get("message")
            if isinstance(found, str):
                detail = ": " + " ".join(registry.text(found).split())[:160]
        return AuthError(f"{what} refused ({response.status_code}){detail}", status=response.status_code,
                         method=response.request.method if response.request else None, url=response.url)

    def handle_unauthorized(self, response: requests.Response) -> bool:
        """On 401: log in again (once across threads) when the credentials are kept; True to replay."""
        if not self.relogin or not (self.username and self._password):
            return False
        with self._lock:
            if self._stale_since(response):
                return True  # another thread logged in since this request was sent
            self._login()
        return True

    def _stale_since(self, response: requests.Response) -> bool:
        raise NotImplementedError

    def _login(self) -> Any:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.login_path!r} user={self.username!r}>"


class TokenLogin(_LoginBase):
    """POST credentials (JSON or form) to ``login_path``, take the token, send it as ``<scheme> <token>``.

    The token is read from the JSON body at ``token_path`` (a dotted path, default ``token``) or from
    the response header ``token_header``. It is sent in ``header`` (default ``Authorization``) as
    ``scheme + " " + token`` (``scheme=None``: the bare token, as ``X-Auth-Token`` APIs want). Without a
    token the first request logs in (when the credentials were given) or goes anonymous; on 401 the
    flow logs in again and the call is replayed once. ``login_path`` and ``logout_path`` may hold
    ``{username}`` / ``{token}`` fields (npm: ``/-/user/org.couchdb.user:{username}``,
    ``/-/user/token/{token}``), filled percent-encoded. ``store`` keeps the token between runs (any
    myclient TokenStore, under ``store_key``).
    """

    def __init__(
        self, login_path: str, *, username: str | None = None, password: str | None = None,
        body: Literal["json", "form"] = "json", method: str = "POST", username_field: str = "username",
        password_field: str = "password", extra: Mapping[str, Any] | None = None, token_path: str | None = "token",
        token_header: str | None = None, header: str = "Authorization", scheme: str | None = "Bearer",
        whoami_path: str | None = None, logout_path: str | None = None, logout_method: str = "POST",
        relogin: bool = True, store: TokenStore | None = None, store_key: str | None = None,
    ) -> None:
        if token_path is None and token_header is None:
            raise UsageError("say where the token is: token_path (JSON) or token_header")
        super().__init__(login_path, username=username, password=password, body=body, method=method,
                         username_field=username_field, password_field=password_field, extra=extra,
                         whoami_path=whoami_path, logout_path=logout_path, logout_method=logout_method,
                         relogin=relogin)
        self.token_path = token_path
        self.token_header = token_header
        self.header = header
        self.scheme = scheme
        self.store = store
        self.store_key = store_key or f"login:{login_path}:{username or ''}"
        self._token: str | None = None
        if store is not None:
            held = store.get(self.store_key)
            self._token = held.access_token if held is not None else None

    # -- requests auth ----------------------------------------------------------------------------
    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        token = self._token
        if token is None and self.username and self._password:
            with self._lock:
                token = self._token if self._token is not None else self._login()
        if token is not None:
            r.headers[self.header] = f"{self.scheme} {token}" if self.scheme else token
        return r

    def _stale_since(self, response: requests.Response) -> bool:
        sent = response.request.headers.get(self.header) if response.request is not None else None
        current = self._token
        return current is not None and sent != (f"{self.scheme} {current}" if self.scheme else current)

    # -- the protocol -------------------------------------------------------------------------------
    def login(self, username: str | None = None, password: str | None = None) -> str:
        """Log in now (with new credentials if given); returns the token."""
        self._remember(username, password)
        with self._lock:
            return self._login()

    def _login(self) -> str:
        fields = self._credentials()
        path = self._path(self.login_path, username=self.username or "")
        response = self._send(self.method, path, **self._body(fields))
        if response.status_code >= 400:
            raise self._refused(response, f"login at {registry.url(path)}")
        token = self._token_from(response)
        self._keep(token)
        return token

    def _token_from(self, response: requests.Response) -> str:
        found: Any = None
        if self.token_header is not None:
            found = response.headers.get(self.token_header)
        if found is None and self.token_path is not None:
            try:
                found = _dig(response.json(), self.token_path)
            except (ValueError, RecursionError):
                found = None
        if not isinstance(found, str) or not found.strip():
            where = f"header {self.token_header!r}" if self.token_header else f"JSON field {self.token_path!r}"
            raise AuthError(f"login answered {response.status_code} without a token in its {where}",
                            status=response.status_code, url=response.url)
        try:
            return clean_credential(found, "the login token", header=True)
        except UsageError as exc:
            raise AuthError(f"login answered an unusable token: {exc}", status=response.status_code) from None

    def _keep(self, token: str | None) -> None:
        registry.add_secret(token)
        self._token = token
        if self.store is not None:
            if token is None:
                self.store.delete(self.store_key)
            else:
                from .tokens import Token

                self.store.set(self.store_key, Token(access_token=token, token_type=self.scheme or "Token"))

    @property
    def token(self) -> str | None:
        """The token held now (None before login)."""
        return self._token

    def is_authenticated(self) -> bool:
        """Whether a token is held; with ``whoami_path``, whether the server accepts it (one GET)."""
        token = self._token
        if token is None:
            return False
        if self.whoami_path is None:
            return True
        header = f"{self.scheme} {token}" if self.scheme else token
        response = self._send("GET", self.whoami_path, headers={self.header: header})
        response.close()
        return response.status_code < 400

    def logout(self) -> None:
        """Call ``logout_path`` with the token (when set), then forget the token.

        A refused logout raises AuthError and keeps the token (it may still work on the server).
        """
        with self._lock:
            token = self._token
            if token is None:
                return
            if self.logout_path is not None:
                header = f"{self.scheme} {token}" if self.scheme else token
                path = self._path(self.logout_path, token=token, username=self.username or "")
                response = self._send(self.logout_method, path, headers={self.header: header})
                response.close()
                if response.status_code >= 400 and response.status_code != 401:
                    raise self._refused(response, "logout")
            self._keep(None)

    def __repr__(self) -> str:
        return f"<TokenLogin {self.login_path!r} user={self.username!r} token={'***' if self._token else None}>"


class SessionLogin(_LoginBase):
    """Form or JSON login that sets a session cookie; the CSRF token follows unsafe requests.

    ``login()`` first GETs ``csrf_path`` (when given) so the server sets its CSRF cookie, then sends the
    credentials to ``login_path`` (the CSRF token in ``csrf_header``, and in the form field
    ``csrf_field`` for a form login). Afterwards every POST/PUT/PATCH/DELETE carries the current value
    of the ``csrf_cookie`` cookie in ``csrf_header`` — Django's ``csrftoken``/``X-CSRFToken`` by default;
    the value is read per request, since servers rotate it at login. The session cookie lives in the
    session's cookie jar, as requests keeps cookies. ``is_authenticated()`` asks ``whoami_path`` when
    given; ``logout()`` calls ``logout_path``. On 401 (or 403 without a CSRF failure) the flow logs in
    again once when the credentials are kept.
    """

    def __init__(
        self, login_path: str, *, username: str | None = None, password: str | None = None,
        body: Literal["json", "form"] = "form", method: str = "POST", username_field: str = "username",
        password_field: str = "password", extra: Mapping[str, Any] | None = None, csrf_path: str | None = None,
        csrf_cookie: str = "csrftoken", csrf_header: str = "X-CSRFToken",
        csrf_field: str | None = "csrfmiddlewaretoken",
        session_cookie: str = "sessionid", whoami_path: str | None = None, logout_path: str | None = None,
        logout_method: str = "POST", relogin: bool = True,
    ) -> None:
        super().__init__(login_path, username=username, password=password, body=body, method=method,
                         username_field=username_field, password_field=password_field, extra=extra,
                         whoami_path=whoami_path, logout_path=logout_path, logout_method=logout_method,
                         relogin=relogin)
        self.csrf_path = csrf_path
        self.csrf_cookie = csrf_cookie
        self.csrf_header = csrf_header
        self.csrf_field = csrf_field
        self.session_cookie = session_cookie

    def _jar(self) -> requests.cookies.RequestsCookieJar:
        return self._bound().session.cookies

    def _cookie(self, name: str) -> str | None:
        try:
            value = self._jar().get(name)
        except requests.cookies.CookieConflictError:
            values = [c.value for c in self._jar() if c.name == name]
            value = values[-1] if values else None
        return value if isinstance(value, str) and value else None

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        if (r.method or "").upper() in _UNSAFE:
            token = self._cookie(self.csrf_cookie)
            if token is not None:
                r.headers[self.csrf_header] = token
                if (r.url or "").startswith("https://") and "Referer" not in r.headers and self._adapter is not None:
                    r.headers["Referer"] = self._adapter.base_url + "/"  # Django checks it over HTTPS
        return r

    def _stale_since(self, response: requests.Response) -> bool:
        """Whether the session cookie changed since the rejected request was sent (another thread logged in)."""
        sent = response.request.headers.get("Cookie", "") if response.request is not None else ""
        sent_value = next((part.split("=", 1)[1].strip() for part in str(sent).split(";")
                           if part.strip().startswith(self.session_cookie + "=")), None)
        current = self._cookie(self.session_cookie)
        return current is not None and current != sent_value

    def login(self, username: str | None = None, password: str | None = None) -> bool:
        """Log in now (with new credentials if given): the server's session cookie is set; returns True."""
        self._remember(username, password)
        with self._lock:
            return self._login()

    def _login(self) -> bool:
        fields = self._credentials()
        if self.csrf_path is not None:
            self._send("GET", self.csrf_path).close()
        token = self._cookie(self.csrf_cookie)
        headers = {self.csrf_header: token} if token else {}
        if token and self.body == "form" and self.csrf_field:
            fields = {**fields, self.csrf_field: token}
        response = self._send(self.method, self._path(self.login_path, username=self.username or ""),
                              headers=headers, **self._body(fields))
        response.close()
        if response.status_code >= 400:
            raise self._refused(response, "login")
        if self._cookie(self.session_cookie) is None:
            raise AuthError(f"login answered {response.status_code} but set no {self.session_cookie!r} cookie",
                            status=response.status_code, url=response.url)
        registry.learn(self._cookie(self.session_cookie))
        return True

    def is_authenticated(self) -> bool:
        """With ``whoami_path``: whether the server recognises the session (one GET); else whether it is held."""
        if self.whoami_path is None:
            return self._cookie(self.session_cookie) is not None
        response = self._send("GET", self.whoami_path)
        response.close()
        return response.status_code < 400

    def logout(self) -> None:
        """Call ``logout_path`` (with the CSRF token) so the server ends the session; forget the cookie."""
        with self._lock:
            if self.logout_path is not None and self._cookie(self.session_cookie) is not None:
                token = self._cookie(self.csrf_cookie)
                response = self._send(self.logout_method, self.logout_path,
                                      headers={self.csrf_header: token} if token else {})
                response.close()
                if response.status_code >= 400 and response.status_code not in (401, 403):
                    raise self._refused(response, "logout")
            jar = self._jar()
            for cookie in [c for c in jar if c.name == self.session_cookie]:
                jar.clear(cookie.domain, cookie.path, cookie.name)

