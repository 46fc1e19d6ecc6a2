"""Security schemes to myclient auth, chosen per operation from the credentials the user gives.

``credentials`` maps a scheme name to what it needs: a token (http bearer, oauth2, openIdConnect), a
(username, password) pair (http basic), a key (apiKey in a header, the query or a cookie), a mapping
``{"client_id", "client_secret"}`` (oauth2 client credentials: a ``ClientCredentials`` flow on the scheme's
tokenUrl), or any ready auth object (a flow, a requests ``AuthBase``). ``token=`` fills every bearer-like
scheme not named. An operation uses the first of its security alternatives whose schemes all have
credentials; with none, it is sent without credentials (the server decides).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urljoin

import requests
from requests.auth import AuthBase

from ..auth import APIKeyAuth, BasicAuth, BearerAuth
from ..exceptions import UsageError
from ..redaction import registry
from ._model import Operation, SpecModel
from ._spec import child

__all__ = ["Security"]

_BEARER_LIKE = ("oauth2", "openIdConnect")


class _CookieKey(AuthBase):
    """An API key sent as a cookie (added to the Cookie header the request already has)."""

    def __init__(self, name: str, value: str) -> None:
        self.name, self._value = name, value
        registry.add_secret(value)

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        pair = f"{self.name}={self._value}"
        existing = r.headers.get("Cookie")
        r.headers["Cookie"] = f"{existing}; {pair}" if existing else pair
        return r

    def __repr__(self) -> str:
        return f"_CookieKey({self.name!r}, ***)"


class _AllOf(AuthBase):
    """Several schemes required together (one security requirement naming more than one scheme)."""

    def __init__(self, parts: list[Any]) -> None:
        self.parts = parts

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        for part in self.parts:
            r = part(r)
        return r

    def handle_unauthorized(self, response: requests.Response) -> bool:
        return any(bool(getattr(p, "handle_unauthorized", lambda _r: False)(response)) for p in self.parts)

    def __repr__(self) -> str:
        return f"_AllOf({self.parts!r})"


class Security:
    """The auth objects for a document's schemes, built once, and the choice per operation."""

    def __init__(self, model: SpecModel, credentials: Mapping[str, Any] | None, token: Any, *,
                 base_url: str | None = None) -> None:
        self.model = model
        self.base_url = base_url  # what a relative tokenUrl is resolved against (OpenAPI: the server URL)
        given = dict(credentials or {})
        unknown = sorted(set(given) - set(model.security_schemes))
        if unknown:
            known = ", ".join(sorted(model.security_schemes)) or "none"
            raise UsageError(f"credentials for unknown security scheme(s) {', '.join(unknown)} (the spec has: {known})")
        self.auth: dict[str, Any] = {}
        for name, scheme in model.security_schemes.items():
            value = given.get(name)
            if value is None and token is not None and self._bearer_like(scheme):
                value = token
            if value is not None:
                self.auth[name] = self._build(name, scheme, value)

    @staticmethod
    def _bearer_like(scheme: Any) -> bool:
        if not isinstance(scheme, Mapping):
            return False
        kind = scheme.get("type")
        return kind in _BEARER_LIKE or (kind == "http" and str(scheme.get("scheme", "")).lower() == "bearer")

    def _build(self, name: str, scheme: Any, value: Any) -> Any:
        if not isinstance(scheme, Mapping):
            raise UsageError(f"security scheme {name!r} is not an object")
        if isinstance(value, AuthBase):
            return value
        kind = scheme.get("type")
        if kind == "http":
            method = str(scheme.get("scheme", "")).lower()
            if method == "basic":
                if not (isinstance(value, tuple) and len(value) == 2):
                    raise UsageError(f"credentials[{name!r}] (http basic) must be a (username, password) pair")
                return BasicAuth(*value)
            return BearerAuth(value)
        if kind == "apiKey":
            where, key_name = scheme.get("in"), str(scheme.get("name") or name)
            if not isinstance(value, str):
                raise UsageError(f"credentials[{name!r}] (an API key) must be a string")
            if where == "query":
                return APIKeyAuth(value, param=key_name)
            if where == "cookie":
                return _CookieKey(key_name, value)
            return APIKeyAuth(value, header=key_name)
        if kind == "oauth2" and isinstance(value, Mapping):
            return self._client_credentials(name, scheme, value)
        if kind in _BEARER_LIKE:
            return BearerAuth(value)
        raise UsageError(f"security scheme {name!r} of type {kind!r} is not supported; pass a ready auth object")

    def _client_credentials(self, name: str, scheme: Mapping[str, Any], value: Mapping[str, Any]) -> Any:
        flow = child(child(scheme, "flows"), "clientCredentials")
        if not flow.get("tokenUrl"):
            raise UsageError(f"security scheme {name!r} has no clientCredentials flow with a tokenUrl")
        from ..grants import ClientCredentials

        scopes = value.get("scope", list((flow.get("scopes") or {}).keys()) or None)
        token_url = urljoin(self.base_url, str(flow["tokenUrl"])) if self.base_url else str(flow["tokenUrl"])
        return ClientCredentials(token_url, str(value.get("client_id", "")),
                                 str(value.get("client_secret", "")), scope=scopes)

    def for_operation(self, op: Operation) -> Any:
        """The auth for ``op`` (None: no credentials apply)."""
        return self.for_requirements(op.security)

    def for_requirements(self, requirements: Sequence[Mapping[str, Any]]) -> Any:
        """The auth for a list of security requirements (alternatives): the first one all credentials cover."""
        for requirement in requirements:
            if not requirement:
                return None  # anonymous access is allowed
            if all(name in self.auth for name in requirement):
                parts = [self.auth[name] for name in requirement]
                return parts[0] if len(parts) == 1 else _AllOf(parts)
        return None

    def bind(self, adapter: Any) -> None:
        """Let flows (OAuth2) send their token requests through the client's adapter."""
        for auth in self.auth.values():
            bind = getattr(auth, "bind", None)
            if callable(bind):
                bind(adapter)
