"""Request authentication as ``requests.auth.AuthBase`` objects: bearer token, Basic, API key.

Each one writes only to the request it is given, never to a session, and keeps its secret out of
``repr`` and registers it with the redaction registry so no log line or exception can show it.

Credentials are checked once, when they are given (a token callable's result: on every call), by
``clean_credential``. Surrounding line breaks are stripped — ``token=open("token.txt").read()``
ends with one — and so are surrounding spaces and tabs for tokens, API keys and client secrets,
whose syntax (RFC 6750 ``b64token``, generated keys) has none, so stripping cannot change a valid
value. Basic user names and passwords keep their spaces: they may be part of a password. Anything
left that is empty or holds a control character (an inner CR/LF would split the header) is refused
with ``UsageError``; no message ever shows the value, so it cannot leak through ``str(e)`` or a
traceback.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Optional, Protocol, Union, runtime_checkable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from requests.auth import AuthBase, HTTPBasicAuth

from .exceptions import AuthError, MyClientError, UsageError
from .redaction import registry

if TYPE_CHECKING:
    from .adapters import Adapter

__all__ = ["APIKeyAuth", "AuthFlow", "BasicAuth", "BearerAuth", "LoginFlow", "TokenSource", "clean_credential"]

#: A token, or a function returning the current one (called once per request; None or blank: no token yet).
TokenSource = Union[str, Callable[[], Optional[str]]]

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NOT_VISIBLE_ASCII = re.compile(r"[^\x20-\x7e]")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an RFC 9110 token


def clean_credential(value: object, name: str, *, keep_spaces: bool = False, header: bool = False) -> str:
    """``value`` without surrounding line breaks (and spaces/tabs unless ``keep_spaces``), checked.

    Raises UsageError — naming ``name``, never showing the value — for a non-string, an empty
    value, a control character anywhere, or (``header=True``) a character an HTTP header cannot
    carry as is (outside visible ASCII).
    """
    if not isinstance(value, str):
        raise UsageError(f"{name} must be a string, got {type(value).__name__}")
    cleaned = value.strip("\r\n") if keep_spaces else value.strip(" \t\r\n")
    if not cleaned:
        raise UsageError(f"{name} must be a non-empty string")
    if _CONTROL.search(cleaned):
        raise UsageError(f"{name} contains a control character such as CR or LF; refused (value not shown)")
    if header and _NOT_VISIBLE_ASCII.search(cleaned):
        raise UsageError(f"{name} must be visible ASCII to travel in an HTTP header (value not shown)")
    return cleaned


class BearerAuth(AuthBase):
    """``Authorization: Bearer <token>``; ``token`` may be a string or a zero-argument callable.

    A callable is asked on every request; when it returns None or a blank string (``""``, or the
    line break of an empty token file) the request goes without an ``Authorization`` header
    (anonymous until the application has a token). A callable that raises makes the call fail
    with AuthError; one that returns something else than a string or None is a UsageError.
    """

    def __init__(self, token: TokenSource) -> None:
        if isinstance(token, str):
            token = clean_credential(token, "token", header=True)
            registry.add_secret(token)
        elif not callable(token):
            raise UsageError(f"token must be a string or a callable, got {type(token).__name__}")
        self._token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        token = self._token if isinstance(self._token, str) else self._current()
        if token is not None:
            r.headers["Authorization"] = "Bearer " + token
        return r

    def _current(self) -> str | None:
        """The callable's token for this request, checked like a given string (None: no token)."""
        source = self._token
        assert callable(source)
        try:
            token = source()
        except MyClientError:
            raise
        except Exception as exc:
            raise AuthError(f"the token callable raised {type(exc).__name__}") from exc
        if token is None or (isinstance(token, str) and not token.strip(" \t\r\n")):
            return None
        token = clean_credential(token, "the token callable's result", header=True)
        registry.add_secret(token)
        return token

    def __repr__(self) -> str:
        return "BearerAuth(token=***)"


class BasicAuth(HTTPBasicAuth):
    """HTTP Basic credentials; the password never appears in ``repr``.

    Surrounding line breaks are stripped from both; spaces are kept (a password may have them).
    A user name may not contain a colon (RFC 7617 §2).
    """

    def __init__(self, username: str, password: str) -> None:
        username = clean_credential(username, "username", keep_spaces=True)
        password = clean_credential(password, "password", keep_spaces=True)
        if ":" in username:
            raise UsageError("username must not contain a colon (RFC 7617)")
        super().__init__(username, password)
        registry.add_secret(password)

    def __repr__(self) -> str:
        return f"BasicAuth(username={self.username!r}, password=***)"


class APIKeyAuth(AuthBase):
    """An API key in a header (default ``X-API-Key``) or, with ``param="name"``, a query parameter.

    The header or parameter name is registered as secret, so it is masked in logs and cassettes.
    """

    def __init__(self, key: str, *, header: str = "X-API-Key", param: str | None = None) -> None:
        self._key = clean_credential(key, "API key", header=param is None)
        if not isinstance(header, str) or not _HEADER_NAME.fullmatch(header):
            raise UsageError("header must be an HTTP header name (letters, digits and !#$%&'*+.^_`|~-)")
        if param is not None and (not isinstance(param, str) or not param or _CONTROL.search(param)):
            raise UsageError("param must be a non-empty query parameter name without control characters")
        self.header = header
        self.param = param
        registry.add_secret(self._key)
        registry.add_header(header)
        if param:
            registry.add_param(param)

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        if self.param:
            parts = urlsplit(r.url or "")
            pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != self.param]
            pairs.append((self.param, self._key))
            r.url = urlunsplit(parts._replace(query=urlencode(pairs)))
        else:
            r.headers[self.header] = self._key
        return r

    def __repr__(self) -> str:
        where = f"param={self.param!r}" if self.param else f"header={self.header!r}"
        return f"APIKeyAuth({where}, key=***)"


@runtime_checkable
class AuthFlow(Protocol):
    """The auth protocol: what the client asks of ``Client(auth=...)``.

    Only ``__call__`` is required (it is ``requests.auth.AuthBase``): it writes credentials onto the
    request being prepared, on every attempt, and may obtain them first (a login, a token request).
    The optional methods make a flow a ``LoginFlow``.
    """

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        """Set the credentials on ``r`` (and return it)."""


@runtime_checkable
class LoginFlow(AuthFlow, Protocol):
    """A flow with a lifecycle; the client calls these when present (all optional for plain auth).

    * ``bind(adapter)`` — called by the Client: send the flow's own requests (login, token, logout)
      through this adapter, so they use the client's session, gateway headers, proxies and timeouts;
    * ``handle_unauthorized(response) -> bool`` — the call got 401 (or 403 ``invalid_token``): renew the
      credentials (once across threads) and return True to have the call replayed once;
    * ``login(*args, **kwargs)`` — obtain credentials now (``client.login(...)``);
    * ``logout()`` — end them on the server where it can, and forget them (``client.logout()``);
    * ``is_authenticated() -> bool`` — whether usable credentials are held (a flow may ask the server).

    ``myclient.TokenLogin``, ``myclient.SessionLogin`` and the OAuth2 grants implement it.
    """

    def bind(self, adapter: Adapter) -> None:
        """Send the flow's own requests through ``adapter``."""

    def handle_unauthorized(self, response: requests.Response) -> bool:
        """Renew after a 401; True to replay the call once."""

    def login(self, *args: Any, **kwargs: Any) -> Any:
        """Obtain credentials now."""

    def logout(self) -> None:
        """End the credentials where possible and forget them."""

    def is_authenticated(self) -> bool:
        """Whether usable credentials are held."""
