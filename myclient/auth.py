"""Request authentication as ``requests.auth.AuthBase`` objects: bearer token, Basic, API key.

Each one writes only to the request it is given, never to a session, and keeps its secret out of
``repr`` and registers it with the redaction registry so no log line or exception can show it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Union
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from requests.auth import AuthBase, HTTPBasicAuth

from .exceptions import UsageError
from .redaction import registry

__all__ = ["BearerAuth", "BasicAuth", "APIKeyAuth", "TokenSource"]

#: A token, or a function returning the current one (called once per request).
TokenSource = Union[str, Callable[[], str]]


class BearerAuth(AuthBase):
    """``Authorization: Bearer <token>``; ``token`` may be a string or a zero-argument callable."""

    def __init__(self, token: TokenSource) -> None:
        if isinstance(token, str):
            if not token:
                raise UsageError("token must be a non-empty string")
            registry.add_secret(token)
        elif not callable(token):
            raise UsageError(f"token must be a string or a callable, got {type(token).__name__}")
        self._token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        token = self._token
        if not isinstance(token, str):
            token = token()
            registry.add_secret(token)
        r.headers["Authorization"] = "Bearer " + token
        return r

    def __repr__(self) -> str:
        return "BearerAuth(token=***)"


class BasicAuth(HTTPBasicAuth):
    """HTTP Basic credentials; the password never appears in ``repr``."""

    def __init__(self, username: str, password: str) -> None:
        super().__init__(username, password)
        registry.add_secret(password)

    def __repr__(self) -> str:
        return f"BasicAuth(username={self.username!r}, password=***)"


class APIKeyAuth(AuthBase):
    """An API key in a header (default ``X-API-Key``) or, with ``in_query=True``, a query parameter.

    The header or parameter name is registered as secret, so it is masked in logs and cassettes.
    """

    def __init__(self, key: str, *, header: str = "X-API-Key", param: str | None = None) -> None:
        if not key:
            raise UsageError("API key must be a non-empty string")
        self._key = key
        self.header = header
        self.param = param
        registry.add_secret(key)
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
