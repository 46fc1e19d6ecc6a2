"""The OAuth2 token lifecycle: when to get a token, and how to ask the token endpoint for one.

Ahead of expiry, once on 401, one renewal at a time across threads (and across processes with a
locking store). Token requests go through the client's own adapter, so the session's gateway
headers, certificates, proxies and CA apply. The grants themselves are in ``grants``.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Union
from urllib.parse import quote_plus, urlencode, urlsplit

import requests
from oauthlib.oauth2 import (
    WebApplicationClient,
)
from oauthlib.oauth2.rfc6749.errors import OAuth2Error
from oauthlib.oauth2.rfc6749.parameters import parse_token_response
from requests.auth import AuthBase

from . import _urls
from .exceptions import AuthError, UsageError
from .redaction import registry
from .tokens import MemoryTokenStore, Token, TokenStore

if TYPE_CHECKING:
    from .adapters import Adapter

__all__ = ["OAuth2Flow", "Scope", "OnToken", "check_endpoint"]

Scope = Union[str, Sequence[str], None]
OnToken = Callable[[Token, Union[Token, None]], None]
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def check_endpoint(name: str, url: str | None) -> None:
    """OAuth2 endpoints must be https; plain http is accepted only on loopback (RFC 8252 §8.3)."""
    if url is None:
        return
    origin = _urls.origin_of(url)
    if origin is None:
        raise UsageError(f"{name} must be an absolute http(s) URL")
    if origin.scheme != "https" and origin.host not in _LOOPBACK and not origin.host.startswith("127."):
        raise UsageError(f"{name} must use https (plain http is allowed only on loopback)")


def _scope_text(scope: Scope) -> str | None:
    if scope is None or isinstance(scope, str):
        return scope or None
    return " ".join(scope)


def _json_object(response: requests.Response) -> Any:
    """The decoded JSON body, or None when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None


class OAuth2Flow(AuthBase):
    """A token lifecycle usable as ``Client(auth=...)`` (or as plain requests auth).

    Each request gets ``Authorization: Bearer <token>``. The token is refreshed ``leeway``
    seconds before it expires (at most half its lifetime); with no ``expires_in`` the flow
    relies on 401. On a 401 (or a 403 whose ``WWW-Authenticate`` says ``invalid_token``) the
    adapter asks the flow to renew and replays the request once. Renewal is single-flight: one
    thread asks the server, the others wait and use the new token. A refresh response without a
    refresh token keeps the old one; a rejected refresh token (``invalid_grant``) falls back to
    the original grant when the flow can run it again. ``on_token(new, old)`` runs inside the
    refresh lock, after the token is stored.
    """

    grant_type: ClassVar[str] = ""
    #: Whether the flow can obtain a token again on its own (no user interaction).
    can_regrant: ClassVar[bool] = False

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str | None = None,
        *,
        scope: Scope = None,
        client_auth: str = "basic",
        store: TokenStore | None = None,
        store_key: str | None = None,
        leeway: float = 30.0,
        on_token: OnToken | None = None,
        revocation_url: str | None = None,
        token: Token | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        check_endpoint("token_url", token_url)
        check_endpoint("revocation_url", revocation_url)
        if not client_id:
            raise UsageError("client_id must be a non-empty string")
        if client_auth not in ("basic", "body"):
            raise UsageError("client_auth must be 'basic' (HTTP Basic) or 'body' (in the form body)")
        if store is not None and not isinstance(store, TokenStore):
            raise UsageError("store must have get(key), set(key, token) and delete(key)")
        if leeway < 0:
            raise UsageError("leeway must be >= 0 seconds")
        self.token_url = token_url
        self.client_id = client_id
        self._client_secret = client_secret
        registry.add_secret(client_secret)
        self.scope = _scope_text(scope)
        self.client_auth = client_auth
        self.store: TokenStore = store if store is not None else MemoryTokenStore()
        self.store_key = store_key or f"{self.grant_type}:{client_id}@{token_url}"
        self.leeway = leeway
        self.on_token = on_token
        self.revocation_url = revocation_url
        self.clock = clock or time.time
        self._lock = threading.RLock()
        self._adapter: Adapter | None = None
        self._own_adapter: Adapter | None = None
        if token is not None:
            self.store.set(self.store_key, token)
        self._token: Token | None = token or self.store.get(self.store_key)

    # -- wiring -------------------------------------------------------------------------------
    def bind(self, adapter: Adapter) -> None:
        """Send token requests through ``adapter`` (the Client does this for you)."""
        self._adapter = adapter

    def _transport(self) -> Adapter:
        if self._adapter is not None:
            return self._adapter
        if self._own_adapter is None:
            from .adapters import RawAdapter  # late: adapters imports nothing from here

            origin = _urls.origin_of(self.token_url)
            assert origin is not None
            self._own_adapter = RawAdapter(f"{origin.scheme}://{urlsplit(self.token_url).netloc}")
        return self._own_adapter

    # -- requests auth ------------------------------------------------------------------------
    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        token = self.token()
        if token.token_type.lower() != "bearer":
            raise AuthError(f"unsupported token type {token.token_type!r}; only Bearer tokens are sent")
        r.headers["Authorization"] = "Bearer " + token.access_token
        return r

    def handle_unauthorized(self, response: requests.Response) -> bool:
        """Called by the adapter on 401: renew the token (once across threads); True to replay."""
        sent = response.request.headers.get("Authorization") if response.request is not None else None
        with self._lock:
            current = self._token
            if current is not None and sent != "Bearer " + current.access_token:
                return True  # another thread renewed since this request was sent
            self._renew(stale=current)
        return True

    # -- lifecycle ----------------------------------------------------------------------------
    def token(self) -> Token:
        """The current token, renewed first when it is missing or about to expire."""
        current = self._token
        if current is not None and not self._expiring(current):
            return current
        return self._renew(stale=current)

    def is_authenticated(self) -> bool:
        """True when a token is held that has not expired (no network)."""
        current = self._token
        return current is not None and not current.expires_within(0, self.clock())

    def login(self) -> Token:
        """Obtain a fresh token now."""
        with self._lock:
            return self._renew(stale=self._token, regrant=True)

    def logout(self) -> None:
        """Revoke the tokens (RFC 7009, when ``revocation_url`` is set) and forget them."""
        with self._lock:
            current = self._token
            self._token = None
            self.store.delete(self.store_key)
        if current is None or self.revocation_url is None:
            return
        for value, hint in ((current.refresh_token, "refresh_token"), (current.access_token, "access_token")):
            if value:
                body = urlencode({"token": value, "token_type_hint": hint})
                response = self._post(self.revocation_url, body, safe=True)
                if response.status_code >= 400:
                    raise self._error_from(response, "revocation")

    def _expiring(self, token: Token) -> bool:
        if token.expires_at is None:
            return False
        leeway = self.leeway
        if token.issued_at is not None:
            leeway = min(leeway, (token.expires_at - token.issued_at) / 2)
        return token.expires_within(leeway, self.clock())

    def _renew(self, stale: Token | None, regrant: bool = False) -> Token:
        """Single-flight renewal: only if nobody replaced ``stale`` meanwhile (thread or process)."""
        with self._lock:
            current = self._token
            if not regrant and current is not None and current is not stale and not self._expiring(current):
                return current
            with self._store_lock():
                stored = self.store.get(self.store_key)
                if (not regrant and stored is not None and not self._expiring(stored)
                        and (stale is None or stored.access_token != stale.access_token)):
                    self._token = stored  # another process renewed it
                    return stored
                base = stored or current
                new = self._grant() if regrant else self._obtain(base)
                if new.refresh_token is None and base is not None and base.refresh_token:
                    new = dataclasses.replace(new, refresh_token=base.refresh_token)
                self.store.set(self.store_key, new)
                self._token = new
                if self.on_token is not None:
                    self.on_token(new, base)
                return new

    @contextlib.contextmanager
    def _store_lock(self) -> Iterator[None]:
        lock = getattr(self.store, "lock", None)
        if callable(lock):
            with lock():
                yield
        else:
            yield

    def _obtain(self, old: Token | None) -> Token:
        if old is not None and old.refresh_token:
            try:
                return self._refresh(old.refresh_token)
            except AuthError as exc:
                if exc.error != "invalid_grant" or not self.can_regrant:
                    raise
        if self.can_regrant:
            return self._grant()
        raise AuthError(f"no usable token for {self.client_id!r} and no way to get one: call login() first")

    def _refresh(self, refresh_token: str) -> Token:
        extra: dict[str, str] = {}
        if self._in_body():
            extra["client_id"] = self.client_id
            if self._client_secret is not None:
                extra["client_secret"] = self._client_secret
        client = WebApplicationClient(self.client_id)
        body = client.prepare_refresh_body(refresh_token=refresh_token, scope=self.scope, **extra)
        return self._token_request(body, safe=False)

    def _grant(self) -> Token:
        raise AuthError(f"{type(self).__name__} cannot obtain a token without user interaction")

    # -- token endpoint -----------------------------------------------------------------------
    def _in_body(self) -> bool:
        """Whether the client names itself in the form body (client_auth='body', or a public client)."""
        return self.client_auth == "body" or self._client_secret is None

    def _body_auth(self) -> dict[str, Any]:
        """Oauthlib keyword arguments that put the client's credentials in the body when due."""
        if not self._in_body():
            return {"include_client_id": False}
        out: dict[str, Any] = {"include_client_id": True}
        if self._client_secret is not None:
            out["client_secret"] = self._client_secret
        return out

    def _post(self, url: str, body: str, *, safe: bool) -> requests.Response:
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        if self._client_secret is not None and self.client_auth == "basic":
            # RFC 6749 §2.3.1: form-encode id and secret before Base64.
            pair = f"{quote_plus(self.client_id)}:{quote_plus(self._client_secret)}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        adapter = self._transport()
        policy = adapter.retry
        if safe:  # asking again has no side effect worth avoiding
            policy = policy.replace(idempotent_methods=policy.idempotent_methods | {"POST"})
        return adapter.request_url("POST", url, data=body, headers=headers, raise_on_error=False, retry=policy)

    def _token_request(self, body: str, *, safe: bool) -> Token:
        response = self._post(self.token_url, body, safe=safe)
        if response.status_code >= 400:
            raise self._error_from(response, "token")
        if not isinstance(_json_object(response), dict):
            raise AuthError(f"token endpoint answered {response.status_code} with a body that is not a token",
                            status=response.status_code, url=response.url)
        try:
            data = parse_token_response(response.text)
        except OAuth2Error as exc:
            raise self._oauth_error(exc, response) from None
        return Token.from_response(data, now=self.clock())

    def _error_from(self, response: requests.Response, what: str) -> AuthError:
        """An AuthError for a 4xx/5xx from an OAuth endpoint, with the OAuth error code if sent."""
        doc = _json_object(response)
        if isinstance(doc, dict) and isinstance(doc.get("error"), str):
            try:
                parse_token_response(response.text)
            except OAuth2Error as exc:
                return self._oauth_error(exc, response)
        ctype = response.headers.get("content-type", "no content type")
        return AuthError(f"{what} endpoint answered {response.status_code} ({ctype})",
                         status=response.status_code, url=response.url)

    @staticmethod
    def _oauth_error(exc: OAuth2Error, response: requests.Response) -> AuthError:
        error = getattr(exc, "error", None)
        description = getattr(exc, "description", None)
        message = f"token endpoint refused: {error}"
        if description:
            message += f" ({description})"
        return AuthError(message, error=error, description=description, status=response.status_code,
                         url=response.url)

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} client_id={self.client_id!r} token_url={self.token_url!r} "
                f"store={self.store!r}>")
