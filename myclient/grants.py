"""OAuth2 grants on oauthlib: client credentials, password, refresh token, authorization code + PKCE.

Each grant only builds its token request body (oauthlib prepares it, imported when the first body
is built, not with ``import myclient``); the client's authentication, when to run the grant, and
the token's whole life afterwards are OAuth2Flow's business.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from .auth import clean_credential
from .exceptions import AuthError, OAuthStateError, UsageError
from .oauth2 import OAuth2Flow, check_endpoint, one_line
from .redaction import registry
from .tokens import Token

__all__ = ["ClientCredentials", "PasswordGrant", "RefreshTokenGrant", "AuthorizationCode"]


class ClientCredentials(OAuth2Flow):
    """The client-credentials grant (machine to machine); renews itself with no refresh token."""

    grant_type = "client_credentials"
    can_regrant = True

    def __init__(self, token_url: str, client_id: str, client_secret: str, **kwargs: Any) -> None:
        if not client_secret:
            raise UsageError("the client-credentials grant needs a client_secret")
        super().__init__(token_url, client_id, client_secret, **kwargs)

    def _grant(self) -> Token:
        from oauthlib.oauth2 import BackendApplicationClient

        body = BackendApplicationClient(self.client_id).prepare_request_body(scope=self.scope)
        return self._token_request(body, safe=True)


class PasswordGrant(OAuth2Flow):
    """The resource-owner password grant; re-runs with the kept credentials when refresh fails."""

    grant_type = "password"

    def __init__(self, token_url: str, client_id: str, client_secret: str | None = None, *,
                 username: str | None = None, password: str | None = None, **kwargs: Any) -> None:
        self.username = username
        self._password = None if password is None else clean_credential(password, "password", keep_spaces=True)
        registry.add_secret(self._password)
        kwargs.setdefault("store_key", f"password:{client_id}:{username}@{token_url}")
        super().__init__(token_url, client_id, client_secret, **kwargs)

    @property
    def can_regrant(self) -> bool:  # type: ignore[override]
        return bool(self.username and self._password)

    def login(self, username: str | None = None, password: str | None = None) -> Token:
        """Log in (with new credentials if given) and obtain a token now."""
        if username is not None:
            self.username = username
        if password is not None:
            self._password = clean_credential(password, "password", keep_spaces=True)
            registry.add_secret(self._password)
        if not self.can_regrant:
            raise UsageError("the password grant needs username and password")
        return super().login()

    def _grant(self) -> Token:
        if not (self.username and self._password):
            raise AuthError("the password grant needs username and password: call login(username, password)")
        from oauthlib.oauth2 import LegacyApplicationClient

        client = LegacyApplicationClient(self.client_id)
        body = client.prepare_request_body(username=self.username, password=self._password, scope=self.scope)
        return self._token_request(body, safe=True)


class RefreshTokenGrant(OAuth2Flow):
    """Start from a refresh token obtained elsewhere; each renewal uses the (rotated) refresh token."""

    grant_type = "refresh_token"

    def __init__(self, token_url: str, client_id: str, client_secret: str | None = None, *,
                 refresh_token: str, **kwargs: Any) -> None:
        refresh_token = clean_credential(refresh_token, "refresh_token")
        registry.add_secret(refresh_token)
        self._initial_refresh = refresh_token
        super().__init__(token_url, client_id, client_secret, **kwargs)

    def _obtain(self, old: Token | None) -> Token:
        refresh = old.refresh_token if old is not None and old.refresh_token else self._initial_refresh
        return self._refresh(refresh)

    def _grant(self) -> Token:
        return self._obtain(self.store.get(self.store_key))


class AuthorizationCode(OAuth2Flow):
    """Authorization code with PKCE (S256) and a checked ``state``.

    In one step: ``authorization_url()`` gives the URL for the user's browser; after the redirect,
    pass the full redirect URL to ``fetch_token()`` (or ``Client.login()``). Step by step (the CRUDs
    package's shape): ``authorization_url()``, then ``parse_authorization_response(url)`` gives
    ``(code, state)`` (raising ``OAuthStateError`` for a state this flow did not issue, ``AuthError`` for
    an error the server sent back), then ``exchange_code(code, state)`` gets the token. ``state_length``
    is the number of random bytes in a generated state (>= 16).
    """

    grant_type = "authorization_code"

    def __init__(self, authorize_url: str, token_url: str, client_id: str, client_secret: str | None = None, *,
                 redirect_uri: str, state_length: int = 24, **kwargs: Any) -> None:
        check_endpoint("authorize_url", authorize_url)
        if not redirect_uri:
            raise UsageError("redirect_uri is required")
        if isinstance(state_length, bool) or not isinstance(state_length, int) or not 16 <= state_length <= 256:
            raise UsageError(f"state_length must be an int in [16, 256] (random bytes), got {state_length!r}")
        self.authorize_url = authorize_url
        self.redirect_uri = redirect_uri
        self.state_length = state_length
        self._pending: dict[str, str] = {}
        super().__init__(token_url, client_id, client_secret, **kwargs)

    def authorization_url(self, state: str | None = None, **extra: str) -> str:
        """The URL to send the user to; remembers the PKCE verifier for this ``state``."""
        from oauthlib.oauth2 import WebApplicationClient

        client = WebApplicationClient(self.client_id)
        verifier = client.create_code_verifier(64)
        state = state or secrets.token_urlsafe(self.state_length)
        params = {
            "response_type": "code", "client_id": self.client_id, "redirect_uri": self.redirect_uri,
            "state": state, "code_challenge": client.create_code_challenge(verifier, "S256"),
            "code_challenge_method": "S256", **extra,
        }
        if self.scope:
            params["scope"] = self.scope
        with self._lock:
            self._pending[state] = verifier
        sep = "&" if urlsplit(self.authorize_url).query else "?"
        return f"{self.authorize_url}{sep}{urlencode(params)}"

    def parse_authorization_response(self, redirect_response_url: str) -> tuple[str, str]:
        """``(code, state)`` from the URL the browser came back to; the state must be one this flow issued.

        ``state`` is compared in constant time as UTF-8 bytes, so any state — non-ASCII included — is
        either one this flow issued or refused (``OAuthStateError``, a possible CSRF). An ``error`` the
        authorization server sent back raises AuthError; the state stays pending until exchanged.
        """
        if not isinstance(redirect_response_url, str):
            raise UsageError("redirect_response_url must be the URL (a string) the browser was redirected to")
        try:
            params = dict(parse_qsl(urlsplit(redirect_response_url).query, keep_blank_values=True))
        except ValueError:
            raise UsageError("the redirect URL cannot be parsed") from None
        state = self._issued(params.get("state", ""))
        if "error" in params:
            with self._lock:
                self._pending.pop(state, None)
            error = one_line(params["error"], 100)
            description = one_line(params.get("error_description") or "") or None
            raise AuthError(f"authorization refused: {error}", error=registry.text(error), description=description)
        code = params.get("code")
        if not code:
            raise AuthError("the redirect URL carries no authorization code", error="invalid_request")
        registry.add_secret(code)
        return code, state

    def _issued(self, state: str) -> str:
        wanted = state.encode("utf-8", "surrogatepass")
        with self._lock:
            match = next((s for s in self._pending if secrets.compare_digest(s.encode("utf-8", "surrogatepass"),
                                                                              wanted)), None)
        if match is None:
            raise OAuthStateError("state in the redirect does not match any authorization request (possible CSRF)",
                                  error="invalid_state")
        return match

    def exchange_code(self, code: str, state: str) -> Token:
        """Exchange an authorization ``code`` for a token, with the PKCE verifier remembered for ``state``."""
        if not isinstance(code, str) or not code:
            raise UsageError("code must be the non-empty authorization code")
        registry.add_secret(code)
        match = self._issued(state if isinstance(state, str) else "")
        with self._lock:
            verifier = self._pending.pop(match, None)
        if verifier is None:  # another thread exchanged it meanwhile
            raise OAuthStateError("this state was already used (an authorization code is exchanged once)",
                                  error="invalid_state")
        from oauthlib.oauth2 import WebApplicationClient

        client = WebApplicationClient(self.client_id)
        body = client.prepare_request_body(code=code, redirect_uri=self.redirect_uri, code_verifier=verifier,
                                           include_client_id=False)
        with self._lock, self._store_lock():
            old = self._token
            new = self._token_request(body, safe=False)
            self._token = new  # held first: a store that cannot be written must not lose it
            self.store.set(self.store_key, new)
            if self.on_token is not None:
                self.on_token(new, old)
        return new

    def fetch_token(self, redirect_response_url: str) -> Token:
        """Exchange the code in the redirect URL for a token (state and PKCE checked)."""
        code, state = self.parse_authorization_response(redirect_response_url)
        return self.exchange_code(code, state)

    def login(self, redirect_response_url: str | None = None) -> Token:
        """``fetch_token(redirect_response_url)``; without it, renew with the refresh token."""
        if redirect_response_url is not None:
            return self.fetch_token(redirect_response_url)
        return self._renew(stale=self._token)
