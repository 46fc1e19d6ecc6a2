"""The OAuth2 token lifecycle: when to get a token, and how to ask the token endpoint for one.

Ahead of expiry, once on 401, one renewal at a time across threads (and across processes with a
locking store). Token and revocation requests go through the client's own adapter, so the
session's gateway headers, certificates, proxies and CA apply; both authenticate the client the
same way (``_post``), and both stay inside the deadline of the call that needs them
(``_context.time_left``). Whatever a token endpoint answers becomes a Token or an AuthError. The
grants themselves are in ``grants``; oauthlib, which builds their bodies, is imported only when a
body is built, so ``import myclient`` does not pay for it.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import ipaddress
import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Union
from urllib.parse import quote_plus, urlencode, urlsplit

import requests
from requests.auth import AuthBase

from . import _context, _urls
from .auth import clean_credential
from .exceptions import AuthError, DeadlineExceeded, UsageError
from .redaction import registry
from .tokens import MemoryTokenStore, StaleLock, Token, TokenStore

if TYPE_CHECKING:
    from .adapters import Adapter

__all__ = ["OAuth2Flow", "Scope", "OnToken", "check_endpoint"]

Scope = Union[str, Sequence[str], None]
OnToken = Callable[[Token, Union[Token, None]], None]
#: RFC 6749 §5.2: the characters an ``error`` code may hold.
_ERROR_CODE = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]{1,100}")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address literal (127.0.0.0/8, ::1, ::ffff:127.x.y.z) — not a look-alike name."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def check_endpoint(name: str, url: str | None) -> None:
    """OAuth2 endpoints must be https; plain http is accepted only on loopback (RFC 8252 §8.3)."""
    if url is None:
        return
    origin = _urls.origin_of(url) if isinstance(url, str) else None
    if origin is None:
        raise UsageError(f"{name} must be an absolute http(s) URL")
    if origin.scheme != "https" and not is_loopback(origin.host):
        raise UsageError(f"{name} must use https (plain http is allowed only on loopback: localhost, "
                         "127.0.0.0/8, ::1)")


def one_line(text: str, limit: int = 300) -> str:
    """Server text made safe for a message: control characters (CR, LF, ESC...) become spaces; bounded."""
    return _CONTROLS.sub(" ", text)[:limit].strip()


def _scope_text(scope: Scope) -> str | None:
    if scope is None or isinstance(scope, str):
        return scope or None
    return " ".join(scope)


def _document(response: requests.Response) -> Any:
    """The decoded JSON body, or None when it is not JSON (undecodable, or nested too deep to parse)."""
    try:
        return json.loads(response.content)
    except (ValueError, RecursionError):
        return None


def _error_from(response: requests.Response, doc: Any, what: str) -> AuthError:
    """An AuthError for a refusal from an OAuth endpoint, with the OAuth error code when one was sent.

    Server text is made one line and bounded here and redacted by AuthError itself; an ``error``
    outside RFC 6749's alphabet is not reported as a code.
    """
    status = response.status_code
    error = doc.get("error") if isinstance(doc, dict) else None
    if isinstance(error, str) and _ERROR_CODE.fullmatch(error):
        description = doc.get("error_description")
        description = one_line(description) if isinstance(description, str) else None
        message = f"{what} endpoint refused: {error}" + (f" ({description})" if description else "")
        return AuthError(message, error=registry.text(error), description=description or None, status=status,
                         url=response.url)
    ctype = one_line(response.headers.get("content-type") or "no content type", 100)
    return AuthError(f"{what} endpoint answered {status} ({ctype})", status=status, url=response.url)


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

    The client authenticates to the token and revocation endpoints alike: HTTP Basic
    (``client_auth="basic"``, the default) or ``client_id``/``client_secret`` in the form
    (``"body"``); a public client (no ``client_secret``) sends its ``client_id`` in the form. A
    ``client_secret`` loses surrounding whitespace and may not hold a control character
    (``auth.clean_credential``). During a call with a deadline, each token or revocation request
    gets the time left of that call as its own deadline (DeadlineExceeded at once when none is
    left). Plain-http endpoints are accepted only on loopback (``is_loopback``).
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
        token_params: Mapping[str, Any] | None = None,
    ) -> None:
        check_endpoint("token_url", token_url)
        check_endpoint("revocation_url", revocation_url)
        if not isinstance(client_id, str) or not client_id:
            raise UsageError("client_id must be a non-empty string")
        if client_secret is not None:
            client_secret = clean_credential(client_secret, "client_secret")
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
        self.token_params = _check_token_params(token_params)
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
        """Revoke the tokens at the server (RFC 7009, when ``revocation_url`` is set), then forget them.

        The refresh token goes first (so no new access token can be minted), then the access
        token; the revocation request authenticates the client exactly like a token request
        (Basic, form body, or a public client's ``client_id``). The token this flow holds and the
        one in the store are both revoked when another process replaced it meanwhile.

        A token is forgotten only once the server confirmed its revocation. If a revocation
        request fails, logout raises (AuthError naming the revocation endpoint, or the transport
        error) and keeps the tokens, here and in the store: they still work on the server, and
        a token forgotten locally could never be revoked afterwards — nothing would know it any
        more. Revocation is idempotent, so calling ``logout()`` again simply retries. To drop the
        tokens locally regardless, call ``forget()``. Without a ``revocation_url`` the tokens
        are only forgotten.
        """
        with self._lock, self._store_lock():
            held: list[Token] = []
            for token in (self.store.get(self.store_key), self._token):
                if token is not None and all(token.access_token != other.access_token for other in held):
                    held.append(token)
            if self.revocation_url is not None:
                for token in held:
                    self._revoke(self.revocation_url, token)
            self.forget()

    def forget(self) -> None:
        """Forget the tokens locally (this flow and its store) without telling the server."""
        with self._lock:
            self._token = None
            self.store.delete(self.store_key)

    def _revoke(self, url: str, token: Token) -> None:
        for value, hint in ((token.refresh_token, "refresh_token"), (token.access_token, "access_token")):
            if value:
                body = urlencode({"token": value, "token_type_hint": hint})
                response = self._post(url, body, safe=True, what="revocation")
                if not 200 <= response.status_code < 300:
                    raise _error_from(response, _document(response), "revocation")

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
                # Held before it is stored: if the store cannot be written, the new token (which may
                # have rotated the old refresh token away on the server) is still not lost.
                self._token = new
                try:
                    self.store.set(self.store_key, new)
                except StaleLock:
                    # Our lock expired mid-renewal and another worker stored a newer token: use theirs.
                    newer = self.store.get(self.store_key)
                    if newer is not None and not self._expiring(newer):
                        self._token = newer
                        return newer
                    raise
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
        from oauthlib.oauth2 import WebApplicationClient  # late: only when a body is built

        body = WebApplicationClient(self.client_id).prepare_refresh_body(refresh_token=refresh_token, scope=self.scope)
        return self._token_request(body, safe=False)

    def _grant(self) -> Token:
        raise AuthError(f"{type(self).__name__} cannot obtain a token without user interaction")

    # -- token and revocation endpoints ----------------------------------------------------------
    def _client_auth(self, headers: dict[str, str]) -> list[tuple[str, str]]:
        """RFC 6749 §2.3: how the client authenticates, the same for the token and revocation endpoints.

        A confidential client with ``client_auth="basic"`` sends HTTP Basic (the header is added
        to ``headers``); with ``"body"`` it sends ``client_id`` and ``client_secret`` in the form;
        a public client (no secret) names itself with ``client_id`` in the form. Returns the form
        fields to add.
        """
        secret = self._client_secret
        if secret is not None and self.client_auth == "basic":
            # RFC 6749 §2.3.1: form-encode id and secret before Base64.
            pair = f"{quote_plus(self.client_id)}:{quote_plus(secret)}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
            return []
        fields = [("client_id", self.client_id)]
        if secret is not None:
            fields.append(("client_secret", secret))
        return fields

    def _post(self, url: str, body: str, *, safe: bool, what: str) -> requests.Response:
        """POST a form to an OAuth endpoint, authenticated as the client, within the call's time left."""
        left = _context.time_left()
        if left is not None and left <= 0:
            raise DeadlineExceeded(f"DeadlineExceeded: POST {registry.url(url)}: no time left of the call's "
                                   f"deadline for the {what} request", method="POST", url=url)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        fields = self._client_auth(headers)
        if fields:
            body = f"{body}&{urlencode(fields)}" if body else urlencode(fields)
        adapter = self._transport()
        policy = adapter.retry
        if safe:  # asking again has no side effect worth avoiding
            policy = policy.replace(idempotent_methods=policy.idempotent_methods | {"POST"})
        limits: dict[str, Any] = {} if left is None else {"deadline": left}
        authorization = headers.pop("Authorization", None)
        # As a per-call auth (not a header) so a session.auth on the injected session cannot replace it.
        auth = _HeaderAuth(authorization) if authorization else None
        return adapter.request_url("POST", url, data=body, headers=headers, raise_on_error=False, retry=policy,
                                   auth=auth, **limits)

    def _token_request(self, body: str, *, safe: bool) -> Token:
        """Ask the token endpoint; its answer becomes a Token, or an AuthError whatever it holds.

        ``token_params`` (``audience``, ``resource``, RFC 9396 ``authorization_details``, …) are added
        to every token request, grants and refreshes alike.
        """
        if self.token_params:
            extra = urlencode(list(self.token_params.items()), doseq=True)
            body = f"{body}&{extra}" if body else extra
        response = self._post(self.token_url, body, safe=safe, what="token")
        status = response.status_code
        doc = _document(response)
        if status >= 400 or (isinstance(doc, dict) and "error" in doc):
            raise _error_from(response, doc, "token")
        if not isinstance(doc, dict):
            raise AuthError(f"token endpoint answered {status} with a body that is not a token", status=status,
                            url=response.url)
        try:
            return Token.from_response(doc, now=self.clock())
        except AuthError as exc:
            raise AuthError(f"token endpoint answered {status}: {exc}", status=status, url=response.url) from None

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} client_id={self.client_id!r} token_url={registry.url(self.token_url)!r} "
                f"store={self.store!r}>")


class _HeaderAuth(requests.auth.AuthBase):
    """Sends one fixed Authorization value (the client's Basic credentials for an OAuth endpoint)."""

    def __init__(self, value: str) -> None:
        self._value = value

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = self._value
        return r

    def __repr__(self) -> str:
        return "_HeaderAuth(***)"


_RESERVED_PARAMS = frozenset({"grant_type", "client_id", "client_secret", "code", "code_verifier", "redirect_uri",
                              "refresh_token", "username", "password", "scope"})


def _check_token_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Validated extra token-request parameters.

    Strings, or lists of strings (sent repeated); ``authorization_details`` may be a list or dict (sent
    as JSON, RFC 9396). Parameters the grants set themselves are refused.
    """
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise UsageError(f"token_params must be a mapping of parameter names to values, got {type(params).__name__}")
    checked: dict[str, Any] = {}
    for name, value in params.items():
        if not isinstance(name, str) or not name:
            raise UsageError(f"token_params names must be non-empty strings, got {name!r}")
        if name in _RESERVED_PARAMS:
            raise UsageError(f"token_params must not set {name!r}: the flow sets it")
        if name == "authorization_details" and isinstance(value, (list, dict)):
            value = json.dumps(value, separators=(",", ":"))
        if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            checked[name] = list(value)
        elif isinstance(value, str):
            checked[name] = value
        else:
            raise UsageError(f"token_params[{name!r}] must be a string or a list of strings")
    return checked
