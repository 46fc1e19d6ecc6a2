"""Client: turns settings into an Adapter and owns the lifecycle (close, ``with``, login/logout, copies).

Subclasses declare API groups with ``myclient.group`` and may declare defaults: ``default_base_url``,
``default_settings`` and ``env_prefix`` (for ``from_env``). The client itself sends nothing: every
call goes through ``client.adapter``.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, ClassVar, Optional, TypeVar, Union

import requests

from .adapters import Adapter, JSONAdapter
from .auth import BearerAuth
from .exceptions import UsageError
from .hooks import Hooks
from .retry import RetryPolicy
from .settings import CLIENT_OPTIONS, CallOptions, ClientOptions, unknown_option
from .transport import Transport

if TYPE_CHECKING:
    from typing_extensions import Self, Unpack

    from .downloads import PathLike, Progress
    from .pagination import Paginator
    from .settings import Settings
    from .strategies import Strategy

__all__ = ["Client"]

AdapterSpec = Union[type[Adapter], Adapter]
C = TypeVar("C", bound="Client")

#: Environment variables ``from_env`` reads (after the prefix), and the setting each one feeds.
ENV_SETTINGS = {
    "BASE_URL": "base_url",
    "TOKEN": "token",
    "TIMEOUT": "timeout",
    "DEADLINE": "deadline",
    "VERIFY": "verify",
    "CERT": "cert",
    "CERT_KEY": "cert",
    "RETRIES": "retry",
    "CID_HEADER": "cid_header",
}


def _settings_with_token(settings: dict[str, Any]) -> dict[str, Any]:
    """Turn ``token=`` into ``auth=BearerAuth(token)`` (refusing both at once)."""
    if "token" in settings:
        token = settings.pop("token")
        if token is not None:
            if settings.get("auth") is not None:
                raise UsageError("give token= or auth=, not both")
            settings["auth"] = BearerAuth(token)
    return settings


class Client:
    """A client for one REST API at ``base_url`` (which may carry a path prefix such as ``/v1``).

    Settings (``myclient.settings.ClientOptions``) are keyword arguments: ``token=`` sends
    ``Authorization: Bearer``; ``auth=`` takes any ``requests.auth.AuthBase`` or login flow;
    ``timeout``, ``retry``, ``deadline``, ``idempotency_key``, ``headers``, ``hooks``, ``decode``, … An
    injected ``session`` is used as given and never modified, and is left open by ``close()``; a
    session the client made itself is closed with it. ``adapter`` is an Adapter class to build
    (default JSONAdapter: calls return decoded JSON) or a ready Adapter instance (settings given
    next to it are applied to a copy of it, never ignored). ``transport`` replaces the requests
    transport (e.g. ``myclient.testing.MockTransport``).
    """

    #: A base URL used when none is given (subclasses of a client for one API set it).
    default_base_url: ClassVar[Optional[str]] = None
    #: Settings a subclass applies unless the caller overrides them.
    default_settings: ClassVar[Mapping[str, Any]] = {}
    #: The prefix ``from_env()`` uses when none is given (e.g. ``"ACME_"``).
    env_prefix: ClassVar[Optional[str]] = None

    def __init__(
        self, base_url: str | None = None, *, session: requests.Session | None = None,
        adapter: AdapterSpec = JSONAdapter, transport: Transport | None = None, **settings: Unpack[ClientOptions],
    ) -> None:
        base = base_url if base_url is not None else type(self).default_base_url
        if base is None:
            raise UsageError(f"{type(self).__name__} needs a base_url")
        given = _settings_with_token({**type(self).default_settings, **settings})
        unknown = set(given) - CLIENT_OPTIONS
        if unknown:
            raise unknown_option(sorted(unknown)[0], CLIENT_OPTIONS)
        if isinstance(adapter, Adapter):
            if session is not None or transport is not None:
                raise UsageError("session/transport cannot be combined with a ready adapter instance")
            if adapter.base_url != base.rstrip("/"):
                raise UsageError(f"base_url {base!r} differs from the adapter's {adapter.base_url!r}")
            self._adapter = adapter.with_options(**given) if given else adapter
        elif isinstance(adapter, type) and issubclass(adapter, Adapter):
            self._adapter = adapter(base, session=session, transport=transport, **given)
        else:
            raise UsageError(f"adapter must be an Adapter subclass or instance, got {adapter!r}")
        self._bind_auth()

    @classmethod
    def from_env(cls, prefix: str | None = None, *, environ: Mapping[str, str] | None = None,
                 **settings: Any) -> Self:
        """A client configured from ``<prefix>BASE_URL``, ``<prefix>TOKEN``, ``<prefix>TIMEOUT``, … (hvac-style).

        Read: ``BASE_URL``, ``TOKEN``, ``TIMEOUT`` (seconds, or ``connect,read``), ``DEADLINE``,
        ``VERIFY`` (true/false or a CA bundle path), ``CERT`` and ``CERT_KEY`` (client certificate),
        ``RETRIES`` (attempts), ``CID_HEADER``. Keyword arguments win over the environment; a value
        that does not parse raises UsageError naming the variable (never its value, it may be secret).
        """
        prefix = prefix if prefix is not None else cls.env_prefix
        if not prefix:
            raise UsageError(f"{cls.__name__}.from_env needs a prefix such as 'ACME_' (or set env_prefix)")
        env = os.environ if environ is None else environ
        found: dict[str, Any] = {}
        for suffix in ENV_SETTINGS:
            name = prefix + suffix
            if name in env and env[name] != "":
                found[suffix] = env[name]
        values: dict[str, Any] = {}
        try:
            for suffix, raw in found.items():
                if suffix == "TIMEOUT":
                    parts = [float(p) for p in raw.split(",")]
                    values["timeout"] = parts[0] if len(parts) == 1 else tuple(parts)
                elif suffix == "DEADLINE":
                    values["deadline"] = float(raw)
                elif suffix == "VERIFY":
                    lowered = raw.strip().lower()
                    values["verify"] = {"true": True, "1": True, "false": False, "0": False}.get(lowered, raw)
                elif suffix == "CERT":
                    values["cert"] = (raw, found["CERT_KEY"]) if "CERT_KEY" in found else raw
                elif suffix == "RETRIES":
                    values["retry"] = RetryPolicy(attempts=int(raw))
                elif suffix in ("TOKEN", "CID_HEADER"):
                    values[ENV_SETTINGS[suffix]] = raw
        except (ValueError, UsageError):
            raise UsageError(f"{prefix}{suffix} does not hold a valid value") from None
        base = settings.pop("base_url", None) or found.get("BASE_URL")
        values.update(settings)
        return cls(base, **values)

    def with_options(self, **settings: Unpack[ClientOptions]) -> Self:
        """A copy of this client with some settings changed, sharing the session (httpx's ``with_options``).

        Groups on the copy use the copy's settings; the original is unchanged.
        """
        given = _settings_with_token(dict(settings))
        new = copy.copy(self)
        new.__dict__.pop("_myclient_groups", None)
        new._adapter = self._adapter.with_options(**given)
        new._bind_auth()
        return new

    def _bind_auth(self) -> None:
        """Let a login/token flow send its own requests through this client's adapter and session."""
        bind = getattr(self._adapter.auth, "bind", None)
        if callable(bind):
            bind(self._adapter)

    @property
    def adapter(self) -> Adapter:
        """The adapter every group calls; assign a new one and all groups follow it."""
        return self._adapter

    @adapter.setter
    def adapter(self, value: Adapter) -> None:
        if not isinstance(value, Adapter):
            raise UsageError(f"adapter must be an Adapter instance, got {type(value).__name__}")
        self._adapter = value
        self._bind_auth()

    @property
    def hooks(self) -> Hooks:
        """The hooks: ``client.hooks.add("on_retry", fn)`` (see myclient.hooks)."""
        return self._adapter.hooks

    @property
    def base_url(self) -> str:
        """The base URL calls resolve under (no trailing slash)."""
        return self._adapter.base_url

    @property
    def session(self) -> requests.Session:
        """The session in use (the injected one, if any)."""
        return self._adapter.session

    @property
    def settings(self) -> Settings:
        """The frozen settings the client's adapter sends with."""
        return self._adapter.settings

    @property
    def cid(self) -> str:
        """The correlation id of this client, sent in ``cid_header`` on every request."""
        return self._adapter.cid

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Shortcut for ``client.adapter.request(...)``."""
        return self._adapter.request(method, path, **kwargs)

    # -- login flows ----------------------------------------------------------------------------
    def login(self, *args: Any, **kwargs: Any) -> Any:
        """Log in through the client's auth flow (any flow implementing ``myclient.auth.LoginFlow``).

        E.g. ``login(username, password)`` for TokenLogin, SessionLogin or the password grant,
        ``login(redirect_url)`` for the authorization code, ``login()`` for client credentials.
        """
        return self._flow("login")(*args, **kwargs)

    def logout(self) -> None:
        """Log out: revoke/forget the flow's credentials (RFC 7009 revocation, a logout URL, …)."""
        self._flow("logout")()

    def is_authenticated(self) -> bool:
        """Whether the client holds credentials usable now (a flow may ask the server)."""
        auth = self._adapter.auth
        check = getattr(auth, "is_authenticated", None)
        return bool(check()) if callable(check) else auth is not None

    def _flow(self, name: str) -> Any:
        method = getattr(self._adapter.auth, name, None)
        if not callable(method):
            raise UsageError(f"{name}() needs a login flow as auth= (TokenLogin, SessionLogin, an OAuth2 grant; "
                             f"got {type(self._adapter.auth).__name__})")
        return method

    # -- lifecycle --------------------------------------------------------------------------------
    def close(self) -> None:
        """Release the session if the client created it; an injected session stays open."""
        self._adapter.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        from .redaction import registry

        return f"<{type(self).__name__} {registry.url(self.base_url)!r} cid={self.cid!r}>"

    # -- collections and files ------------------------------------------------------------------------
    def paginate(self, path: str, params: Mapping[str, Any] | None = None, *, strategy: Strategy | None = None,
                 max_items: int | None = None, max_pages: int | None = None,
                 resume: Mapping[str, Any] | str | None = None, **options: Unpack[CallOptions]) -> Paginator[Any]:
        """A lazy iterator over every item of the collection at ``path``; see ``Adapter.paginate``."""
        return self._adapter.paginate(path, params, strategy=strategy, max_items=max_items, max_pages=max_pages,
                                      resume=resume, **options)

    def download(self, path: str, dest: PathLike, *, chunk_size: int | None = None,
                 progress: Progress | None = None, params: Any = None, **options: Unpack[CallOptions]) -> Path:
        """Stream GET ``path`` into the file ``dest``; see ``Adapter.download``."""
        return self._adapter.download(path, dest, chunk_size=chunk_size, progress=progress, params=params,
                                      **options)

    def upload(self, path: str, file_or_path: PathLike | IO[bytes], *, method: str = "PUT",
               content_type: str | None = None, progress: Progress | None = None, params: Any = None,
               **options: Unpack[CallOptions]) -> Any:
        """Send a file as the request body, streamed from disk; see ``Adapter.upload``."""
        return self._adapter.upload(path, file_or_path, method=method, content_type=content_type,
                                    progress=progress, params=params, **options)
